import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { collectPages, createRapportClient, login, ok, RapportProblemError, type RapportClient } from '../src/index.js';

describe('@rapport/client', () => {
  let t: TestApp;
  let admin: RapportClient;

  beforeAll(async () => {
    t = await createTestApp();
    admin = createRapportClient({ baseUrl: `${t.baseUrl}/`, apiKey: t.adminToken });
  });
  afterAll(() => t?.close());

  it('authenticates with an API key and types the answers', async () => {
    const tenant = ok(await admin.GET('/api/v1/tenant'));
    expect(tenant.selfPartyId).toBe(t.selfPartyId);
    const party = ok(await admin.POST('/api/v1/parties', { body: { kind: 'organization', name: 'Acme' }, params: { header: { 'Idempotency-Key': 'acme-1' } } }));
    const replay = await admin.POST('/api/v1/parties', { body: { kind: 'organization', name: 'Acme' }, params: { header: { 'Idempotency-Key': 'acme-1' } } });
    expect(replay.response.headers.get('idempotent-replayed')).toBe('true');
    expect(ok(replay).id).toBe(party.id);
  });

  it('ok() throws a RapportProblemError carrying the problem document', async () => {
    const anonymous = createRapportClient({ baseUrl: t.baseUrl });
    const refused = anonymous.GET('/api/v1/tenant').then(ok);
    await expect(refused).rejects.toBeInstanceOf(RapportProblemError);
    await expect(refused).rejects.toMatchObject({ status: 401, problem: { type: 'https://rapport.dev/problems/unauthorized', status: 401 } });

    const invalid = await admin.POST('/api/v1/parties', { body: { kind: 'robot', name: 'R2' } as never });
    expect(invalid.response.status).toBe(400);
    let error: RapportProblemError | undefined;
    try {
      ok(invalid);
    } catch (e) {
      error = e as RapportProblemError;
    }
    expect(error?.message).toMatch(/^\/api\/v1\/parties answered 400 Bad Request: The request body is not valid: body\.kind/);
    expect(error?.problem.errors?.[0]).toMatchObject({ path: 'body.kind' });
  });

  it('logs in with a password: a session client, and logout ends it', async () => {
    ok(await admin.POST('/api/v1/users', { body: { email: 'ada@example.com', password: 'correct horse battery staple', roles: ['viewer'] } }));
    const session = await login({ baseUrl: t.baseUrl, email: 'ada@example.com', password: 'correct horse battery staple' });
    expect(session.token).toMatch(/^rps_/);
    expect(session.user.email).toBe('ada@example.com');
    expect(ok(await session.client.GET('/api/v1/auth/me'))).toMatchObject({ kind: 'user', roles: ['viewer'] });
    await session.logout();
    expect((await session.client.GET('/api/v1/auth/me')).response.status).toBe(401);
    await expect(login({ baseUrl: t.baseUrl, email: 'ada@example.com', password: 'wrong password, twelve+' })).rejects.toMatchObject({ status: 401 });
  });

  it('collectPages follows the cursors to the last page', async () => {
    for (const name of ['P1', 'P2', 'P3', 'P4', 'P5']) ok(await admin.POST('/api/v1/parties', { body: { kind: 'person', name } }));
    const calls: Array<string | undefined> = [];
    const people = await collectPages(async (cursor) => {
      calls.push(cursor);
      return ok(await admin.GET('/api/v1/parties', { params: { query: { kind: 'person', limit: 2, cursor } } }));
    });
    expect(people.map((p) => p.name).sort()).toEqual(['P1', 'P2', 'P3', 'P4', 'P5']);
    expect(calls).toHaveLength(3);
    expect(calls[0]).toBeUndefined();
    await expect(collectPages(async (cursor) => ok(await admin.GET('/api/v1/parties', { params: { query: { limit: 2, cursor } } })), 3)).rejects.toThrow(RangeError);
  });

  it('refuses ambiguous or malformed options', () => {
    expect(() => createRapportClient({ baseUrl: t.baseUrl, apiKey: 'a', sessionToken: 'b' })).toThrow(/an apiKey or a sessionToken, not both/);
    expect(() => createRapportClient({ baseUrl: 'localhost:4000' })).toThrow(/baseUrl must be an http\(s\) origin/);
  });
});
