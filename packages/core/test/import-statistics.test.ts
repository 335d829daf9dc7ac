import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshStatistics, runImport } from '@rapport/core';
import { createTestApp, listPlan, listPlanProblems, describePlan, type TestApp } from '@rapport/testing';

// A bulk import leaves the planner's statistics current: the parties list right after it
// walks the primary key instead of sorting the rows the planner did not know of.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t?.close());

const reltuples = async (table: string) => Number((await t.app.knex.raw('select reltuples from pg_class where oid = ?::regclass', [table])).rows[0].reltuples);

describe('statistics after an import', () => {
  it('analyzes the tables an import grew, and the list plan after it is an index walk', async () => {
    expect(await reltuples('rapport_parties')).toBeLessThan(100);
    const lines = ['kind,name,email', ...Array.from({ length: 12_000 }, (_, i) => `person,Imported ${i},p${i}@example.com`)];
    const result = await runImport(t.app, 'parties', Readable.from([lines.join('\n')]));
    expect(result.imported).toBe(12_000);
    expect(await reltuples('rapport_parties')).toBeGreaterThan(10_000);
    expect(await reltuples('rapport_contact_points')).toBeGreaterThan(10_000);
    const plan = await listPlan(t.app.knex, 'rapport_parties', () => t.app.services.parties.list(t.app.systemContext(), { limit: 50 }));
    expect(listPlanProblems(plan, 'rapport_parties'), describePlan(plan)).toEqual([]);
    // Nothing grew since: nothing to analyze.
    expect(await refreshStatistics(t.app.knex)).toEqual([]);
  });

  it('analyzes a table loaded in bulk and then indexed, which no longer looks grown', async () => {
    // CREATE INDEX sets relpages to the loaded size, so only "never analyzed" tells.
    await t.app.knex.raw('create table bulk_loaded (id int primary key, label text)');
    await t.app.knex.raw("insert into bulk_loaded select g, 'label ' || g from generate_series(1, 20000) g");
    await t.app.knex.raw('create index bulk_loaded_label_idx on bulk_loaded (label)');
    expect(await reltuples('bulk_loaded')).toBeGreaterThan(10_000);
    expect(await refreshStatistics(t.app.knex)).toEqual(['bulk_loaded']);
    const stats = await t.app.knex.raw("select count(*)::int as n from pg_stats where schemaname = current_schema() and tablename = 'bulk_loaded'");
    expect(stats.rows[0].n).toBe(2);
    expect(await refreshStatistics(t.app.knex)).toEqual([]);
  });
});
