import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, describePlan, listPlan, listPlanProblems, type TestApp } from '@rapport/testing';
import { encodeCursor, refreshStatistics } from '@rapport/core';
import { createHrmPlugin } from '../src/index.js';
import { hire, ok, unit } from './helpers.js';

// The employee list at 20k employees among 40k parties: by person (the default) and by name
// either way or name prefix, first page and deep, each one walk of an index; and the name
// filters answer the right people in order over pages.
const PEOPLE = 40_000;
const DEEP = 10_000;
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ plugins: [createHrmPlugin()] });
  const team = await unit(t.admin, 'Team');
  for (const name of ['Ann Lee', 'anna Berg', 'Annika Ström', 'Bob Stone', 'Émile Roux']) await hire(t.admin, { name, unitId: team });
  const k = t.app.knex;
  // Every other new person gets a copy of a real employment (its employer and attributes).
  await k.raw(
    `with people as (
       insert into rapport_parties (tenant_id, id, kind, name, attributes, version, created_at, updated_at)
       select ?::uuid, gen_random_uuid(), 'person', 'Zz ' || md5(g::text), '{}'::jsonb, 1, now(), now() from generate_series(1, ?::int) g
       returning id, name
     ), template as (
       select * from rapport_relationships where tenant_id = ? and type = 'hrm.employment' limit 1
     )
     insert into rapport_relationships (tenant_id, id, type, from_party_id, to_party_id, from_role, to_role, status, valid_from, attributes)
     select t.tenant_id, gen_random_uuid(), t.type, t.from_party_id, p.id, t.from_role, t.to_role, t.status, t.valid_from, t.attributes
     from people p, template t where substr(md5(p.name), 1, 1) < '8'`,
    [t.tenantId, PEOPLE, t.tenantId],
  );
  await refreshStatistics(k);
}, 600_000);
afterAll(() => t?.close());

async function cursorAt(sqlText: string): Promise<string> {
  const row = (await t.app.knex.raw(`${sqlText} offset ${DEEP} limit 1`, [t.tenantId])).rows[0] as Record<string, string>;
  return encodeCursor(Object.values(row));
}

async function expectIndexed(table: string, path: string): Promise<void> {
  const plan = await listPlan(t.app.knex, table, async () => expect((await t.admin.get(path)).status).toBe(200));
  expect(listPlanProblems(plan, table), `${path}\n${describePlan(plan)}`).toEqual([]);
}

describe('HRM employee list plans', () => {
  it('by person, first page and deep', async () => {
    await expectIndexed('rapport_relationships', '/api/v1/hrm/employees?limit=50');
    const deep = await cursorAt("select distinct to_party_id from rapport_relationships where tenant_id = ? and type = 'hrm.employment' order by 1");
    await expectIndexed('rapport_relationships', `/api/v1/hrm/employees?limit=50&cursor=${deep}`);
  });

  it('by name either way and by name prefix, first page and deep', async () => {
    await expectIndexed('rapport_parties', '/api/v1/hrm/employees?limit=50&sort=name');
    const deep = await cursorAt(
      `select lower(p.name) collate "C", p.id from rapport_parties p where p.tenant_id = ?
       and exists (select 1 from rapport_relationships r where r.tenant_id = p.tenant_id and r.type = 'hrm.employment' and r.to_party_id = p.id) order by 1 desc, 2 desc`,
    );
    await expectIndexed('rapport_parties', `/api/v1/hrm/employees?limit=50&sort=-name&cursor=${deep}`);
    await expectIndexed('rapport_parties', '/api/v1/hrm/employees?limit=50&sort=name&startsWith=zz%20a');
  });

  it('answers the people whose name matches, in name order over pages', async () => {
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: Array<{ name: string }>; nextCursor: string | null } = await ok(t.admin.get(`/api/v1/hrm/employees?limit=1&sort=name&startsWith=ANN${cursor ? `&cursor=${cursor}` : ''}`));
      names.push(...page.data.map((e) => e.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(names).toEqual(['Ann Lee', 'anna Berg', 'Annika Ström']);
    expect((await ok(t.admin.get('/api/v1/hrm/employees?sort=-name&q=STR'))).data.map((e: { name: string }) => e.name)).toEqual(['Annika Ström']);
    expect((await ok(t.admin.get('/api/v1/hrm/employees?startsWith=%C3%A9mile'))).data.map((e: { name: string }) => e.name)).toEqual(['Émile Roux']);
  });
});
