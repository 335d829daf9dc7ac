import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import type * as MessageSignatures from 'http-message-signatures';
import type * as StructuredHeaders from 'structured-headers';
import { lazyModule } from '../util/lazy-module.js';

const messageSignatures = lazyModule<typeof MessageSignatures>('http-message-signatures');
const structuredHeaders = lazyModule<typeof StructuredHeaders>('structured-headers');

/** The signature label and tag every Rapport Link request carries (docs/federation.md, "Signatures"). */
export const SIGNATURE_LABEL = 'rl';
export const SIGNATURE_TAG = 'rapport-link';
/** How far a signature's `created` may be from the receiver's clock, either way. */
export const SIGNATURE_WINDOW_SECONDS = 300;

/** Components covered by a request with a body; a GET covers `@method` and `@target-uri` only. */
const BODY_FIELDS = ['@method', '@target-uri', 'content-digest', 'content-type'];
const NO_BODY_FIELDS = ['@method', '@target-uri'];
/** A signed response (a pulled outbox page) covers its status and its body. */
const RESPONSE_FIELDS = ['@status', 'content-digest', 'content-type'];
const PARAMS = ['created', 'keyid', 'alg', 'tag'];

/** An Ed25519 public key as a JWK (RFC 8037). */
export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
}

export interface KeyPair {
  /** The RFC 7638 thumbprint of the public key: its id on the wire and what people compare. */
  kid: string;
  publicJwk: PublicJwk;
  /** PKCS#8 DER, base64: sealed before it is stored. */
  privatePkcs8: string;
}

export async function generateKeyPair(): Promise<KeyPair> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({ format: 'jwk' }) as unknown as PublicJwk;
  return { kid: await thumbprint(publicJwk), publicJwk: { kty: 'OKP', crv: 'Ed25519', x: publicJwk.x }, privatePkcs8: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64') };
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url). */
export async function thumbprint(jwk: PublicJwk): Promise<string> {
  // jose is ESM only: imported on first use, like the other signature libraries.
  const { calculateJwkThumbprint } = await import('jose');
  return calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, 'sha256');
}

export function privateKeyOf(pkcs8: string): KeyObject {
  return createPrivateKey({ key: Buffer.from(pkcs8, 'base64'), format: 'der', type: 'pkcs8' });
}

export function publicKeyOf(jwk: PublicJwk): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
}

/** RFC 9530 `Content-Digest` of a body: `sha-256=:<base64>:`. */
export function contentDigest(body: string | Buffer): string {
  return structuredHeaders().serializeDictionary(new Map([['sha-256', [createHash('sha256').update(body).digest(), new Map()]]]));
}

/** Whether `header` carries a sha-256 digest equal to the body's. */
export function digestMatches(header: string | undefined, body: string | Buffer): boolean {
  if (!header) return false;
  let entry;
  try {
    entry = structuredHeaders().parseDictionary(header).get('sha-256');
  } catch {
    return false;
  }
  if (!entry || !(entry[0] instanceof ArrayBuffer)) return false;
  const expected = createHash('sha256').update(body).digest();
  const sent = Buffer.from(entry[0]);
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
}

/**
 * The headers of a signed request: RFC 9421 with `ed25519` over the method, the target URI
 * and, with a body, its Content-Digest and Content-Type, plus `created`, `keyid`, `alg` and tag.
 */
export async function signRequest(key: SigningKey, request: { method: string; url: string; body?: string; created?: Date }): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-digest'] = contentDigest(request.body);
  }
  const signed = await messageSignatures().httpbis.signMessage(
    {
      key: { id: key.kid, alg: 'ed25519', sign: async (data) => sign(null, data, key.privateKey) },
      name: SIGNATURE_LABEL,
      fields: request.body !== undefined ? BODY_FIELDS : NO_BODY_FIELDS,
      params: PARAMS,
      paramValues: { tag: SIGNATURE_TAG, ...(request.created ? { created: request.created } : {}) },
    },
    { method: request.method.toUpperCase(), url: request.url, headers },
  );
  return signed.headers;
}

/** The headers of a signed response (status, Content-Digest, Content-Type). */
export async function signResponse(key: SigningKey, status: number, body: string): Promise<Record<string, string>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-digest': contentDigest(body) };
  const signed = await messageSignatures().httpbis.signMessage(
    {
      key: { id: key.kid, alg: 'ed25519', sign: async (data) => sign(null, data, key.privateKey) },
      name: SIGNATURE_LABEL,
      fields: RESPONSE_FIELDS,
      params: PARAMS,
      paramValues: { tag: SIGNATURE_TAG },
    },
    { status, headers },
  );
  return signed.headers;
}

