import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin } from '../src/index.js';
import { createRole, hire, ok, testClock, unit } from './helpers.js';

/*
 * Alpha: manager Mia + 6 reports (7 answer). Beta: Ned + 3 reports (4 answer, below 5).
 * Gamma: 6 without a manager. Beta is suppressed; Gamma too (secondary suppression), else
 * overall − Alpha − Gamma would give Beta's answers.
 */
const clock = testClock('2026-03-02T09:00:00.000Z');
let t: TestApp;
let alpha: string, beta: string, gamma: string;
let mia: string, ned: string;
const people: Array<{ id: string; unit: string; manager: string | null; enps: number; scale: number; choice: string; marker: string }> = [];
let survey1: string, survey2: string;

/** eNPS computed here, independently of the plugin. */
function expectedEnps(scores: number[]): number {
  let promoters = 0;
  let detractors = 0;
  for (const s of scores) {
    if (s >= 9) promoters++;
    else if (s <= 6) detractors++;
  }
  return Math.round(((promoters - detractors) * 100 * 100) / scores.length) / 100;
}

const questions = [
  { id: 'recommend', type: 'enps', text: 'How likely are you to recommend us as an employer?' },
  { id: 'workload', type: 'scale', text: 'My workload is manageable', min: 1, max: 5 },
  { id: 'mode', type: 'choice', text: 'Where do you work best?', choices: ['office', 'home', 'mixed'] },
  { id: 'comment', type: 'text', text: 'Anything else?' },
];

beforeAll(async () => {
  t = await createTestApp({ plugins: [createHrmPlugin({ now: clock.now })] });
  await createRole(t, 'staff', ['hrm.surveys:read', 'hrm.surveys:respond', 'hrm.employees:read']);
  alpha = await unit(t.admin, 'Alpha');
  beta = await unit(t.admin, 'Beta');
  gamma = await unit(t.admin, 'Gamma');
  mia = await hire(t.admin, { name: 'Mia', unitId: alpha });
  ned = await hire(t.admin, { name: 'Ned', unitId: beta });
  const enpsScores = [10, 9, 9, 7, 3, 10, 6, 8, 9, 2, 10, 10, 5, 9, 8, 0, 7];
  const plan: Array<[string, string | null]> = [
    [alpha, null],
    ...Array.from({ length: 6 }, () => [alpha, mia] as [string, string]),
    [beta, null],
    ...Array.from({ length: 3 }, () => [beta, ned] as [string, string]),
    ...Array.from({ length: 6 }, () => [gamma, null] as [string, null]),
  ];
  for (const [i, [unitId, manager]] of plan.entries()) {
    const id = i === 0 ? mia : i === 7 ? ned : await hire(t.admin, { name: `P${i}`, unitId, managerId: manager });
    people.push({ id, unit: unitId, manager, enps: enpsScores[i], scale: (i % 5) + 1, choice: ['office', 'home', 'mixed'][i % 3], marker: `marker-${randomUUID()}` });
  }
  survey1 = (await ok(t.admin.post('/api/v1/hrm/surveys', { title: 'Q1 engagement', kind: 'full', questions }), 201)).id;
  survey2 = (await ok(t.admin.post('/api/v1/hrm/surveys', { title: 'April pulse', kind: 'pulse', questions: [questions[0]] }), 201)).id;
});
afterAll(async () => {
  await t?.close();
});

async function respond(personId: string, surveyId: string, answers: Record<string, unknown>) {
  const client = await t.clientFor({ roles: ['staff'], scopePartyId: personId });
  return client.post(`/api/v1/hrm/surveys/${surveyId}/responses`, { answers });
}

