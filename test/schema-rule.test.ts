import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, globalTablesOf, schemaRuleViolations, type TestApp } from '@rapport/testing';
import crm from '@rapport/plugin-crm';
import prm from '@rapport/plugin-prm';
import hrm from '@rapport/plugin-hrm';
import loyalty from '../examples/third-party-plugin/src/index.js';
import { demoData } from '../examples/full-suite/src/demo-plugin.js';

// Every key and index of a tenant's table leads with tenant_id, so a cluster sharded by tenant
// keeps each tenant on one shard (docs/operations.md, "Sharding by tenant"). Read from the
// catalog after every migration of the kernel and every plugin of the repository.
describe('the schema rule: tenant_id leads every key and index of a tenant-owned table', () => {
  const plugins = [crm, prm, hrm, loyalty, demoData];
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ plugins });
  });
  afterAll(() => t?.close());

  it('holds for the kernel and every plugin', async () => {
    expect(await schemaRuleViolations(t.app.knex, { globalTables: globalTablesOf(plugins) })).toEqual([]);
  });

  it('names every planted violation: a key, a unique index, an index, a foreign key and a table without a tenant', async () => {
    const knex = t.app.knex;
    await knex.raw('create table planted_orders (tenant_id uuid not null, id uuid not null, placed_at timestamptz, code text, primary key (id))');
    await knex.raw('create unique index planted_orders_code_idx on planted_orders (code)');
    await knex.raw('create index planted_orders_placed_idx on planted_orders (placed_at)');
    await knex.raw('create table planted_lines (tenant_id uuid not null, id uuid not null, order_id uuid references planted_orders (id), primary key (tenant_id, id))');
    await knex.raw('create table planted_settings (name text primary key)');
    try {
      const found = await schemaRuleViolations(knex, { globalTables: globalTablesOf(plugins), tablePrefix: 'planted_' });
      expect(found.map((v) => [v.kind, v.table, v.object])).toEqual([
        ['undeclared global table', 'planted_settings', 'planted_settings'],
        ['unique', 'planted_orders', 'planted_orders_code_idx'],
        ['primary key', 'planted_orders', 'planted_orders_pkey'],
        ['index', 'planted_orders', 'planted_orders_placed_idx'],
        ['foreign key', 'planted_lines', 'planted_lines_order_id_fkey'],
      ]);
      // Declared global, the table without a tenant passes.
      const declared = await schemaRuleViolations(knex, {
        globalTables: [...globalTablesOf(plugins), { table: 'planted_settings', placement: 'reference', why: 'test' }],
        tablePrefix: 'planted_settings',
      });
      expect(declared).toEqual([]);
    } finally {
      for (const table of ['planted_lines', 'planted_orders', 'planted_settings']) await knex.raw(`drop table if exists ${table}`);
    }
  });
});
