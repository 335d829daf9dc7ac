import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin } from '../src/index.js';
import { createRole, hire, ok, testClock, unit } from './helpers.js';

const clock = testClock('2026-02-02T08:00:00.000Z');
let t: TestApp;
let it_: string, finance: string;
let laptop: string, access: string;
let helper: string, requesters: string[];
let staff: Array<TestApp['admin']>;

beforeAll(async () => {
  t = await createTestApp({ plugins: [createHrmPlugin({ now: clock.now })] });
  await createRole(t, 'staff', ['hrm.desk:read', 'hrm.desk:write', 'hrm.employees:read']);
  it_ = await unit(t.admin, 'IT');
  finance = await unit(t.admin, 'Finance');
  helper = await hire(t.admin, { name: 'Helper', unitId: it_ });
  requesters = [];
  for (let i = 0; i < 4; i++) requesters.push(await hire(t.admin, { name: `Req${i}`, unitId: finance }));
  staff = await Promise.all(requesters.map((id) => t.clientFor({ roles: ['staff'], scopePartyId: id })));
  laptop = (await ok(t.admin.post('/api/v1/hrm/services', { unitId: it_, name: 'New laptop', resolutionTargetMinutes: 480, responseTargetMinutes: 60 }), 201)).id;
  access = (await ok(t.admin.post('/api/v1/hrm/services', { unitId: it_, name: 'System access', resolutionTargetMinutes: 120 }), 201)).id;
});
afterAll(async () => {
  await t?.close();
});

async function progress(id: string, body: Record<string, unknown>) {
  const current = await ok(t.admin.get(`/api/v1/hrm/requests/${id}`));
  return ok(t.admin.patch(`/api/v1/hrm/requests/${id}`, body, { headers: { 'if-match': String(current.version) } }));
}

