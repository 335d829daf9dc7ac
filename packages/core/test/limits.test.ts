import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createTenant } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';

/*
 * Limits on every caller on one node: requests per principal and per address in a window,
 * and per-tenant daily quotas of requests, imported rows and uploaded bytes. Each is a 429
 * problem+json with Retry-After and the RateLimit headers, and writes nothing. (Across two
 * nodes: limits-nodes.test.ts.)
 */
describe('request limits and tenant quotas', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({
      config: {
        limits: {
          enabled: true,
          perPrincipal: { requests: 5, windowSeconds: 60 },
          perAddress: { requests: 60, windowSeconds: 60 },
        },
      },
    });
  });
  afterAll(() => t?.close());

  it('answers a principal past its limit with 429, Retry-After and RateLimit headers, and writes nothing', async () => {
    const { token } = await createApiKey(t.app.knex, t.tenantId, { name: 'limited', roles: ['admin'] });
    const client = t.anonymous.as(token);
    const remaining: Array<string | null> = [];
    for (let i = 0; i < 5; i++) {
      const res = await client.post('/api/v1/parties', { kind: 'person', name: `Allowed ${i}` });
      expect(res.status).toBe(201);
      remaining.push(res.headers.get('ratelimit'));
      if (res.headers.get('ratelimit')) expect(res.headers.get('ratelimit-policy')).toBe('"principal";q=5;w=60');
    }
    // The headers appear once half the allowance is used.
    expect(remaining.map((h) => (h ? /r=(\d+)/.exec(h)![1] : null))).toEqual([null, null, '2', '1', '0']);
    const refused = await client.post('/api/v1/parties', { kind: 'person', name: 'Refused' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit')).toMatch(/^"principal";r=0;t=\d+$/);
    expect(refused.body).toMatchObject({ status: 429, type: 'https://rapport.dev/problems/rate-limited', limit: 'principal', max: 5, windowSeconds: 60 });
    expect(await t.app.knex('rapport_parties').where({ name: 'Refused' }).first()).toBeUndefined();
    // Another principal of the tenant is counted apart.
    expect((await t.admin.get('/api/v1/parties?limit=1')).status).toBe(200);
  });

  it('counts every API request of an address, authenticated or not, and leaves /health alone', async () => {
    // The address limit (60) counts the requests of the test above too; spend what is left with bad tokens.
    let last = 0;
    for (let i = 0; i < 80 && last !== 429; i++) last = (await t.anonymous.get('/api/v1/parties', { token: 'rpk_not-a-key' })).status;
    expect(last).toBe(429);
    const refused = await t.admin.get('/api/v1/parties');
    expect(refused.status).toBe(429);
    expect(refused.body.limit).toBe('address');
    expect((await t.anonymous.get('/health')).status).toBe(200);
  });
});

describe('tenant quotas', () => {
  let t: TestApp;
  let limited: string;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-quota-'));
    // The quotas of a tenant's plan, looked up by tenant: only the limited tenant has any.
    const plans = new Map<string, { requestsPerDay: number; importRowsPerDay: number; uploadBytesPerDay: number }>();
    t = await createTestApp({ config: { limits: { enabled: true, perPrincipal: null, perAddress: null, tenants: (tenantId) => plans.get(tenantId) } } });
    limited = (await createTenant(t.app.knex, 'Quota Ltd')).id;
    plans.set(limited, { requestsPerDay: 4, importRowsPerDay: 3, uploadBytesPerDay: 40 });
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stops a tenant at its daily request quota, and only that tenant', async () => {
    const client = await t.clientFor({ roles: ['admin'], tenantId: limited });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await client.get('/api/v1/parties?limit=1')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    const refused = await client.get('/api/v1/parties?limit=1');
    expect(refused.body).toMatchObject({ type: 'https://rapport.dev/problems/quota-exceeded', limit: 'tenant-requestsPerDay', max: 4 });
    expect(refused.body.detail).toContain('daily quota of requests (4)');
    for (let i = 0; i < 6; i++) expect((await t.admin.get('/api/v1/parties?limit=1')).status).toBe(200);
  });

  it('stops an import at the tenant’s daily quota of rows, keeping what came before', async () => {
    const file = path.join(dir, 'parties.csv');
    fs.writeFileSync(file, 'kind,name\n' + Array.from({ length: 5 }, (_, i) => `person,Imported ${i}`).join('\n') + '\n');
    const { runImport } = await import('@rapport/core');
    const result = await runImport(t.app, 'parties', file, { tenantId: limited, batchSize: 3 });
    expect(result.completed).toBe(false);
    expect(result.error?.message).toContain('daily quota of imported rows (3)');
    const names = (await t.app.knex('rapport_parties').where({ tenant_id: limited }).where('name', 'like', 'Imported %').select('name')).map((r: { name: string }) => r.name);
    expect(names.sort()).toEqual(['Imported 0', 'Imported 1', 'Imported 2']);
  });
});
