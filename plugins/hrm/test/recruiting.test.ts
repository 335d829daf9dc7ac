import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin } from '../src/index.js';
import { createRole, hire, ok, testClock, unit } from './helpers.js';

const clock = testClock('2026-02-02T09:00:00.000Z');
let t: TestApp;
let company: string, engineering: string, platform: string, sales: string;
let ada: string; // head of engineering, hiring manager
let bob: string; // reports to ada
let cy: string; // reports to bob (ada's report two levels down)
let dee: string; // sales, unrelated
let position: string;

beforeAll(async () => {
  // Core + HRM alone.
  t = await createTestApp({ plugins: [createHrmPlugin({ now: clock.now })] });
  company = await unit(t.admin, 'Company');
  engineering = await unit(t.admin, 'Engineering', company);
  platform = await unit(t.admin, 'Platform', engineering);
  sales = await unit(t.admin, 'Sales', company);
  position = (await ok(t.admin.post('/api/v1/hrm/positions', { title: 'Engineer', unitId: platform }), 201)).id;
  ada = await hire(t.admin, { name: 'Ada', unitId: engineering });
  bob = await hire(t.admin, { name: 'Bob', unitId: platform, managerId: ada });
  cy = await hire(t.admin, { name: 'Cy', unitId: platform, managerId: bob });
  dee = await hire(t.admin, { name: 'Dee', unitId: sales });
  await createRole(t, 'staff', [
    'hrm.employees:read',
    'hrm.recruiting:read',
    'hrm.recruiting:write',
    'hrm.onboarding:read',
    'hrm.onboarding:write',
    'parties:read',
    'interactions:read',
    'observations:read',
  ]);
  await createRole(t, 'manager', [
    'hrm.employees:read',
    'hrm.team:read',
    'hrm.recruiting:read',
    'hrm.recruiting:write',
    'hrm.onboarding:read',
    'hrm.onboarding:write',
    'parties:read',
    'interactions:read',
  ]);
});
afterAll(async () => {
  await t?.close();
});

describe('reporting tree scope', () => {
  it('lets a scoped manager reach every report down the tree, in SQL, and nobody above or beside', async () => {
    const adaManager = await t.clientFor({ roles: ['manager'], scopePartyId: ada });
    const bobManager = await t.clientFor({ roles: ['manager'], scopePartyId: bob });
    const listed = await ok(adaManager.get('/api/v1/hrm/employees?status=active'));
    expect(listed.data.map((e: any) => e.id).sort()).toEqual([ada, bob, cy].sort());
    expect((await ok(adaManager.get(`/api/v1/hrm/employees/${cy}`))).name).toBe('Cy');
    expect((await adaManager.get(`/api/v1/hrm/employees/${dee}`)).status).toBe(404);
    // Bob sees Cy, not his own manager.
    expect((await ok(bobManager.get('/api/v1/hrm/employees'))).data.map((e: any) => e.id).sort()).toEqual([bob, cy].sort());
    expect((await bobManager.get(`/api/v1/hrm/employees/${ada}`)).status).toBe(404);
    // The scope follows the reporting line as it changes: Cy moved under Dee leaves Ada's tree.
    await ok(t.admin.put(`/api/v1/hrm/employees/${cy}/manager`, { managerId: dee }));
    expect((await adaManager.get(`/api/v1/hrm/employees/${cy}`)).status).toBe(404);
    await ok(t.admin.put(`/api/v1/hrm/employees/${cy}/manager`, { managerId: bob }));
    expect((await adaManager.get(`/api/v1/hrm/employees/${cy}`)).status).toBe(200);
  });

  it('is a recursive subquery of the scope, not a filter after loading', async () => {
    const scoped = t.app.scopes.apply(
      t.app.knex('rapport_parties').select('id'),
      { ...t.app.systemContext(t.tenantId), principal: { ...(await principalFor(ada)), permissions: ['hrm.team:read'] } as any },
      'hrm.team',
      'id',
    );
    const sql = scoped.toQuery();
    expect(sql).toMatch(/with recursive/i);
  });
});

async function principalFor(partyId: string) {
  return { kind: 'user', id: partyId, tenantId: t.tenantId, roles: [], permissions: [], partyId, scopePartyId: partyId };
}

