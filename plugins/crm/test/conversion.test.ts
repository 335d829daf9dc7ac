import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import crm, { type Pipeline } from '../src/index.js';

/*
 * Stage-to-stage conversion on seeded deals with known paths through the pipeline, checked
 * against a computation done here from the paths themselves, and in a fixed number of queries.
 */
let t: TestApp;
let pipeline: Pipeline;
let rep: string;
let other: string;
let account: string;
let repClient: TestClient;

const STEPS = ['Qualify', 'Propose', 'Negotiate', 'Won'];
const PATHS = [
  ['Qualify'],
  ['Qualify', 'Propose'],
  ['Qualify', 'Propose', 'Negotiate', 'Won'],
  ['Propose', 'Lost'],
  ['Qualify', 'Propose', 'Qualify'], // moved back: it still reached Propose
  ['Negotiate', 'Won'], // opened late: it reached Qualify and Propose too
  ['Qualify', 'Negotiate', 'Lost'],
  ['Qualify', 'Lost'],
];
const seeded: Array<{ path: string[]; owner: string }> = [];

const stageId = (name: string) => pipeline.stages.find((s) => s.name === name)!.id;

async function seed(from: number, count: number) {
  for (let i = from; i < from + count; i++) {
    const path = PATHS[(i * 5) % PATHS.length];
    const owner = i % 3 === 0 ? rep : other;
    const res = await t.admin.post('/api/v1/crm/deals', {
      title: `Deal ${i}`,
      pipelineId: pipeline.id,
      stageId: stageId(path[0]),
      amount: 100,
      currency: 'EUR',
      accountId: account,
      ownerPartyId: owner,
    });
    expect(res.status).toBe(201);
    for (const next of path.slice(1)) expect((await t.admin.post(`/api/v1/crm/deals/${res.body.id}/move`, { stageId: stageId(next) })).status).toBe(200);
    seeded.push({ path, owner });
  }
}

/** The expected report, from the seed alone. */
function expected(owner?: string) {
  const deals = seeded.filter((d) => !owner || d.owner === owner);
  const furthest = deals.map((d) => Math.max(...d.path.filter((s) => s !== 'Lost').map((s) => STEPS.indexOf(s)), -1));
  const reached = STEPS.map((_, k) => furthest.filter((f) => f >= k).length);
  return STEPS.map((name, k) => ({
    name,
    reached: reached[k],
    advanced: k + 1 < STEPS.length ? reached[k + 1] : null,
    conversionRate: k + 1 < STEPS.length && reached[k] > 0 ? reached[k + 1] / reached[k] : null,
  }));
}

async function statements(fn: () => Promise<unknown>): Promise<number> {
  let n = 0;
  const count = (q: { sql: string }) => {
    if (/crm_/.test(q.sql)) n++;
  };
  t.app.knex.on('query', count);
  try {
    await fn();
  } finally {
    t.app.knex.removeListener('query', count);
  }
  return n;
}

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm] });
  const party = async (kind: string, name: string) => (await t.admin.post('/api/v1/parties', { kind, name })).body.id as string;
  rep = await party('person', 'Rita Rep');
  other = await party('person', 'Sam Rep');
  account = await party('organization', 'Acme');
  expect((await t.admin.post('/api/v1/roles', { name: 'sales-rep', permissions: ['crm.deals:read', 'crm.reports:read', 'crm.pipelines:read'] })).status).toBe(201);
  repClient = await t.clientFor({ roles: ['sales-rep'], partyId: rep });
  pipeline = (
    await t.admin.post('/api/v1/crm/pipelines', {
      name: 'Sales',
      stages: [{ name: 'Qualify' }, { name: 'Propose', probability: 40 }, { name: 'Lost', outcome: 'lost' }, { name: 'Negotiate', probability: 70 }, { name: 'Won', outcome: 'won' }],
    })
  ).body;
  await seed(0, 24);
});

afterAll(() => t?.close());

describe('GET /crm/reports/conversion', () => {
  it('equals the conversion computed from the deals’ paths, for everyone and for a rep', async () => {
    const url = `/api/v1/crm/reports/conversion?pipelineId=${pipeline.id}`;
    const all = await t.admin.get(url);
    expect(all.status).toBe(200);
    expect(all.body.stages.map((s: any) => ({ name: s.name, reached: s.reached, advanced: s.advanced, conversionRate: s.conversionRate }))).toEqual(expected());
    expect(all.body.stages[0].reached).toBe(seeded.length); // every deal reached the first stage
    expect(all.body.stages.map((s: any) => s.nextStageId)).toEqual([stageId('Propose'), stageId('Negotiate'), stageId('Won'), null]);
    // A sales rep sees the conversion of its own deals only.
    const mine = await repClient.get(url);
    expect(mine.body.stages.map((s: any) => ({ name: s.name, reached: s.reached, advanced: s.advanced, conversionRate: s.conversionRate }))).toEqual(expected(rep));
    expect(mine.body.stages[0].reached).toBeLessThan(seeded.length);
  });

  it('answers in the same number of statements whatever the number of deals', async () => {
    const url = `/api/v1/crm/reports/conversion?pipelineId=${pipeline.id}`;
    const before = await statements(() => t.admin.get(url));
    await seed(24, 16);
    const after = await statements(() => t.admin.get(url));
    expect(after).toBe(before);
    expect((await t.admin.get(url)).body.stages.map((s: any) => s.reached)).toEqual(expected().map((s) => s.reached));
  });

  it('is a 404 for an unknown pipeline and a 400 without one', async () => {
    expect((await t.admin.get(`/api/v1/crm/reports/conversion?pipelineId=${crypto.randomUUID()}`)).status).toBe(404);
    expect((await t.admin.get('/api/v1/crm/reports/conversion')).status).toBe(400);
  });
});
