import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin, hrm, RETENTION_WEIGHTS, SLA_SWEEP_TASK, type SlaBreaches } from '../src/index.js';
import { resolveOptions } from '../src/options.js';
import { createRole, hire, ok, testClock, unit } from './helpers.js';

const clock = testClock('2026-01-05T09:00:00.000Z');
let t: TestApp;
let support: string, ops: string;
let ann: string, ben: string, cat: string;

beforeAll(async () => {
  // Core + HRM alone, with a tenant's own recruiting stages and exit reasons.
  t = await createTestApp({
    plugins: [createHrmPlugin({ now: clock.now, minGroupSize: 3, recruitingStages: ['applied', 'phone-screen', 'onsite', 'offer'], exitReasons: ['pay', 'growth', 'manager', 'other'] })],
  });
  support = await unit(t.admin, 'Support');
  ops = await unit(t.admin, 'Ops');
  ann = await hire(t.admin, { name: 'Ann', unitId: support, start: '2025-01-05T00:00:00.000Z' });
  ben = await hire(t.admin, { name: 'Ben', unitId: ops, start: '2025-01-05T00:00:00.000Z' });
  cat = await hire(t.admin, { name: 'Cat', unitId: ops, start: '2025-01-05T00:00:00.000Z' });
});
afterAll(async () => {
  await t?.close();
});

/** HRM's contract service: what the scheduled sweep does, for one tenant. */
const recordSlaBreaches = (tenantId: string, now: Date) => t.app.plugins.service<SlaBreaches>(hrm.services.slaBreaches.id)!.record(tenantId, now);

describe('configurable recruiting stages', () => {
  it("follows the tenant's stages and refuses the default ones it replaced", async () => {
    const opening = await ok(t.admin.post('/api/v1/hrm/openings', { title: 'Agent', unitId: support }), 201);
    const app = await ok(t.admin.post(`/api/v1/hrm/openings/${opening.id}/candidates`, { person: { name: 'Dan' } }), 201);
    expect((await t.admin.post(`/api/v1/hrm/applications/${app.id}/stage`, { stage: 'screening' })).status).toBe(400);
    expect((await ok(t.admin.post(`/api/v1/hrm/applications/${app.id}/stage`, { stage: 'phone-screen' }))).stage).toBe('phone-screen');
    expect((await ok(t.admin.post(`/api/v1/hrm/applications/${app.id}/stage`, { stage: 'withdrawn' }))).stage).toBe('withdrawn');
    expect(() => resolveOptions({ recruitingStages: ['applied', 'hired'] })).toThrow(/recruitingStages/);
    expect(() => resolveOptions({ recruitingStages: ['a', 'a'] })).toThrow(/recruitingStages/);
  });
});

