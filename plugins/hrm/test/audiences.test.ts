import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin } from '../src/index.js';
import { createRole, hire, ok, unit } from './helpers.js';

let t: TestApp;
let team: string, boss: string, report: string;
let asBoss: TestApp['admin'], asReport: TestApp['admin'];

beforeAll(async () => {
  t = await createTestApp({ plugins: [createHrmPlugin()] });
  team = await unit(t.admin, 'Team');
  boss = await hire(t.admin, { name: 'Boss', unitId: team });
  report = await hire(t.admin, { name: 'Report', unitId: team, managerId: boss });
  // Every HRM permission, yet scoped to a person: what the audience of each route decides is the difference.
  await createRole(t, 'self-service', ['hrm.*']);
  asBoss = await t.clientFor({ roles: ['self-service'], scopePartyId: boss });
  asReport = await t.clientFor({ roles: ['self-service'], scopePartyId: report });
});
afterAll(async () => {
  await t?.close();
});

describe('route audiences', () => {
  it('open the self-service routes to scoped principals, within their reach', async () => {
    expect((await ok(asReport.get('/api/v1/hrm/me'))).id).toBe(report);
    expect((await ok(asReport.get(`/api/v1/hrm/units/${team}`))).headcount).toBe(2);
    // A manager records a one-to-one with its report, sets and updates the report's goals, records its retention risk.
    expect((await ok(asBoss.post(`/api/v1/hrm/employees/${report}/timeline`, { kind: 'one-to-one', withPartyId: boss }), 201)).type).toBe('hrm.one-to-one');
    const cycle = await ok(
      t.admin.post('/api/v1/hrm/review-cycles', {
        name: 'H1',
        periodStart: '2026-01-01T00:00:00Z',
        periodEnd: '2026-06-30T00:00:00Z',
        competencies: ['craft'],
        scale: { name: 'two', levels: ['low', 'high'] },
      }),
      201,
    );
    const goal = await ok(asBoss.post(`/api/v1/hrm/review-cycles/${cycle.id}/goals`, { employeeId: report, title: 'Ship', weight: 1, target: 10 }), 201);
    expect((await ok(asBoss.patch(`/api/v1/hrm/goals/${goal.id}`, { actual: 5 }, { headers: { 'if-match': '1' } }))).actual).toBe(5);
    expect((await asReport.post(`/api/v1/hrm/review-cycles/${cycle.id}/goals`, { employeeId: boss, title: 'Ship', weight: 1, target: 10 })).status).toBe(404);
    await ok(asBoss.post(`/api/v1/hrm/employees/${report}/retention-risk`), 201);
    expect((await asReport.get(`/api/v1/hrm/employees/${report}/retention-risk`)).status).toBe(403);
    // The assignee of a request progresses it; its requester rates it.
    const service = await ok(t.admin.post('/api/v1/hrm/services', { unitId: team, name: 'Badge', resolutionTargetMinutes: 60 }), 201);
    const request = await ok(asReport.post('/api/v1/hrm/requests', { serviceId: service.id, title: 'New badge' }), 201);
    await ok(t.admin.patch(`/api/v1/hrm/requests/${request.id}`, { assigneePartyId: boss }, { headers: { 'if-match': '1' } }));
    expect((await ok(asBoss.patch(`/api/v1/hrm/requests/${request.id}`, { status: 'resolved' }, { headers: { 'if-match': '2' } }))).status).toBe('resolved');
    expect((await ok(asReport.post(`/api/v1/hrm/requests/${request.id}/rating`, { score: 4 }))).csat).toBe(4);
    const announcement = await ok(t.admin.post('/api/v1/hrm/announcements', { title: 'Offsite', body: 'Friday', requiresAck: true }), 201);
    await ok(asReport.post(`/api/v1/hrm/announcements/${announcement.id}/acknowledge`));
    expect((await ok(asReport.get('/api/v1/hrm/announcements'))).data[0]).toMatchObject({ readAt: expect.any(String), acknowledgedAt: expect.any(String) });
    expect((await ok(asBoss.get(`/api/v1/hrm/engagement/managers/${boss}`))).data).toEqual([]);
    expect((await asBoss.get(`/api/v1/hrm/engagement/managers/${report}`)).status).toBe(404);
  });

  it("refuse scoped principals the firm's own routes with 403, whatever their roles", async () => {
    const routes: Array<[string, string, unknown?]> = [
      ['POST', '/api/v1/hrm/units', { name: 'Shadow' }],
      ['POST', '/api/v1/hrm/positions', { title: 'Shadow' }],
      ['POST', '/api/v1/hrm/employees', { person: { name: 'Shadow' }, unitId: team, start: '2026-01-01T00:00:00Z' }],
      ['PUT', `/api/v1/hrm/employees/${report}/private`, { payBand: 'Z9' }],
      ['POST', '/api/v1/hrm/review-cycles', { name: 'Shadow', periodStart: '2026-01-01T00:00:00Z', periodEnd: '2026-06-30T00:00:00Z', competencies: ['x'], scale: { name: 's', levels: ['a', 'b'] } }],
      ['POST', '/api/v1/hrm/surveys', { title: 'Shadow', kind: 'pulse', questions: [{ type: 'enps', text: 'x' }] }],
      ['GET', '/api/v1/hrm/exit-interviews/reasons'],
      ['POST', '/api/v1/hrm/requests/sla-sweep'],
      ['GET', '/api/v1/hrm/onboarding/templates'],
    ];
    for (const [method, path, body] of routes) {
      const res = await asBoss.request(method, path, body === undefined ? {} : { body });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect((await ok(t.admin.get('/api/v1/hrm/units'))).data.map((u: any) => u.name)).toEqual(['Team']);
  });
});