describe('recruiting', () => {
  let opening: string;
  let application: string;
  let candidate: string;

  it('opens a position and adds a candidate as a person party with one hrm.recruiting relationship', async () => {
    const created = await ok(t.admin.post('/api/v1/hrm/openings', { title: 'Platform engineer', unitId: platform, positionId: position, hiringManagerId: ada }), 201);
    opening = created.id;
    expect(created).toMatchObject({ status: 'open', unitId: platform, hiringManagerId: ada });
    const applied = await ok(
      t.admin.post(`/api/v1/hrm/openings/${opening}/candidates`, { person: { name: 'Eve Candidate', contactPoints: [{ kind: 'email', value: 'eve@example.com' }] }, source: 'referral' }),
      201,
    );
    application = applied.id;
    candidate = applied.candidateId;
    expect(applied).toMatchObject({ stage: 'applied', openingId: opening, candidateName: 'Eve Candidate', source: 'referral' });
    expect((await ok(t.admin.get(`/api/v1/parties/${candidate}`))).kind).toBe('person');
    const rels = await ok(t.admin.get(`/api/v1/relationships?partyId=${candidate}&type=hrm.recruiting`));
    expect(rels.data).toHaveLength(1);
    expect(rels.data[0]).toMatchObject({ id: application, fromPartyId: t.selfPartyId, fromRole: 'employer', toRole: 'candidate', status: 'applied' });
    // The same person twice for the same opening is a conflict.
    expect((await t.admin.post(`/api/v1/hrm/openings/${opening}/candidates`, { partyId: candidate })).status).toBe(409);
  });

  it('moves the candidacy through the stages as changes of that one relationship, with the history on the timeline', async () => {
    expect((await t.admin.post(`/api/v1/hrm/applications/${application}/hire`, { start: '2026-03-01T00:00:00.000Z' })).status).toBe(409);
    for (const stage of ['screening', 'interview', 'offer']) {
      expect((await ok(t.admin.post(`/api/v1/hrm/applications/${application}/stage`, { stage }))).stage).toBe(stage);
    }
    // `hired` goes through the hire route; an unknown stage is a 400; nothing changed.
    expect((await t.admin.post(`/api/v1/hrm/applications/${application}/stage`, { stage: 'hired' })).status).toBe(409);
    expect((await t.admin.post(`/api/v1/hrm/applications/${application}/stage`, { stage: 'lunch' })).status).toBe(400);
    // Nor can the kernel's generic route hire without the employment.
    const generic = await t.admin.patch(`/api/v1/relationships/${application}`, { status: 'hired' }, { headers: { 'if-match': '4' } });
    expect(generic.status).toBe(422);
    expect(generic.text).toContain('/hire');
    const rels = await ok(t.admin.get(`/api/v1/relationships?partyId=${candidate}&type=hrm.recruiting`));
    expect(rels.data).toHaveLength(1);
    expect(rels.data[0]).toMatchObject({ status: 'offer', version: 4 });
    const timeline = await ok(t.admin.get(`/api/v1/hrm/candidates/${candidate}/timeline`));
    expect(timeline.data.map((i: any) => i.attributes.to).reverse()).toEqual(['applied', 'screening', 'interview', 'offer']);
  });

  it('keeps interview feedback as an interaction with a qualitative rating, given by the scoped hiring manager as itself', async () => {
    const adaClient = await t.clientFor({ roles: ['manager'], scopePartyId: ada });
    const feedback = await ok(adaClient.post(`/api/v1/hrm/applications/${application}/feedback`, { rating: 'strong-yes', summary: 'Clear systems thinking' }), 201);
    expect(feedback).toMatchObject({ type: 'hrm.interview', relationshipId: application, attributes: { rating: 'strong-yes', openingId: opening } });
    expect(feedback.participants).toEqual(
      expect.arrayContaining([
        { partyId: candidate, role: 'candidate' },
        { partyId: ada, role: 'interviewer' },
      ]),
    );
    const ratings = await ok(t.admin.get(`/api/v1/observations?subjectId=${candidate}&indicator=hrm.interview-rating`));
    expect(ratings.data.map((o: any) => [o.label, o.text, o.observerPartyId, o.interactionId])).toEqual([['strong-yes', 'Clear systems thinking', ada, feedback.id]]);
    expect((await t.admin.post(`/api/v1/hrm/applications/${application}/feedback`, { rating: 'maybe' })).status).toBe(400);
    // The hiring manager reads the candidacy and the whole recruiting timeline of its opening…
    expect((await ok(adaClient.get('/api/v1/hrm/candidates'))).data.map((a: any) => a.id)).toEqual([application]);
    expect((await ok(adaClient.get(`/api/v1/hrm/candidates/${candidate}/timeline`))).data).toHaveLength(5);
    // …but moves nothing: stages and hiring are HR's.
    expect((await adaClient.post(`/api/v1/hrm/applications/${application}/stage`, { stage: 'rejected' })).status).toBe(403);
  });

  it("never shows a candidate's data to the self-service of other employees", async () => {
    for (const client of [await t.clientFor({ roles: ['staff'], scopePartyId: dee }), await t.clientFor({ roles: ['manager'], scopePartyId: bob })]) {
      expect((await ok(client.get('/api/v1/hrm/candidates'))).data).toEqual([]);
      expect((await ok(client.get('/api/v1/hrm/openings'))).data).toEqual([]);
      expect((await client.get(`/api/v1/hrm/applications/${application}`)).status).toBe(404);
      expect((await client.get(`/api/v1/hrm/openings/${opening}`)).status).toBe(404);
      expect((await client.get(`/api/v1/hrm/candidates/${candidate}/timeline`)).status).toBe(404);
      expect((await client.get(`/api/v1/parties/${candidate}`)).status).toBe(404);
      expect((await client.post(`/api/v1/hrm/applications/${application}/feedback`, { rating: 'no' })).status).toBe(404);
    }
    expect((await ok(t.admin.get(`/api/v1/observations?subjectId=${candidate}&indicator=hrm.interview-rating`))).data).toHaveLength(1);
  });

  it('hires the candidate: the same party starts an employment, with the opening as default', async () => {
    const hired = await ok(t.admin.post(`/api/v1/hrm/applications/${application}/hire`, { start: '2026-03-01T00:00:00.000Z' }));
    expect(hired.application.stage).toBe('hired');
    expect(hired.employee).toMatchObject({ id: candidate, managerId: ada, employment: { status: 'active', unitId: platform, positionId: position, start: '2026-03-01T00:00:00.000Z' } });
    const parties = await ok(t.admin.get('/api/v1/parties?kind=person&limit=100'));
    expect(parties.data.filter((p: any) => p.name === 'Eve Candidate')).toHaveLength(1);
    // Final: no more moves, no second hire.
    expect((await t.admin.post(`/api/v1/hrm/applications/${application}/stage`, { stage: 'rejected' })).status).toBe(409);
    expect((await t.admin.post(`/api/v1/hrm/applications/${application}/hire`, { start: '2026-03-01T00:00:00.000Z' })).status).toBe(409);
    const events = await t.outbox({ name: 'hrm.candidate.hired' });
    expect(events).toHaveLength(1);
  });

  it('rejects with a reason; a closed opening takes no candidates', async () => {
    const other = await ok(t.admin.post(`/api/v1/hrm/openings/${opening}/candidates`, { person: { name: 'Finn' } }), 201);
    expect((await ok(t.admin.post(`/api/v1/hrm/applications/${other.id}/stage`, { stage: 'rejected', reason: 'Not enough experience' }))).stage).toBe('rejected');
    expect((await ok(t.admin.get(`/api/v1/hrm/candidates?stage=rejected`))).data.map((a: any) => a.id)).toEqual([other.id]);
    await ok(t.admin.post(`/api/v1/hrm/openings/${opening}/close`));
    expect((await t.admin.post(`/api/v1/hrm/openings/${opening}/candidates`, { person: { name: 'Gus' } })).status).toBe(409);
  });
});

