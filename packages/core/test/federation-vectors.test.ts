import { createHash, createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseDictionary } from 'structured-headers';
import { contentDigest, digestMatches, signRequest, SignatureError, verifyMessageSignature, verifySigned, type PublicJwk } from '../src/federation/signing.js';

/*
 * Published test vectors: RFC 9421 Appendix B (key `test-key-ed25519`, B.1.4; its signed
 * request, B.2.6) and RFC 9530's Content-Digest of `{"hello": "world"}`. Our verifier must
 * accept the RFC's signature, and our signer must sign exactly the signature base written out
 * by hand below (an Ed25519 signature verifies over those bytes and no others).
 */
const RFC_PUBLIC_KEY = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n-----END PUBLIC KEY-----\n';
const RFC_PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n';
const rfcJwk = createPublicKey(RFC_PUBLIC_KEY).export({ format: 'jwk' }) as unknown as PublicJwk;
const rfcKeys = [{ kid: 'test-key-ed25519', jwk: rfcJwk }];

/** RFC 9421 B.2's test request, as signed in B.2.6. */
const B26 = {
  method: 'POST',
  url: 'https://example.com/foo?param=Value&Pet=dog',
  body: '{"hello": "world"}',
  headers: {
    host: 'example.com',
    date: 'Tue, 20 Apr 2021 02:07:55 GMT',
    'content-type': 'application/json',
    'content-digest': 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
    'content-length': '18',
    'signature-input': 'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
    signature: 'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:',
  },
};
const B26_CREATED_MS = 1618884473 * 1000;
const B26_BASE = [
  '"date": Tue, 20 Apr 2021 02:07:55 GMT',
  '"@method": POST',
  '"@path": /foo',
  '"@authority": example.com',
  '"content-type": application/json',
  '"content-length": 18',
  '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
].join('\n');

const signatureBytes = (header: string, label: string) => Buffer.from(parseDictionary(header).get(label)![0] as ArrayBuffer);

describe('RFC 9421 B.2.6: ed25519', () => {
  it('the published signature is over the published signature base with test-key-ed25519', () => {
    expect(verify(null, Buffer.from(B26_BASE), createPublicKey(RFC_PUBLIC_KEY), signatureBytes(B26.headers.signature, 'sig-b26'))).toBe(true);
  });

  it('our verifier accepts the RFC’s signed request, and refuses it altered', async () => {
    // Read the example at the time it was made: `now` is the clock the window is checked against.
    const options = { requiredFields: ['@method', '@authority', 'content-type'], requiredParams: ['created', 'keyid'], now: B26_CREATED_MS + 10_000 };
    await expect(verifyMessageSignature(B26, rfcKeys, options)).resolves.toEqual({ kid: 'test-key-ed25519' });
    await expect(verifyMessageSignature({ ...B26, headers: { ...B26.headers, date: 'Tue, 20 Apr 2021 02:07:56 GMT' } }, rfcKeys, options)).rejects.toMatchObject({ reason: 'invalid' });
    await expect(verifyMessageSignature({ ...B26, method: 'PUT' }, rfcKeys, options)).rejects.toBeInstanceOf(SignatureError);
    await expect(verifyMessageSignature(B26, [{ kid: 'other-key', jwk: rfcJwk }], options)).rejects.toMatchObject({ reason: 'unknown-key' });
    // Rapport Link's own policy refuses it: it covers neither @target-uri nor a sha-256 Content-Digest.
    await expect(verifySigned(B26, rfcKeys, B26_CREATED_MS + 10_000)).rejects.toBeInstanceOf(SignatureError);
  });

  it('our verifier refuses the RFC’s request read today: created is years older than ±300 s', async () => {
    await expect(verifyMessageSignature(B26, rfcKeys, { requiredFields: ['@method'], requiredParams: ['created'] })).rejects.toMatchObject({ reason: 'expired' });
  });
});

describe('the ±300 s window', () => {
  const key = { kid: 'test-key-ed25519', privateKey: createPrivateKey(RFC_PRIVATE_KEY) };
  const url = 'https://supplier.example/api/v1/federation/peer/links/0b9b4f0e-5d7a-4c3e-9f7a-2f1d3c4b5a69/inbox';
  const body = '{"hello": "world"}';
  const signedAt = (createdMs: number) => signRequest(key, { method: 'POST', url, body, created: new Date(createdMs) });
  const message = (headers: Record<string, string>) => ({ method: 'POST', url, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), body });

  it('is measured against the `now` given, not the process clock, in both directions', async () => {
    const created = Date.UTC(2031, 0, 1); // years away from any real clock
    const headers = await signedAt(created);
    for (const skew of [0, 299_000, -299_000]) await expect(verifySigned(message(headers), rfcKeys, created + skew)).resolves.toMatchObject({ kid: 'test-key-ed25519' });
    for (const skew of [301_000, -301_000]) await expect(verifySigned(message(headers), rfcKeys, created + skew)).rejects.toMatchObject({ reason: 'expired' });
  });
});

