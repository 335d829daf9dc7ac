import { expect } from 'vitest';
import { createRapportClient } from '@rapport/client';
import { RecordFinder, listedIds, type RecordSource, type TestApp, type TestResponse } from '@rapport/testing';
import { seedDemoData } from '../src/seed/index.js';

/*
 * The firm the sweeps aim at: the full suite's demo data, plus one record of each kind the
 * demo does not make, so every route of the system has a record to name. Shared by the route
 * sweep and the generated bad-input suite.
 */

export const PASSWORD = 'route sweep password 1234';

/** Named records of the firm. */
export interface Firm {
  self: string;
  customer: string;
  partner: string;
  supplier: string;
  employee: string;
  /** A role of the firm's own (role routes are named by role). */
  role: string;
}

export async function body<T = any>(response: Promise<TestResponse>, status = 200): Promise<T> {
  const res = await response;
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
  return res.body as T;
}

/** Seeds the demo data and the extra records; `records` finds a record for every path parameter. */
export async function loadFirm(t: TestApp): Promise<{ firm: Firm; records: RecordFinder }> {
  await seedDemoData(createRapportClient({ baseUrl: t.baseUrl, apiKey: t.adminToken }));
  const known = new Map<string, string[]>();
  const firm = await extraRecords(t, known);
  // The firm's own party is everyone's counterpart: never the record aimed at.
  const records = new RecordFinder(t.admin, recordSources(t, firm), new Set([t.selfPartyId]));
  for (const [collection, ids] of known) records.set(collection, ids);
  return { firm, records };
}

