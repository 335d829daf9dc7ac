import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, TEST_SECRET_KEY, type TestApp } from '@rapport/testing';
import { verifyWebhookSignature, type Rapport, type RapportConfig } from '@rapport/core';
import { Scheduler } from '../src/jobs/scheduler.js';
import { generateSecretKey, parseSecretKey, SecretBox, SecretBoxError, secretKeyId } from '../src/util/secret-box.js';
import { SEAL_SECRETS_TASK, SECRET_KEY_FILE, WebhookSecrets } from '../src/webhooks/secrets.js';

/* Webhook signing secrets are encrypted at rest, still sign deliveries, and rotate keys. */

interface Received {
  path: string;
  signature: string;
  raw: string;
}

async function waitFor<T>(what: string, probe: () => Promise<T> | T, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The app seen with another configuration or database kind, without a second database. */
function variant(app: Rapport, config: Partial<RapportConfig>, kind?: 'pglite' | 'postgres'): Rapport {
  const props: PropertyDescriptorMap = { config: { value: { ...app.config, ...config } } };
  if (kind) props.databaseKind = { value: kind };
  return Object.create(app, props) as Rapport;
}

describe('webhook secrets at rest', () => {
  let t: TestApp;
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', signature: String(req.headers['rapport-signature']), raw: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end('ok');
    });
  });
  let url = '';
  let savedEnv: Record<string, string | undefined>;
  let copiedOnto = '';

  beforeAll(async () => {
    savedEnv = { key: process.env.RAPPORT_SECRET_KEY, previous: process.env.RAPPORT_PREVIOUS_SECRET_KEYS };
    delete process.env.RAPPORT_SECRET_KEY;
    delete process.env.RAPPORT_PREVIOUS_SECRET_KEYS;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    t = await createTestApp({ config: { dispatcher: { maxAttempts: 2 } } });
  });
  afterAll(async () => {
    await t?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (savedEnv.key !== undefined) process.env.RAPPORT_SECRET_KEY = savedEnv.key;
    if (savedEnv.previous !== undefined) process.env.RAPPORT_PREVIOUS_SECRET_KEYS = savedEnv.previous;
  });

  const subscribe = async (pathName: string) => {
    const res = await t.admin.post('/api/v1/webhooks', { url: `${url}${pathName}`, events: ['party.created'] });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; secret: string };
  };
  const stored = async (id: string): Promise<string> => (await t.app.knex('rapport_webhooks').where({ id }).first('secret')).secret;
  /** Creates a party and waits for its event to reach `pathName`; returns the request. */
  const deliveredTo = async (pathName: string) => {
    const party = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: `Party for ${pathName}` })).body;
    return waitFor(`delivery to ${pathName}`, () => received.find((r) => r.path === pathName && JSON.parse(r.raw).payload.party?.id === party.id));
  };

  it('stores the secret encrypted under the configured key, and deliveries still verify', async () => {
    const webhook = await subscribe('/sealed');
    const value = await stored(webhook.id);
    expect(value).not.toBe(webhook.secret);
    expect(value).not.toContain(webhook.secret.slice(6));
    expect(value.startsWith(`rsb1:${secretKeyId(parseSecretKey(TEST_SECRET_KEY, 'test'))}:`)).toBe(true);
    const request = await deliveredTo('/sealed');
    expect(verifyWebhookSignature({ secret: webhook.secret, header: request.signature, body: request.raw })).toBe(true);

    const rotated = (await t.admin.post(`/api/v1/webhooks/${webhook.id}/rotate-secret`)).body as { secret: string };
    const after = await stored(webhook.id);
    expect(after).not.toBe(value);
    expect(after).not.toContain(rotated.secret.slice(6));
    const next = await deliveredTo('/sealed');
    expect(verifyWebhookSignature({ secret: rotated.secret, header: next.signature, body: next.raw })).toBe(true);
    expect(verifyWebhookSignature({ secret: webhook.secret, header: next.signature, body: next.raw })).toBe(false);
  });

  it('binds a sealed secret to its webhook: copied onto another it does not open', async () => {
    const [a, b] = [await subscribe('/bound-a'), await subscribe('/bound-b')];
    copiedOnto = b.id;
    await t.app
      .knex('rapport_webhooks')
      .where({ id: b.id })
      .update({ secret: await stored(a.id) });
    const copied = await stored(b.id);
    expect(() => t.app.webhookSecrets.open(t.tenantId, b.id, copied)).toThrow(SecretBoxError);
    expect(t.app.webhookSecrets.open(t.tenantId, a.id, copied)).toBe(a.secret);
    await t.admin.patch(`/api/v1/webhooks/${b.id}`, { active: false });
    await t.admin.patch(`/api/v1/webhooks/${a.id}`, { active: false });
  });

  it('reads secrets stored in clear before encryption, and the seal task encrypts them', async () => {
    const webhook = await subscribe('/legacy');
    const legacy = 'whsec_written-in-clear-by-an-older-version-0123456789';
    await t.app.knex('rapport_webhooks').where({ id: webhook.id }).update({ secret: legacy });
    const request = await deliveredTo('/legacy');
    expect(verifyWebhookSignature({ secret: legacy, header: request.signature, body: request.raw })).toBe(true);

    expect(await t.app.scheduler.runNow(SEAL_SECRETS_TASK)).toEqual({ status: 'succeeded' });
    const value = await stored(webhook.id);
    expect(SecretBox.isSealed(value)).toBe(true);
    expect(value).not.toContain(legacy);
    const clearRows = await t.app.knex('rapport_webhooks').whereNot('secret', 'like', 'rsb1:%').count({ n: '*' }).first();
    expect(Number(clearRows!.n)).toBe(0);
    const next = await deliveredTo('/legacy');
    expect(verifyWebhookSignature({ secret: legacy, header: next.signature, body: next.raw })).toBe(true);
    await t.admin.patch(`/api/v1/webhooks/${webhook.id}`, { active: false });
  });

  it('rotates the key: the old key stays readable as a previous key until the seal task re-encrypts every row', async () => {
    const webhook = await subscribe('/rotation');
    const newKey = generateSecretKey().toString('base64');
    const rotatedNode = new WebhookSecrets(variant(t.app, { secretKey: newKey, previousSecretKeys: [TEST_SECRET_KEY] }), new Scheduler(t.app));
    expect(rotatedNode.open(t.tenantId, webhook.id, await stored(webhook.id))).toBe(webhook.secret);
    const pass = await rotatedNode.sealAll();
    expect(pass.sealed).toBeGreaterThan(0);
    // The secret copied onto another webhook (test above) opens with no key: reported, left alone.
    expect(pass.unreadable).toEqual([copiedOnto]);
    const value = await stored(webhook.id);
    expect(SecretBox.keyIdOf(value)).toBe(rotatedNode.box()!.currentKeyId);
    expect(rotatedNode.open(t.tenantId, webhook.id, value)).toBe(webhook.secret);
    // A second pass has nothing left to do.
    expect(await rotatedNode.sealAll()).toEqual({ sealed: 0, unreadable: [copiedOnto] });

    // This node still has only the old key: it fails clearly, naming the missing key, and records it on the delivery.
    expect(() => t.app.webhookSecrets.open(t.tenantId, webhook.id, value)).toThrow(/key [0-9a-f]{8}, which is not configured/);
    await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Not deliverable' });
    const failed = await waitFor('the delivery to fail', async () => {
      const res = await t.admin.get(`/api/v1/webhooks/${webhook.id}/deliveries`);
      return res.body.data.find((d: any) => d.status === 'failed');
    });
    expect(failed.lastError).toMatch(/cannot decrypt the webhook's signing secret/);
    expect(failed.history.every((h: any) => h.statusCode === null)).toBe(true);
    expect(received.some((r) => r.path === '/rotation')).toBe(false);
    await t.admin.patch(`/api/v1/webhooks/${webhook.id}`, { active: false });
  });

  it('rejects a wrong key and malformed keys clearly', () => {
    const box = new SecretBox(parseSecretKey(TEST_SECRET_KEY, 'test'));
    const sealed = box.seal('whsec_x', 'ctx');
    // Sealed under another key: the id names a key this box does not have.
    const forged = sealed.replace(/^rsb1:[0-9a-f]{8}:/, `rsb1:${secretKeyId(generateSecretKey())}:`);
    expect(() => box.open(forged, 'ctx')).toThrow(/not configured/);
    expect(() => new SecretBox(generateSecretKey()).open(sealed, 'ctx')).toThrow(/not configured/);
    // The right key id with the wrong bytes (a key file swapped under the same id cannot happen; forge it).
    const impostor = new SecretBox(generateSecretKey());
    const relabelled = impostor.seal('whsec_x', 'ctx').replace(/^rsb1:[0-9a-f]{8}:/, `rsb1:${box.currentKeyId}:`);
    expect(() => box.open(relabelled, 'ctx')).toThrow(/does not decrypt with key/);
    const tampered = sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA');
    expect(() => box.open(tampered, 'ctx')).toThrow(/does not decrypt/);
    expect(() => parseSecretKey('too-short', 'RAPPORT_SECRET_KEY')).toThrow(/RAPPORT_SECRET_KEY must be 32 random bytes/);
    expect(parseSecretKey(generateSecretKey().toString('hex'), 'x')).toHaveLength(32);
    expect(parseSecretKey(generateSecretKey().toString('base64url'), 'x')).toHaveLength(32);
  });

  it('without a key: refuses webhooks on PostgreSQL, generates a 0600 key file on PGlite', async () => {
    const onPostgres = new WebhookSecrets(variant(t.app, { secretKey: undefined }, 'postgres'), new Scheduler(t.app));
    expect(onPostgres.box()).toBeNull();
    let refused: any;
    try {
      onPostgres.seal(t.tenantId, '0190c9a4-0000-7000-8000-000000000001', 'whsec_x');
    } catch (error) {
      refused = error;
    }
    expect(refused?.status).toBe(503);
    expect(refused?.message).toMatch(/RAPPORT_SECRET_KEY/);

    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-key-'));
    try {
      const devConfig = { secretKey: undefined, database: { dataDir } };
      const first = new WebhookSecrets(variant(t.app, devConfig, 'pglite'), new Scheduler(t.app));
      const keyId = first.box()!.currentKeyId;
      const file = path.join(dataDir, SECRET_KEY_FILE);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      // Kept across restarts: the next process reads the same key.
      const second = new WebhookSecrets(variant(t.app, devConfig, 'pglite'), new Scheduler(t.app));
      expect(second.box()!.currentKeyId).toBe(keyId);
      expect(second.open(t.tenantId, 'w', first.seal(t.tenantId, 'w', 'whsec_dev'))).toBe('whsec_dev');
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a malformed key, naming the setting', async () => {
    await expect(createTestApp({ config: { secretKey: 'not-a-32-byte-key' } })).rejects.toThrow(/secretKey must be 32 random bytes/);
  });

  it('answers a clear problem over HTTP when the server has no key on PostgreSQL', async () => {
    const noKey = await createTestApp({ config: { secretKey: undefined, dispatcher: { enabled: false } } });
    try {
      const res = await noKey.admin.post('/api/v1/webhooks', { url: `${url}/nokey`, events: ['party.created'] });
      if (noKey.kind === 'postgres') {
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body.type).toBe('https://rapport.dev/problems/secret-key-missing');
        expect(res.body.detail).toMatch(/RAPPORT_SECRET_KEY/);
        expect(Number((await noKey.app.knex('rapport_webhooks').count({ n: '*' }).first())!.n)).toBe(0);
      } else {
        // In-memory PGlite: a key that lives as long as the database.
        expect(res.status).toBe(201);
        expect(SecretBox.isSealed((await noKey.app.knex('rapport_webhooks').where({ id: res.body.id }).first('secret')).secret)).toBe(true);
      }
    } finally {
      await noKey.close();
    }
  });
});
