import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, describePlan, listPlan, listPlanProblems, type TestApp, type TestClient } from '@rapport/testing';
import { encodeCursor, refreshStatistics } from '@rapport/core';
import crm, { type Pipeline } from '../src/index.js';

// The deal list at 30k deals: newest first, by title either way, by title prefix, by status
// and pipeline, first page and deep, each one walk of an index (no sort, no sequential scan).
const ROWS = 30_000;
const DEEP = 20_000;
let t: TestApp;
let pipeline: Pipeline;
let rep: string;
let repClient: TestClient;

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm] });
  const res = await t.admin.post('/api/v1/crm/pipelines', { name: 'New business', stages: [{ name: 'Qualify' }, { name: 'Won', outcome: 'won' }] });
  expect(res.status).toBe(201);
  pipeline = res.body;
  const account = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Acme' })).body.id as string;
  await t.app.knex.raw(
    `insert into crm_deals (tenant_id, id, pipeline_id, stage_id, title, amount, currency, account_id, status, version, created_at, updated_at)
     select ?::uuid, gen_random_uuid(), ?::uuid, ?::uuid,
            (array['Renewal', 'Upsell', 'New logo', 'Pilot', 'Expansion'])[1 + g % 5] || ' ' || md5(g::text), g, 'EUR', ?::uuid, 'open', 1, now(), now()
     from generate_series(1, ?::int) g`,
    [t.tenantId, pipeline.id, pipeline.stages[0].id, account, ROWS],
  );
  // One deal in 64 is a sales rep's own, the only ones its list shows: without an index on
  // the owner, its pages would be a sort of its deals or a walk of everyone's.
  rep = (await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Rita Rep' })).body.id as string;
  await t.app.knex('crm_deals').where('tenant_id', t.tenantId).whereRaw("substr(md5(title), 1, 2) < '04'").update({ owner_party_id: rep });
  expect((await t.admin.post('/api/v1/roles', { name: 'sales-rep', permissions: ['crm.deals:read', 'crm.pipelines:read'] })).status).toBe(201);
  repClient = await t.clientFor({ roles: ['sales-rep'], partyId: rep });
  await refreshStatistics(t.app.knex);
}, 600_000);
afterAll(() => t?.close());

async function cursorAt(sqlText: string): Promise<string> {
  const row = (await t.app.knex.raw(`${sqlText} offset ${DEEP} limit 1`, [t.tenantId])).rows[0] as Record<string, string>;
  return encodeCursor(Object.values(row));
}

async function expectIndexed(path: string, client: TestClient = t.admin): Promise<void> {
  const plan = await listPlan(t.app.knex, 'crm_deals', async () => expect((await client.get(path)).status).toBe(200));
  expect(listPlanProblems(plan, 'crm_deals'), `${path}\n${describePlan(plan)}`).toEqual([]);
}

describe('CRM deal list plans', () => {
  it('newest first, by status and pipeline, first page and deep', async () => {
    await expectIndexed('/api/v1/crm/deals?limit=50');
    const deep = await cursorAt('select id from crm_deals where tenant_id = ? order by id desc');
    await expectIndexed(`/api/v1/crm/deals?limit=50&cursor=${deep}`);
    await expectIndexed('/api/v1/crm/deals?limit=50&status=open');
    await expectIndexed(`/api/v1/crm/deals?limit=50&status=open&cursor=${deep}`);
    await expectIndexed(`/api/v1/crm/deals?limit=50&pipelineId=${pipeline.id}&cursor=${deep}`);
  });

  it("a sales rep's own deals, first page and deep", async () => {
    await expectIndexed('/api/v1/crm/deals?limit=50', repClient);
    const deep = (await t.app.knex.raw('select id from crm_deals where tenant_id = ? and owner_party_id = ? order by id desc offset 300 limit 1', [t.tenantId, rep])).rows[0].id as string;
    await expectIndexed(`/api/v1/crm/deals?limit=50&cursor=${encodeCursor([deep])}`, repClient);
    const page = await repClient.get(`/api/v1/crm/deals?limit=50&cursor=${encodeCursor([deep])}`);
    expect(page.body.data.length).toBe(50);
    for (const deal of page.body.data as Array<{ ownerPartyId: string }>) expect(deal.ownerPartyId).toBe(rep);
  });

  it('by title either way and by title prefix', async () => {
    await expectIndexed('/api/v1/crm/deals?limit=50&sort=title');
    const deep = await cursorAt('select lower(title) collate "C", id from crm_deals where tenant_id = ? order by 1 desc, 2 desc');
    await expectIndexed(`/api/v1/crm/deals?limit=50&sort=-title&cursor=${deep}`);
    await expectIndexed('/api/v1/crm/deals?limit=50&sort=title&startsWith=upsell%201');
  });

  it('finds by title, pages without repeats, and "contains" reads the trigram index', async () => {
    const seen = new Set<string>();
    let cursor: string | null = null;
    let last = '';
    do {
      const page: { status: number; body: { data: Array<{ id: string; title: string }>; nextCursor: string | null } } = await t.admin.get(
        `/api/v1/crm/deals?limit=7&sort=title&startsWith=PILOT%20a${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      for (const deal of page.body.data) {
        expect(deal.title.toLowerCase().startsWith('pilot a')).toBe(true);
        expect(seen.has(deal.id)).toBe(false);
        expect(Buffer.compare(Buffer.from(deal.title.toLowerCase()), Buffer.from(last))).toBeGreaterThanOrEqual(0);
        last = deal.title.toLowerCase();
        seen.add(deal.id);
      }
      cursor = page.body.nextCursor;
    } while (cursor);
    const expected = await t.app.knex('crm_deals').where('tenant_id', t.tenantId).whereRaw("lower(title) like 'pilot a%'").count({ n: '*' });
    expect(seen.size).toBe(Number(expected[0].n));
    expect(seen.size).toBeGreaterThan(0);

    const plan = await listPlan(t.app.knex, 'crm_deals', () => t.admin.get('/api/v1/crm/deals?limit=50&q=c4ca4'));
    expect(describePlan(plan)).toContain('crm_deals_title_trgm_idx');
    const found = await t.admin.get('/api/v1/crm/deals?limit=50&q=C4CA4');
    expect(found.body.data.length).toBeGreaterThan(0);
    for (const deal of found.body.data as Array<{ title: string }>) expect(deal.title.toLowerCase()).toContain('c4ca4');
  });
});
