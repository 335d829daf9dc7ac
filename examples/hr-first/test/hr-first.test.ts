import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRapportClient, ok, type RapportClient } from '@rapport/client';
import { createTestApp, type TestApp } from '@rapport/testing';
import hrm from '@rapport/plugin-hrm';
import { employeeClient, runPulseSurvey, serviceDeskRound, setUpOrganization } from '../src/internal-marketing.js';
import config from '../rapport.config.js';

describe('examples/hr-first', () => {
  let t: TestApp;
  let admin: RapportClient;
  let org: Awaited<ReturnType<typeof setUpOrganization>>;

  beforeAll(async () => {
    t = await createTestApp({ plugins: [hrm] });
    admin = createRapportClient({ baseUrl: t.baseUrl, apiKey: t.adminToken });
    org = await setUpOrganization(admin);
  });
  afterAll(() => t?.close());

  it('is the kernel and HRM alone', async () => {
    expect(config.plugins).toEqual(['@rapport/plugin-hrm']);
    // Typed in the client: the route's response schema is checked against every answer in tests.
    expect(ok(await admin.GET('/api/v1/plugins')).data.map((p) => p.name)).toEqual(['hrm']);
    expect(ok(await admin.GET('/api/v1/hrm/employees', { params: { query: { managerId: org.manager.id } } })).data).toHaveLength(4);
  });

  it('an anonymous pulse survey: eNPS per unit once closed, no answer tied to a person', async () => {
    const team = await Promise.all(org.team.map((e) => employeeClient(admin, t.baseUrl, e.id)));
    const results = await runPulseSurvey(admin, team, [{ recommend: 9 }, { recommend: 10, comment: 'More training' }, { recommend: 6 }, { recommend: 8 }]);
    // 2 promoters, 1 detractor of 4: 50% − 25%.
    expect(results.overall).toMatchObject({ suppressed: false, responses: 4, enps: 25 });
    expect(results.units).toEqual([expect.objectContaining({ unitId: org.production.id, suppressed: false, enps: 25 })]);
    expect(JSON.stringify(results)).not.toContain('More training');
    // The employee's own reach: its record, not the survey results.
    const own = ok(await team[0].GET('/api/v1/hrm/me'));
    expect(own.id).toBe(org.team[0].id);
    const forbidden = await team[0].GET('/api/v1/hrm/surveys/{id}/results', { params: { path: { id: results.surveyId } } });
    expect(forbidden.response.status).toBe(403);
  });

  it('the service desk: a request raised in a password session, resolved by IT, rated — internal CSAT about IT', async () => {
    const rated = await serviceDeskRound(admin, t.baseUrl, org.it, { id: org.team[0].id, email: 'tom.self@northwind.example', password: 'correct horse battery staple' });
    expect(rated).toMatchObject({ status: 'closed', csat: 5, providerUnitId: org.it.id, requesterPartyId: org.team[0].id });
    const csat = ok(await admin.GET('/api/v1/observations', { params: { query: { indicator: 'hrm.csat', subjectId: org.it.id } } })).data;
    expect(csat.map((o) => o.value)).toEqual([5]);
    const scorecard = ok(await admin.GET('/api/v1/hrm/units/{id}/scorecard', { params: { path: { id: org.it.id } } }));
    expect(scorecard.services).toEqual([expect.objectContaining({ name: 'New access badge', requests: 1, resolved: 1, breached: 0, csat: 5, csatResponses: 1 })]);
  });
});