describe('engagement surveys', () => {
  it('collects answers once per employee, only while open, recording participation on the timeline', async () => {
    expect((await respond(people[1].id, survey1, { recommend: 9 })).status).toBe(404); // draft
    await ok(t.admin.post(`/api/v1/hrm/surveys/${survey1}/open`));
    for (const p of people) {
      await ok(respond(p.id, survey1, { recommend: p.enps, workload: p.scale, mode: p.choice, comment: p.marker }), 201);
    }
    expect((await respond(people[1].id, survey1, { recommend: 1 })).status).toBe(409);
    expect((await respond(people[2].id, survey1, { recommend: 11 })).status).toBe(400);
    expect((await respond(people[2].id, survey1, { nope: 1 })).status).toBe(400);
    // Results of an anonymous survey wait for the close.
    expect((await t.admin.get(`/api/v1/hrm/surveys/${survey1}/results`)).status).toBe(409);
    const participation = await ok(t.admin.get(`/api/v1/hrm/surveys/${survey1}/participation`));
    expect(participation).toMatchObject({ participants: 17, eligible: 17, rate: 100 });
    const timeline = await ok(t.admin.get(`/api/v1/hrm/employees/${people[3].id}/timeline?type=hrm.survey-participation`));
    expect(timeline.data).toHaveLength(1);
    expect(timeline.data[0].attributes).toEqual({ surveyId: survey1 });
    expect(JSON.stringify(timeline.data)).not.toContain(people[3].marker);
  });

  it('keeps anonymous answers sealed while the survey is open, with no group, respondent or time in clear', async () => {
    expect(await t.app.knex('hrm_survey_responses').where({ survey_id: survey1 })).toEqual([]);
    const sealed = await t.app.knex('hrm_sealed_answers').where({ survey_id: survey1 });
    expect(sealed).toHaveLength(17);
    expect(Object.keys(sealed[0]).sort()).toEqual(['id', 'sealed', 'survey_id', 'tenant_id']);
    // Padded to one size class: the length of a sealed answer tells nothing about it.
    expect(new Set(sealed.map((r: any) => r.sealed.length)).size).toBe(1);
    for (const p of people) {
      expect(JSON.stringify(sealed)).not.toContain(p.marker);
      expect(JSON.stringify(sealed)).not.toContain(p.unit);
    }
    // No event or audit entry names an answer.
    const events = await t.outbox();
    for (const p of people) expect(JSON.stringify(events)).not.toContain(p.marker);
    const answerIds = new Set(sealed.map((r: any) => r.id));
    const audit = await t.app.knex('rapport_audit').select('record_id');
    expect(audit.some((a: any) => answerIds.has(a.record_id))).toBe(false);
  });

  it('serves eNPS and scores per unit only at or above the threshold, equal to an independent computation', async () => {
    clock.set('2026-03-20T17:00:00.000Z');
    await ok(t.admin.post(`/api/v1/hrm/surveys/${survey1}/close`));
    const results = await ok(t.admin.get(`/api/v1/hrm/surveys/${survey1}/results`));
    // Closed: the answers are in clear, without any group, respondent or time; none stays sealed.
    expect(await t.app.knex('hrm_sealed_answers').where({ survey_id: survey1 })).toEqual([]);
    const stored = await t.app.knex('hrm_survey_responses').where({ survey_id: survey1 });
    expect(stored).toHaveLength(17);
    expect(stored.every((r: any) => r.unit_id === null && r.manager_id === null && r.respondent_id === null)).toBe(true);
    expect(stored.map((r: any) => r.answers.comment).sort()).toEqual(people.map((p) => p.marker).sort());
    expect(results.overall.suppressed).toBe(false);
    expect(results.overall.responses).toBe(17);
    expect(results.overall.enps).toBe(expectedEnps(people.map((p) => p.enps)));
    const byUnit = Object.fromEntries(results.units.map((u: any) => [u.unitId, u]));
    const alphaPeople = people.filter((p) => p.unit === alpha);
    expect(byUnit[alpha]).toMatchObject({ suppressed: false, responses: 7, enps: expectedEnps(alphaPeople.map((p) => p.enps)) });
    const workload = byUnit[alpha].questions.find((q: any) => q.id === 'workload');
    expect(workload.mean).toBeCloseTo(alphaPeople.reduce((a, p) => a + p.scale, 0) / 7, 2);
    const mode = byUnit[alpha].questions.find((q: any) => q.id === 'mode');
    for (const choice of ['office', 'home', 'mixed']) expect(mode.distribution[choice] ?? 0).toBe(alphaPeople.filter((p) => p.choice === choice).length);
    // Beta (4) is below 5; Gamma (6) is hidden too, or overall − Alpha − Gamma = Beta.
    expect(byUnit[beta]).toEqual({ unitId: beta, suppressed: true });
    expect(byUnit[gamma]).toEqual({ unitId: gamma, suppressed: true });
    // Free text is never in results.
    for (const p of people) expect(JSON.stringify(results)).not.toContain(p.marker);
  });

  it('keeps comments and unit eNPS as kernel indicators about the unit, never about a person', async () => {
    const enpsObs = await ok(t.admin.get(`/api/v1/observations?subjectId=${alpha}&indicator=hrm.enps`));
    expect(enpsObs.data.map((o: any) => o.value)).toEqual([expectedEnps(people.filter((p) => p.unit === alpha).map((p) => p.enps))]);
    const comments = await ok(t.admin.get(`/api/v1/observations?subjectId=${alpha}&indicator=hrm.engagement-comment`));
    expect(comments.data.map((o: any) => o.text).sort()).toEqual(
      people
        .filter((p) => p.unit === alpha)
        .map((p) => p.marker)
        .sort(),
    );
    for (const o of comments.data) expect(o).toMatchObject({ observerPartyId: null, interactionId: null, observedAt: '2026-03-20T17:00:00.000Z' });
    // Suppressed units get neither.
    const betaObs = await ok(t.admin.get(`/api/v1/observations?subjectId=${beta}`));
    expect(betaObs.data).toEqual([]);
  });

  it('tracks eNPS per unit over time and per manager (manager conduct) under the threshold', async () => {
    clock.set('2026-04-01T09:00:00.000Z');
    await ok(t.admin.post(`/api/v1/hrm/surveys/${survey2}/open`));
    for (const p of people.slice(0, 4)) await ok(respond(p.id, survey2, { recommend: 10 }), 201);
    clock.set('2026-04-08T09:00:00.000Z');
    await ok(t.admin.post(`/api/v1/hrm/surveys/${survey2}/close`));
    // Four answered, below the threshold of 5: nothing is ever served of them, and they stay sealed.
    expect(await t.app.knex('hrm_survey_responses').where({ survey_id: survey2 })).toEqual([]);
    expect(await t.app.knex('hrm_sealed_answers').where({ survey_id: survey2 })).toHaveLength(4);
    const trend = await ok(t.admin.get(`/api/v1/hrm/engagement/units/${alpha}`));
    expect(trend.data).toEqual([
      {
        surveyId: survey1,
        title: 'Q1 engagement',
        closedAt: '2026-03-20T17:00:00.000Z',
        suppressed: false,
        responses: 7,
        enps: expectedEnps(people.filter((p) => p.unit === alpha).map((p) => p.enps)),
      },
      { surveyId: survey2, title: 'April pulse', closedAt: '2026-04-08T09:00:00.000Z', suppressed: true, responses: null, enps: null },
    ]);
    expect((await ok(t.admin.get(`/api/v1/hrm/surveys/${survey2}/results`))).overall).toEqual({ suppressed: true });

    const miaReports = people.filter((p) => p.manager === mia);
    const conduct = await ok(t.admin.get(`/api/v1/hrm/engagement/managers/${mia}`));
    expect(conduct.data[0]).toMatchObject({ surveyId: survey1, suppressed: false, responses: 6, enps: expectedEnps(miaReports.map((p) => p.enps)) });
    const nedConduct = await ok(t.admin.get(`/api/v1/hrm/engagement/managers/${ned}`));
    expect(nedConduct.data.every((d: any) => d.suppressed && d.enps === null)).toBe(true);
  });

  it('refuses a threshold below 3 for anonymous surveys', async () => {
    expect((await t.admin.post('/api/v1/hrm/surveys', { title: 'x', kind: 'pulse', minGroupSize: 2, questions: [questions[0]] })).status).toBe(400);
  });

  it('never returns an individual anonymous answer linked to a person, on any HRM route, to any role', async () => {
    await createRole(t, 'hr', ['hrm.*']);
    await createRole(t, 'everything-hrm', ['hrm.*', 'parties:read', 'interactions:read', 'observations:read', 'relationships:read']);
    const clients = {
      admin: t.admin,
      hr: await t.clientFor({ roles: ['hr'] }),
      viewer: await t.clientFor({ roles: ['viewer'] }),
      managerScoped: await t.clientFor({ roles: ['everything-hrm'], scopePartyId: mia }),
      employeeScoped: await t.clientFor({ roles: ['everything-hrm'], scopePartyId: people[2].id }),
      adminScoped: await t.clientFor({ roles: ['admin'], scopePartyId: people[3].id }),
      adminLinked: await t.clientFor({ roles: ['admin'], partyId: people[4].id }),
    };
    const doc = await ok(t.anonymous.get('/api/v1/openapi.json'));
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith('/api/v1/hrm/'))
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })));
    expect(routes.length).toBeGreaterThan(20);
    // A confidential exit interview: its comment and reasons are as secret as an anonymous answer.
    const exitMarker = `confidential-exit-${randomUUID()}`;
    await ok(t.admin.post(`/api/v1/hrm/employees/${people[10].id}/exit-interviews`, { reasons: ['manager'], comment: exitMarker, outcome: 'retained', confidential: true }), 201);
    // A candidacy, so the recruiting routes are called with a real id too.
    const opening = await ok(t.admin.post('/api/v1/hrm/openings', { title: 'Analyst', unitId: alpha, hiringManagerId: mia }), 201);
    const application = await ok(t.admin.post(`/api/v1/hrm/openings/${opening.id}/candidates`, { person: { name: 'Cand Idate' } }), 201);
    // Every kind of id a route takes here: a survey, a unit, a manager (an employee too), an employee, a candidacy.
    const ids = [survey1, alpha, mia, people[9].id, application.id];
    let calls = 0;
    for (const route of routes) {
      const paths = route.path.includes('{') ? ids.map((id) => route.path.replace(/\{[^}]+\}/g, id)) : [route.path];
      const attempts = Object.entries(clients).flatMap(([role, client]) => paths.map((path) => ({ role, client, path })));
      // Concurrently per route: the suite stays quick on a loaded machine.
      await Promise.all(
        attempts.map(async ({ role, client, path }) => {
          const res = await client.request(route.method, path, route.method === 'GET' || route.method === 'DELETE' ? {} : { body: {} });
          calls++;
          const where = `${role} ${route.method} ${path}`;
          expect(res.status, where).toBeLessThan(500);
          for (const p of people) expect(res.text.includes(p.marker), `${where} leaks a free-text answer`).toBe(false);
          expect(res.text.includes(exitMarker), `${where} leaks a confidential exit comment`).toBe(false);
          if (res.status === 200 && typeof res.body === 'object') assertNoLinkedAnswer(res.body, where);
        }),
      );
    }
    expect(calls).toBeGreaterThan(400);
    // The routes added since are part of the sweep (it reads them from the OpenAPI document).
    for (const added of ['GET /api/v1/hrm/surveys/{id}/answers', 'GET /api/v1/hrm/review-cycles', 'GET /api/v1/hrm/exit-interviews/reasons', 'GET /api/v1/hrm/candidates/{id}/timeline']) {
      expect(routes.map((r) => `${r.method} ${r.path}`)).toContain(added);
    }
  }, 240_000);

  it('serves the individual answers of a non-anonymous survey to HR, never those of an anonymous one', async () => {
    const named = (await ok(t.admin.post('/api/v1/hrm/surveys', { title: 'Named pulse', kind: 'pulse', anonymous: false, questions: [questions[0], questions[3]] }), 201)).id;
    await ok(t.admin.post(`/api/v1/hrm/surveys/${named}/open`));
    for (const p of people.slice(0, 3)) await ok(respond(p.id, named, { recommend: p.enps, comment: `named-${p.id}` }), 201);
    const hr = await t.clientFor({ roles: ['hr'] });
    const answers = await ok(hr.get(`/api/v1/hrm/surveys/${named}/answers`));
    const expected = people.slice(0, 3).map((p) => ({ respondentId: p.id, unitId: p.unit, answers: { recommend: p.enps, comment: `named-${p.id}` } }));
    expect(answers.data).toEqual(expected.sort((a, b) => a.respondentId.localeCompare(b.respondentId)));
    // Paged by respondent.
    const first = await ok(hr.get(`/api/v1/hrm/surveys/${named}/answers?limit=2`));
    const rest = await ok(hr.get(`/api/v1/hrm/surveys/${named}/answers?limit=2&cursor=${first.nextCursor}`));
    expect([...first.data, ...rest.data]).toEqual(answers.data);
    // A scoped principal never reads colleagues' answers; an anonymous survey answers 409 to everyone.
    expect((await (await t.clientFor({ roles: ['everything-hrm'], scopePartyId: mia })).get(`/api/v1/hrm/surveys/${named}/answers`)).status).toBe(403);
    for (const client of [t.admin, hr]) {
      const res = await client.get(`/api/v1/hrm/surveys/${survey1}/answers`);
      expect(res.status).toBe(409);
      for (const p of people) expect(res.text).not.toContain(p.marker);
    }
  });
});

/** No object in a response may carry both a respondent and an answer. */
function assertNoLinkedAnswer(value: unknown, where: string): void {
  if (Array.isArray(value)) return value.forEach((v) => assertNoLinkedAnswer(v, where));
  if (!value || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  const hasAnswer = 'answers' in record || 'answer' in record;
  const hasPerson = ['respondentId', 'partyId', 'personId', 'employeeId'].some((k) => typeof record[k] === 'string');
  expect(hasAnswer && hasPerson, `${where} returns an answer with a person`).toBe(false);
  Object.values(record).forEach((v) => assertNoLinkedAnswer(v, where));
}
