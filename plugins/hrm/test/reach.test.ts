import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin } from '../src/index.js';
import { createRole, hire, ok, unit } from './helpers.js';

/*
 * Reach on every HRM route with an id, read or write, taken from the running system's OpenAPI
 * document (a route added later is swept too). A caller that HRM does not reach at all — a key
 * scoped to a partner organization (any role, even admin), a former employee's key — gets for
 * a real id exactly what it gets for an unknown one, and never a success, a state message
 * ("survey X is closed") or a write. Unknown ids answer 404 to HR too.
 */
let t: TestApp;
const real: Record<string, string> = {};
let employee: string;
let manager: string;

beforeAll(async () => {
  t = await createTestApp({ plugins: [createHrmPlugin()] });
  await createRole(t, 'hr', ['hrm.*']);
  await createRole(t, 'everything', ['hrm.*', 'parties:read', 'interactions:read', 'observations:read', 'relationships:read']);
  real.unit = await unit(t.admin, 'Ops');
  await ok(t.admin.post('/api/v1/hrm/onboarding/templates', { name: 'Basics', items: [{ title: 'Laptop', owner: 'hr', dueDays: 1 }] }), 201);
  manager = await hire(t.admin, { name: 'Mara', unitId: real.unit });
  employee = await hire(t.admin, { name: 'Emil', unitId: real.unit, managerId: manager });
  real.employee = employee;
  const onboarding = await ok(t.admin.get(`/api/v1/hrm/employees/${employee}/onboarding`));
  real.item = onboarding.items[0].id;
  const service = await ok(t.admin.post('/api/v1/hrm/services', { unitId: real.unit, name: 'Badge', resolutionTargetMinutes: 60 }), 201);
  real.request = (await ok((await t.clientFor({ roles: ['everything'], scopePartyId: employee })).post('/api/v1/hrm/requests', { serviceId: service.id, title: 'Badge' }), 201)).id;
  const cycleBody = { name: 'H1', periodStart: '2026-01-01T00:00:00.000Z', periodEnd: '2026-06-30T00:00:00.000Z', competencies: ['x'], scale: { name: 's', levels: ['a', 'b'] } };
  real.cycle = (await ok(t.admin.post('/api/v1/hrm/review-cycles', cycleBody), 201)).id;
  real.closedCycle = (await ok(t.admin.post('/api/v1/hrm/review-cycles', cycleBody), 201)).id;
  await ok(t.admin.post(`/api/v1/hrm/review-cycles/${real.closedCycle}/close`));
  real.goal = (await ok(t.admin.post(`/api/v1/hrm/review-cycles/${real.cycle}/goals`, { employeeId: employee, title: 'Ship', weight: 1, target: 10 }), 201)).id;
  const survey = { title: 'Pulse', kind: 'pulse', questions: [{ type: 'enps', text: 'Recommend us?' }] };
  real.survey = (await ok(t.admin.post('/api/v1/hrm/surveys', survey), 201)).id;
  await ok(t.admin.post(`/api/v1/hrm/surveys/${real.survey}/open`));
  real.closedSurvey = (await ok(t.admin.post('/api/v1/hrm/surveys', survey), 201)).id;
  await ok(t.admin.post(`/api/v1/hrm/surveys/${real.closedSurvey}/open`));
  await ok(t.admin.post(`/api/v1/hrm/surveys/${real.closedSurvey}/close`));
  real.opening = (await ok(t.admin.post('/api/v1/hrm/openings', { title: 'Analyst', unitId: real.unit, hiringManagerId: manager }), 201)).id;
  const application = await ok(t.admin.post(`/api/v1/hrm/openings/${real.opening}/candidates`, { person: { name: 'Cand' } }), 201);
  real.application = application.id;
  real.candidate = application.candidateId;
  real.announcement = (await ok(t.admin.post('/api/v1/hrm/announcements', { title: 'Offsite', body: 'Friday', requiresAck: true }), 201)).id;
}, 120_000);

afterAll(async () => {
  await t?.close();
});

/** The real records a route's ids can name, by the path's resource. */
function realIdsFor(path: string): string[][] {
  const resource = /^\/api\/v1\/hrm\/([a-z-]+)(?:\/([a-z-]+))?\/\{/.exec(path);
  const key = resource?.[1] === 'engagement' ? resource[2] : resource?.[1];
  const first: Record<string, string[]> = {
    surveys: [real.survey, real.closedSurvey],
    units: [real.unit],
    managers: [manager],
    employees: [employee],
    requests: [real.request],
    onboarding: [real.item],
    'review-cycles': [real.cycle, real.closedCycle],
    goals: [real.goal],
    openings: [real.opening],
    applications: [real.application],
    candidates: [real.candidate],
    announcements: [real.announcement],
  };
  const ids = first[key ?? ''];
  if (!ids) throw new Error(`no real id known for ${path}: add its resource to the sweep`);
  // A second id (…/scores/{employeeId}) is a real employee.
  const params = path.match(/\{[^}]+\}/g)!;
  return ids.map((id) => [id, ...params.slice(1).map(() => employee)]);
}

