import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin } from '../src/index.js';
import { createRole, hire, ok, unit } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  // Core + HRM alone: no CRM, no PRM.
  t = await createTestApp({ plugins: [createHrmPlugin()] });
});
afterAll(async () => {
  await t?.close();
});

describe('HRM alone', () => {
  it('boots with only the kernel and HRM, and every HRM route is in the OpenAPI document', async () => {
    const plugins = await ok(t.admin.get('/api/v1/plugins'));
    const names = (plugins.data ?? plugins).map((p: { name: string }) => p.name);
    expect(names).toEqual(['hrm']);
    const doc = await ok(t.anonymous.get('/api/v1/openapi.json'));
    const documented = new Set(Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)));
    const hrmRoutes = routesOf(doc);
    expect(hrmRoutes.length).toBeGreaterThan(15);
    for (const route of hrmRoutes) expect(documented.has(route)).toBe(true);
  });
});

function routesOf(doc: any): string[] {
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .filter(([path]) => path.startsWith('/api/v1/hrm/'))
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
}

describe('organization', () => {
  let company: string;
  let engineering: string;
  let platform: string;
  let ada: string; // head of engineering
  let bob: string; // reports to ada
  let cy: string; // reports to ada
  let dee: string; // another unit, no relation

  beforeAll(async () => {
    company = await unit(t.admin, 'Company');
    engineering = await unit(t.admin, 'Engineering', company);
    platform = await unit(t.admin, 'Platform', engineering);
    const sales = await unit(t.admin, 'Sales', company);
    const position = await ok(t.admin.post('/api/v1/hrm/positions', { title: 'Engineer', unitId: engineering, grade: 'E3' }), 201);
    ada = await hire(t.admin, { name: 'Ada', unitId: engineering });
    bob = await hire(t.admin, { name: 'Bob', unitId: platform, managerId: ada, positionId: position.id });
    cy = await hire(t.admin, { name: 'Cy', unitId: platform, managerId: ada });
    dee = await hire(t.admin, { name: 'Dee', unitId: sales });
  });

  it('keeps units as a tree of kernel parties and refuses cycles', async () => {
    const got = await ok(t.admin.get(`/api/v1/hrm/units/${engineering}`));
    expect(got).toMatchObject({ name: 'Engineering', parentId: company, childIds: [platform], headcount: 1 });
    const party = await ok(t.admin.get(`/api/v1/parties/${platform}`));
    expect(party.kind).toBe('unit');
    const rels = await ok(t.admin.get(`/api/v1/relationships?partyId=${platform}&type=hrm.part-of`));
    expect(rels.data.map((r: any) => [r.fromRole, r.toRole, r.toPartyId])).toEqual([['part', 'whole', engineering]]);

    const cycle = await t.admin.put(`/api/v1/hrm/units/${company}/parent`, { parentId: platform });
    expect(cycle.status).toBe(409);
    expect(cycle.headers.get('content-type')).toContain('application/problem+json');
    const self = await t.admin.put(`/api/v1/hrm/units/${company}/parent`, { parentId: company });
    expect(self.status).toBe(409);
    expect((await ok(t.admin.get(`/api/v1/hrm/units/${company}`))).parentId).toBeNull();

    const children = await ok(t.admin.get(`/api/v1/hrm/units?parentId=${company}`));
    expect(children.data.map((u: any) => u.name).sort()).toEqual(['Engineering', 'Sales']);
  });

  it('moves a unit and refuses unknown parents without writing', async () => {
    const lab = await unit(t.admin, 'Lab', company);
    const moved = await ok(t.admin.put(`/api/v1/hrm/units/${lab}/parent`, { parentId: engineering }));
    expect(moved.parentId).toBe(engineering);
    const bad = await t.admin.put(`/api/v1/hrm/units/${lab}/parent`, { parentId: '00000000-0000-4000-8000-000000000000' });
    expect(bad.status).toBe(400);
    expect((await ok(t.admin.get(`/api/v1/hrm/units/${lab}`))).parentId).toBe(engineering);
  });

  it('models employment and reporting lines as kernel relationships', async () => {
    const profile = await ok(t.admin.get(`/api/v1/hrm/employees/${bob}`));
    expect(profile).toMatchObject({ name: 'Bob', managerId: ada, employment: { status: 'active', unitId: platform, start: '2025-01-01T00:00:00.000Z' } });
    expect((await ok(t.admin.get(`/api/v1/hrm/employees/${ada}`))).reportIds.sort()).toEqual([bob, cy].sort());
    const employment = await ok(t.admin.get(`/api/v1/relationships?partyId=${bob}&type=hrm.employment`));
    expect(employment.data[0]).toMatchObject({ fromPartyId: t.selfPartyId, fromRole: 'employer', toRole: 'employee' });
    const line = await ok(t.admin.get(`/api/v1/relationships?partyId=${bob}&type=hrm.reports-to`));
    expect(line.data[0]).toMatchObject({ fromPartyId: ada, fromRole: 'manager', toRole: 'report' });
    // A reporting cycle is refused.
    expect((await t.admin.put(`/api/v1/hrm/employees/${ada}/manager`, { managerId: bob })).status).toBe(409);
    const byUnit = await ok(t.admin.get(`/api/v1/hrm/employees?unitId=${platform}`));
    expect(byUnit.data.map((e: any) => e.name).sort()).toEqual(['Bob', 'Cy']);
  });

  it('keeps HR-private data in its own table under its own permission', async () => {
    const written = await ok(t.admin.put(`/api/v1/hrm/employees/${bob}/private`, { contract: { type: 'permanent', hoursPerWeek: 40 }, payBand: 'B4', privateContact: { phone: '+1 555 0100' } }));
    expect(written).toMatchObject({ payBand: 'B4', version: 1 });
    // Replacing needs the version.
    expect((await t.admin.put(`/api/v1/hrm/employees/${bob}/private`, { payBand: 'B5' })).status).toBe(412);
    expect((await t.admin.put(`/api/v1/hrm/employees/${bob}/private`, { payBand: 'B5' }, { headers: { 'if-match': '7' } })).status).toBe(412);
    const replaced = await ok(t.admin.put(`/api/v1/hrm/employees/${bob}/private`, { payBand: 'B5' }, { headers: { 'if-match': '1' } }));
    expect(replaced).toMatchObject({ payBand: 'B5', version: 2 });
    // Never a party attribute.
    const party = await ok(t.admin.get(`/api/v1/parties/${bob}`));
    expect(JSON.stringify(party)).not.toContain('B5');
    // Viewer (kernel reads) cannot read it.
    const viewer = await t.clientFor({ roles: ['viewer'] });
    expect((await viewer.get(`/api/v1/hrm/employees/${bob}/private`)).status).toBe(403);
    // The event never carries the data.
    const events = await t.outbox({ name: 'hrm.private.updated' });
    expect(events.map((e) => e.payload)).toEqual([
      { partyId: bob, version: 1 },
      { partyId: bob, version: 2 },
    ]);
  });

  it('gives employees self-service and managers their reports (by permission)', async () => {
    await createRole(t, 'employee', ['hrm.employees:read', 'hrm.private:read', 'hrm.timeline:write', 'hrm.org:read', 'parties:read', 'interactions:read']);
    await createRole(t, 'manager', ['hrm.employees:read', 'hrm.team:read', 'hrm.timeline:write', 'hrm.org:read', 'parties:read', 'interactions:read']);
    const bobClient = await t.clientFor({ roles: ['employee'], scopePartyId: bob });
    const adaClient = await t.clientFor({ roles: ['manager'], scopePartyId: ada });
    const adaAsEmployee = await t.clientFor({ roles: ['employee'], scopePartyId: ada });

    expect((await ok(bobClient.get('/api/v1/hrm/me'))).id).toBe(bob);
    expect((await ok(bobClient.get(`/api/v1/hrm/employees/${bob}/private`))).payBand).toBe('B5');
    expect((await bobClient.get(`/api/v1/hrm/employees/${cy}`)).status).toBe(404);
    expect((await bobClient.get(`/api/v1/hrm/employees/${ada}`)).status).toBe(404);
    expect((await ok(bobClient.get('/api/v1/hrm/employees'))).data.map((e: any) => e.id)).toEqual([bob]);
    // An employee is refused writing HR-private data even with the permission name in a role.
    expect((await bobClient.put(`/api/v1/hrm/employees/${bob}/private`, { payBand: 'Z9' })).status).toBe(403);

    expect((await ok(adaClient.get(`/api/v1/hrm/employees/${bob}`))).name).toBe('Bob');
    expect((await adaClient.get(`/api/v1/hrm/employees/${dee}`)).status).toBe(404);
    expect((await ok(adaClient.get('/api/v1/hrm/employees'))).data.map((e: any) => e.id).sort()).toEqual([ada, bob, cy].sort());
    // Without hrm.team:read the same person sees only itself.
    expect((await adaAsEmployee.get(`/api/v1/hrm/employees/${bob}`)).status).toBe(404);
    // The manager role has no hrm.private:read: 403, whatever the record.
    expect((await adaClient.get(`/api/v1/hrm/employees/${bob}/private`)).status).toBe(403);
    // Employees see the org chart.
    expect((await ok(bobClient.get('/api/v1/hrm/units'))).data.length).toBeGreaterThanOrEqual(4);
  });

  it('refuses an employee making itself anyone’s manager, or changing its own HR relationships', async () => {
    await createRole(t, 'self-linker', ['relationships:read', 'relationships:write', 'hrm.team:read', 'hrm.private:read', 'hrm.employees:read', 'parties:read']);
    const bobClient = await t.clientFor({ roles: ['self-linker'], scopePartyId: bob });
    const before = Number((await t.app.knex('rapport_relationships').where({ tenant_id: t.tenantId }).count('* as n').first())!.n);
    const appointed = await bobClient.post('/api/v1/relationships', { type: 'hrm.reports-to', fromPartyId: ada, toPartyId: bob });
    expect(appointed.status, appointed.text).toBe(403);
    expect(appointed.body.detail).toContain('hrm.reports-to');
    expect(Number((await t.app.knex('rapport_relationships').where({ tenant_id: t.tenantId }).count('* as n').first())!.n)).toBe(before);
    // Ada's private file stays out of reach.
    expect((await bobClient.get(`/api/v1/hrm/employees/${ada}/private`)).status).toBe(404);
    // Its own employment and reporting line are HR's to change.
    const own: any[] = (await ok(t.admin.get(`/api/v1/parties/${bob}/relationships?limit=50`))).data.filter((r: any) => r.type.startsWith('hrm.'));
    expect(own.length).toBeGreaterThan(0);
    for (const rel of own) {
      const res = await bobClient.patch(`/api/v1/relationships/${rel.id}`, { validTo: '2030-01-01T00:00:00Z' }, { headers: { 'if-match': String(rel.version) } });
      expect(res.status, res.text).toBe(403);
    }
  });

  it('records one-to-ones, feedback and kudos on the employee timeline (kudos on both)', async () => {
    const oneToOne = await ok(t.admin.post(`/api/v1/hrm/employees/${bob}/timeline`, { kind: 'one-to-one', withPartyId: ada, subject: 'Weekly', summary: 'Growth plan' }), 201);
    expect(oneToOne.type).toBe('hrm.one-to-one');
    const cyClient = await t.clientFor({ roles: ['employee'], scopePartyId: cy });
    const kudos = await ok(cyClient.post('/api/v1/hrm/kudos', { toPartyId: bob, message: 'Great release!' }), 201);
    expect(kudos.participants).toEqual(
      expect.arrayContaining([
        { partyId: cy, role: 'giver' },
        { partyId: bob, role: 'receiver' },
      ]),
    );
    const bobTimeline = await ok(t.admin.get(`/api/v1/hrm/employees/${bob}/timeline`));
    expect(bobTimeline.data.map((i: any) => i.type)).toEqual(expect.arrayContaining(['hrm.kudos', 'hrm.one-to-one']));
    const cyTimeline = await ok(t.admin.get(`/api/v1/hrm/employees/${cy}/timeline`));
    expect(cyTimeline.data.map((i: any) => i.id)).toContain(kudos.id);
    // Kudos to oneself or to a non-employee are 4xx and write nothing.
    expect((await cyClient.post('/api/v1/hrm/kudos', { toPartyId: cy, message: 'me' })).status).toBe(400);
    expect((await cyClient.post('/api/v1/hrm/kudos', { toPartyId: t.selfPartyId, message: 'x' })).status).toBe(400);
    expect((await ok(t.admin.get(`/api/v1/hrm/employees/${cy}/timeline?type=hrm.kudos`))).data).toHaveLength(1);
  });

  it('publishes announcements to units (with subunits) and tracks read and acknowledge', async () => {
    await createRole(t, 'reader', ['hrm.announcements:read']);
    const bobReader = await t.clientFor({ roles: ['reader'], scopePartyId: bob });
    const deeReader = await t.clientFor({ roles: ['reader'], scopePartyId: dee });
    const eng = await ok(t.admin.post('/api/v1/hrm/announcements', { title: 'Eng offsite', body: 'Next Friday', unitIds: [engineering], requiresAck: true }), 201);
    expect(eng.unitIds.sort()).toEqual(expect.arrayContaining([engineering, platform]));
    const all = await ok(t.admin.post('/api/v1/hrm/announcements', { title: 'Holiday', body: 'Office closed' }), 201);
    expect((await ok(bobReader.get('/api/v1/hrm/announcements'))).data.map((a: any) => a.title).sort()).toEqual(['Eng offsite', 'Holiday']);
    expect((await ok(deeReader.get('/api/v1/hrm/announcements'))).data.map((a: any) => a.title)).toEqual(['Holiday']);
    expect((await deeReader.post(`/api/v1/hrm/announcements/${eng.id}/read`)).status).toBe(404);
    expect((await bobReader.post(`/api/v1/hrm/announcements/${all.id}/acknowledge`)).status).toBe(409);
    const read = await ok(bobReader.post(`/api/v1/hrm/announcements/${eng.id}/read`));
    expect(read).toMatchObject({ readAt: expect.any(String), acknowledgedAt: null });
    const acked = await ok(bobReader.post(`/api/v1/hrm/announcements/${eng.id}/acknowledge`));
    expect(acked.acknowledgedAt).toEqual(expect.any(String));
    const receipts = await ok(t.admin.get(`/api/v1/hrm/announcements/${eng.id}/receipts`));
    // Audience: Ada (Engineering), Bob and Cy (Platform).
    expect(receipts).toMatchObject({ audience: 3, read: 1, acknowledged: 1 });
    expect(receipts.pendingAcknowledgement.sort()).toEqual([ada, cy].sort());
  });

  it('ends an employment and keeps the history', async () => {
    const ended = await ok(t.admin.post(`/api/v1/hrm/employees/${dee}/end-employment`, { end: '2026-01-31T00:00:00.000Z', reason: 'relocation' }));
    expect(ended.employment).toMatchObject({ status: 'ended', end: '2026-01-31T00:00:00.000Z', endReason: 'relocation' });
    expect((await t.admin.post(`/api/v1/hrm/employees/${dee}/end-employment`, { end: '2026-02-01T00:00:00.000Z' })).status).toBe(404);
    const active = await ok(t.admin.get('/api/v1/hrm/employees?status=active'));
    expect(active.data.map((e: any) => e.id)).not.toContain(dee);
  });

  it('answers bad input with 4xx problem+json', async () => {
    const res = await t.admin.post('/api/v1/hrm/employees', { person: { name: 'X' }, unitId: 'nope', start: 'yesterday' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect((await t.admin.post('/api/v1/hrm/employees', { person: { name: 'X' }, unitId: ada, start: '2025-01-01T00:00:00Z' })).status).toBe(400);
  });
});
