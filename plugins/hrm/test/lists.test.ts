import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin } from '../src/index.js';
import { hire, ok, testClock, unit } from './helpers.js';

const clock = testClock('2026-02-02T09:00:00.000Z');
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ plugins: [createHrmPlugin({ now: clock.now })] });
});
afterAll(async () => {
  await t?.close();
});

/** Reads a list page by page (two at a time) and checks the pages add up to the list read at once. */
async function pagedEqualsWhole(path: string): Promise<any[]> {
  const sep = path.includes('?') ? '&' : '?';
  const whole = (await ok(t.admin.get(`${path}${sep}limit=200`))).data;
  const paged: any[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await ok(t.admin.get(`${path}${sep}limit=2${cursor ? `&cursor=${cursor}` : ''}`));
    paged.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  expect(paged, path).toEqual(whole);
  return whole;
}

describe('lists', () => {
  it('page every HRM list by its keys, without a record skipped or repeated', async () => {
    const a = await unit(t.admin, 'A');
    const b = await unit(t.admin, 'B', a);
    await unit(t.admin, 'C', a);
    const people: string[] = [];
    for (let i = 0; i < 5; i++) people.push(await hire(t.admin, { name: `P${i}`, unitId: i % 2 ? a : b }));
    expect(await pagedEqualsWhole('/api/v1/hrm/units')).toHaveLength(3);
    expect(await pagedEqualsWhole(`/api/v1/hrm/units?parentId=${a}`)).toHaveLength(2);
    expect(await pagedEqualsWhole('/api/v1/hrm/employees')).toHaveLength(5);
    expect(await pagedEqualsWhole(`/api/v1/hrm/employees?unitId=${a}`)).toHaveLength(2);

    const opening = await ok(t.admin.post('/api/v1/hrm/openings', { title: 'Analyst', unitId: a }), 201);
    for (let i = 0; i < 3; i++) await ok(t.admin.post(`/api/v1/hrm/openings/${opening.id}/candidates`, { person: { name: `C${i}` } }), 201);
    const candidacies = await pagedEqualsWhole('/api/v1/hrm/candidates');
    expect(candidacies).toHaveLength(3);
    for (const stage of ['screening', 'interview']) await ok(t.admin.post(`/api/v1/hrm/applications/${candidacies[0].id}/stage`, { stage }));
    expect(await pagedEqualsWhole(`/api/v1/hrm/candidates/${candidacies[0].candidateId}/timeline`)).toHaveLength(3);

    for (let i = 0; i < 3; i++) await ok(t.admin.post('/api/v1/hrm/announcements', { title: `N${i}`, body: 'News', unitIds: [a] }), 201);
    expect(await pagedEqualsWhole('/api/v1/hrm/announcements')).toHaveLength(3);
    for (let i = 0; i < 3; i++) await ok(t.admin.post('/api/v1/hrm/positions', { title: `Position ${i}` }), 201);
    expect(await pagedEqualsWhole('/api/v1/hrm/positions')).toHaveLength(3);
    const service = await ok(t.admin.post('/api/v1/hrm/services', { unitId: a, name: 'Laptop', resolutionTargetMinutes: 10 }), 201);
    for (let i = 0; i < 3; i++) await ok(t.admin.post('/api/v1/hrm/requests', { serviceId: service.id, title: `R${i}`, requesterPartyId: people[i] }), 201);
    expect(await pagedEqualsWhole('/api/v1/hrm/requests')).toHaveLength(3);
    for (let i = 0; i < 3; i++) await ok(t.admin.post('/api/v1/hrm/surveys', { title: `S${i}`, kind: 'pulse', questions: [{ type: 'enps', text: 'Recommend us?' }] }), 201);
    expect(await pagedEqualsWhole('/api/v1/hrm/surveys')).toHaveLength(3);
    for (let i = 0; i < 3; i++) await ok(t.admin.post('/api/v1/hrm/onboarding/templates', { name: `T${i}`, items: [{ title: 'Badge', owner: 'hr', dueDays: 1 }] }), 201);
    expect(await pagedEqualsWhole('/api/v1/hrm/onboarding/templates')).toHaveLength(3);
  });

  it("pages an employee's exit interviews oldest first, with the reasons of those not confidential", async () => {
    const unitId = await unit(t.admin, 'Exits');
    const person = await hire(t.admin, { name: 'Stayer', unitId });
    for (const day of ['03', '01', '02'])
      await ok(t.admin.post(`/api/v1/hrm/employees/${person}/exit-interviews`, { reasons: ['manager'], outcome: 'retained', conductedAt: `2026-01-${day}T00:00:00.000Z` }), 201);
    await ok(t.admin.post(`/api/v1/hrm/employees/${person}/exit-interviews`, { reasons: ['workload'], outcome: 'retained', confidential: true }), 201);
    const interviews = await pagedEqualsWhole(`/api/v1/hrm/employees/${person}/exit-interviews`);
    expect(interviews.map((i) => [i.conductedAt.slice(0, 10), i.reasons])).toEqual([
      ['2026-01-01', ['manager']],
      ['2026-01-02', ['manager']],
      ['2026-01-03', ['manager']],
      ['2026-02-02', null],
    ]);
  });
});
