import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import crm from '../src/index.js';

/*
 * The issue's must-show: a sales rep with "own records only" gets 404 for another rep's
 * deals on EVERY CRM route. The routes are read from the plugin's router, so a route added
 * later fails this test until it is classified below (and thereby checked).
 */
let t: TestApp;
let rita: TestClient;
let ritaParty: string;
let sam: string;
let pipelineId: string;
let wonStageId: string;
let samDeal: string;
let samTask: string;
let ritaDeal: string;
let secretAccount: string;

/** Anything that would betray Sam's records in a response. */
const MARKERS = () => [samDeal, samTask, 'SECRET-SAM', 'JPY', '777777'];

type Request = { query?: string; body?: unknown };
/**
 * Every CRM route, by `METHOD path`. `id`: called with Sam's deal id (and Sam's task id)
 * as `:id`, must be 404. `read`: called (with filters aimed at Sam's records where the route
 * has them), must succeed without a trace of Sam's records. `write`: a body that refers to
 * Sam's deal must be 404; `none` for a write that cannot name a deal (why is given).
 */
const ROUTES: Record<string, { kind: 'id'; request?: Request } | { kind: 'read'; request?: Request } | { kind: 'write'; request: Request } | { kind: 'none'; why: string }> = {
  'GET /pipelines': { kind: 'read' },
  'POST /pipelines': { kind: 'none', why: 'a pipeline holds no deal' },
  'GET /pipelines/:id': { kind: 'id' },
  'GET /deals': { kind: 'read', request: { query: `ownerPartyId=${'SAM'}&accountId=${'ACCOUNT'}` } },
  'POST /deals': { kind: 'none', why: 'opens a new deal; cannot name an existing one' },
  'GET /deals/:id': { kind: 'id' },
  'PATCH /deals/:id': { kind: 'id', request: { body: { title: 'Mine now' } } },
  'POST /deals/:id/move': { kind: 'id', request: { body: { stageId: 'WON' } } },
  'GET /deals/:id/history': { kind: 'id' },
  'GET /customers': { kind: 'read' },
  'GET /vendors': { kind: 'read' },
  'POST /vendors/:id/interactions': { kind: 'id', request: { body: { type: 'crm.purchase', subject: 'x' } } },
  'GET /relationships/:id/other-side': { kind: 'id' },
  'POST /activities': { kind: 'none', why: 'an activity names parties, not deals' },
  'GET /activities': { kind: 'read', request: { query: 'accountId=ACCOUNT' } },
  'GET /reports/pipeline': { kind: 'read', request: { query: 'pipelineId=PIPELINE' } },
  'GET /reports/conversion': { kind: 'read', request: { query: 'pipelineId=PIPELINE' } },
  'GET /reports/win-rate': { kind: 'read', request: { query: 'ownerPartyId=SAM' } },
  'GET /reports/forecast': { kind: 'read', request: { query: 'ownerPartyId=SAM' } },
  'GET /reports/activities': { kind: 'read' },
  'GET /tasks': { kind: 'read', request: { query: 'assigneePartyId=SAM' } },
  'GET /tasks/overdue': { kind: 'read', request: { query: 'assigneePartyId=SAM' } },
  'POST /tasks': { kind: 'write', request: { body: { title: 'Follow up', dueAt: '2030-01-01T00:00:00Z', dealId: 'DEAL' } } },
  'GET /tasks/:id': { kind: 'id' },
  'PATCH /tasks/:id': { kind: 'id', request: { body: { done: true } } },
  'GET /scoring/rules': { kind: 'read' },
  'POST /scoring/rules': { kind: 'none', why: 'a rule is about parties, not deals' },
  'DELETE /scoring/rules/:id': { kind: 'id' },
  'POST /scoring/parties/:id/recompute': { kind: 'id' },
  'GET /views': { kind: 'read' },
  'POST /views': { kind: 'none', why: 'a view stores filters; applying them goes through GET /deals (checked above with the same filters)' },
  'DELETE /views/:id': { kind: 'id' },
  'GET /exports/deals': { kind: 'read', request: { query: 'ownerPartyId=SAM' } },
  'GET /exports/accounts': { kind: 'read' },
  'GET /exports/contacts': { kind: 'read' },
};

const fill = (text: string) => text.replaceAll('SAM', sam).replaceAll('ACCOUNT', secretAccount).replaceAll('PIPELINE', pipelineId).replaceAll('WON', wonStageId).replaceAll('DEAL', samDeal);
const fillBody = (body: unknown) => (body === undefined ? undefined : JSON.parse(fill(JSON.stringify(body))));

