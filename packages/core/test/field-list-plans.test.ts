import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePlan, explainQuery, listPlanProblems, planNodes, type CapturedQuery, type TestApp, createTestApp } from '@rapport/testing';
import { createFieldSortIndex, createTenant, refreshStatistics, type QueryContext } from '@rapport/core';
import { parseFieldQuery } from '../src/fields/list-query.js';
import { encodeCursor } from '../src/util/cursor.js';

// A list sorted by a custom field, at tens of thousands of rows in the tenant (and more in
// another tenant), is one walk of the field's sort index (createFieldSortIndex) in the list's
// order — first page, deep page, the page before (prevCursor), either direction, and past the
// records with a value — never a sequential scan or a sort of the tenant's rows; an equality
// filter reads the GIN index on attributes, not the table. As list-plans.test.ts, rows are
// made by bulk SQL and the statistics refreshed; the planner's cost settings are left alone.
const ROWS = 30_000;
const DEEP = 20_000;
let t: TestApp;
let ctx: QueryContext;

beforeAll(async () => {
  t = await createTestApp();
  ctx = t.app.systemContext();
  const other = await createTenant(t.app.knex, 'Neighbour Ltd');
  for (const [tenant, rows] of [
    [t.tenantId, ROWS],
    [other.id, ROWS / 3],
  ] as const) {
    // Two rows in three have a score (ties: 997 values); one in 500 is "rare".
    await t.app.knex.raw(
      `insert into rapport_interactions (tenant_id, id, type, occurred_at, direction, attributes, version, created_at)
       select ?::uuid, gen_random_uuid(), 'note', now() - g * interval '1 minute', 'internal',
              case when g % 3 = 0 then '{}'::jsonb else jsonb_build_object('score', g % 997) end
                || jsonb_build_object('mood', case when g % 500 = 0 then 'rare' else 'common' end),
              1, now()
       from generate_series(1, ?::int) g`,
      [tenant, rows],
    );
  }
  for (const body of [
    { recordType: 'interaction', key: 'score', kind: 'number', label: 'Score' },
    { recordType: 'interaction', key: 'mood', kind: 'choice', label: 'Mood', choices: ['rare', 'common'] },
  ]) {
    const res = await t.admin.post('/api/v1/fields', body);
    expect(res.status, res.text).toBe(201);
  }
  // Statistics first: building an index sets the table's relpages, after which
  // refreshStatistics would take the table for analyzed.
  expect(await refreshStatistics(t.app.knex)).toContain('rapport_interactions');
  const name = await createFieldSortIndex(t.app.knex, { table: 'rapport_interactions', field: { key: 'score', kind: 'number' } });
  expect(name).toBe('rapport_interactions_field_score_idx');
  // Idempotent: a second call (another node, a re-run migration) changes nothing.
  await createFieldSortIndex(t.app.knex, { table: 'rapport_interactions', field: { key: 'score', kind: 'number' } });
}, 600_000);
afterAll(() => t?.close());

async function listQuery(query: Record<string, string>) {
  const fields = await t.app.fields.fieldsOf(ctx, 'interaction');
  return parseFieldQuery(fields, query);
}

/** Every ordered statement on rapport_interactions the list sends (a page may read both runs: with a value, then without). */
async function capture(run: () => Promise<unknown>): Promise<CapturedQuery[]> {
  const seen: CapturedQuery[] = [];
  const onQuery = (q: { sql: string; bindings?: readonly unknown[] }) => {
    if (/from "rapport_interactions"/i.test(q.sql) && / order by /i.test(q.sql)) seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
  };
  t.app.knex.on('query', onQuery);
  try {
    await run();
  } finally {
    t.app.knex.off('query', onQuery);
  }
  expect(seen.length).toBeGreaterThan(0);
  return seen;
}