describe('retention-risk weights per tenant', () => {
  it('serves the defaults, validates and stores new weights, and scores with them, factors explained', async () => {
    const initial = await ok(t.admin.get('/api/v1/hrm/settings/retention-weights'));
    expect(initial).toMatchObject({ weights: { ...RETENTION_WEIGHTS }, custom: false, version: 0 });
    // Ann: 12 months in, nothing else: tenure 0.
    clock.set('2025-07-05T00:00:00.000Z');
    const before = await ok(t.admin.get(`/api/v1/hrm/employees/${ann}/retention-risk`));
    const tenure = before.factors.find((f: any) => f.key === 'tenure');
    expect(tenure.weight).toBe(20);
    const weights = { tenure: 60, 'manager-change': 10, 'review-trend': 10, 'engagement-trend': 10, 'open-grievances': 10 };
    expect((await t.admin.put('/api/v1/hrm/settings/retention-weights', { ...weights, tenure: 61 })).status).toBe(400);
    expect((await t.admin.put('/api/v1/hrm/settings/retention-weights', { ...weights, tenure: -1, 'open-grievances': 71 })).status).toBe(400);
    expect((await t.admin.put('/api/v1/hrm/settings/retention-weights', { tenure: 100 })).status).toBe(400);
    expect((await ok(t.admin.get('/api/v1/hrm/settings/retention-weights'))).custom).toBe(false);
    const saved = await ok(t.admin.put('/api/v1/hrm/settings/retention-weights', weights));
    expect(saved).toMatchObject({ weights, custom: true, version: 1 });
    // Changing again needs the version.
    expect((await t.admin.put('/api/v1/hrm/settings/retention-weights', weights)).status).toBe(412);
    const after = await ok(t.admin.get(`/api/v1/hrm/employees/${ann}/retention-risk`));
    const expectedTenureValue = Math.max(0, Math.min(1, 1 - before.factors.find((f: any) => f.key === 'tenure').detail.split(' ')[0] / 12));
    const newTenure = after.factors.find((f: any) => f.key === 'tenure');
    expect(newTenure).toMatchObject({ weight: 60, contribution: Math.round(60 * expectedTenureValue * 100) / 100 });
    expect(newTenure.detail).toMatch(/months in the company/);
    expect(after.score).toBeCloseTo(
      after.factors.reduce((a: number, f: any) => a + f.contribution, 0),
      2,
    );
    expect(after.score).toBeGreaterThan(before.score);
    // A scoped principal cannot change a tenant-wide setting.
    await createRole(t, 'retention', ['hrm.retention:read', 'hrm.retention:write']);
    const scoped = await t.clientFor({ roles: ['retention'], scopePartyId: ben });
    expect((await scoped.put('/api/v1/hrm/settings/retention-weights', weights, { headers: { 'if-match': '1' } })).status).toBe(403);
  });

  it('never shows an employee its own recorded retention risk through the kernel, nor lets it record one', async () => {
    await ok(t.admin.post(`/api/v1/hrm/employees/${ann}/retention-risk`), 201);
    const asAnn = await t.clientFor({ roles: ['viewer'], scopePartyId: ann });
    const own = await ok(asAnn.get(`/api/v1/observations?subjectId=${ann}&limit=200`));
    expect(own.data.map((o: any) => o.indicator)).not.toContain('hrm.retention-risk');
    const all = await ok(t.admin.get(`/api/v1/observations?subjectId=${ann}&indicator=hrm.retention-risk`));
    expect(all.data.length).toBeGreaterThan(0);
    expect((await asAnn.get(`/api/v1/observations/${all.data[0].id}`)).status).toBe(404);
    await createRole(t, 'observer', ['observations:read', 'observations:write', 'parties:read']);
    const writer = await t.clientFor({ roles: ['observer'], scopePartyId: ann });
    const forged = await writer.post('/api/v1/observations', { indicator: 'hrm.retention-risk', subjectId: ann, value: 0 });
    expect(forged.status, forged.text).toBe(403);
    expect((await ok(t.admin.get(`/api/v1/observations?subjectId=${ann}&indicator=hrm.retention-risk`))).data).toHaveLength(all.data.length);
  });
});

