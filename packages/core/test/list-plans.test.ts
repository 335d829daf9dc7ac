import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureListQuery, createTestApp, describePlan, explainQuery, listPlan, listPlanProblems, type PlanNode, type TestApp } from '@rapport/testing';
import { createTenant, refreshStatistics, type QueryContext } from '@rapport/core';
import { encodeCursor } from '../src/util/cursor.js';

// Each main kernel list, at tens of thousands of rows in the tenant (and more in another
// tenant), is planned as one walk of an index in the list's order on its first page and on
// a page deep in the list: no sequential scan, no sort of the tenant's rows. The rows are
// made by bulk SQL, then the statistics refreshed as an import does (refreshStatistics);
// the planner's cost settings are left alone.
const ROWS = 30_000;
let t: TestApp;
let ctx: QueryContext;
let partyId: string;

beforeAll(async () => {
  t = await createTestApp();
  ctx = t.app.systemContext();
  const other = await createTenant(t.app.knex, 'Neighbour Ltd');
  const k = t.app.knex;
  for (const [tenant, rows] of [
    [t.tenantId, ROWS],
    [other.id, ROWS / 3],
  ] as const) {
    await k.raw(
      `insert into rapport_parties (tenant_id, id, kind, name, attributes, archived_at, version, created_at, updated_at)
       select ?::uuid, gen_random_uuid(), case when g % 3 = 0 then 'organization' else 'person' end,
              (array['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Wonka'])[1 + g % 8] || ' ' || md5(g::text),
              '{}'::jsonb, case when g % 50 = 0 then now() end, 1, now(), now()
       from generate_series(1, ?::int) g`,
      [tenant, rows],
    );
    await k.raw(
      `insert into rapport_interactions (tenant_id, id, type, occurred_at, direction, attributes, version, created_at)
       select ?::uuid, gen_random_uuid(), case when g % 4 = 0 then 'call' else 'note' end, now() - g * interval '1 minute', 'internal', '{}'::jsonb, 1, now()
       from generate_series(1, ?::int) g`,
      [tenant, rows],
    );
    await k.raw(
      `insert into rapport_observations (tenant_id, id, indicator, subject_type, subject_id, value, observed_at)
       select ?::uuid, gen_random_uuid(), 'nps', 'party', gen_random_uuid(), g % 11, now() - g * interval '1 minute' from generate_series(1, ?::int) g`,
      [tenant, rows],
    );
  }
  // One party in a good share of the interactions: its timeline is long.
  partyId = (await k('rapport_parties').where('tenant_id', t.tenantId).first('id')).id;
  await k.raw(
    `insert into rapport_interaction_participants (tenant_id, interaction_id, party_id, role, occurred_at)
     select tenant_id, id, ?::uuid, 'participant', occurred_at from rapport_interactions where tenant_id = ? and type = 'note'`,
    [partyId, t.tenantId],
  );
  await k.raw(
    `insert into rapport_relationships (tenant_id, id, type, from_party_id, to_party_id, from_role, to_role, status)
     select tenant_id, gen_random_uuid(), 'kernel.contact', id, ?::uuid, 'contact', 'organization', 'active' from rapport_parties where tenant_id = ?`,
    [partyId, t.tenantId],
  );
  const analyzed = await refreshStatistics(k);
  expect(analyzed).toEqual(expect.arrayContaining(['rapport_parties', 'rapport_interactions', 'rapport_observations']));
}, 600_000);
afterAll(() => t?.close());

/** The cursor of the row `depth` rows into the tenant's list, as a client paging there would hold. */
async function cursorAt(sqlText: string, depth: number): Promise<string> {
  const result = await t.app.knex.raw(`${sqlText} offset ${depth} limit 1`, [t.tenantId]);
  const row = result.rows[0] as Record<string, unknown>;
  return encodeCursor(Object.values(row).map((v) => (v instanceof Date ? v.toISOString() : (v as string))));
}

async function expectIndexed(table: string, run: () => Promise<unknown>): Promise<void> {
  const plan = await listPlan(t.app.knex, table, run);
  expect(listPlanProblems(plan, table), describePlan(plan)).toEqual([]);
}

const DEEP = 20_000;