describe('onboarding checklists', () => {
  it('instantiates the fitting templates when an employment starts, in the same transaction', async () => {
    const all = await ok(
      t.admin.post('/api/v1/hrm/onboarding/templates', {
        name: 'Everyone',
        items: [
          { title: 'Sign contract', owner: 'hr', dueDays: 0 },
          { title: 'Read handbook', owner: 'employee', dueDays: 7 },
        ],
      }),
      201,
    );
    await ok(t.admin.post('/api/v1/hrm/onboarding/templates', { name: 'Engineering', unitId: engineering, items: [{ title: 'Laptop set-up', owner: 'manager', dueDays: 3 }] }), 201);
    await ok(t.admin.post('/api/v1/hrm/onboarding/templates', { name: 'Sales', unitId: sales, items: [{ title: 'CRM training', owner: 'employee', dueDays: 5 }] }), 201);
    expect((await t.admin.post('/api/v1/hrm/onboarding/templates', { name: 'Bad', items: [{ title: 'x', owner: 'ceo', dueDays: 1 }] })).status).toBe(400);
    // Platform is under Engineering: Everyone + Engineering, not Sales.
    const gia = await hire(t.admin, { name: 'Gia', unitId: platform, managerId: bob, start: '2026-02-02T00:00:00.000Z' });
    const list = await ok(t.admin.get(`/api/v1/hrm/employees/${gia}/onboarding`));
    expect(list.items.map((i: any) => [i.title, i.owner, i.dueAt])).toEqual([
      ['Sign contract', 'hr', '2026-02-02T00:00:00.000Z'],
      ['Read handbook', 'employee', '2026-02-09T00:00:00.000Z'],
      ['Laptop set-up', 'manager', '2026-02-05T00:00:00.000Z'],
    ]);
    expect(list).toMatchObject({ total: 3, done: 0 });
    expect(list.items[0].templateId).toBe(all.id);
    // A hire that fails (unknown manager) leaves no items behind.
    const before = await t.app.knex('hrm_onboarding_items').count<{ n: string }[]>('* as n');
    expect(
      (await t.admin.post('/api/v1/hrm/employees', { person: { name: 'Hal' }, unitId: platform, start: '2026-02-02T00:00:00.000Z', managerId: '00000000-0000-4000-8000-000000000000' })).status,
    ).toBe(400);
    expect((await t.app.knex('hrm_onboarding_items').count<{ n: string }[]>('* as n'))[0].n).toBe(before[0].n);
  });

  it('lets the employee tick its own items, a manager its reports’ manager items, and records completions on the timeline', async () => {
    const gia = (await ok(t.admin.get('/api/v1/hrm/employees?unitId=' + platform + '&limit=100'))).data.find((e: any) => e.name === 'Gia').id;
    const items = (await ok(t.admin.get(`/api/v1/hrm/employees/${gia}/onboarding`))).items;
    const [contract, handbook, laptop] = items;
    const giaClient = await t.clientFor({ roles: ['staff'], scopePartyId: gia });
    const deeClient = await t.clientFor({ roles: ['staff'], scopePartyId: dee });
    const adaClient = await t.clientFor({ roles: ['manager'], scopePartyId: ada }); // Gia's manager's manager
    expect((await ok(giaClient.get(`/api/v1/hrm/employees/${gia}/onboarding`))).total).toBe(3);
    expect((await deeClient.get(`/api/v1/hrm/employees/${gia}/onboarding`)).status).toBe(404);
    expect((await deeClient.post(`/api/v1/hrm/onboarding/items/${handbook.id}/done`)).status).toBe(404);
    expect((await giaClient.post(`/api/v1/hrm/onboarding/items/${contract.id}/done`)).status).toBe(403);
    expect((await giaClient.post(`/api/v1/hrm/onboarding/items/${laptop.id}/done`)).status).toBe(403);
    clock.set('2026-02-04T10:00:00.000Z');
    const done = await ok(giaClient.post(`/api/v1/hrm/onboarding/items/${handbook.id}/done`));
    expect(done).toMatchObject({ doneAt: '2026-02-04T10:00:00.000Z', doneByPartyId: gia });
    expect((await giaClient.post(`/api/v1/hrm/onboarding/items/${handbook.id}/done`)).status).toBe(409);
    await ok(adaClient.post(`/api/v1/hrm/onboarding/items/${laptop.id}/done`));
    await ok(t.admin.post(`/api/v1/hrm/onboarding/items/${contract.id}/done`));
    const after = await ok(t.admin.get(`/api/v1/hrm/employees/${gia}/onboarding`));
    expect(after).toMatchObject({ total: 3, done: 3, overdue: 0 });
    const timeline = await ok(t.admin.get(`/api/v1/hrm/employees/${gia}/timeline?type=hrm.onboarding-step`));
    expect(timeline.data.map((i: any) => i.subject).sort()).toEqual(['Laptop set-up', 'Read handbook', 'Sign contract']);
    const byAda = timeline.data.find((i: any) => i.subject === 'Laptop set-up');
    expect(byAda.participants).toEqual(
      expect.arrayContaining([
        { partyId: gia, role: 'employee' },
        { partyId: ada, role: 'manager' },
      ]),
    );
  });

  it('shows overdue items against the plugin clock', async () => {
    const hal = await hire(t.admin, { name: 'Hal', unitId: sales, start: '2026-02-02T00:00:00.000Z' });
    clock.set('2026-02-08T00:00:00.000Z');
    const list = await ok(t.admin.get(`/api/v1/hrm/employees/${hal}/onboarding`));
    // Sign contract (day 0) and CRM training (day 5) are late; the handbook (day 7) is not yet.
    expect(
      list.items
        .filter((i: any) => i.overdue)
        .map((i: any) => i.title)
        .sort(),
    ).toEqual(['CRM training', 'Sign contract']);
    expect(list.overdue).toBe(2);
  });
});
