import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import crm, { type Pipeline } from '../src/index.js';

/*
 * Report figures on a seeded data set, checked against a computation done here from the
 * seed itself (not from the plugin's tables), and checked to cost a fixed number of queries.
 */
let t: TestApp;
let pipeline: Pipeline;
let reps: string[];
let accounts: string[];
let repClient: TestClient;

interface Seed {
  stageIndex: number;
  amountCents: number;
  currency: string;
  expectedClose: string | null;
  owner: string;
}
const seeded: Seed[] = [];

const party = async (kind: string, name: string) => (await t.admin.post('/api/v1/parties', { kind, name })).body.id as string;

async function seedDeals(from: number, count: number) {
  for (let i = from; i < from + count; i++) {
    const seed: Seed = {
      stageIndex: i % 5,
      amountCents: ((i * 7919) % 100000) + 25 * (i % 4),
      currency: i % 3 === 0 ? 'USD' : 'EUR',
      expectedClose: i % 7 === 0 ? null : `2027-0${1 + (i % 4)}-${String(1 + (i % 28)).padStart(2, '0')}`,
      owner: reps[i % reps.length],
    };
    const res = await t.admin.post('/api/v1/crm/deals', {
      title: `Deal ${i}`,
      pipelineId: pipeline.id,
      stageId: pipeline.stages[seed.stageIndex].id,
      amount: seed.amountCents / 100,
      currency: seed.currency,
      expectedClose: seed.expectedClose,
      ownerPartyId: seed.owner,
      accountId: accounts[i % accounts.length],
    });
    expect(res.status).toBe(201);
    seeded.push(seed);
  }
}

/** Runs `fn` and counts the SQL statements it sends to CRM data (not auth, not the dispatcher's polling). */
async function queriesOf(fn: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const count = (q: { sql: string }) => {
    if (/crm_|rapport_interaction/.test(q.sql)) n++;
  };
  t.app.knex.on('query', count);
  try {
    await fn();
  } finally {
    t.app.knex.removeListener('query', count);
  }
  return n;
}

function expectedByStage(deals: Seed[]) {
  return pipeline.stages.map((stage, index) => {
    const inStage = deals.filter((d) => d.stageIndex === index);
    const currencies = [...new Set(inStage.map((d) => d.currency))].sort();
    return {
      stageId: stage.id,
      count: inStage.length,
      byCurrency: currencies.map((currency) => {
        const mine = inStage.filter((d) => d.currency === currency);
        const cents = mine.reduce((s, d) => s + d.amountCents, 0);
        return { currency, count: mine.length, amount: cents / 100, weightedAmount: Math.round((cents * stage.probability) / 100) / 100 };
      }),
    };
  });
}

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm] });
  reps = [await party('person', 'Rita Rep'), await party('person', 'Sam Rep')];
  accounts = [await party('organization', 'Acme'), await party('organization', 'Globex'), await party('organization', 'Initech')];
  pipeline = (
    await t.admin.post('/api/v1/crm/pipelines', {
      name: 'Sales',
      stages: [
        { name: 'Qualify', probability: 10 },
        { name: 'Propose', probability: 40 },
        { name: 'Negotiate', probability: 75 },
        { name: 'Won', outcome: 'won' },
        { name: 'Lost', outcome: 'lost' },
      ],
    })
  ).body;
  await t.admin.post('/api/v1/roles', { name: 'sales-rep', permissions: ['crm.deals:read', 'crm.reports:read'] });
  repClient = await t.clientFor({ roles: ['sales-rep'], partyId: reps[0] });
  await seedDeals(0, 30);
});

afterAll(() => t?.close());