/** A body each write takes, so that what it answers is about the id, not about a missing field. */
const bodies: Record<string, unknown> = {
  'PATCH /requests/{id}': { status: 'resolved' },
  'POST /requests/{id}/rating': { score: 4 },
  'POST /employees/{id}/exit-interviews': { reasons: ['manager'], outcome: 'retained' },
  'POST /employees/{id}/end-employment': { end: '2026-09-01T00:00:00.000Z' },
  'PUT /employees/{id}/manager': { managerId: null },
  'PUT /employees/{id}/private': { payBand: 'B2' },
  'POST /employees/{id}/timeline': { kind: 'one-to-one', subject: 'Catch-up' },
  'PUT /units/{id}/parent': { parentId: null },
  'POST /review-cycles/{id}/goals': { employeeId: '<employee>', title: 'Ship', weight: 1, target: 10 },
  'PATCH /goals/{id}': { actual: 3 },
  'POST /review-cycles/{id}/reviews': { subjectId: '<employee>', kind: 'peer', ratings: { x: 'a' } },
  'POST /surveys/{id}/responses': { answers: { q1: 9 } },
  'POST /openings/{id}/candidates': { person: { name: 'Other' } },
  'POST /applications/{id}/stage': { stage: 'screening' },
  'POST /applications/{id}/hire': { start: '2026-09-01T00:00:00.000Z' },
  'POST /applications/{id}/feedback': { rating: 'yes' },
};

function bodyFor(method: string, path: string): unknown {
  const body = bodies[`${method} ${path.replace('/api/v1/hrm', '')}`];
  return body === undefined ? undefined : JSON.parse(JSON.stringify(body).replaceAll('<employee>', employee));
}

async function routesWithIds(): Promise<Array<{ method: string; path: string }>> {
  const doc = await ok(t.anonymous.get('/api/v1/openapi.json'));
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>)
    .filter(([path]) => path.startsWith('/api/v1/hrm/') && path.includes('{'))
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })));
}

const fill = (path: string, ids: string[]) => {
  let i = 0;
  return path.replace(/\{[^}]+\}/g, () => ids[i++]);
};

describe('reach on every HRM route with an id', () => {
  it('answers a caller out of reach for a real id exactly as for an unknown one, never with a success or a state', async () => {
    const partner = await ok(t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Partner Ltd' }), 201);
    const leaver = await hire(t.admin, { name: 'Lea', unitId: real.unit });
    const leaverClient = await t.clientFor({ roles: ['everything'], scopePartyId: leaver });
    await ok(t.admin.post(`/api/v1/hrm/employees/${leaver}/end-employment`, { end: '2026-01-31T00:00:00.000Z' }));
    const outOfReach = {
      partnerAdmin: await t.clientFor({ roles: ['admin'], scopePartyId: partner.id }),
      partnerEverything: await t.clientFor({ roles: ['everything'], scopePartyId: partner.id }),
      formerEmployee: leaverClient,
    };
    const auditBefore = await t.app.knex('rapport_audit').count<{ n: string }[]>('* as n');
    const routes = await routesWithIds();
    expect(routes.length).toBeGreaterThan(40);
    const mismatches: string[] = [];
    for (const route of routes) {
      const body = bodyFor(route.method, route.path);
      const options = { ...(body !== undefined && { body }), headers: { 'if-match': '1' } };
      for (const [who, client] of Object.entries(outOfReach)) {
        const unknown = await client.request(
          route.method,
          fill(
            route.path,
            realIdsFor(route.path)[0].map(() => randomUUID()),
          ),
          options,
        );
        for (const ids of realIdsFor(route.path)) {
          const res = await client.request(route.method, fill(route.path, ids), options);
          const where = `${who} ${route.method} ${route.path}`;
          expect(res.status, `${where}: ${res.text}`).toBeGreaterThanOrEqual(400);
          expect(res.status, `${where}: ${res.text}`).toBeLessThan(500);
          if (res.status !== unknown.status) mismatches.push(`${where}: ${res.status} for a real id, ${unknown.status} for an unknown one (${res.text.slice(0, 160)})`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    // Nothing was written by any of them.
    expect(await t.app.knex('rapport_audit').count<{ n: string }[]>('* as n')).toEqual(auditBefore);
  }, 300_000);

  it('answers 404 for an unknown id on every route, unless the caller is refused whatever the id', async () => {
    const callers = {
      admin: t.admin,
      hr: await t.clientFor({ roles: ['hr'] }),
      employee: await t.clientFor({ roles: ['everything'], scopePartyId: employee }),
      manager: await t.clientFor({ roles: ['everything'], scopePartyId: manager }),
    };
    const wrong: string[] = [];
    for (const route of await routesWithIds()) {
      const body = bodyFor(route.method, route.path);
      const real = realIdsFor(route.path)[0];
      const unknownIds = real.map((id, i) => (i === 0 ? randomUUID() : id));
      const options = { ...(body !== undefined && { body }), headers: { 'if-match': '1' } };
      for (const [who, client] of Object.entries(callers)) {
        const res = await client.request(route.method, fill(route.path, unknownIds), options);
        if (res.status === 404) continue;
        // A refusal of the caller (a role, an audience, a principal linked to no employee) is the same for a real id.
        const forReal = res.status === 403 ? await client.request(route.method, fill(route.path, real), options) : undefined;
        if (forReal?.status === 403) continue;
        wrong.push(`${who} ${route.method} ${route.path}: ${res.status} ${res.text.slice(0, 160)}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 300_000);

  it('writes to a survey with the reach of its reads', async () => {
    const partner = await ok(t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Partner Two' }), 201);
    const partnerAdmin = await t.clientFor({ roles: ['admin'], scopePartyId: partner.id });
    const read = await partnerAdmin.get(`/api/v1/hrm/surveys/${real.survey}`);
    for (const action of ['open', 'close']) {
      const res = await partnerAdmin.post(`/api/v1/hrm/surveys/${real.survey}/${action}`);
      expect(res.status, res.text).not.toBe(200);
      expect(res.status >= 400 && read.status >= 400).toBe(true);
    }
    // The survey is still open.
    expect((await ok(t.admin.get(`/api/v1/hrm/surveys/${real.survey}`))).status).toBe('open');
  });
});
