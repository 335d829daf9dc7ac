import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin } from '../src/index.js';
import { ok, unit } from './helpers.js';

/* Dates at the edge: a start whose derived dates (onboarding due a year on) would pass year 9999. */
let t: TestApp;
let team: string;

beforeAll(async () => {
  t = await createTestApp({ plugins: [createHrmPlugin()] });
  team = await unit(t.admin, 'Team');
  await ok(t.admin.post('/api/v1/hrm/onboarding/templates', { name: 'Year one', items: [{ title: 'Review', owner: 'manager', dueDays: 365 }] }), 201);
});
afterAll(async () => {
  await t?.close();
});

describe('dates HRM takes', () => {
  it('refuses a hire starting past 8999 with a 400 naming the field, and writes nothing', async () => {
    const before = await t.app.knex('rapport_audit').count<{ n: string }[]>('* as n');
    for (const start of ['9999-12-31T00:00:00.000Z', '9999-12-31T23:59:59+00:00', '9000-01-01T00:00:00.000Z', '1899-12-31T00:00:00.000Z']) {
      const res = await t.admin.post('/api/v1/hrm/employees', { person: { name: 'Late' }, unitId: team, start });
      expect(res.status, `${start}: ${res.text}`).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.stringify(res.body.errors ?? res.body)).toContain('start');
    }
    expect(await t.app.knex('rapport_audit').count<{ n: string }[]>('* as n')).toEqual(before);
  });

  it('takes the last allowed start, with onboarding due a year on', async () => {
    const employee = await ok(t.admin.post('/api/v1/hrm/employees', { person: { name: 'Edge' }, unitId: team, start: '8999-12-31T00:00:00.000Z' }), 201);
    const onboarding = await ok(t.admin.get(`/api/v1/hrm/employees/${employee.id}/onboarding`));
    expect(onboarding.items.map((i: any) => i.dueAt)).toEqual(['9000-12-31T00:00:00.000Z']);
  });

  it('bounds the other dates it takes: an end, a review period, a hire from recruiting', async () => {
    const employee = await ok(t.admin.post('/api/v1/hrm/employees', { person: { name: 'Ends' }, unitId: team, start: '2026-01-01T00:00:00.000Z' }), 201);
    const end = await t.admin.post(`/api/v1/hrm/employees/${employee.id}/end-employment`, { end: '9999-12-31T00:00:00.000Z' });
    expect(end.status, end.text).toBe(400);
    expect(JSON.stringify(end.body.errors)).toContain('end');
    const cycle = await t.admin.post('/api/v1/hrm/review-cycles', {
      name: 'Far',
      periodStart: '2026-01-01T00:00:00.000Z',
      periodEnd: '9999-12-31T00:00:00.000Z',
      competencies: ['x'],
      scale: { name: 's', levels: ['a', 'b'] },
    });
    expect(cycle.status, cycle.text).toBe(400);
    expect(JSON.stringify(cycle.body.errors)).toContain('periodEnd');
    const opening = await ok(t.admin.post('/api/v1/hrm/openings', { title: 'Analyst', unitId: team }), 201);
    const application = await ok(t.admin.post(`/api/v1/hrm/openings/${opening.id}/candidates`, { person: { name: 'Cand' } }), 201);
    const hired = await t.admin.post(`/api/v1/hrm/applications/${application.id}/hire`, { start: '9999-12-31T00:00:00.000Z' });
    expect(hired.status, hired.text).toBe(400);
  });
});