describe('kernel lists are one index walk, first page and deep', () => {
  it('parties: newest first, by name either way, by name prefix', async () => {
    const parties = t.app.services.parties;
    await expectIndexed('rapport_parties', () => parties.list(ctx, { limit: 50 }));
    const deepById = await cursorAt('select id from rapport_parties where tenant_id = ? and archived_at is null order by id desc', DEEP);
    await expectIndexed('rapport_parties', () => parties.list(ctx, { limit: 50, cursor: deepById }));
    await expectIndexed('rapport_parties', () => parties.list(ctx, { limit: 50, sort: 'name' }));
    await expectIndexed('rapport_parties', () => parties.list(ctx, { limit: 50, sort: '-name' }));
    const deepByName = await cursorAt(`select lower(name) collate "C" as n, id from rapport_parties where tenant_id = ? and archived_at is null order by 1, 2`, DEEP);
    await expectIndexed('rapport_parties', () => parties.list(ctx, { limit: 50, sort: 'name', cursor: deepByName }));
    const deepByNameDesc = await cursorAt(`select lower(name) collate "C" as n, id from rapport_parties where tenant_id = ? and archived_at is null order by 1 desc, 2 desc`, DEEP);
    await expectIndexed('rapport_parties', () => parties.list(ctx, { limit: 50, sort: '-name', cursor: deepByNameDesc }));
    // The page before a deep one (prevCursor) walks the same index the other way.
    const back = (cursor: string) => encodeCursor(['<', ...(JSON.parse(Buffer.from(cursor, 'base64url').toString()) as string[])]);
    await expectIndexed('rapport_parties', () => parties.list(ctx, { limit: 50, sort: 'name', cursor: back(deepByName) }));
    await expectIndexed('rapport_parties', () => parties.list(ctx, { limit: 50, cursor: back(deepById) }));
    await expectIndexed('rapport_parties', () => parties.list(ctx, { limit: 50, sort: 'name', startsWith: 'ACME 4' }));
    await expectIndexed('rapport_parties', () => parties.list(ctx, { limit: 50, kind: 'organization' }));
  });

  it('parties: "contains" reads the trigram index, not the table', async () => {
    const plan = await listPlan(t.app.knex, 'rapport_parties', () => t.app.services.parties.list(ctx, { limit: 50, q: 'e4da3' }));
    const text = describePlan(plan);
    expect(text).not.toContain('Seq Scan');
    expect(text).toContain('rapport_parties_name_trgm_idx');
    const found = await t.app.services.parties.list(ctx, { limit: 50, q: 'E4DA3' });
    expect(found.data.length).toBeGreaterThan(0);
    for (const party of found.data) expect(party.name.toLowerCase()).toContain('e4da3');
  });

  it('interactions: tenant-wide newest first, by type, and a party timeline', async () => {
    const interactions = t.app.services.interactions;
    await expectIndexed('rapport_interactions', () => interactions.list(ctx, { limit: 20 }));
    const deep = await cursorAt('select occurred_at, id from rapport_interactions where tenant_id = ? order by occurred_at desc, id desc', DEEP);
    await expectIndexed('rapport_interactions', () => interactions.list(ctx, { limit: 20, cursor: deep }));
    await expectIndexed('rapport_interactions', () => interactions.list(ctx, { limit: 20, type: 'call' }));
    await expectIndexed('rapport_interaction_participants', () => interactions.partyTimeline(ctx, partyId, { limit: 20 }));
    await expectIndexed('rapport_interaction_participants', () => interactions.partyTimeline(ctx, partyId, { limit: 20, cursor: deep }));
  });

  it('observations and relationships', async () => {
    await expectIndexed('rapport_observations', () => t.app.services.observations.list(ctx, { limit: 50 }));
    const deep = await cursorAt('select observed_at, id from rapport_observations where tenant_id = ? order by observed_at desc, id desc', DEEP);
    await expectIndexed('rapport_observations', () => t.app.services.observations.list(ctx, { limit: 50, cursor: deep }));
    await expectIndexed('rapport_relationships', () => t.app.services.relationships.list(ctx, { limit: 50 }));
    const deepRelationship = await cursorAt('select id from rapport_relationships where tenant_id = ? order by id desc', DEEP);
    await expectIndexed('rapport_relationships', () => t.app.services.relationships.list(ctx, { limit: 50, cursor: deepRelationship }));
  });

  it('the check lets a per-row subplan sort that row’s few children by index, and nothing else', () => {
    const indexScan = (relation: string): PlanNode => ({ 'Node Type': 'Index Scan', 'Relation Name': relation, 'Index Name': `${relation}_pkey` });
    const sorted = (child: PlanNode): PlanNode => ({ 'Node Type': 'Sort', 'Sort Key': ['cp.position'], Plans: [child] });
    const page = (...children: PlanNode[]): PlanNode => ({ 'Node Type': 'Limit', Plans: [{ ...indexScan('rapport_parties'), Plans: children }] });
    const rowSubPlan = (child: PlanNode): PlanNode => ({ 'Node Type': 'Aggregate', 'Parent Relationship': 'SubPlan', Plans: [sorted(child)] });
    expect(listPlanProblems(page(rowSubPlan(indexScan('rapport_contact_points'))), 'rapport_parties')).toEqual([]);
    // The same sort outside a subplan, or a subplan that reads a table through, is flagged.
    expect(listPlanProblems(page(sorted(indexScan('rapport_contact_points'))), 'rapport_parties')).toEqual(['Sort (["cp.position"])']);
    expect(listPlanProblems(page(rowSubPlan({ 'Node Type': 'Seq Scan', 'Relation Name': 'rapport_contact_points' })), 'rapport_parties')).toEqual(['Sort (["cp.position"])']);
  });

  it('the check fails when a list loses its index', async () => {
    const query = await captureListQuery(t.app.knex, 'rapport_interactions', () => t.app.services.interactions.list(ctx, { limit: 20 }));
    await t.app.knex
      .transaction(async (trx) => {
        await trx.raw('drop index rapport_interactions_list_idx');
        const plan = await explainQuery(trx, query);
        expect(listPlanProblems(plan, 'rapport_interactions').length, describePlan(plan)).toBeGreaterThan(0);
        throw new Error('rollback');
      })
      .catch((error: Error) => {
        if (error.message !== 'rollback') throw error;
      });
    // Rolled back: the list has its index again.
    expect(listPlanProblems(await explainQuery(t.app.knex, query), 'rapport_interactions')).toEqual([]);
  });
});
