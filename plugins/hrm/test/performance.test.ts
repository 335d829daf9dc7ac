import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin } from '../src/index.js';
import { createRole, hire, ok, unit } from './helpers.js';

let t: TestApp;
let mia: string, ned: string;
let reports: string[];
let nedReports: string[];
let cycle: string;
const levels = ['below', 'meets', 'exceeds', 'outstanding'];
const formula = { goals: 0.6, competencies: 0.4, reviewers: { self: 0.1, manager: 0.6, peer: 0.3, upward: 0.5 }, goalCap: 1.2 };
let firstFinal = 0;
const as = async (partyId: string) => t.clientFor({ roles: ['reviewer'], scopePartyId: partyId });

beforeAll(async () => {
  t = await createTestApp({ plugins: [createHrmPlugin()] });
  await createRole(t, 'reviewer', ['hrm.reviews:read', 'hrm.reviews:write', 'hrm.team:read']);
  const team = await unit(t.admin, 'Team');
  mia = await hire(t.admin, { name: 'Mia', unitId: team });
  ned = await hire(t.admin, { name: 'Ned', unitId: team });
  reports = [];
  for (let i = 0; i < 5; i++) reports.push(await hire(t.admin, { name: `R${i}`, unitId: team, managerId: mia }));
  nedReports = [await hire(t.admin, { name: 'N1', unitId: team, managerId: ned }), await hire(t.admin, { name: 'N2', unitId: team, managerId: ned })];
  cycle = (
    await ok(
      t.admin.post('/api/v1/hrm/review-cycles', {
        name: '2026 H1',
        periodStart: '2026-01-01T00:00:00Z',
        periodEnd: '2026-06-30T00:00:00Z',
        competencies: ['delivery', 'collaboration', 'craft'],
        scale: { name: 'four-step', levels },
        formula,
      }),
      201,
    )
  ).id;
});
afterAll(async () => {
  await t?.close();
});

/** Independent computation of the final score. */
function expected(goals: Array<{ weight: number; target: number; actual: number }>, reviewsByKind: Record<string, string[][]>) {
  const attainment = goals.reduce((a, g) => a + g.weight * Math.min(g.actual / g.target, formula.goalCap), 0) / goals.reduce((a, g) => a + g.weight, 0);
  const goalScore = attainment * 100;
  let weighted = 0;
  let weights = 0;
  for (const [kind, reviews] of Object.entries(reviewsByKind)) {
    const perReview = reviews.map((ratings) => ratings.reduce((a, l) => a + levels.indexOf(l) / (levels.length - 1), 0) / ratings.length);
    const mean = (perReview.reduce((a, b) => a + b, 0) / perReview.length) * 100;
    weighted += formula.reviewers[kind as keyof typeof formula.reviewers] * mean;
    weights += formula.reviewers[kind as keyof typeof formula.reviewers];
  }
  const competencyScore = weighted / weights;
  return { goalScore, competencyScore, final: (goalScore * formula.goals + competencyScore * formula.competencies) / (formula.goals + formula.competencies) };
}

