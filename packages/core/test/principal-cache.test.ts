import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRapport, type Rapport } from '@rapport/core';
import { createTestApp, TestClient, type TestApp } from '@rapport/testing';
import { sql } from '../src/kernel/context.js';
import { PrincipalCache, principalCacheOf } from '../src/access/principal-cache.js';
import { systemPrincipal } from '../src/access/principal.js';

/*
 * Authentication answers known tokens from a principal cache (no query), yet a revoked
 * key, a narrowed role, a disabled user or an ended session stops working at once: on
 * this node, and on another node of the same database.
 */
const PASSWORD = 'correct horse battery staple';

/** Statements that read the access tables while `work` runs. */
async function accessReads(app: Rapport, work: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const onQuery = (q: { sql: string }) => {
    if (/rapport_api_keys|rapport_sessions|rapport_roles/.test(q.sql) && /^\s*select/i.test(q.sql)) seen.push(q.sql);
  };
  app.knex.on('query', onQuery);
  try {
    await work();
  } finally {
    app.knex.off('query', onQuery);
  }
  return seen;
}

describe('principal cache', () => {
  let t: TestApp;
  let other: Rapport;
  let otherNode: TestClient;

  beforeAll(async () => {
    t = await createTestApp({ config: { http: { sessionTtlSeconds: 3600 } } });
    // A second node on the same database: the same PostgreSQL schema, or the same PGlite instance.
    other = await createRapport({ database: t.app.config.database, logLevel: 'silent', dispatcher: { enabled: false }, scheduler: { enabled: false } });
    const server = await other.listen(0, '127.0.0.1');
    otherNode = new TestClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    // On PGlite both apps share one instance; the first to close closes it.
    await other?.close().catch(() => undefined);
    await t?.close();
  });

  it('answers a token it has seen without reading the access tables', async () => {
    const reader = await t.clientFor({ roles: ['viewer'] });
    expect((await reader.get('/api/v1/parties')).status).toBe(200);
    // On PostgreSQL the cache is trusted once this node listens for other nodes' changes
    // (a busy machine may take a moment, or a retry, to open that connection).
    await principalCacheOf(t.app.knex).ready();
    await expect.poll(() => accessReads(t.app, async () => expect((await reader.get('/api/v1/parties')).status).toBe(200)), { timeout: 5000, interval: 50 }).toEqual([]);
  });

  it('stops a revoked key at once, on this node and on the other', async () => {
    const key = (await t.admin.post('/api/v1/keys', { name: 'soon revoked', roles: ['viewer'] })).body;
    const here = t.anonymous.as(key.token);
    const there = otherNode.as(key.token);
    for (let i = 0; i < 2; i++) {
      expect((await here.get('/api/v1/parties')).status).toBe(200);
      expect((await there.get('/api/v1/parties')).status).toBe(200);
    }
    // Both nodes now answer the key from their caches.
    expect(await accessReads(other, () => there.get('/api/v1/parties'))).toEqual([]);

    expect((await t.admin.delete(`/api/v1/keys/${key.id}`)).status).toBe(204);
    expect((await here.get('/api/v1/parties')).status).toBe(401);
    // The other node learns of it when the revocation commits (PostgreSQL NOTIFY, or in-process).
    await expect.poll(async () => (await there.get('/api/v1/parties')).status, { timeout: 5000, interval: 20 }).toBe(401);
  });

  it('applies a narrowed or widened role to its holders at once', async () => {
    expect((await t.admin.post('/api/v1/roles', { name: 'cached-readers', permissions: ['parties:read'] })).status).toBe(201);
    const holder = await t.clientFor({ roles: ['cached-readers'] });
    expect((await holder.get('/api/v1/parties')).status).toBe(200);
    expect((await holder.get('/api/v1/parties')).status).toBe(200);
    expect((await otherNode.as(tokenOf(holder)).get('/api/v1/parties')).status).toBe(200);

    expect((await t.admin.patch('/api/v1/roles/cached-readers', { permissions: ['interactions:read'] })).status).toBe(200);
    expect((await holder.get('/api/v1/parties')).status).toBe(403);
    await expect.poll(async () => (await otherNode.as(tokenOf(holder)).get('/api/v1/parties')).status, { timeout: 5000, interval: 20 }).toBe(403);

    expect((await t.admin.patch('/api/v1/roles/cached-readers', { permissions: ['parties:read'] })).status).toBe(200);
    expect((await holder.get('/api/v1/parties')).status).toBe(200);
  });

  it('ends a session at logout, and every session of a user who is disabled or loses a role', async () => {
    const user = (await t.admin.post('/api/v1/users', { email: 'grace@example.com', name: 'Grace', password: PASSWORD, roles: ['viewer'] })).body;
    const login = async () => (await t.anonymous.post('/api/v1/auth/login', { email: 'grace@example.com', password: PASSWORD })).body.token as string;

    const first = await login();
    expect((await t.anonymous.get('/api/v1/parties', { token: first })).status).toBe(200);
    expect((await t.anonymous.get('/api/v1/parties', { token: first })).status).toBe(200);
    expect((await t.anonymous.post('/api/v1/auth/logout', undefined, { token: first })).status).toBe(204);
    expect((await t.anonymous.get('/api/v1/parties', { token: first })).status).toBe(401);

    const second = await login();
    expect((await t.anonymous.get('/api/v1/parties', { token: second })).status).toBe(200);
    expect((await t.admin.patch(`/api/v1/users/${user.id}`, { roles: [] })).status).toBe(200);
    expect((await t.anonymous.get('/api/v1/parties', { token: second })).status).toBe(403);

    expect((await t.admin.patch(`/api/v1/users/${user.id}`, { roles: ['viewer'] })).status).toBe(200);
    expect((await t.anonymous.get('/api/v1/parties', { token: second })).status).toBe(200);
    expect((await t.admin.patch(`/api/v1/users/${user.id}`, { disabled: true })).status).toBe(200);
    expect((await t.anonymous.get('/api/v1/parties', { token: second })).status).toBe(401);
  });

  it('keeps serving a key whose revocation rolled back', async () => {
    const key = (await t.admin.post('/api/v1/keys', { name: 'kept', roles: ['viewer'] })).body;
    const client = t.anonymous.as(key.token);
    expect((await client.get('/api/v1/parties')).status).toBe(200);
    await expect(
      t.app.transaction(async (uow) => {
        await sql(uow)('rapport_api_keys').where({ tenant_id: uow.tenantId, id: key.id }).update({ revoked_at: new Date() });
        uow.emit('access.key.revoked', { key }, { type: 'api-key', id: key.id });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect((await client.get('/api/v1/parties')).status).toBe(200);
  });

  it('tells apart the tokens sent one after another on one keep-alive connection', async () => {
    // The server remembers the last credential of each connection; a proxy may send many callers' requests over one.
    const viewer = (await t.admin.post('/api/v1/keys', { name: 'same socket', roles: ['viewer'] })).body;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const { port } = new URL(t.baseUrl);
    const send = (method: string, authorization?: string) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = http.request(
          { agent, host: '127.0.0.1', port, method, path: '/api/v1/parties', headers: { ...(authorization ? { authorization } : {}), 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
          },
        );
        req.on('error', reject);
        req.end(method === 'POST' ? JSON.stringify({ kind: 'person', name: 'Same Socket' }) : undefined);
      });
    try {
      const answers = [
        await send('GET', `Bearer ${viewer.token}`),
        await send('POST', `Bearer ${viewer.token}`),
        await send('POST', `Bearer ${t.adminToken}`),
        await send('GET'),
        await send('GET', `Bearer ${viewer.token}x`),
        await send('GET', `Basic ${viewer.token}`),
        await send('GET', `bearer  ${viewer.token}`),
      ];
      expect(answers.map((a) => a.status)).toEqual([200, 403, 201, 401, 401, 401, 200]);
      expect(answers.slice(1).every((a) => a.reused)).toBe(true);
      expect((await t.admin.delete(`/api/v1/keys/${viewer.id}`)).status).toBe(204);
      const revoked = await send('GET', `Bearer ${viewer.token}`);
      expect(revoked).toEqual({ status: 401, reused: true });
    } finally {
      agent.destroy();
    }
  });
});

describe('PrincipalCache', () => {
  const principal = systemPrincipal('0190c9a4-0000-7000-8000-000000000001');
  const pglite = () => new PrincipalCache({ client: { config: { client: 'pglite' } } } as never, false);

  it('refuses an answer read before a change that emptied it', () => {
    const cache = pglite();
    const before = cache.snapshot();
    cache.invalidate();
    cache.set('hash', before, { principal, lastUsedAt: null });
    expect(cache.get('hash')).toBeUndefined();
    cache.set('hash', cache.snapshot(), { principal, lastUsedAt: null });
    expect(cache.get('hash')?.principal).toBe(principal);
  });

  it('never keeps a session past its expiry', () => {
    const cache = pglite();
    cache.set('expired', cache.snapshot(), { principal, lastUsedAt: null, expiresAt: Date.now() - 1 });
    expect(cache.get('expired')).toBeUndefined();
  });

  it('is bypassed on PostgreSQL until it listens for other nodes', () => {
    const cache = new PrincipalCache({ client: { config: { client: 'pg' } } } as never, true);
    expect(cache.active).toBe(false);
    cache.set('hash', cache.snapshot(), { principal, lastUsedAt: null });
    expect(cache.get('hash')).toBeUndefined();
  });
});

function tokenOf(client: TestClient): string {
  return client.token!;
}