async function expectIndexed(sort: string, cursor?: string): Promise<void> {
  const fields = await listQuery({ sort });
  const statements = await capture(() => t.app.services.interactions.list(ctx, { limit: 50, cursor, fields }));
  for (const statement of statements) {
    const plan = await explainQuery(t.app.knex, statement);
    expect(listPlanProblems(plan, 'rapport_interactions'), describePlan(plan)).toEqual([]);
    expect(describePlan(plan)).toContain('rapport_interactions_field_score_idx');
  }
}

/** The cursor of the row `depth` rows into the list sorted by score (`with` a value or past them), as a client paging there would hold. */
async function cursorAt(direction: 'asc' | 'desc', depth: number, backward = false): Promise<string> {
  const result = await t.app.knex.raw(
    `select (attributes->>'score')::numeric as v, id from rapport_interactions where tenant_id = ?
     order by (attributes->>'score')::numeric ${direction} nulls last, id ${direction} offset ${depth} limit 1`,
    [t.tenantId],
  );
  const row = result.rows[0] as { v: string | null; id: string };
  const position = row.v === null ? ['', 1, row.id] : [String(row.v), 0, row.id];
  return encodeCursor(backward ? ['<', ...position] : position);
}

describe('a list sorted by a custom field is one walk of its index', () => {
  it('first page and deep, either way, back and past the records with a value', async () => {
    await expectIndexed('field.score');
    await expectIndexed('-field.score');
    await expectIndexed('field.score', await cursorAt('asc', DEEP / 2));
    await expectIndexed('-field.score', await cursorAt('desc', DEEP / 2));
    await expectIndexed('field.score', await cursorAt('asc', DEEP / 2, true));
    await expectIndexed('-field.score', await cursorAt('desc', DEEP / 2, true));
    // Past the 20,000 records with a score: the run without one, read from the same index.
    await expectIndexed('field.score', await cursorAt('asc', DEEP + 5_000));
    await expectIndexed('-field.score', await cursorAt('desc', DEEP + 5_000, true));
  });

  it('the page that straddles the two runs reads the rest of the page from the second', async () => {
    const fields = await listQuery({ sort: 'field.score' });
    const cursor = await cursorAt('asc', DEEP - 10);
    const statements = await capture(() => t.app.services.interactions.list(ctx, { limit: 50, cursor, fields }));
    expect(statements).toHaveLength(2);
    const page = await t.app.services.interactions.list(ctx, { limit: 50, cursor, fields });
    const scores = page.data.map((i) => i.attributes.score);
    expect(scores.slice(0, 9).every((s) => typeof s === 'number')).toBe(true);
    expect(scores.slice(9).every((s) => s === undefined)).toBe(true);
    expect(page.data).toHaveLength(50);
  });

  it('an equality filter reads the GIN index on attributes, not the table', async () => {
    const fields = await listQuery({ 'field.mood': 'rare' });
    const [statement] = await capture(() => t.app.services.interactions.list(ctx, { limit: 50, fields }));
    const plan = await explainQuery(t.app.knex, statement);
    const text = describePlan(plan);
    expect(
      planNodes(plan).filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'rapport_interactions'),
      text,
    ).toEqual([]);
    expect(text).toContain('rapport_interactions_attributes_idx');
    const page = await t.app.services.interactions.list(ctx, { limit: 100, fields });
    expect(page.data).toHaveLength(ROWS / 500);
    expect(page.data.every((i) => i.attributes.mood === 'rare')).toBe(true);
  });

  it('the check fails without the sort index', async () => {
    const fields = await listQuery({ sort: 'field.score' });
    const [statement] = await capture(() => t.app.services.interactions.list(ctx, { limit: 50, fields }));
    await t.app.knex
      .transaction(async (trx) => {
        await trx.raw('drop index rapport_interactions_field_score_idx');
        const plan = await explainQuery(trx, statement);
        expect(listPlanProblems(plan, 'rapport_interactions').length, describePlan(plan)).toBeGreaterThan(0);
        throw new Error('rollback');
      })
      .catch((error: Error) => {
        if (error.message !== 'rollback') throw error;
      });
  });
});
