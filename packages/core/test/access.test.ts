import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '@rapport/core';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import { ensureBootstrapKey } from '../src/access/keys.js';
import { TENANT_WIDE_PERMISSIONS } from '../src/access/principal.js';
import { samplePlugin } from './fixtures/test-plugin.js';

/*
 * Principals, login, API keys, roles, audit and bootstrap, over HTTP. Record scopes and
 * tenant isolation are in scopes.test.ts.
 */
const BOOTSTRAP = 'bootstrap-token-for-tests-0123456789';
const PASSWORD = 'correct horse battery staple';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body.type).toBe(`https://rapport.dev/problems/${code}`);
}

describe('access', () => {
  let t: TestApp;
  let adminKeyId: string;
  let viewer: TestClient;
  let partyId: string;
  const secrets: string[] = [PASSWORD];

  beforeAll(async () => {
    t = await createTestApp({ plugins: [samplePlugin().plugin], config: { bootstrapKey: BOOTSTRAP, http: { sessionTtlSeconds: 3600 } } });
    adminKeyId = (await t.admin.get('/api/v1/auth/me')).body.id;
    viewer = await t.clientFor({ roles: ['viewer'] });
    partyId = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Initech' })).body.id;
  });
  afterAll(() => t?.close());

  describe('deny by default', () => {
    const sample = (path: string) => path.replace(/:(\w+)/g, (_m, name: string) => (name === 'id' ? '0190c9a4-0000-7000-8000-000000000001' : 'x'));

    it('leaves only sign-in and the signed routes of linked systems public among the API routes', () => {
      const open = t.app.http
        .routes()
        .filter((r) => r.permission === null)
        .map((r) => `${r.method} ${r.fullPath}`);
      // The peer routes take no principal: an invitation's one-time secret or the link's
      // HTTP message signature authenticates them (docs/federation.md).
      expect(open).toEqual([
        'post /api/v1/auth/login',
        'post /api/v1/auth/session',
        'get /api/v1/federation/peer/invitations/:id',
        'post /api/v1/federation/peer/links/:id/accept',
        'post /api/v1/federation/peer/links/:id/inbox',
        'get /api/v1/federation/peer/links/:id/outbox',
        'post /api/v1/federation/peer/links/:id/state',
        'post /api/v1/federation/peer/links/:id/keys',
      ]);
    });

    it('answers 401 problem+json on every route without a token', async () => {
      for (const route of t.app.http.routes().filter((r) => r.permission !== null)) {
        const res = await t.anonymous.request(route.method.toUpperCase(), sample(route.fullPath));
        expectProblem(res, 401, 'unauthorized');
      }
    });

    it('answers 403 on every permissioned route to a key without roles', async () => {
      const nobody = await t.clientFor({ roles: [] });
      for (const route of t.app.http.routes().filter((r) => r.permission !== null)) {
        const res = await nobody.request(route.method.toUpperCase(), sample(route.fullPath));
        // Open to any signed-in caller; with a sample id these find nothing of the caller's.
        if (route.permission === 'authenticated') expect([200, 204, 400, 404]).toContain(res.status);
        else expectProblem(res, 403, 'forbidden');
      }
    });

    it('answers 401 to a bad token, an unknown token and a malformed header', async () => {
      expectProblem(await t.anonymous.get('/api/v1/parties', { token: 'rpk_not-a-real-token-at-all' }), 401, 'unauthorized');
      expectProblem(await t.anonymous.get('/api/v1/parties', { token: 'short' }), 401, 'unauthorized');
      expectProblem(await t.anonymous.get('/api/v1/parties', { headers: { authorization: `Basic ${t.adminToken}` } }), 401, 'unauthorized');
    });

    it('keeps health and the OpenAPI document public', async () => {
      expect((await t.anonymous.get('/health')).status).toBe(200);
      expect((await t.anonymous.get('/api/v1/openapi.json')).status).toBe(200);
    });

    it('lets the viewer role read but not write', async () => {
      expect((await viewer.get('/api/v1/parties')).status).toBe(200);
      expect((await viewer.get(`/api/v1/parties/${partyId}`)).status).toBe(200);
      expectProblem(await viewer.post('/api/v1/parties', { kind: 'person', name: 'Nope' }), 403, 'forbidden');
      expectProblem(await viewer.patch(`/api/v1/parties/${partyId}`, { name: 'Nope' }, { headers: { 'if-match': '"1"' } }), 403, 'forbidden');
      expectProblem(await viewer.get('/api/v1/users'), 403, 'forbidden');
      expectProblem(await viewer.get('/api/v1/audit'), 403, 'forbidden');
      expect((await t.admin.get(`/api/v1/parties/${partyId}`)).body.name).toBe('Initech');
    });
  });

  describe('users and login', () => {
    let user: any;
    let token: string;

    it('creates a user without ever returning its password', async () => {
      const res = await t.admin.post('/api/v1/users', { email: 'Ada@Example.com', name: 'Ada', password: PASSWORD, roles: ['viewer'] });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        email: 'Ada@Example.com',
        name: 'Ada',
        roles: ['viewer'],
        partyId: null,
        scoped: false,
        disabledAt: null,
        createdAt: expect.any(String),
      });
      user = res.body;
      const read = await t.admin.get(`/api/v1/users/${user.id}`);
      expect(read.body).toEqual(user);
      const list = await t.admin.get('/api/v1/users');
      expect(list.body.data.map((u: any) => u.id)).toContain(user.id);
      expect(list.text).not.toMatch(/password|argon2/i);
    });

    it('stores an argon2id hash, never the password', async () => {
      const row = await t.app.knex('rapport_users').where({ id: user.id }).first('password_hash');
      expect(row.password_hash).toMatch(/^\$argon2id\$/);
      expect(row.password_hash).not.toContain(PASSWORD);
    });

    it('refuses bad users with 4xx and writes nothing', async () => {
      const before = await t.app.knex('rapport_users').count({ n: '*' }).first();
      expectProblem(await t.admin.post('/api/v1/users', { email: 'short@example.com', password: 'too-short' }), 400, 'validation');
      expectProblem(await t.admin.post('/api/v1/users', { email: 'role@example.com', password: PASSWORD, roles: ['no-such-role'] }), 400, 'validation');
      expectProblem(await t.admin.post('/api/v1/users', { email: 'scoped@example.com', password: PASSWORD, scoped: true }), 400, 'validation');
      expectProblem(await t.admin.post('/api/v1/users', { email: 'scoped@example.com', password: PASSWORD, scoped: true, partyId: '0190c9a4-0000-7000-8000-00000000dead' }), 400, 'validation');
      expectProblem(await t.admin.post('/api/v1/users', { email: 'ada@EXAMPLE.com', password: PASSWORD }), 409, 'conflict');
      expectProblem(await t.admin.post('/api/v1/users', { email: 'x@example.com', password: PASSWORD, passwordHash: 'x' }), 400, 'validation');
      expect(await t.app.knex('rapport_users').count({ n: '*' }).first()).toEqual(before);
    });

    it('logs in with the right password, case-insensitively on the e-mail', async () => {
      const res = await t.anonymous.post('/api/v1/auth/login', { email: 'ada@example.COM', password: PASSWORD });
      expect(res.status).toBe(200);
      expect(res.body.token).toMatch(/^rps_/);
      expect(res.body.user).toEqual(user);
      const ttl = Date.parse(res.body.expiresAt) - Date.now();
      expect(ttl).toBeGreaterThan(3500_000);
      expect(ttl).toBeLessThanOrEqual(3600_000);
      token = res.body.token;
      secrets.push(token);

      const me = await t.anonymous.get('/api/v1/auth/me', { token });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ kind: 'user', id: user.id, tenantId: t.tenantId, roles: ['viewer'], partyId: null, scopePartyId: null });
      expect(me.body.permissions).toContain('parties:read');
      expect((await t.anonymous.get('/api/v1/parties', { token })).status).toBe(200);
      expectProblem(await t.anonymous.post('/api/v1/parties', { kind: 'person', name: 'X' }, { token }), 403, 'forbidden');
    });

    it('stores only the sha256 of the session token', async () => {
      const sessions = await t.app.knex('rapport_sessions').where({ user_id: user.id }).select('token_hash');
      expect(sessions.map((s: any) => s.token_hash)).toContain(sha256(token));
    });

    it('answers wrong password and unknown e-mail with the same 401', async () => {
      const wrong = await t.anonymous.post('/api/v1/auth/login', { email: 'ada@example.com', password: 'not the password at all' });
      const unknown = await t.anonymous.post('/api/v1/auth/login', { email: 'nobody@example.com', password: PASSWORD });
      expectProblem(wrong, 401, 'unauthorized');
      expectProblem(unknown, 401, 'unauthorized');
      expect(wrong.body.detail).toBe(unknown.body.detail);
      expectProblem(await t.anonymous.post('/api/v1/auth/login', { email: 'ada@example.com' }), 400, 'validation');
    });

    it('logs out: the session stops working at once', async () => {
      const second = (await t.anonymous.post('/api/v1/auth/login', { email: 'ada@example.com', password: PASSWORD })).body.token;
      secrets.push(second);
      const out = await t.anonymous.post('/api/v1/auth/logout', undefined, { token: second });
      expect(out.status).toBe(204);
      expectProblem(await t.anonymous.get('/api/v1/auth/me', { token: second }), 401, 'unauthorized');
      // The other session is untouched.
      expect((await t.anonymous.get('/api/v1/auth/me', { token })).status).toBe(200);
      // API keys are revoked, not logged out.
      expectProblem(await t.admin.post('/api/v1/auth/logout'), 400, 'validation');
    });

    it('refuses a disabled user and ends its sessions', async () => {
      const res = await t.admin.patch(`/api/v1/users/${user.id}`, { disabled: true });
      expect(res.status).toBe(200);
      expect(res.body.disabledAt).toEqual(expect.any(String));
      expectProblem(await t.anonymous.get('/api/v1/auth/me', { token }), 401, 'unauthorized');
      expectProblem(await t.anonymous.post('/api/v1/auth/login', { email: 'ada@example.com', password: PASSWORD }), 401, 'unauthorized');
      expect(await t.app.knex('rapport_sessions').where({ user_id: user.id }).first()).toBeUndefined();

      expect((await t.admin.patch(`/api/v1/users/${user.id}`, { disabled: false })).body.disabledAt).toBeNull();
      expect((await t.anonymous.post('/api/v1/auth/login', { email: 'ada@example.com', password: PASSWORD })).status).toBe(200);
    });

    it('changes the password: old sessions and the old password stop working', async () => {
      const session = (await t.anonymous.post('/api/v1/auth/login', { email: 'ada@example.com', password: PASSWORD })).body.token;
      const next = 'an entirely new passphrase';
      secrets.push(next);
      expectProblem(await t.admin.patch(`/api/v1/users/${user.id}`, { password: 'short' }), 400, 'validation');
      const changed = await t.admin.patch(`/api/v1/users/${user.id}`, { password: next, roles: ['viewer', 'admin'], name: 'Ada L.' });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ name: 'Ada L.', roles: ['viewer', 'admin'] });
      expectProblem(await t.anonymous.get('/api/v1/auth/me', { token: session }), 401, 'unauthorized');
      expectProblem(await t.anonymous.post('/api/v1/auth/login', { email: 'ada@example.com', password: PASSWORD }), 401, 'unauthorized');
      const fresh = await t.anonymous.post('/api/v1/auth/login', { email: 'ada@example.com', password: next });
      expect(fresh.status).toBe(200);
      secrets.push(fresh.body.token);
      expect((await t.anonymous.post('/api/v1/parties', { kind: 'person', name: 'By Ada' }, { token: fresh.body.token })).status).toBe(201);
    });

    it('links a scoped user to a party and scopes its session', async () => {
      const res = await t.admin.post('/api/v1/users', { email: 'portal@partner.example', password: PASSWORD, roles: ['viewer'], partyId, scoped: true });
      expect(res.status).toBe(201);
      const login = await t.anonymous.post('/api/v1/auth/login', { email: 'portal@partner.example', password: PASSWORD });
      secrets.push(login.body.token);
      const me = await t.anonymous.get('/api/v1/auth/me', { token: login.body.token });
      expect(me.body).toMatchObject({ kind: 'user', partyId, scopePartyId: partyId });
      const parties = await t.anonymous.get('/api/v1/parties', { token: login.body.token });
      expect(parties.body.data.map((p: any) => p.id)).toEqual([partyId]);
    });

    it('answers 404 for an unknown user', async () => {
      expectProblem(await t.admin.get('/api/v1/users/0190c9a4-0000-7000-8000-00000000beef'), 404, 'not-found');
      expectProblem(await t.admin.patch('/api/v1/users/0190c9a4-0000-7000-8000-00000000beef', { name: 'x' }), 404, 'not-found');
    });
  });

  describe('API keys', () => {
    let key: any;

    it('creates a key whose token is shown once and works', async () => {
      const res = await t.admin.post('/api/v1/keys', { name: 'reporting', roles: ['viewer'] });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name: 'reporting', roles: ['viewer'], partyId: null, scoped: false, revokedAt: null, token: expect.stringMatching(/^rpk_/) });
      key = res.body;
      secrets.push(key.token);
      const client = t.anonymous.as(key.token);
      expect((await client.get('/api/v1/parties')).status).toBe(200);
      expectProblem(await client.post('/api/v1/parties', { kind: 'person', name: 'X' }), 403, 'forbidden');
      expect((await client.get('/api/v1/auth/me')).body).toMatchObject({ kind: 'api-key', id: key.id, roles: ['viewer'] });
    });

    it('never lists secrets', async () => {
      const list = await t.admin.get('/api/v1/keys');
      expect(list.status).toBe(200);
      const listed = list.body.data.find((k: any) => k.id === key.id);
      expect(Object.keys(listed).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'partyId', 'revokedAt', 'roles', 'scoped']);
      expect(listed.lastUsedAt).toEqual(expect.any(String));
      expect(list.text).not.toContain(key.token);
      expect(list.text).not.toContain(sha256(key.token));
      const one = await t.admin.get(`/api/v1/keys/${key.id}`);
      expect(one.body).toEqual(listed);
    });

    it('stops a revoked key at once', async () => {
      expect((await t.admin.delete(`/api/v1/keys/${key.id}`)).status).toBe(204);
      expectProblem(await t.anonymous.get('/api/v1/parties', { token: key.token }), 401, 'unauthorized');
      expect((await t.admin.get(`/api/v1/keys/${key.id}`)).body.revokedAt).toEqual(expect.any(String));
      expect((await t.admin.delete(`/api/v1/keys/${key.id}`)).status).toBe(204);
      const live = await t.admin.get('/api/v1/keys?revoked=false');
      expect(live.body.data.map((k: any) => k.id)).not.toContain(key.id);
      expectProblem(await t.admin.delete('/api/v1/keys/0190c9a4-0000-7000-8000-00000000beef'), 404, 'not-found');
    });

    it('refuses a scoped key without a party, and unknown roles', async () => {
      expectProblem(await t.admin.post('/api/v1/keys', { name: 'portal', roles: ['viewer'], scoped: true }), 400, 'validation');
      expectProblem(await t.admin.post('/api/v1/keys', { name: 'portal', roles: ['ghost'] }), 400, 'validation');
    });

    it('does not let a key manager mint more than it holds', async () => {
      expect((await t.admin.post('/api/v1/roles', { name: 'keymaster', permissions: ['access:manage', 'parties:read'] })).status).toBe(201);
      const keymaster = await t.clientFor({ roles: ['keymaster'] });
      expectProblem(await keymaster.post('/api/v1/keys', { name: 'escalate', roles: ['admin'] }), 403, 'forbidden');
      expectProblem(await keymaster.post('/api/v1/roles', { name: 'sneaky', permissions: ['*'] }), 403, 'forbidden');
      expectProblem(await keymaster.patch('/api/v1/roles/keymaster', { permissions: ['*'] }), 403, 'forbidden');
      const own = await keymaster.post('/api/v1/roles', { name: 'readers', permissions: ['parties:read'] });
      expect(own.status).toBe(201);
      const minted = await keymaster.post('/api/v1/keys', { name: 'reader', roles: ['readers'] });
      expect(minted.status).toBe(201);
      secrets.push(minted.body.token);
    });

    it('does not let an account manager change or revoke an account stronger than itself', async () => {
      expect((await t.admin.post('/api/v1/roles', { name: 'usermgr', permissions: ['access:manage', 'parties:read'] })).status).toBe(201);
      expect((await t.admin.post('/api/v1/roles', { name: 'party-readers', permissions: ['parties:read'] })).status).toBe(201);
      const manager = await t.clientFor({ roles: ['usermgr'] });
      const strong = await t.admin.post('/api/v1/users', { email: 'strong-admin@example.com', password: 'a long admin password', roles: ['admin'] });
      const weak = await t.admin.post('/api/v1/users', { email: 'weak-reader@example.com', password: 'a long reader password', roles: ['party-readers'] });
      expect([strong.status, weak.status]).toEqual([201, 201]);
      const before = await t.app.knex('rapport_users').where({ id: strong.body.id }).first('password_hash', 'roles', 'scoped', 'disabled_at');
      for (const patch of [{ password: 'taken over at last!' }, { disabled: true }, { roles: ['party-readers'] }, { name: 'Renamed' }]) {
        const res = await manager.patch(`/api/v1/users/${strong.body.id}`, patch);
        expectProblem(res, 403, 'forbidden');
        expect(res.body.detail).toContain(`user ${strong.body.id}`);
      }
      expect(await t.app.knex('rapport_users').where({ id: strong.body.id }).first('password_hash', 'roles', 'scoped', 'disabled_at')).toEqual(before);
      expect((await t.anonymous.post('/api/v1/auth/login', { email: 'strong-admin@example.com', password: 'a long admin password' })).status).toBe(200);
      // An account within its own reach it manages as before.
      expect((await manager.patch(`/api/v1/users/${weak.body.id}`, { password: 'a new reader password' })).status).toBe(200);
      // Keys alike: an admin key is out of its reach, a reader key is not.
      const adminKey = await t.admin.post('/api/v1/keys', { name: 'ops', roles: ['admin'] });
      const readerKey = await t.admin.post('/api/v1/keys', { name: 'reader-2', roles: ['party-readers'] });
      expectProblem(await manager.delete(`/api/v1/keys/${adminKey.body.id}`), 403, 'forbidden');
      expect((await t.app.knex('rapport_api_keys').where({ id: adminKey.body.id }).first('revoked_at')).revoked_at).toBeNull();
      expect((await manager.delete(`/api/v1/keys/${readerKey.body.id}`)).status).toBe(204);
      expect((await t.admin.delete(`/api/v1/keys/${adminKey.body.id}`)).status).toBe(204);
    });

    it('withholds tenant-wide permissions from a scoped principal, even an admin', async () => {
      const scoped = await t.clientFor({ roles: ['admin'], scopePartyId: partyId });
      for (const path of ['/api/v1/users', '/api/v1/keys', '/api/v1/roles', '/api/v1/audit']) expectProblem(await scoped.get(path), 403, 'forbidden');
      expectProblem(await scoped.post('/api/v1/keys', { name: 'escape', roles: ['admin'] }), 403, 'forbidden');
      expect(TENANT_WIDE_PERMISSIONS.has('webhooks:write')).toBe(true);
      expect((await scoped.get('/api/v1/auth/me')).body).toMatchObject({ scopePartyId: partyId });
    });
  });

  describe('roles', () => {
    it('creates a role from declared permissions and wildcards', async () => {
      const res = await t.admin.post('/api/v1/roles', { name: 'support', description: 'Front line', permissions: ['parties:read', 'sample.*', 'interactions:*'] });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ name: 'support', description: 'Front line', permissions: ['parties:read', 'sample.*', 'interactions:*'], builtin: false });
      const list = await t.admin.get('/api/v1/roles');
      expect(list.body.data.map((r: any) => r.name)).toEqual(expect.arrayContaining(['admin', 'viewer', 'support']));
      expect((await t.admin.get('/api/v1/roles/support')).body.permissions).toContain('sample.*');
    });

    it('refuses unknown permissions and names', async () => {
      expectProblem(await t.admin.post('/api/v1/roles', { name: 'typo', permissions: ['parties:reed'] }), 400, 'validation');
      expectProblem(await t.admin.post('/api/v1/roles', { name: 'typo', permissions: ['nothing.*'] }), 400, 'validation');
      expectProblem(await t.admin.post('/api/v1/roles', { name: 'typo', permissions: ['nothing:*'] }), 400, 'validation');
      expectProblem(await t.admin.post('/api/v1/roles', { name: 'Bad Name', permissions: [] }), 400, 'validation');
      expectProblem(await t.admin.post('/api/v1/roles', { name: 'support', permissions: [] }), 409, 'conflict');
      expectProblem(await t.admin.get('/api/v1/roles/typo'), 404, 'not-found');
    });

    it('applies a changed role on the next request', async () => {
      const support = await t.clientFor({ roles: ['support'] });
      expect((await support.get('/api/v1/parties')).status).toBe(200);
      expectProblem(await support.get('/api/v1/relationships'), 403, 'forbidden');
      const changed = await t.admin.patch('/api/v1/roles/support', { permissions: ['relationships:read'] });
      expect(changed.body.permissions).toEqual(['relationships:read']);
      expect((await support.get('/api/v1/relationships')).status).toBe(200);
      expectProblem(await support.get('/api/v1/parties'), 403, 'forbidden');
    });

    it('protects builtin roles and roles in use', async () => {
      expectProblem(await t.admin.patch('/api/v1/roles/admin', { permissions: ['parties:read'] }), 409, 'conflict');
      expectProblem(await t.admin.delete('/api/v1/roles/viewer'), 409, 'conflict');
      expectProblem(await t.admin.delete('/api/v1/roles/support'), 409, 'conflict');
      const keys = await t.admin.get('/api/v1/keys?revoked=false&limit=200');
      for (const k of keys.body.data.filter((k: any) => k.roles.includes('support'))) await t.admin.delete(`/api/v1/keys/${k.id}`);
      expect((await t.admin.delete('/api/v1/roles/support')).status).toBe(204);
      expectProblem(await t.admin.get('/api/v1/roles/support'), 404, 'not-found');
      expectProblem(await t.admin.delete('/api/v1/roles/support'), 404, 'not-found');
    });
  });

  describe('audit', () => {
    it('records every access write with its actor', async () => {
      const created = await t.admin.post('/api/v1/users', { email: 'grace@example.com', password: PASSWORD, roles: ['viewer'] });
      const audit = await t.admin.get(`/api/v1/audit?recordType=user&recordId=${created.body.id}`);
      expect(audit.status).toBe(200);
      expect(audit.body.data).toEqual([
        {
          id: expect.any(String),
          eventId: expect.any(String),
          action: 'access.user.created',
          recordType: 'user',
          recordId: created.body.id,
          actor: { kind: 'api-key', id: adminKeyId },
          at: expect.any(String),
        },
      ]);

      const login = await t.anonymous.post('/api/v1/auth/login', { email: 'grace@example.com', password: PASSWORD });
      secrets.push(login.body.token);
      const started = await t.admin.get(`/api/v1/audit?recordType=user&recordId=${created.body.id}&action=access.session.started`);
      expect(started.body.data).toHaveLength(1);
      expect(started.body.data[0].actor).toEqual({ kind: 'user', id: created.body.id });

      const actions = (await t.admin.get(`/api/v1/audit?actorId=${adminKeyId}&limit=200`)).body.data.map((e: any) => e.action);
      expect(actions).toEqual(
        expect.arrayContaining([
          'party.created',
          'access.user.created',
          'access.user.updated',
          'access.key.created',
          'access.key.revoked',
          'access.role.created',
          'access.role.updated',
          'access.role.deleted',
        ]),
      );
      const roleEvents = await t.admin.get('/api/v1/audit?recordType=role&recordId=support');
      expect(roleEvents.body.data.map((e: any) => e.action)).toEqual(['access.role.deleted', 'access.role.updated', 'access.role.created']);
    });

    it('records kernel writes with the actor that made them', async () => {
      const key = await t.admin.post('/api/v1/keys', { name: 'writer', roles: ['admin'] });
      secrets.push(key.body.token);
      const party = await t.anonymous.post('/api/v1/parties', { kind: 'person', name: 'Audited' }, { token: key.body.token });
      const audit = await t.admin.get(`/api/v1/audit?recordId=${party.body.id}`);
      expect(audit.body.data).toMatchObject([{ action: 'party.created', recordType: 'party', actor: { kind: 'api-key', id: key.body.id } }]);
    });

    it('pages newest first with a keyset cursor', async () => {
      const all = (await t.admin.get('/api/v1/audit?limit=200')).body.data;
      expect(all.length).toBeGreaterThan(5);
      const times = all.map((e: any) => Date.parse(e.at));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await t.admin.get(`/api/v1/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.body.data.map((e: any) => e.id));
        cursor = page.body.nextCursor;
      } while (cursor && seen.length < all.length + 2);
      expect(seen).toEqual(all.map((e: any) => e.id));
      expectProblem(await t.admin.get('/api/v1/audit?cursor=bogus'), 400, 'validation');
      expectProblem(await t.admin.get('/api/v1/audit?actorId=not-a-uuid'), 400, 'validation');
    });

    it('keeps secrets, hashes and tokens out of every table', async () => {
      const tables = ['rapport_users', 'rapport_sessions', 'rapport_api_keys', 'rapport_outbox', 'rapport_audit', 'rapport_idempotency_keys'];
      const dump = JSON.stringify(await Promise.all(tables.map((table) => t.app.knex(table).select())));
      for (const secret of secrets) expect(dump).not.toContain(secret);
      const events = await t.outbox();
      const access = events.filter((e) => e.name.startsWith('access.'));
      expect(access.length).toBeGreaterThan(5);
      expect(JSON.stringify(access)).not.toMatch(/"(password|passwordHash|password_hash|secret|secretHash|secret_hash|token|tokenHash|token_hash)"\s*:|argon2/i);
    });
  });

  describe('bootstrap key', () => {
    it('became an admin key of the tenant on first start', async () => {
      const client = t.anonymous.as(BOOTSTRAP);
      expect((await client.get('/api/v1/auth/me')).body).toMatchObject({ kind: 'api-key', tenantId: t.tenantId, roles: ['admin'] });
      const stored = await t.app.knex('rapport_api_keys').where({ tenant_id: t.tenantId, name: 'bootstrap' }).select('secret_hash');
      expect(stored).toEqual([{ secret_hash: sha256(BOOTSTRAP) }]);
    });

    it('creates nothing when the tenant already has a key', async () => {
      const before = await t.app.knex('rapport_api_keys').where({ tenant_id: t.tenantId }).count({ n: '*' }).first();
      await ensureBootstrapKey(t.app.knex, t.tenantId, 'another-bootstrap-token-0123456789', t.app.logger);
      expect(await t.app.knex('rapport_api_keys').where({ tenant_id: t.tenantId }).count({ n: '*' }).first()).toEqual(before);
      expectProblem(await t.anonymous.get('/api/v1/parties', { token: 'another-bootstrap-token-0123456789' }), 401, 'unauthorized');
    });

    it('creates the key for a tenant that has none, and refuses short tokens', async () => {
      const other = await createTenant(t.app.knex, 'Bootstrapped');
      await expect(ensureBootstrapKey(t.app.knex, other.id, 'too-short', t.app.logger)).rejects.toThrow(/16 characters/);
      await ensureBootstrapKey(t.app.knex, other.id, 'other-tenant-bootstrap-0123456789', t.app.logger);
      const me = await t.anonymous.get('/api/v1/auth/me', { token: 'other-tenant-bootstrap-0123456789' });
      expect(me.body).toMatchObject({ tenantId: other.id, roles: ['admin'] });
    });
  });
});