describe('reports', () => {
  it('pipeline by stage equals an independent computation, in a fixed number of queries', async () => {
    const res = await t.admin.get(`/api/v1/crm/reports/pipeline?pipelineId=${pipeline.id}`);
    expect(res.status).toBe(200);
    const got = res.body.stages.map((s: any) => ({ stageId: s.stageId, count: s.count, byCurrency: s.byCurrency }));
    expect(got).toEqual(expectedByStage(seeded));
    // Only the rep's own deals for a sales rep.
    const mine = await repClient.get(`/api/v1/crm/reports/pipeline?pipelineId=${pipeline.id}`);
    expect(mine.body.stages.map((s: any) => ({ stageId: s.stageId, count: s.count, byCurrency: s.byCurrency }))).toEqual(expectedByStage(seeded.filter((d) => d.owner === reps[0])));
    expect((await t.admin.get(`/api/v1/crm/reports/pipeline?pipelineId=${crypto.randomUUID()}`)).status).toBe(404);
  });

  it('win rate and forecast by month equal an independent computation', async () => {
    const won = seeded.filter((d) => d.stageIndex === 3).length;
    const lost = seeded.filter((d) => d.stageIndex === 4).length;
    const rate = await t.admin.get(`/api/v1/crm/reports/win-rate?pipelineId=${pipeline.id}`);
    expect(rate.body).toEqual({ won, lost, winRate: won / (won + lost) });
    const future = await t.admin.get('/api/v1/crm/reports/win-rate?from=2100-01-01T00:00:00Z');
    expect(future.body).toEqual({ won: 0, lost: 0, winRate: null });
    const repWon = seeded.filter((d) => d.stageIndex === 3 && d.owner === reps[1]).length;
    const repLost = seeded.filter((d) => d.stageIndex === 4 && d.owner === reps[1]).length;
    expect((await t.admin.get(`/api/v1/crm/reports/win-rate?ownerPartyId=${reps[1]}`)).body).toMatchObject({ won: repWon, lost: repLost });

    const groups = new Map<string, { month: string | null; currency: string; count: number; cents: number; weighted: number }>();
    for (const d of seeded.filter((x) => x.stageIndex < 3)) {
      const month = d.expectedClose ? d.expectedClose.slice(0, 7) : null;
      const key = `${month}|${d.currency}`;
      const g = groups.get(key) ?? { month, currency: d.currency, count: 0, cents: 0, weighted: 0 };
      g.count += 1;
      g.cents += d.amountCents;
      g.weighted += d.amountCents * pipeline.stages[d.stageIndex].probability; // cents × percent
      groups.set(key, g);
    }
    const expected = [...groups.values()]
      .sort((a, b) => (a.month ?? '9999').localeCompare(b.month ?? '9999') || a.currency.localeCompare(b.currency))
      .map((g) => ({ month: g.month, currency: g.currency, count: g.count, amount: g.cents / 100, weightedAmount: Math.round(g.weighted / 100) / 100 }));
    const forecast = await t.admin.get(`/api/v1/crm/reports/forecast?pipelineId=${pipeline.id}`);
    expect(forecast.body.data).toEqual(expected);
  });

  it('counts activities per owner', async () => {
    const plan = [
      { type: 'crm.call', owner: reps[0] },
      { type: 'crm.call', owner: reps[0] },
      { type: 'crm.email', owner: reps[0] },
      { type: 'crm.meeting', owner: reps[1] },
      { type: 'crm.note', owner: reps[1] },
    ];
    for (const [i, a] of plan.entries()) {
      const res = await t.admin.post('/api/v1/crm/activities', { type: a.type, ownerPartyId: a.owner, accountId: accounts[i % 3], subject: `Touch ${i}` });
      expect(res.status).toBe(201);
    }
    expect((await t.admin.post('/api/v1/crm/activities', { type: 'crm.call', ownerPartyId: null })).status).toBe(400);
    expect((await t.admin.post('/api/v1/crm/activities', { type: 'crm.purchase', accountId: accounts[0] })).status).toBe(400);
    const res = await t.admin.get('/api/v1/crm/reports/activities');
    const expected = reps
      .map((rep) => {
        const byType: Record<string, number> = { 'crm.call': 0, 'crm.email': 0, 'crm.meeting': 0, 'crm.note': 0 };
        for (const a of plan.filter((p) => p.owner === rep)) byType[a.type] += 1;
        return { ownerPartyId: rep, total: plan.filter((p) => p.owner === rep).length, byType };
      })
      .sort((a, b) => a.ownerPartyId.localeCompare(b.ownerPartyId));
    expect(res.body.data).toEqual(expected);
    expect((await t.admin.get('/api/v1/crm/reports/activities?from=2100-01-01T00:00:00Z')).body.data).toEqual([]);
  });

  it('answers each report in the same number of queries whatever the data size', async () => {
    const reports = [
      `/api/v1/crm/reports/pipeline?pipelineId=${pipeline.id}`,
      '/api/v1/crm/reports/win-rate',
      '/api/v1/crm/reports/forecast',
      '/api/v1/crm/reports/activities',
      '/api/v1/crm/deals?limit=200',
    ];
    const before = [];
    for (const url of reports) before.push(await queriesOf(() => t.admin.get(url)));
    await seedDeals(30, 15);
    const after = [];
    for (const url of reports) after.push(await queriesOf(() => t.admin.get(url)));
    expect(before).toEqual([3, 1, 1, 1, 2]);
    expect(after).toEqual(before);
    // And the figures still match after the growth.
    const res = await t.admin.get(`/api/v1/crm/reports/pipeline?pipelineId=${pipeline.id}`);
    expect(res.body.stages.map((s: any) => ({ stageId: s.stageId, count: s.count, byCurrency: s.byCurrency }))).toEqual(expectedByStage(seeded));
  });
});
