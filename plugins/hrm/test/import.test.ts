import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin } from '../src/index.js';
import { hire, ok, unit } from './helpers.js';

let t: TestApp;
let engineering: string, sales: string;
let boss: string;
let known: string;

beforeAll(async () => {
  // Core + HRM alone.
  t = await createTestApp({ plugins: [createHrmPlugin()] });
  const company = await unit(t.admin, 'Company');
  engineering = await unit(t.admin, 'Engineering', company);
  sales = await unit(t.admin, 'Sales', company);
  await unit(t.admin, 'Twin');
  await unit(t.admin, 'Twin');
  await ok(t.admin.post('/api/v1/hrm/positions', { title: 'Engineer', unitId: engineering }), 201);
  boss = (
    await ok(t.admin.post('/api/v1/hrm/employees', { person: { name: 'Boss', contactPoints: [{ kind: 'email', value: 'boss@firm.example' }] }, unitId: company, start: '2024-01-01T00:00:00Z' }), 201)
  ).id;
  // A person who exists already (a former candidate, say): imported, not copied.
  known = (await ok(t.admin.post('/api/v1/parties', { kind: 'person', name: 'Known Person', contactPoints: [{ kind: 'email', value: 'known@firm.example' }] }), 201)).id;
  await hire(t.admin, { name: 'Someone', unitId: sales });
  await ok(t.admin.post('/api/v1/hrm/onboarding/templates', { name: 'Engineering', unitId: engineering, items: [{ title: 'Laptop', owner: 'manager', dueDays: 2 }] }), 201);
});
afterAll(() => t?.close());

describe('hrm.employees importer', () => {
  it('imports people with employment, unit by name, position by title and manager by e-mail, and reports each bad row', async () => {
    const csv = [
      'name,email,unit,start,position,manager_email',
      'Lead Dev,lead@firm.example,engineering,2026-01-05,Engineer,boss@firm.example', //    2 ok: manager exists
      'Dev One,dev1@firm.example,Engineering,2026-01-06,,lead@firm.example', //             3 ok: manager in the file
      'Known Person,KNOWN@firm.example,Sales,2026-01-07,,', //                              4 ok: existing party
      'Nowhere,nowhere@firm.example,Marketing,2026-01-07,,', //                             5 unit
      'Twin,twin@firm.example,Twin,2026-01-07,,', //                                        6 unit (ambiguous)
      'Bad Date,bad@firm.example,Sales,soon,,', //                                          7 start
      'Ghost Boss,gb@firm.example,Sales,2026-01-07,,ghost@firm.example', //                 8 manager_email
      'Again,lead@firm.example,Sales,2026-01-07,,', //                                      9 email (repeated)
      'Boss Again,boss@firm.example,Sales,2026-01-07,,', //                                10 email (employed)
      'Cyc A,a@firm.example,Sales,2026-01-07,,b@firm.example', //                          11 cycle
      'Cyc B,b@firm.example,Sales,2026-01-07,,a@firm.example', //                          12 cycle
      'Orphan,orphan@firm.example,Sales,2026-01-07,,nowhere@firm.example', //              13 manager rejected above
      'Far Future,far@firm.example,Sales,9999-12-31,,', //                                 14 start (onboarding would pass 9999)
    ].join('\n');
    const result = await runImport(t.app, 'hrm.employees', Readable.from([csv]), { batchSize: 50 });
    expect(result).toMatchObject({ read: 13, imported: 3, rejected: 10, completed: true });
    expect(result.rejectedRows.map((r) => [r.line, r.errors.map((e) => e.column)]).sort((a: any, b: any) => a[0] - b[0])).toEqual([
      [5, ['unit']],
      [6, ['unit']],
      [7, ['start']],
      [8, ['manager_email']],
      [9, ['email']],
      [10, ['email']],
      [11, ['manager_email']],
      [12, ['manager_email']],
      [13, ['manager_email']],
      [14, ['start']],
    ]);
    const all = await ok(t.admin.get('/api/v1/hrm/employees?status=active&limit=100'));
    const byName = new Map(all.data.map((e: any) => [e.name, e]));
    const lead: any = byName.get('Lead Dev');
    const dev: any = byName.get('Dev One');
    expect(lead).toMatchObject({ managerId: boss, employment: { unitId: engineering, start: '2026-01-05T00:00:00.000Z', positionId: expect.any(String) } });
    expect(dev).toMatchObject({ managerId: lead.id, employment: { unitId: engineering, positionId: null } });
    expect(byName.get('Known Person')).toMatchObject({ id: known, employment: { unitId: sales } });
    expect((await ok(t.admin.get('/api/v1/parties?kind=person&limit=100'))).data.filter((p: any) => p.name === 'Known Person')).toHaveLength(1);
    // Onboarding follows the employment, as in a hire by the API.
    expect((await ok(t.admin.get(`/api/v1/hrm/employees/${dev.id}/onboarding`))).items.map((i: any) => [i.title, i.dueAt])).toEqual([['Laptop', '2026-01-08T00:00:00.000Z']]);
    // One event per record created.
    expect((await t.outbox({ name: 'hrm.employee.hired' })).filter((e) => [lead.id, dev.id, known].includes(e.payload.employee.id))).toHaveLength(3);
    expect((await t.outbox({ name: 'party.created' })).filter((e) => [lead.id, dev.id].includes(e.payload.party.id))).toHaveLength(2);
  });

  it('refuses an unknown column before reading any row', async () => {
    await expect(runImport(t.app, 'hrm.employees', Readable.from(['name,email,unit,start,salary\nX,x@firm.example,Sales,2026-01-01,1\n']))).rejects.toThrow(/salary/);
  });
});