describe('exit interviews', () => {
  it('keeps the employment when retained and ends it when the person leaves', async () => {
    clock.set('2026-01-10T09:00:00.000Z');
    const retained = await ok(t.admin.post(`/api/v1/hrm/employees/${ann}/exit-interviews`, { reasons: ['pay', 'growth'], comment: 'Counter-offer accepted', outcome: 'retained' }), 201);
    expect(retained).toMatchObject({ outcome: 'retained', reasons: ['pay', 'growth'], confidential: false, unitId: support });
    expect((await ok(t.admin.get(`/api/v1/hrm/employees/${ann}`))).employment.status).toBe('active');
    const comments = await ok(t.admin.get(`/api/v1/observations?subjectId=${ann}&indicator=hrm.exit-comment`));
    expect(comments.data.map((o: any) => [o.text, o.interactionId])).toEqual([['Counter-offer accepted', retained.interactionId]]);
    const timeline = await ok(t.admin.get(`/api/v1/hrm/employees/${ann}/timeline?type=hrm.exit-interview`));
    expect(timeline.data[0].attributes).toEqual({ exitInterviewId: retained.id, outcome: 'retained' });

    expect((await t.admin.post(`/api/v1/hrm/employees/${ben}/exit-interviews`, { reasons: ['pay'], outcome: 'left' })).status).toBe(400);
    expect((await t.admin.post(`/api/v1/hrm/employees/${ben}/exit-interviews`, { reasons: ['boredom'], outcome: 'left', end: '2026-01-31T00:00:00.000Z' })).status).toBe(400);
    expect((await ok(t.admin.get(`/api/v1/hrm/employees/${ben}/exit-interviews`))).data).toEqual([]);
    await ok(t.admin.post(`/api/v1/hrm/employees/${ben}/exit-interviews`, { reasons: ['manager'], outcome: 'left', end: '2026-01-31T00:00:00.000Z' }), 201);
    expect((await ok(t.admin.get(`/api/v1/hrm/employees/${ben}`))).employment).toMatchObject({ status: 'ended', end: '2026-01-31T00:00:00.000Z', endReason: 'manager' });
  });

  it('keeps confidential reasons and comments out of the timeline, events and the person, and aggregates them per unit under the threshold', async () => {
    const markers: string[] = [];
    const ops3 = [cat, await hire(t.admin, { name: 'Eli', unitId: ops }), await hire(t.admin, { name: 'Fay', unitId: ops })];
    for (const [i, person] of ops3.entries()) {
      const marker = `confidential-${i}-${person}`;
      markers.push(marker);
      const rec = await ok(
        t.admin.post(`/api/v1/hrm/employees/${person}/exit-interviews`, {
          reasons: i === 0 ? ['manager', 'pay'] : ['manager'],
          comment: marker,
          outcome: i === 2 ? 'retained' : 'left',
          end: i === 2 ? undefined : '2026-02-28T00:00:00.000Z',
          confidential: true,
        }),
        201,
      );
      expect(rec.reasons).toBeNull();
    }
    expect((await t.admin.post(`/api/v1/hrm/employees/${ann}/exit-interviews`, { reasons: ['pay'], outcome: 'retained', confidential: true, conductedAt: '2025-12-01T00:00:00.000Z' })).status).toBe(
      400,
    );
    for (const person of ops3) {
      const own = await t.admin.get(`/api/v1/hrm/employees/${person}/exit-interviews`);
      const timeline = await t.admin.get(`/api/v1/hrm/employees/${person}/timeline`);
      const observations = await t.admin.get(`/api/v1/observations?subjectId=${person}`);
      const party = await t.admin.get(`/api/v1/relationships?partyId=${person}&type=hrm.employment`);
      for (const res of [own, timeline, observations, party]) {
        for (const m of markers) expect(res.text).not.toContain(m);
        expect(res.text).not.toMatch(/"manager"/);
      }
    }
    const outbox = JSON.stringify(await t.outbox());
    for (const m of markers) expect(outbox).not.toContain(m);

    // While the quarter runs, the confidential group is not served (it would move with each interview).
    const running = await ok(t.admin.get('/api/v1/hrm/exit-interviews/reasons'));
    expect(running).toMatchObject({ period: '2026-Q1', ended: false });
    const opsNow = running.units.find((u: any) => u.unitId === ops);
    expect(opsNow.confidential).toEqual({ suppressed: true });
    expect(opsNow.open).toMatchObject({ interviews: 1, left: 1, retained: 0, reasons: { manager: 1, pay: 0, growth: 0, other: 0 } });
    expect(running.units.find((u: any) => u.unitId === support).open).toMatchObject({ interviews: 1, retained: 1, reasons: { pay: 1, growth: 1 } });

    clock.set('2026-04-02T00:00:00.000Z');
    const ended = await ok(t.admin.get('/api/v1/hrm/exit-interviews/reasons?period=2026-Q1'));
    expect(ended.ended).toBe(true);
    const opsEnded = ended.units.find((u: any) => u.unitId === ops);
    // Three confidential interviews, at the threshold of 3: counts computed here independently.
    expect(opsEnded.confidential).toEqual({ suppressed: false, interviews: 3, left: 2, retained: 1, reasons: { manager: 3, pay: 1, growth: 0, other: 0 }, comments: [...markers].sort() });
    expect((await ok(t.admin.get('/api/v1/hrm/exit-interviews/reasons?period=2026-Q2'))).units).toEqual([]);
    expect((await t.admin.get('/api/v1/hrm/exit-interviews/reasons?period=2026-Q5')).status).toBe(400);
  });
});