describe('our signer’s signature base', () => {
  it('is, byte for byte, the base written out by hand for a known request', async () => {
    const key = { kid: 'test-key-ed25519', privateKey: createPrivateKey(RFC_PRIVATE_KEY) };
    const url = 'https://supplier.example/api/v1/federation/peer/links/0b9b4f0e-5d7a-4c3e-9f7a-2f1d3c4b5a69/inbox';
    const headers = await signRequest(key, { method: 'post', url, body: '{"hello": "world"}', created: new Date(B26_CREATED_MS) });
    const expectedBase = [
      '"@method": POST',
      `"@target-uri": ${url}`,
      '"content-digest": sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
      '"content-type": application/json',
      '"@signature-params": ("@method" "@target-uri" "content-digest" "content-type");created=1618884473;keyid="test-key-ed25519";alg="ed25519";tag="rapport-link"',
    ].join('\n');
    expect(headers['Signature-Input']).toBe('rl=("@method" "@target-uri" "content-digest" "content-type");created=1618884473;keyid="test-key-ed25519";alg="ed25519";tag="rapport-link"');
    expect(headers['content-digest']).toBe('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:');
    expect(headers['content-type']).toBe('application/json');
    const signature = signatureBytes(headers.Signature, 'rl');
    const publicKey = createPublicKey(RFC_PUBLIC_KEY);
    expect(verify(null, Buffer.from(expectedBase), publicKey, signature)).toBe(true);
    // One byte off (a trailing newline, another URL) and it no longer verifies.
    expect(verify(null, Buffer.from(`${expectedBase}\n`), publicKey, signature)).toBe(false);
    expect(verify(null, Buffer.from(expectedBase.replace('/inbox', '/outbox')), publicKey, signature)).toBe(false);
    // Ed25519 is deterministic: the same request signs to the same bytes.
    const again = await signRequest(key, { method: 'POST', url, body: '{"hello": "world"}', created: new Date(B26_CREATED_MS) });
    expect(again.Signature).toBe(headers.Signature);
  });

  it('a GET covers the method and the target URI only', async () => {
    const key = { kid: 'test-key-ed25519', privateKey: createPrivateKey(RFC_PRIVATE_KEY) };
    const url = 'https://buyer.example/api/v1/federation/peer/links/0b9b4f0e-5d7a-4c3e-9f7a-2f1d3c4b5a69/outbox?after=7&limit=100';
    const headers = await signRequest(key, { method: 'GET', url, created: new Date(B26_CREATED_MS) });
    const expectedBase = [
      '"@method": GET',
      `"@target-uri": ${url}`,
      '"@signature-params": ("@method" "@target-uri");created=1618884473;keyid="test-key-ed25519";alg="ed25519";tag="rapport-link"',
    ].join('\n');
    expect(headers['content-digest']).toBeUndefined();
    expect(verify(null, Buffer.from(expectedBase), createPublicKey(RFC_PUBLIC_KEY), signatureBytes(headers.Signature, 'rl'))).toBe(true);
  });
});

describe('RFC 9530 Content-Digest', () => {
  const body = '{"hello": "world"}';
  it('computes the RFC’s sha-256 digest of {"hello": "world"} and of an empty body', () => {
    expect(contentDigest(body)).toBe('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:');
    expect(contentDigest('')).toBe('sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:');
  });

  it('accepts the RFC’s header with both sha-256 and sha-512, and refuses a sha-512-only header or another body', () => {
    const sha512 = 'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:';
    // The RFC's sha-512 value is the body's (we do not check it, but the vector must be right).
    expect(`sha-512=:${createHash('sha512').update(body).digest('base64')}:`).toBe(sha512);
    expect(digestMatches(`sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, ${sha512}`, body)).toBe(true);
    expect(digestMatches(sha512, body)).toBe(false);
    expect(digestMatches('sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:', '{"hello": "world!"}')).toBe(false);
    expect(digestMatches('sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=', body)).toBe(false);
  });
});
