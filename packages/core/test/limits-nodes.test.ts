import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createRapport, type Rapport } from '@rapport/core';
import { TestClient, isolatedDatabase, type IsolatedDatabase } from '@rapport/testing';

/*
 * One limit across two nodes of one PostgreSQL: a key allowed 50 requests a minute gets 50
 * in all, whichever node it calls — give or take what one node admits between two of its
 * syncs. A node counts in memory, shares its counts at each sync (and takes back the total),
 * and reads a key's shared count the first time it sees the key in a window. Always
 * PostgreSQL (nodes of an embedded database cannot share), so this file runs once.
 */
describe('a rate limit shared by two nodes', () => {
  let database: IsolatedDatabase;
  let a: Rapport;
  let b: Rapport;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    database = await isolatedDatabase('postgres');
    const config = {
      database: database.config,
      logLevel: 'silent',
      tenantName: 'Shared Limits',
      dispatcher: { enabled: false },
      scheduler: { enabled: false },
      // A long sync interval: the test shares the counts itself, so nothing depends on timing.
      limits: { perPrincipal: { requests: 50, windowSeconds: 60 }, perAddress: null, syncIntervalMs: 3_600_000 },
    };
    a = await createRapport(config);
    b = await createRapport(config);
    const { token } = await createApiKey(a.knex, a.defaultTenant.id, { name: 'shared', roles: ['admin'] });
    for (const app of [a, b]) {
      const server = await app.listen(0, '127.0.0.1');
      clients.push(new TestClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, token));
    }
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.dispose();
  });

  it('allows the key 50 requests in all across both nodes, and answers the rest 429', async () => {
    const [onA, onB] = clients;
    const statusesA: number[] = [];
    for (let i = 0; i < 30; i++) statusesA.push((await onA.get('/api/v1/parties?limit=1')).status);
    expect(statusesA).toEqual(Array(30).fill(200));
    await a.limits.flush();

    // Node B learns the 30 spent on A the first time it sees the key, and allows 20 more.
    const statusesB: number[] = [];
    for (let i = 0; i < 30; i++) statusesB.push((await onB.get('/api/v1/parties?limit=1')).status);
    expect(statusesB.filter((s) => s === 200)).toHaveLength(20);
    expect(statusesB.slice(20)).toEqual(Array(10).fill(429));
    await b.limits.flush();

    // A counted its 30 when it last shared; it learns of B's 20 at its next sync after a
    // request of the key (a node may admit what it sees within one sync interval, no more).
    const before = await onA.get('/api/v1/parties?limit=1');
    await a.limits.flush();
    const refused = await onA.get('/api/v1/parties?limit=1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const admitted = statusesA.length + statusesB.filter((s) => s === 200).length + (before.status === 200 ? 1 : 0);
    expect(admitted).toBeLessThanOrEqual(51);
  });
});