describe('SLA breach sweep', () => {
  let service: string;
  let late: string, onTime: string, resolvedLate: string, cancelled: string;

  it('records each breach once, as of the controlled clock, with one event per request', async () => {
    clock.set('2026-05-04T09:00:00.000Z');
    service = (await ok(t.admin.post('/api/v1/hrm/services', { unitId: support, name: 'Laptop', resolutionTargetMinutes: 60 }), 201)).id;
    const raise = async (title: string): Promise<{ id: string; version: number }> => await ok(t.admin.post('/api/v1/hrm/requests', { serviceId: service, title, requesterPartyId: ann }), 201);
    const a = await raise('late');
    const b = await raise('resolved late');
    const c = await raise('cancelled');
    late = a.id;
    resolvedLate = b.id;
    cancelled = c.id;
    await ok(t.admin.patch(`/api/v1/hrm/requests/${cancelled}`, { status: 'cancelled' }, { headers: { 'if-match': String(c.version) } }));
    clock.advanceMinutes(30);
    onTime = (await raise('on time')).id;
    // Nothing is past its target yet.
    expect(await recordSlaBreaches(t.tenantId, clock.now())).toEqual([]);
    clock.advanceMinutes(45); // 75 min after the first three: late; "on time" is at 45 of 60.
    await ok(t.admin.patch(`/api/v1/hrm/requests/${resolvedLate}`, { status: 'resolved' }, { headers: { 'if-match': '1' } }));
    const first = await recordSlaBreaches(t.tenantId, clock.now());
    expect(first).toEqual([late, resolvedLate].sort());
    // Run again: nothing new.
    expect(await recordSlaBreaches(t.tenantId, clock.now())).toEqual([]);
    const events = await t.outbox({ name: 'hrm.request.sla-breached' });
    expect(events.map((e) => e.payload.request.id).sort()).toEqual([late, resolvedLate].sort());
    expect((await ok(t.admin.get(`/api/v1/hrm/requests/${late}`))).slaBreachedAt).toBe(clock.now().toISOString());
    expect((await ok(t.admin.get(`/api/v1/hrm/requests/${onTime}`))).slaBreachedAt).toBeNull();
    expect((await ok(t.admin.get(`/api/v1/hrm/requests/${cancelled}`))).slaBreachedAt).toBeNull();
  });

  it('runs as the scheduled task hrm.sla-sweep and through the manual route', async () => {
    clock.advanceMinutes(30); // "on time" is now past its target.
    const outcome = await t.app.scheduler.runNow(SLA_SWEEP_TASK);
    expect(outcome).toEqual({ status: 'succeeded' });
    const events = await t.outbox({ name: 'hrm.request.sla-breached' });
    expect(events.map((e) => e.payload.request.id).sort()).toEqual([late, resolvedLate, onTime].sort());
    clock.advanceMinutes(120);
    const another = (await ok(t.admin.post('/api/v1/hrm/requests', { serviceId: service, title: 'again', requesterPartyId: ann }), 201)).id;
    clock.advanceMinutes(61);
    const swept = await ok(t.admin.post('/api/v1/hrm/requests/sla-sweep'));
    expect(swept).toEqual({ asOf: clock.now().toISOString(), breached: [another] });
    expect((await t.outbox({ name: 'hrm.request.sla-breached' })).length).toBe(4);
  });
});

describe('lists', () => {
  it('lists review cycles, newest first, filtered by status', async () => {
    const body = (name: string) => ({
      name,
      periodStart: '2026-01-01T00:00:00Z',
      periodEnd: '2026-06-30T00:00:00Z',
      competencies: ['craft'],
      scale: { name: 'three', levels: ['low', 'mid', 'high'] },
    });
    const h1 = await ok(t.admin.post('/api/v1/hrm/review-cycles', body('H1')), 201);
    const h2 = await ok(t.admin.post('/api/v1/hrm/review-cycles', body('H2')), 201);
    await ok(t.admin.post(`/api/v1/hrm/review-cycles/${h1.id}/close`));
    expect((await ok(t.admin.get('/api/v1/hrm/review-cycles'))).data.map((c: any) => c.id)).toEqual([h2.id, h1.id]);
    expect((await ok(t.admin.get('/api/v1/hrm/review-cycles?status=closed'))).data.map((c: any) => c.id)).toEqual([h1.id]);
    expect((await ok(t.admin.get('/api/v1/hrm/review-cycles?status=open'))).data.map((c: any) => c.id)).toEqual([h2.id]);
    const page = await ok(t.admin.get('/api/v1/hrm/review-cycles?limit=1'));
    expect((await ok(t.admin.get(`/api/v1/hrm/review-cycles?limit=1&cursor=${page.nextCursor}`))).data.map((c: any) => c.id)).toEqual([h1.id]);
  });
});