/** Records the demo seed does not make, so that every route has something to aim at. */
/** `known`: ids of collections no list shows, by collection. */
async function extraRecords(t: TestApp, known: Map<string, string[]>): Promise<Firm> {
  const a = t.admin;
  const named = async (name: string) => (await body(a.get(`/api/v1/parties?q=${encodeURIComponent(name)}`))).data[0].id as string;
  const firm: Firm = {
    self: t.selfPartyId,
    customer: await named('Acme Foods'),
    partner: await named('Alpha Machinery Resellers'),
    supplier: await named('Steelworks Ltd'),
    employee: await named('Tom Berg'),
    role: 'sweep-secret-role',
  };
  const hours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
  const units = listedIds(await body(a.get('/api/v1/hrm/units?limit=200')));
  const pipelines = await body(a.get('/api/v1/crm/pipelines'));
  await body(a.post('/api/v1/roles', { name: firm.role, permissions: ['parties:read'] }), 201);
  await body(a.post('/api/v1/users', { email: 'firm.user@sweep.example', password: PASSWORD, roles: ['viewer'] }), 201);
  await body(a.post('/api/v1/crm/views', { resource: 'deals', name: 'Firm view', filters: { pipelineId: pipelines.data[0].id } }), 201);
  await body(a.post('/api/v1/crm/scoring/rules', { name: 'Sweep rule', points: 5, condition: { kind: 'attribute', key: 'crm.industry', equals: 'Food processing' } }), 201);
  const observation = await body(a.post('/api/v1/observations', { indicator: 'crm.lead-score', subjectId: firm.customer, value: 40 }), 201);
  known.set('/api/v1/observations', [observation.id]);
  // A webhook with a delivery: the dispatcher posts to a closed port and records the failure.
  const hook = await body(a.post('/api/v1/webhooks', { url: 'http://127.0.0.1:9/sweep', events: ['party.created'] }), 201);
  await body(a.post('/api/v1/parties', { kind: 'person', name: 'Delivered Person' }), 201);
  await until(async () => listedIds(await body(a.get(`/api/v1/webhooks/${hook.id}/deliveries`))).length > 0);
  await body(a.patch(`/api/v1/webhooks/${hook.id}`, { active: false }, { headers: { 'if-match': String(hook.version) } }), 200);
  // An import with a rejected row.
  const imported = await a.request('POST', '/api/v1/imports/parties', { rawBody: 'kind,name\nrobot,Marvin\nperson,Imported Person\n', headers: { 'content-type': 'text/csv' } });
  expect(imported.status, imported.text).toBe(202);
  await t.app.jobs.settled();
  // PRM: leads and an offer, a course and a certification, a plan with an item, documents.
  await body(a.post('/api/v1/prm/lead-rules', { name: 'Everyone', weight: 1 }), 201);
  await body(a.post('/api/v1/prm/leads', { customerName: 'Firm Lead' }), 201);
  const course = await body(a.post('/api/v1/prm/courses', { title: 'Basics' }), 201);
  const staff = (await body(a.post('/api/v1/parties', { kind: 'person', name: 'Alpha Staff' }), 201)).id;
  await body(a.post('/api/v1/relationships', { type: 'prm.staff', fromPartyId: staff, toPartyId: firm.partner }), 201);
  await body(a.post('/api/v1/prm/certifications', { courseId: course.id, personId: staff, partnerId: firm.partner }), 201);
  const plan = await body(a.post('/api/v1/prm/plans', { partnerId: firm.partner, title: 'Alpha plan', period: '2030' }), 201);
  await body(a.post(`/api/v1/prm/plans/${plan.id}/items`, { kind: 'goal', title: 'Alpha goal' }, { headers: { 'if-match': '1' } }), 201);
  await body(a.post('/api/v1/prm/documents', { title: 'Alpha terms', content: 'secret', contributorId: firm.partner }), 201);
  // HRM: positions, a review cycle with a goal and a review, an announcement, an opening with a candidate, onboarding, an exit interview.
  await body(a.post('/api/v1/hrm/positions', { title: 'Sweep position' }), 201);
  const levels = ['below', 'meets', 'exceeds'];
  const cycle = await body(
    a.post('/api/v1/hrm/review-cycles', {
      name: 'Sweep cycle',
      periodStart: '2030-01-01T00:00:00Z',
      periodEnd: '2030-06-30T00:00:00Z',
      competencies: ['delivery'],
      scale: { name: 'three-step', levels },
      formula: { goals: 0.5, competencies: 0.5, reviewers: { self: 0.2, manager: 0.5, peer: 0.3, upward: 0.5 }, goalCap: 1.2 },
    }),
    201,
  );
  const goal = await body(a.post(`/api/v1/hrm/review-cycles/${cycle.id}/goals`, { employeeId: firm.employee, title: 'Ship', weight: 1, target: 10 }), 201);
  known.set('/api/v1/hrm/goals', [goal.id]);
  await body(a.post('/api/v1/hrm/announcements', { title: 'Firm news', body: 'News', requiresAck: true }), 201);
  const opening = await body(a.post('/api/v1/hrm/openings', { title: 'Analyst', unitId: units[0] }), 201);
  await body(a.post(`/api/v1/hrm/openings/${opening.id}/candidates`, { person: { name: 'Cand Idate' } }), 201);
  await body(a.post('/api/v1/hrm/onboarding/templates', { name: 'Everyone', items: [{ title: 'Badge', owner: 'employee', dueDays: 1 }] }), 201);
  const newcomer = await body(a.post('/api/v1/hrm/employees', { person: { name: 'Nina Newcomer' }, unitId: units[0], start: hours(-24) }), 201);
  const leaver = await body(a.post('/api/v1/hrm/employees', { person: { name: 'Leo Leaver' }, unitId: units[0], start: '2024-01-01T00:00:00.000Z' }), 201);
  await body(a.post(`/api/v1/hrm/employees/${leaver.id}/exit-interviews`, { reasons: ['manager'], outcome: 'retained' }), 201);
  const onboarding = await body(a.get(`/api/v1/hrm/employees/${newcomer.id}/onboarding`));
  known.set(
    '/api/v1/hrm/onboarding/items',
    onboarding.items.map((i: { id: string }) => i.id),
  );
  // Kernel records: a custom field, an attachment, an automation rule (disabled: the sweep's own writes must not run it).
  await body(a.post('/api/v1/fields', { recordType: 'party', key: 'sweepNote', kind: 'text', label: 'Sweep note' }), 201);
  const attachment = await a.request('POST', `/api/v1/attachments?recordType=party&recordId=${firm.customer}`, {
    rawBody: 'firm secret file',
    headers: { 'content-type': 'text/plain', 'content-disposition': 'attachment; filename="terms.txt"' },
  });
  expect(attachment.status, attachment.text).toBe(201);
  known.set('/api/v1/attachments', [attachment.body.id]);
  await body(
    a.post('/api/v1/automation/rules', {
      name: 'Sweep rule',
      enabled: false,
      trigger: { event: 'party.created' },
      actions: [{ type: 'create-interaction', params: { interactionType: 'note', subject: 'sweep', partyIds: [firm.customer] } }],
    }),
    201,
  );
  // Rapport Link: an invitation (a link in state `invited`) for one of the firm's relationships.
  t.app.federation.setBaseUrl(t.baseUrl);
  const types = (await body(a.get('/api/v1/federation/schemas'))).data as Array<{ key: string; relationshipTypes: string[] }>;
  const type = types.find((d) => d.relationshipTypes.includes('prm.supplier'))!;
  const supply = (await body(a.get('/api/v1/relationships?type=prm.supplier&limit=200'))).data.find((r: { toPartyId: string }) => r.toPartyId === firm.self);
  await body(a.post('/api/v1/federation/invitations', { relationshipId: supply.id, localRole: 'buyer', documentTypes: [type.key] }), 201);
  return firm;
}

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Where the records a path parameter names are listed, when that is not the path up to the
 * parameter itself (`collection` or `collection:param`, koa syntax), as a list path or as the
 * ids themselves.
 */