/** Why a signed message was refused (each becomes a 401 problem naming it). */
export class SignatureError extends Error {
  constructor(
    readonly reason: 'missing' | 'digest' | 'unknown-key' | 'expired' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

export interface VerifiableMessage {
  method?: string;
  url?: string;
  status?: number;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, exactly as received; undefined for a message without one. */
  body?: string | Buffer;
}

/**
 * Verifies a request (or, with `status`, a response) against the peer's keys: the digest
 * must match the raw body, the signature must name one of `keys` by its thumbprint and
 * cover the required components, and `created` must lie within ±300 s of now.
 * Returns the key id that signed.
 */
export async function verifySigned(message: VerifiableMessage, keys: ReadonlyArray<{ kid: string; jwk: PublicJwk }>, now = Date.now()): Promise<{ kid: string; signature: string }> {
  const header = (name: string) => {
    const value = message.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const signature = header('signature');
  const input = header('signature-input');
  if (!signature || !input) throw new SignatureError('missing', 'The request is not signed: send Signature and Signature-Input (RFC 9421)');
  const hasBody = message.body !== undefined && message.body.length > 0;
  if (hasBody && !digestMatches(header('content-digest'), message.body!)) throw new SignatureError('digest', 'Content-Digest does not match the body (RFC 9530, sha-256)');
  const required = message.status !== undefined ? RESPONSE_FIELDS : hasBody ? BODY_FIELDS : NO_BODY_FIELDS;
  const { kid } = await verifyMessageSignature(message, keys, { requiredFields: required, requiredParams: ['created', 'keyid', 'alg'], now });
  return { kid, signature };
}

/**
 * The RFC 9421 check under `verifySigned`, without Rapport Link's policy on what must be
 * covered: an `ed25519` signature by one of `keys` (by `keyid`) over `requiredFields` at
 * least, `created` within ±300 s of `now`. It verifies any RFC 9421 Ed25519 signature
 * (the RFC's own example in the tests); it does not check the digest.
 */
export async function verifyMessageSignature(
  message: VerifiableMessage,
  keys: ReadonlyArray<{ kid: string; jwk: PublicJwk }>,
  options: { requiredFields: string[]; requiredParams: string[]; now?: number },
): Promise<{ kid: string }> {
  let used: string | undefined;
  let found = false;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  // The library measures `maxAge` against the process clock; the window is checked here
  // against `now` instead, so a caller's clock (and a test's) is the one that counts.
  checkCreatedWithinWindow(headers['signature-input'], Math.floor((options.now ?? Date.now()) / 1000));
  let result: boolean | null;
  try {
    const target = message.status !== undefined ? { status: message.status, headers } : { method: message.method!.toUpperCase(), url: message.url!, headers };
    result = await messageSignatures().httpbis.verifyMessage(
      {
        keyLookup: async (params) => {
          const key = keys.find((k) => k.kid === params.keyid);
          if (!key) return null;
          found = true;
          used = key.kid;
          const publicKey = publicKeyOf(key.jwk);
          return { id: key.kid, algs: ['ed25519'], verify: async (data, sig) => verify(null, data, publicKey, sig) };
        },
        requiredParams: options.requiredParams,
        requiredFields: options.requiredFields,
        notAfter: Number.MAX_SAFE_INTEGER,
      },
      target as never,
    );
  } catch (error) {
    const name = (error as Error).name ?? '';
    if (name === 'ExpiredError' || /too old|expired/i.test((error as Error).message))
      throw new SignatureError('expired', `The signature's created time is more than ${SIGNATURE_WINDOW_SECONDS} s from this server's clock`);
    throw new SignatureError('invalid', `The signature cannot be verified: ${(error as Error).message}`);
  }
  if (!found) throw new SignatureError('unknown-key', 'The signature names a key this link does not know (keyid must be the RFC 7638 thumbprint of a key of the link)');
  if (result !== true) throw new SignatureError('invalid', 'The signature does not verify with the link key it names');
  return { kid: used! };
}

function checkCreatedWithinWindow(signatureInput: string | undefined, nowSeconds: number): void {
  let inputs: ReturnType<typeof StructuredHeaders.parseDictionary>;
  try {
    inputs = structuredHeaders().parseDictionary(signatureInput ?? '');
  } catch (error) {
    throw new SignatureError('invalid', `Signature-Input is not a structured dictionary: ${(error as Error).message}`);
  }
  for (const [, [, params]] of inputs) {
    const created = params.get('created');
    if (typeof created !== 'number') continue; // a missing `created` is refused as a required parameter
    if (Math.abs(nowSeconds - created) > SIGNATURE_WINDOW_SECONDS)
      throw new SignatureError('expired', `The signature's created time is more than ${SIGNATURE_WINDOW_SECONDS} s from this server's clock`);
  }
}