describe('internal service desk', () => {
  it('publishes a catalog employees see and raise requests against, as internal customers', async () => {
    const catalog = await ok(staff[0].get('/api/v1/hrm/services'));
    expect(catalog.data.map((s: any) => s.name).sort()).toEqual(['New laptop', 'System access']);
    const req = await ok(staff[0].post('/api/v1/hrm/requests', { serviceId: laptop, title: 'Laptop for new hire' }), 201);
    expect(req).toMatchObject({
      status: 'open',
      requesterPartyId: requesters[0],
      providerUnitId: it_,
      resolutionDueAt: '2026-02-02T16:00:00.000Z',
      responseDueAt: '2026-02-02T09:00:00.000Z',
      breached: false,
    });
    // On the requester's timeline, with the providing unit.
    const timeline = await ok(t.admin.get(`/api/v1/hrm/employees/${requesters[0]}/timeline?type=hrm.request`));
    expect(timeline.data[0].participants).toEqual(expect.arrayContaining([{ partyId: it_, role: 'provider' }]));
    // A unit can be the internal customer too.
    const unitReq = await ok(t.admin.post('/api/v1/hrm/requests', { serviceId: access, title: 'Finance shared drive', requesterPartyId: finance }), 201);
    expect(unitReq.requesterPartyId).toBe(finance);
    // Others' requests are out of reach for a scoped employee.
    expect((await staff[1].get(`/api/v1/hrm/requests/${req.id}`)).status).toBe(404);
    expect((await ok(staff[1].get('/api/v1/hrm/requests'))).data).toEqual([]);
    expect((await ok(staff[0].get('/api/v1/hrm/requests'))).data.map((r: any) => r.id)).toEqual([req.id]);
  });

  it('detects SLA breaches with time controlled by the test', async () => {
    clock.set('2026-02-03T08:00:00.000Z');
    const fast = await ok(staff[1].post('/api/v1/hrm/requests', { serviceId: access, title: 'VPN' }), 201); // due 10:00
    const slow = await ok(staff[2].post('/api/v1/hrm/requests', { serviceId: access, title: 'CRM login' }), 201); // due 10:00
    const assigned = await progress(fast.id, { assigneePartyId: helper, status: 'in-progress' });
    expect(assigned).toMatchObject({ assigneePartyId: helper, status: 'in-progress', firstResponseAt: '2026-02-03T08:00:00.000Z' });
    clock.set('2026-02-03T09:30:00.000Z');
    await progress(fast.id, { status: 'resolved' });
    expect((await ok(t.admin.get(`/api/v1/hrm/requests?breached=true&serviceId=${access}`))).data.map((r: any) => r.id)).not.toContain(slow.id);
    clock.set('2026-02-03T10:01:00.000Z');
    const breaches = await ok(t.admin.get(`/api/v1/hrm/requests?breached=true&serviceId=${access}`));
    expect(breaches.data.map((r: any) => r.id).sort()).toEqual(expect.arrayContaining([slow.id]));
    expect(breaches.data.map((r: any) => r.id)).not.toContain(fast.id);
    expect((await ok(t.admin.get(`/api/v1/hrm/requests/${slow.id}`))).breached).toBe(true);
    // Resolving late stays a breach.
    const late = await progress(slow.id, { status: 'resolved' });
    expect(late.breached).toBe(true);
    // Illegal transitions and stale versions are refused.
    expect((await t.admin.patch(`/api/v1/hrm/requests/${slow.id}`, { status: 'open' }, { headers: { 'if-match': '1' } })).status).toBe(412);
    expect((await t.admin.patch(`/api/v1/hrm/requests/${slow.id}`, { status: 'open' })).status).toBe(428);
  });

  it('takes CSAT from the requester after resolution and scores each service (CSAT checked independently)', async () => {
    clock.set('2026-02-04T08:00:00.000Z');
    const scores = [5, 4, 2, 5];
    const ids: string[] = [];
    for (const [i, client] of staff.entries()) {
      const req = await ok(client.post('/api/v1/hrm/requests', { serviceId: laptop, title: `Laptop ${i}` }), 201);
      ids.push(req.id);
      // Not yet resolved: no rating.
      if (i === 0) expect((await client.post(`/api/v1/hrm/requests/${req.id}/rating`, { score: 5 })).status).toBe(409);
    }
    clock.set('2026-02-04T10:00:00.000Z');
    for (const id of ids) await progress(id, { status: 'resolved' });
    // Only the requester rates.
    expect((await staff[1].post(`/api/v1/hrm/requests/${ids[0]}/rating`, { score: 1 })).status).toBe(404);
    expect((await t.admin.post(`/api/v1/hrm/requests/${ids[0]}/rating`, { score: 1 })).status).toBe(403);
    for (const [i, client] of staff.entries()) {
      const rated = await ok(client.post(`/api/v1/hrm/requests/${ids[i]}/rating`, { score: scores[i], comment: i === 2 ? 'Slow to answer' : undefined }));
      expect(rated).toMatchObject({ status: 'closed', csat: scores[i] });
    }
    expect((await staff[0].post(`/api/v1/hrm/requests/${ids[0]}/rating`, { score: 3 })).status).toBe(409);

    clock.set('2026-02-05T08:00:00.000Z');
    const scorecard = await ok(t.admin.get(`/api/v1/hrm/units/${it_}/scorecard`));
    const laptopCard = scorecard.services.find((s: any) => s.serviceId === laptop);
    // Independent computation: every laptop request and what happened to it.
    const all = (await ok(t.admin.get(`/api/v1/hrm/requests?serviceId=${laptop}`))).data;
    const rated = all.filter((r: any) => r.csat !== null).map((r: any) => r.csat);
    const expectedCsat = Math.round((rated.reduce((a: number, b: number) => a + b, 0) / rated.length) * 100) / 100;
    expect(rated.sort()).toEqual([...scores].sort());
    expect(laptopCard).toMatchObject({
      requests: all.length,
      open: all.filter((r: any) => r.status === 'open' || r.status === 'in-progress').length,
      breached: all.filter((r: any) => r.breached).length,
      csatResponses: 4,
      csat: expectedCsat,
    });
    expect(laptopCard.breached).toBe(1); // the first laptop request, still open past its 8 h
    const resolved = all.filter((r: any) => r.resolvedAt);
    const avg = resolved.reduce((a: number, r: any) => a + (Date.parse(r.resolvedAt) - Date.parse(r.openedAt)) / 60000, 0) / resolved.length;
    expect(laptopCard.avgResolutionMinutes).toBeCloseTo(avg, 2);
    // CSAT is also a kernel indicator about the providing unit.
    const obs = await ok(t.admin.get(`/api/v1/observations?subjectId=${it_}&indicator=hrm.csat`));
    expect(obs.data.map((o: any) => o.value).sort()).toEqual([...scores].sort());
  });
});
