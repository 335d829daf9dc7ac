import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRapportClient } from '@rapport/client';
import { schemaTables } from '@rapport/core';
import { createTestApp, globalTablesOf, singleShardViolations, type TestApp } from '@rapport/testing';
import crm from '@rapport/plugin-crm';
import prm from '@rapport/plugin-prm';
import hrm from '@rapport/plugin-hrm';
import { demoData, seedMarker } from '../examples/full-suite/src/demo-plugin.js';
import { seedDemoData } from '../examples/full-suite/src/seed/index.js';

// Every statement the system runs for its main operations — the demo seed exercises the
// routes of the kernel and of every first-party plugin —, the webhook dispatcher and every
// recurring task works within one tenant, so a cluster sharded by tenant routes each to one
// shard (and takes row locks only there, which it requires).
describe('single-shard statements', () => {
  const plugins = [crm, prm, hrm, demoData];
  let t: TestApp;
  let receiver: http.Server;
  const statements: string[] = [];
  let tenantTables: Set<string>;

  beforeAll(async () => {
    t = await createTestApp({ plugins });
    const global = new Set(globalTablesOf(plugins).map((g) => g.table));
    tenantTables = new Set((await schemaTables(t.app.knex)).filter((row) => row.tenant && !global.has(row.table)).map((row) => row.table));
    receiver = http.createServer((req, res) => req.resume().on('end', () => res.end()));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    expect((await t.admin.post('/api/v1/webhooks', { url, events: ['**'] })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('the seed, the dispatcher and the recurring tasks filter by one tenant', async () => {
    const capture = (query: { sql: string }) => statements.push(query.sql);
    t.app.knex.on('query', capture);
    try {
      const client = createRapportClient({ baseUrl: t.baseUrl, apiKey: t.adminToken });
      expect((await seedDemoData(client, seedMarker(t.app))).seeded).toBe(true);
      // Every event delivered: fan-out and claims ran for each of them.
      await expect
        .poll(async () => Number((await t.app.knex('rapport_webhook_deliveries').where({ tenant_id: t.tenantId }).whereNot('status', 'delivered').count({ n: '*' }))[0].n), {
          timeout: 60_000,
          interval: 200,
        })
        .toBe(0);
      for (const task of await t.app.scheduler.list()) await t.app.scheduler.runNow(task.name);
    } finally {
      t.app.knex.off('query', capture);
    }
    // Enough was captured to mean something: the dispatcher's claims among it.
    expect(statements.some((sql) => /for update of d skip locked/.test(sql))).toBe(true);
    expect(statements.length).toBeGreaterThan(500);
    expect(singleShardViolations(statements, tenantTables)).toEqual([]);
  });

  it('names a statement that would visit every shard, and a discovery that locks', () => {
    const tables = new Set(['rapport_parties']);
    expect(singleShardViolations(['select * from "rapport_parties" where "name" = ?'], tables).map((v) => v.why)).toEqual(['no tenant_id = ? filter: it would visit every shard']);
    expect(singleShardViolations(['/* tenant discovery */ select distinct tenant_id from rapport_parties for update'], tables).map((v) => v.why)).toEqual([
      'a tenant discovery must be a read that locks nothing',
    ]);
    expect(singleShardViolations(['insert into "rapport_parties" ("id", "name") values (?, ?)'], tables).map((v) => v.why)).toEqual(['an insert into a tenant-owned table must write tenant_id']);
    expect(singleShardViolations(['select * from "rapport_parties" where "tenant_id" = ? and "id" = ?', 'insert into "rapport_parties" ("tenant_id", "id") values (?, ?)'], tables)).toEqual([]);
  });
});
