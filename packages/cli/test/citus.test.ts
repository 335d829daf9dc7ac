import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { citusDistributionPlan, globalTablesOf } from '@rapport/core';
import { createTestApp, isolatedDatabase, testDatabaseKind, type IsolatedDatabase, type TestApp } from '@rapport/testing';
import crm from '@rapport/plugin-crm';
import prm from '@rapport/plugin-prm';
import hrm from '@rapport/plugin-hrm';
import { rapport, writePluginPackage, type CliResult } from './helpers.js';

// Citus is not in the registries this project reaches, so CI checks the statements the
// command generates; docs/operations.md records a run on a real cluster.
describe('the Citus distribution plan', () => {
  const plugins = [crm, prm, hrm];
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ plugins });
  });
  afterAll(() => t?.close());

  it('places every table once: references first, then each tenant table by tenant_id, colocated, referenced tables first', async () => {
    const plan = await citusDistributionPlan(t.app.knex, globalTablesOf(plugins));
    const tables = plan.map((p) => p.table);
    expect(new Set(tables).size).toBe(tables.length);
    const tenantTables: string[] = (
      await t.app.knex.raw(
        `select c.relname as t from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id'
          where n.nspname = current_schema() and c.relkind = 'r'`,
      )
    ).rows.map((row: { t: string }) => row.t);
    const global = new Set(globalTablesOf(plugins).map((g) => g.table));
    const distributed = plan.filter((p) => p.placement === 'distributed').map((p) => p.table);
    expect([...distributed].sort()).toEqual(tenantTables.filter((table) => !global.has(table)).sort());

    const kinds = plan.map((p) => p.placement);
    expect(kinds.lastIndexOf('reference')).toBeLessThan(kinds.indexOf('distributed'));
    const schema = (await t.app.knex.raw('select current_schema() as s')).rows[0].s as string;
    const of = (table: string) => plan.find((p) => p.table === table)!;
    expect(of('rapport_parties').statement).toBe(`SELECT create_distributed_table('${schema}.rapport_parties', 'tenant_id');`);
    expect(of('rapport_interactions').statement).toBe(`SELECT create_distributed_table('${schema}.rapport_interactions', 'tenant_id', colocate_with => '${schema}.rapport_parties');`);
    expect(of('rapport_tenants').statement).toBe(`SELECT create_reference_table('${schema}.rapport_tenants');`);
    expect(of('rapport_scheduled_tasks')).toMatchObject({ placement: 'coordinator', statement: null });
    // The anchor of the co-location group first; CRM's foreign keys in order.
    expect(distributed[0]).toBe('rapport_parties');
    const order = plan.map((p) => p.table);
    expect(order.indexOf('crm_pipelines')).toBeLessThan(order.indexOf('crm_stages'));
    expect(order.indexOf('crm_stages')).toBeLessThan(order.indexOf('crm_deals'));
    // Without the extension nothing is placed yet.
    expect(plan.every((p) => p.done === (p.placement === 'coordinator'))).toBe(true);
  });
});

describe('rapport citus distribute', { timeout: 180_000 }, () => {
  const kind = testDatabaseKind();
  let dir: string;
  let env: Record<string, string>;
  let postgres: IsolatedDatabase | undefined;
  const cli = (...args: string[]): Promise<CliResult> => rapport(args, { cwd: dir, env });
  const configure = async (plugin: string, source: string) => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-citus-'));
    writePluginPackage(dir, plugin, source);
    const config: Record<string, unknown> = { plugins: [plugin], tenantName: 'Citus Co' };
    if (kind === 'postgres') {
      postgres = await isolatedDatabase('postgres');
      config.database = { schema: postgres.config.schema };
      env = { DATABASE_URL: postgres.config.url! };
    } else {
      env = { RAPPORT_DATA_DIR: 'data' };
    }
    fs.writeFileSync(path.join(dir, 'rapport.config.json'), JSON.stringify(config));
  };
  const plugin = (table: string, extra: string) => `
export default {
  name: 'shards', version: '1.0.0',
  migrations: [{ name: '0001', up: async (knex) => { await knex.raw('create table ${table} (tenant_id uuid not null, id uuid not null, code text, primary key (tenant_id, id))'); ${extra} } }],
  setup() {},
};`;
  afterAll(async () => {
    await postgres?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints the statements, and refuses to apply them on a database without Citus, changing nothing', async () => {
    await configure('rapport-plugin-shards', plugin('shards_items', ''));
    const printed = await cli('citus', 'distribute', '--print');
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    const lines = printed.stdout.trim().split('\n');
    expect(lines.some((line) => /^SELECT create_distributed_table\('[^']*\.shards_items', 'tenant_id', colocate_with => '[^']*\.rapport_parties'\);$/.test(line))).toBe(true);
    expect(lines.some((line) => /^SELECT create_reference_table\('[^']*\.rapport_tenants'\);$/.test(line))).toBe(true);
    const applied = await cli('citus', 'distribute');
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(/the citus extension is not installed in this database/);
  });

  it('refuses a plugin table that breaks the rule, naming the table and the index', async () => {
    await postgres?.dispose();
    postgres = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
    await configure('rapport-plugin-shards', plugin('shards_items', "await knex.raw('create unique index shards_items_code_idx on shards_items (code)');"));
    const result = await cli('citus', 'distribute', '--print');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^rapport: cannot distribute: tenant_id must lead every key and index .*; shards_items: unique shards_items_code_idx \(CREATE UNIQUE INDEX shards_items_code_idx ON \S*shards_items USING btree \(code\)\)\n$/,
    );
  });
});