function recordSources(t: TestApp, firm: Firm): Record<string, RecordSource> {
  const employees = async () => listedIds(await body(t.admin.get('/api/v1/hrm/employees?limit=200')));
  return {
    '/api/v1/indicators': async () => (await body(t.admin.get('/api/v1/meta/indicators'))).data.map((i: { key: string }) => i.key),
    '/api/v1/plugins': async () => ['crm'],
    '/api/v1/roles': async () => [firm.role],
    '/api/v1/imports:importer': async () => ['parties'],
    '/api/v1/imports:id': '/api/v1/jobs',
    '/api/v1/crm/relationships': '/api/v1/relationships',
    '/api/v1/crm/scoring/parties': '/api/v1/parties',
    '/api/v1/prm/partners': async () => (await body(t.admin.get('/api/v1/relationships?type=prm.partner&limit=200'))).data.map((r: { toPartyId: string }) => r.toPartyId),
    '/api/v1/prm/suppliers': async () => (await body(t.admin.get('/api/v1/relationships?type=prm.supplier&limit=200'))).data.map((r: { fromPartyId: string }) => r.fromPartyId),
    '/api/v1/prm/plans/:id/items': async (filled) => (await body(t.admin.get(`/api/v1/prm/plans/${filled.id}`))).items.map((i: { id: string }) => i.id),
    '/api/v1/hrm/engagement/units': '/api/v1/hrm/units',
    '/api/v1/hrm/engagement/managers': async () => [firm.employee, ...(await employees())],
    '/api/v1/hrm/review-cycles/:id/scores': async () => employees(),
    '/api/v1/hrm/review-cycles/:id/feedback': async () => employees(),
    '/api/v1/fields:recordType': async () => ['party'],
    '/api/v1/fields/:recordType': async (filled) => (await body(t.admin.get(`/api/v1/fields?recordType=${encodeURIComponent(filled.recordType)}&limit=200`))).data.map((f: { key: string }) => f.key),
    // The signed endpoints other systems call name the firm's links.
    '/api/v1/federation/peer/invitations': '/api/v1/federation/links',
    '/api/v1/federation/peer/links': '/api/v1/federation/links',
    '/api/v1/hrm/applications': '/api/v1/hrm/candidates',
    '/api/v1/hrm/candidates': async () => (await body(t.admin.get('/api/v1/hrm/candidates?limit=200'))).data.map((c: { candidateId: string }) => c.candidateId),
  };
}