function send(client: TestClient, method: string, path: string, request: Request = {}) {
  const url = `${path}${request.query ? `?${fill(request.query)}` : ''}`;
  const body = fillBody(request.body);
  const headers = { 'if-match': '"1"' };
  switch (method) {
    case 'get':
      return client.get(url);
    case 'delete':
      return client.delete(url);
    case 'post':
      return client.post(url, body ?? {}, { headers });
    case 'patch':
      return client.patch(url, body ?? {}, { headers });
    default:
      throw new Error(`no sender for ${method}`);
  }
}

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm] });
  const party = async (kind: string, name: string) => (await t.admin.post('/api/v1/parties', { kind, name })).body.id as string;
  ritaParty = await party('person', 'Rita Rep');
  sam = await party('person', 'Sam Rep');
  secretAccount = await party('organization', 'Sams Account');
  const ritaAccount = await party('organization', 'Ritas Account');
  // Everything a rep may do, without any `:all` permission.
  const permissions = [
    'crm.deals:read',
    'crm.deals:write',
    'crm.pipelines:read',
    'crm.accounts:read',
    'crm.activities:read',
    'crm.activities:write',
    'crm.tasks:read',
    'crm.tasks:write',
    'crm.reports:read',
    'crm.scoring:read',
    'crm.scoring:write',
    'parties:read',
    'interactions:read',
    'relationships:read',
  ];
  expect((await t.admin.post('/api/v1/roles', { name: 'sales-rep', permissions })).status).toBe(201);
  rita = await t.clientFor({ roles: ['sales-rep'], partyId: ritaParty });

  const pipeline = (await t.admin.post('/api/v1/crm/pipelines', { name: 'Sales', stages: [{ name: 'Qualify' }, { name: 'Won', outcome: 'won' }, { name: 'Lost', outcome: 'lost' }] })).body;
  pipelineId = pipeline.id;
  wonStageId = pipeline.stages[1].id;
  const deal = (title: string, owner: string, accountId: string, currency: string, amount: number) =>
    t.admin.post('/api/v1/crm/deals', { title, pipelineId, amount, currency, accountId, ownerPartyId: owner, expectedClose: '2027-06-30' });
  samDeal = (await deal('SECRET-SAM deal', sam, secretAccount, 'JPY', 777777)).body.id;
  ritaDeal = (await deal('Rita deal', ritaParty, ritaAccount, 'EUR', 1200)).body.id;
  const lost = (await deal('SECRET-SAM lost', sam, secretAccount, 'JPY', 777777)).body.id;
  expect((await t.admin.post(`/api/v1/crm/deals/${lost}/move`, { stageId: pipeline.stages[2].id })).status).toBe(200);
  samTask = (await t.admin.post('/api/v1/crm/tasks', { title: 'SECRET-SAM task', dueAt: '2020-01-01T00:00:00Z', assigneePartyId: sam, dealId: samDeal })).body.id;
  expect((await t.admin.post('/api/v1/crm/activities', { type: 'crm.call', ownerPartyId: sam, accountId: secretAccount, subject: 'SECRET-SAM call' })).status).toBe(201);
  expect((await rita.post('/api/v1/crm/activities', { type: 'crm.call', accountId: ritaAccount, subject: 'Rita call' })).status).toBe(201);
  expect((await rita.post('/api/v1/crm/tasks', { title: 'Rita task', dueAt: '2020-01-01T00:00:00Z', dealId: ritaDeal })).status).toBe(201);
  for (const id of [secretAccount, ritaAccount])
    expect((await t.admin.post('/api/v1/relationships', { type: 'crm.customer', fromPartyId: t.selfPartyId, toPartyId: id, status: 'customer' })).status).toBe(201);
});

afterAll(() => t?.close());

describe('a sales rep with own records only', () => {
  it('meets every CRM route classified here, and only those', () => {
    const routes = t.app.plugins.routers.get('crm')!.routes.map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(routes.sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it("gets 404 for another rep's deal on every CRM route, and never sees a trace of it", async () => {
    const failures: string[] = [];
    for (const route of t.app.plugins.routers.get('crm')!.routes) {
      const key = `${route.method.toUpperCase()} ${route.path}`;
      const plan = ROUTES[key];
      if (plan.kind === 'none') continue;
      if (plan.kind === 'id') {
        for (const id of [samDeal, samTask]) {
          const res = await send(rita, route.method, route.fullPath.replace(':id', id), plan.request);
          if (res.status !== 404) failures.push(`${key} with ${id === samDeal ? "Sam's deal" : "Sam's task"}: ${res.status} ${res.text.slice(0, 200)}`);
        }
      } else if (plan.kind === 'write') {
        const res = await send(rita, route.method, route.fullPath, plan.request);
        if (res.status !== 404) failures.push(`${key} naming Sam's deal: ${res.status} ${res.text.slice(0, 200)}`);
      } else {
        const res = await send(rita, route.method, route.fullPath, plan.request);
        if (res.status !== 200) failures.push(`${key}: ${res.status} ${res.text.slice(0, 200)}`);
        const leaked = MARKERS().filter((marker) => res.text.includes(marker));
        if (leaked.length) failures.push(`${key} shows ${leaked.join(', ')}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('still sees its own records on the same routes (the check above is not vacuous)', async () => {
    expect((await rita.get('/api/v1/crm/deals')).body.data.map((d: any) => d.id)).toEqual([ritaDeal]);
    const csv = (await rita.get('/api/v1/crm/exports/deals')).text;
    expect(csv).toContain(ritaDeal);
    const pipeline = (await rita.get(`/api/v1/crm/reports/pipeline?pipelineId=${pipelineId}`)).body;
    expect(pipeline.stages[0].byCurrency).toEqual([{ currency: 'EUR', count: 1, amount: 1200, weightedAmount: 120 }]);
    expect((await rita.get('/api/v1/crm/activities')).body.data.map((a: any) => a.subject)).toEqual(['Rita call']);
    expect((await rita.get('/api/v1/crm/tasks/overdue')).body.data.map((x: any) => x.title)).toEqual(['Rita task']);
    expect((await rita.get('/api/v1/crm/reports/activities')).body.data).toEqual([{ ownerPartyId: ritaParty, total: 1, byType: { 'crm.call': 1, 'crm.email': 0, 'crm.meeting': 0, 'crm.note': 0 } }]);
    // The admin, for contrast, sees Sam's deal in the same export.
    expect((await t.admin.get('/api/v1/crm/exports/deals')).text).toContain(samDeal);
  });
});
