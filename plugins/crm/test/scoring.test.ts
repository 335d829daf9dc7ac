import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { definePlugin, runImport } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';
import crmPlugin, { crm } from '../src/index.js';

/* Another plugin contributes a rule through CRM's lead-scoring service (crm.services.leadScoring). */
const contributor = definePlugin({
  name: 'scoretest',
  version: '1.0.0',
  requires: { core: '^0.1.0', plugins: { crm: '^0.1.0' } },
  deps: { scoring: crm.services.leadScoring },
  start(ctx) {
    ctx.deps.scoring.contribute({
      key: 'scoretest.incorporated',
      name: 'Incorporated company',
      points: 7,
      evaluate: ({ party }) => party.name.endsWith(' Inc'),
    });
  },
});

let t: TestApp;
let globex: string;

const latestScore = async (partyId: string) => {
  const res = await t.admin.get(`/api/v1/observations?indicator=crm.lead-score&subjectId=${partyId}`);
  expect(res.status).toBe(200);
  return res.body.data as Array<{ value: number; details: { firedRules: Array<{ id: string; name: string; points: number }> } }>;
};

const rules = [
  { name: 'Energy industry', points: 20, condition: { kind: 'attribute', key: 'crm.industry', equals: 'Energy' } },
  { name: 'Known source', points: 5, condition: { kind: 'attribute-present', key: 'crm.source' } },
  { name: 'Two meetings', points: 30, condition: { kind: 'interactions', type: 'crm.meeting', atLeast: 2 } },
];

/** The expected score, computed here from the rule definitions and the facts the test created. */
function expectedScore(facts: { industry?: string; source?: string; meetings: number; name: string }) {
  let score = 0;
  if (facts.industry === 'Energy') score += 20;
  if (facts.source) score += 5;
  if (facts.meetings >= 2) score += 30;
  if (facts.name.endsWith(' Inc')) score += 7;
  return score;
}

beforeAll(async () => {
  t = await createTestApp({ plugins: [crmPlugin, contributor] });
  for (const rule of rules) expect((await t.admin.post('/api/v1/crm/scoring/rules', rule)).status).toBe(201);
});

afterAll(() => t?.close());

describe('lead scoring', () => {
  it('lists the rules kept as data and those contributed by plugins; refuses bad rules', async () => {
    const res = await t.admin.get('/api/v1/crm/scoring/rules');
    expect(res.body.data.map((r: any) => [r.name, r.points, r.source])).toEqual([
      ['Energy industry', 20, 'data'],
      ['Known source', 5, 'data'],
      ['Two meetings', 30, 'data'],
      ['Incorporated company', 7, 'plugin'],
    ]);
    expect((await t.admin.post('/api/v1/crm/scoring/rules', { name: 'x', points: 1, condition: { kind: 'magic' } })).status).toBe(400);
    expect((await t.admin.post('/api/v1/crm/scoring/rules', { name: 'x', points: 5000, condition: { kind: 'attribute-present', key: 'a' } })).status).toBe(400);
    expect((await t.admin.get('/api/v1/crm/scoring/rules')).body.data).toHaveLength(4);
  });

  it('scores a lead when it becomes one, and again when its interactions change', async () => {
    const created = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Globex Inc', attributes: { 'crm.industry': 'Energy', 'crm.source': 'fair' } });
    globex = created.body.id;
    await t.app.settled();
    expect(await latestScore(globex)).toEqual([]); // not a lead yet
    await t.admin.post('/api/v1/relationships', { type: 'crm.customer', fromPartyId: t.selfPartyId, toPartyId: globex });
    await t.app.settled();
    let scores = await latestScore(globex);
    expect(scores[0].value).toBe(expectedScore({ industry: 'Energy', source: 'fair', meetings: 0, name: 'Globex Inc' }));
    expect(scores[0].details.firedRules.map((r) => r.name).sort()).toEqual(['Energy industry', 'Incorporated company', 'Known source']);

    for (let i = 0; i < 2; i++) {
      expect((await t.admin.post('/api/v1/crm/activities', { type: 'crm.meeting', accountId: globex, subject: `Meeting ${i}` })).status).toBe(201);
      await t.app.settled();
    }
    scores = await latestScore(globex);
    expect(scores[0].value).toBe(expectedScore({ industry: 'Energy', source: 'fair', meetings: 2, name: 'Globex Inc' }));
    expect(scores[0].details.firedRules.map((r) => r.name)).toContain('Two meetings');
    // One observation per change of the score: lead (25+7), 1st meeting (no change), 2nd meeting.
    expect(scores).toHaveLength(2);
  });

  it('scores again after an import with summary events (one interactions.imported for the batch)', async () => {
    const lead = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Initech', attributes: { 'crm.industry': 'Energy' } })).body.id;
    await t.admin.post('/api/v1/relationships', { type: 'crm.customer', fromPartyId: t.selfPartyId, toPartyId: lead });
    await t.app.settled();
    expect((await latestScore(lead))[0].value).toBe(expectedScore({ industry: 'Energy', meetings: 0, name: 'Initech' }));
    const csv = ['type,subject,participant_ids', `crm.meeting,Kick-off,${lead}:account`, `crm.meeting,Review,${lead}:account`].join('\n') + '\n';
    const result = await runImport(t.app, 'interactions', Readable.from([csv]), { summaryEvents: true });
    expect(result).toMatchObject({ imported: 2, rejected: 0 });
    await t.app.settled();
    const scores = await latestScore(lead);
    expect(scores[0].value).toBe(expectedScore({ industry: 'Energy', meetings: 2, name: 'Initech' }));
    expect(scores[0].details.firedRules.map((r) => r.name)).toContain('Two meetings');
  });

  it('recomputes when attributes change and records nothing when the score is unchanged', async () => {
    const party = (await t.admin.get(`/api/v1/parties/${globex}`)).body;
    const res = await t.admin.patch(`/api/v1/parties/${globex}`, { attributes: { 'crm.industry': 'Retail' } }, { headers: { 'if-match': `"${party.version}"` } });
    expect(res.status).toBe(200);
    await t.app.settled();
    const scores = await latestScore(globex);
    expect(scores[0].value).toBe(expectedScore({ industry: 'Retail', source: 'fair', meetings: 2, name: 'Globex Inc' }));
    const again = await t.admin.post(`/api/v1/crm/scoring/parties/${globex}/recompute`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ partyId: globex, score: scores[0].value, recorded: false });
    expect(await latestScore(globex)).toHaveLength(3);
    expect((await t.admin.post(`/api/v1/crm/scoring/parties/${crypto.randomUUID()}/recompute`)).status).toBe(404);
  });

  it('drops a deleted rule from the next computation', async () => {
    const ruleId = (await t.admin.get('/api/v1/crm/scoring/rules')).body.data.find((r: any) => r.name === 'Known source').id;
    expect((await t.admin.delete(`/api/v1/crm/scoring/rules/${ruleId}`)).status).toBe(204);
    expect((await t.admin.delete(`/api/v1/crm/scoring/rules/${ruleId}`)).status).toBe(404);
    const res = await t.admin.post(`/api/v1/crm/scoring/parties/${globex}/recompute`);
    expect(res.body).toMatchObject({ score: expectedScore({ industry: 'Retail', meetings: 2, name: 'Globex Inc' }), recorded: true });
  });
});
