import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, describePlan, listPlan, listPlanProblems, type TestApp } from '@rapport/testing';
import { encodeCursor, refreshStatistics } from '@rapport/core';
import { createPrmPlugin } from '../src/index.js';
import { activePartner, shopPlugin } from './helpers.js';

// The registration list at 30k registrations from two partners: newest first, by partner and
// status, by customer name either way and by its prefix, first page and deep, each one walk
// of an index (no sort, no sequential scan); a name substring reads the trigram index.
const ROWS = 30_000;
const DEEP = 10_000;
let t: TestApp;
let partner: string;

beforeAll(async () => {
  t = await createTestApp({ plugins: [createPrmPlugin(), shopPlugin] });
  const first = await activePartner(t, 'Reseller One');
  const second = await activePartner(t, 'Reseller Two');
  partner = first.id;
  await t.app.knex.raw(
    `insert into prm_registrations (tenant_id, id, partner_id, relationship_id, customer_name, customer_key, value, currency, expected_close_date, status, version, created_at, updated_at)
     select ?::uuid, gen_random_uuid(), case when g % 2 = 0 then ?::uuid else ?::uuid end, case when g % 2 = 0 then ?::uuid else ?::uuid end,
            n.name, lower(n.name), g, 'EUR', '2027-01-01', case when g % 3 = 0 then 'rejected' else 'submitted' end, 1, now() - g * interval '1 minute', now()
     from generate_series(1, ?::int) g, lateral (select (array['Acme', 'Globex', 'Initech', 'Hooli'])[1 + g % 4] || ' ' || md5(g::text) as name) n`,
    [t.tenantId, first.id, second.id, first.relationshipId, second.relationshipId, ROWS],
  );
  await refreshStatistics(t.app.knex);
}, 600_000);
afterAll(() => t?.close());

async function cursorAt(sqlText: string, bindings: unknown[] = []): Promise<string> {
  const row = (await t.app.knex.raw(`${sqlText} offset ${DEEP} limit 1`, [t.tenantId, ...bindings] as never)).rows[0] as Record<string, unknown>;
  return encodeCursor(Object.values(row).map((v) => (v instanceof Date ? v.toISOString() : (v as string))));
}

async function expectIndexed(path: string): Promise<void> {
  const plan = await listPlan(t.app.knex, 'prm_registrations', async () => expect((await t.admin.get(path)).status).toBe(200));
  expect(listPlanProblems(plan, 'prm_registrations'), `${path}\n${describePlan(plan)}`).toEqual([]);
}

describe('PRM registration list plans', () => {
  it('newest first, by partner and by status, first page and deep', async () => {
    await expectIndexed('/api/v1/prm/registrations?limit=50');
    const deep = await cursorAt('select created_at, id from prm_registrations where tenant_id = ? order by created_at desc, id desc');
    await expectIndexed(`/api/v1/prm/registrations?limit=50&cursor=${deep}`);
    await expectIndexed(`/api/v1/prm/registrations?limit=50&partnerId=${partner}&cursor=${deep}`);
    await expectIndexed(`/api/v1/prm/registrations?limit=50&status=submitted&cursor=${deep}`);
  });

  it('by customer name either way and by its prefix', async () => {
    await expectIndexed('/api/v1/prm/registrations?limit=50&sort=customerName');
    const deep = await cursorAt('select lower(customer_name) collate "C", id from prm_registrations where tenant_id = ? order by 1, 2');
    await expectIndexed(`/api/v1/prm/registrations?limit=50&sort=customerName&cursor=${deep}`);
    await expectIndexed(`/api/v1/prm/registrations?limit=50&sort=-customerName&cursor=${deep}`);
    await expectIndexed('/api/v1/prm/registrations?limit=50&sort=customerName&startsWith=hooli%20a');
  });

  it('answers the matching registrations, and "contains" reads the trigram index', async () => {
    const prefix = await t.admin.get('/api/v1/prm/registrations?limit=200&sort=-customerName&startsWith=GLOBEX%20ab');
    expect(prefix.status).toBe(200);
    const names = (prefix.body.data as Array<{ customerName: string }>).map((r) => r.customerName.toLowerCase());
    const expected = (
      await t.app.knex.raw(
        `select lower(customer_name) as n from prm_registrations where tenant_id = ? and lower(customer_name) like 'globex ab%' order by lower(customer_name) collate "C" desc, id desc`,
        [t.tenantId],
      )
    ).rows.map((r: { n: string }) => r.n);
    expect(names).toEqual(expected);
    expect(names.length).toBeGreaterThan(0);

    const plan = await listPlan(t.app.knex, 'prm_registrations', () => t.admin.get('/api/v1/prm/registrations?limit=50&q=c4ca4'));
    expect(describePlan(plan)).toContain('prm_registrations_customer_name_trgm_idx');
  });
});
