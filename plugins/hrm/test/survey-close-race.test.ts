import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin } from '../src/index.js';
import { createRole, hire, ok, unit } from './helpers.js';

/*
 * A close racing answers: an answer either lands before the close (and is among the answers the
 * close writes out) or is refused (409); none is left sealed beside the released ones.
 */
let t: TestApp;
const people: string[] = [];

beforeAll(async () => {
  t = await createTestApp({ plugins: [createHrmPlugin()] });
  await createRole(t, 'staff', ['hrm.surveys:read', 'hrm.surveys:respond']);
  const team = await unit(t.admin, 'Team');
  for (let i = 0; i < 12; i++) people.push(await hire(t.admin, { name: `E${i}`, unitId: team }));
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('closing a survey while answers arrive', () => {
  it('keeps every accepted answer, once, on the same side of the close', async () => {
    const survey = (await ok(t.admin.post('/api/v1/hrm/surveys', { title: 'Race', kind: 'pulse', questions: [{ type: 'enps', text: 'x' }] }), 201)).id;
    await ok(t.admin.post(`/api/v1/hrm/surveys/${survey}/open`));
    const clients = await Promise.all(people.map((id) => t.clientFor({ roles: ['staff'], scopePartyId: id })));
    // Six answer first, so the close has enough to release; the rest race the close.
    for (const client of clients.slice(0, 6)) await ok(client.post(`/api/v1/hrm/surveys/${survey}/responses`, { answers: { q1: 7 } }), 201);
    const racing = clients.slice(6).map((client) => client.post(`/api/v1/hrm/surveys/${survey}/responses`, { answers: { q1: 8 } }));
    const close = t.admin.post(`/api/v1/hrm/surveys/${survey}/close`);
    const answers = await Promise.all(racing);
    expect((await close).status).toBe(200);
    for (const res of answers) expect([201, 409], res.text).toContain(res.status);
    const accepted = 6 + answers.filter((r) => r.status === 201).length;
    const participants = (await ok(t.admin.get(`/api/v1/hrm/surveys/${survey}/participation`))).participants;
    expect(participants).toBe(accepted);
    expect(await t.app.knex('hrm_sealed_answers').where({ survey_id: survey })).toEqual([]);
    expect(await t.app.knex('hrm_survey_responses').where({ survey_id: survey })).toHaveLength(accepted);
    expect((await ok(t.admin.get(`/api/v1/hrm/surveys/${survey}/results`))).overall.responses).toBe(accepted);
  }, 120_000);
});