describe('performance reviews', () => {
  it('scores goals and self/manager/peer reviews with the cycle formula, equal to an independent computation', async () => {
    const subject = reports[0];
    const goals = [
      { title: 'Ship v2', weight: 2, target: 100, actual: 120 },
      { title: 'Cut incidents', weight: 1, target: 10, actual: 5 },
      { title: 'Mentor', weight: 1, target: 50, actual: 80 }, // capped at 1.2
    ];
    for (const g of goals) {
      const created = await ok(t.admin.post(`/api/v1/hrm/review-cycles/${cycle}/goals`, { employeeId: subject, title: g.title, weight: g.weight, target: g.target }), 201);
      const updated = await ok(t.admin.patch(`/api/v1/hrm/goals/${created.id}`, { actual: g.actual }, { headers: { 'if-match': String(created.version) } }));
      expect(updated).toMatchObject({ actual: g.actual, version: 2 });
    }
    const reviews: Array<[string, string, string[]]> = [
      [subject, 'self', ['outstanding', 'exceeds', 'exceeds']],
      [mia, 'manager', ['exceeds', 'meets', 'exceeds']],
      [reports[1], 'peer', ['meets', 'meets', 'below']],
      [reports[2], 'peer', ['outstanding', 'exceeds', 'meets']],
    ];
    const competencies = ['delivery', 'collaboration', 'craft'];
    for (const [reviewer, kind, ratings] of reviews) {
      const body = { subjectId: subject, kind, ratings: Object.fromEntries(competencies.map((c, i) => [c, ratings[i]])), feedback: `${kind} feedback from ${reviewer}` };
      await ok((await as(reviewer)).post(`/api/v1/hrm/review-cycles/${cycle}/reviews`, body), 201);
    }
    const byKind: Record<string, string[][]> = {};
    for (const [, kind, ratings] of reviews) (byKind[kind] ??= []).push(ratings);
    const want = expected(goals, byKind);
    const scores = await ok(t.admin.get(`/api/v1/hrm/review-cycles/${cycle}/scores/${subject}`));
    firstFinal = want.final;
    expect(scores.goalScore).toBeCloseTo(want.goalScore, 1);
    expect(scores.competencyScore).toBeCloseTo(want.competencyScore, 1);
    expect(scores.final).toBeCloseTo(want.final, 1);
    expect(scores.byKind.peer.reviews).toBe(2);
    // The employee sees its own score; the manager its report's; a peer does not.
    expect((await ok((await as(subject)).get(`/api/v1/hrm/review-cycles/${cycle}/scores/${subject}`))).final).toBe(scores.final);
    expect((await ok((await as(mia)).get(`/api/v1/hrm/review-cycles/${cycle}/scores/${subject}`))).final).toBe(scores.final);
    expect((await (await as(reports[1])).get(`/api/v1/hrm/review-cycles/${cycle}/scores/${subject}`)).status).toBe(404);
    const feedback = await ok(t.admin.get(`/api/v1/hrm/review-cycles/${cycle}/feedback/${subject}`));
    expect(feedback.attributed).toHaveLength(4);
  });

  it('refuses reviews that do not fit the reporting line, unknown competencies or levels, and duplicates', async () => {
    const r1 = await as(reports[1]);
    const ratings = { delivery: 'meets' };
    expect((await r1.post(`/api/v1/hrm/review-cycles/${cycle}/reviews`, { subjectId: reports[0], kind: 'manager', ratings })).status).toBe(400);
    expect((await r1.post(`/api/v1/hrm/review-cycles/${cycle}/reviews`, { subjectId: ned, kind: 'upward', ratings })).status).toBe(400);
    expect((await r1.post(`/api/v1/hrm/review-cycles/${cycle}/reviews`, { subjectId: reports[3], kind: 'peer', ratings: { charm: 'meets' } })).status).toBe(400);
    expect((await r1.post(`/api/v1/hrm/review-cycles/${cycle}/reviews`, { subjectId: reports[3], kind: 'peer', ratings: { delivery: 'great' } })).status).toBe(400);
    expect((await r1.post(`/api/v1/hrm/review-cycles/${cycle}/reviews`, { subjectId: reports[0], kind: 'peer', ratings })).status).toBe(409);
  });

  it('counts upward reviews (manager conduct) only from a group at the threshold, never attributed', async () => {
    const upward = [['exceeds'], ['meets'], ['outstanding'], ['exceeds'], ['below']];
    for (const [i, report] of reports.entries()) {
      await ok((await as(report)).post(`/api/v1/hrm/review-cycles/${cycle}/reviews`, { subjectId: mia, kind: 'upward', ratings: { collaboration: upward[i][0] }, feedback: `upward ${i}` }), 201);
    }
    for (const report of nedReports) {
      await ok((await as(report)).post(`/api/v1/hrm/review-cycles/${cycle}/reviews`, { subjectId: ned, kind: 'upward', ratings: { collaboration: 'below' }, feedback: 'secret' }), 201);
    }
    // While the cycle is open, upward results are held back (they would move with each review).
    expect((await ok(t.admin.get(`/api/v1/hrm/review-cycles/${cycle}/scores/${mia}`))).byKind.upward).toEqual({ reviews: 0, score: null, suppressed: true });
    expect((await ok(t.admin.get(`/api/v1/hrm/review-cycles/${cycle}/feedback/${mia}`))).upward).toEqual({ suppressed: true, feedback: [] });
    await ok(t.admin.post(`/api/v1/hrm/review-cycles/${cycle}/close`));
    expect((await (await as(reports[4])).post(`/api/v1/hrm/review-cycles/${cycle}/reviews`, { subjectId: reports[3], kind: 'peer', ratings: { delivery: 'meets' } })).status).toBe(409);
    const miaScore = await ok(t.admin.get(`/api/v1/hrm/review-cycles/${cycle}/scores/${mia}`));
    const meanUpward = (upward.reduce((a, [l]) => a + levels.indexOf(l) / 3, 0) / upward.length) * 100;
    expect(miaScore.byKind.upward.reviews).toBe(5);
    expect(miaScore.byKind.upward.score).toBeCloseTo(meanUpward, 1);
    const miaFeedback = await ok(t.admin.get(`/api/v1/hrm/review-cycles/${cycle}/feedback/${mia}`));
    expect(miaFeedback.upward).toEqual({ suppressed: false, feedback: ['upward 0', 'upward 1', 'upward 2', 'upward 3', 'upward 4'] });
    expect(miaFeedback.attributed).toEqual([]);
    const nedScore = await ok(t.admin.get(`/api/v1/hrm/review-cycles/${cycle}/scores/${ned}`));
    expect(nedScore.byKind.upward).toEqual({ reviews: 0, score: null, suppressed: true });
    const nedFeedback = await ok(t.admin.get(`/api/v1/hrm/review-cycles/${cycle}/feedback/${ned}`));
    expect(nedFeedback.upward).toEqual({ suppressed: true, feedback: [] });
    // The stored upward reviews keep no reviewer.
    const rows = await t.app.knex('hrm_reviews').where({ kind: 'upward' });
    expect(rows.every((r: any) => r.reviewer_id === null)).toBe(true);
  });

  it('computes a retention risk from its signals and shows the factors', async () => {
    const subject = reports[0];
    // A second closed cycle where the subject's goals fell flat: the final score drops to 0.
    const second = (
      await ok(
        t.admin.post('/api/v1/hrm/review-cycles', {
          name: '2026 H2',
          periodStart: '2026-07-01T00:00:00Z',
          periodEnd: '2026-12-31T00:00:00Z',
          competencies: ['delivery'],
          scale: { name: 'four-step', levels },
          formula,
        }),
        201,
      )
    ).id;
    await ok(t.admin.post(`/api/v1/hrm/review-cycles/${second}/goals`, { employeeId: subject, title: 'Ship v3', weight: 1, target: 100, actual: 0 }), 201);
    await ok(t.admin.post(`/api/v1/hrm/review-cycles/${second}/close`));
    // A new manager today.
    await ok(t.admin.put(`/api/v1/hrm/employees/${subject}/manager`, { managerId: ned }));
    const risk = await ok(t.admin.get(`/api/v1/hrm/employees/${subject}/retention-risk`));
    const factor = (key: string) => risk.factors.find((f: any) => f.key === key);
    // Independently: hired 2025-01-01 (over a year: no tenure signal), manager changed today (full
    // signal, weight 20), final score fell from firstFinal to 0 (full signal when ≥ 20 points, weight 25).
    const reviewSignal = Math.min(1, firstFinal / 20);
    expect(factor('tenure').contribution).toBe(0);
    expect(factor('manager-change')).toMatchObject({ value: 1, contribution: 20 });
    expect(factor('review-trend').contribution).toBeCloseTo(25 * reviewSignal, 2);
    expect(factor('engagement-trend').contribution).toBe(0);
    expect(factor('open-grievances').contribution).toBe(0);
    expect(risk.score).toBeCloseTo(20 + 25 * reviewSignal, 2);
    expect(risk.level).toBe(risk.score >= 50 ? 'high' : risk.score >= 25 ? 'medium' : 'low');
    // Recorded as a kernel indicator with its factors.
    await ok(t.admin.post(`/api/v1/hrm/employees/${subject}/retention-risk`), 201);
    const obs = await ok(t.admin.get(`/api/v1/observations?subjectId=${subject}&indicator=hrm.retention-risk`));
    expect(obs.data[0].value).toBe(risk.score);
    expect(obs.data[0].details.factors).toHaveLength(5);
    // Not for the person themselves, nor a colleague.
    await createRole(t, 'risk-reader', ['hrm.retention:read', 'hrm.team:read']);
    expect((await (await t.clientFor({ roles: ['risk-reader'], scopePartyId: subject })).get(`/api/v1/hrm/employees/${subject}/retention-risk`)).status).toBe(403);
    expect((await (await t.clientFor({ roles: ['risk-reader'], scopePartyId: reports[1] })).get(`/api/v1/hrm/employees/${subject}/retention-risk`)).status).toBe(404);
    expect((await ok((await t.clientFor({ roles: ['risk-reader'], scopePartyId: ned })).get(`/api/v1/hrm/employees/${subject}/retention-risk`))).score).toBe(risk.score);
  });
});
