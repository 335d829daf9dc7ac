import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import crm, { type Deal, type Pipeline } from '../src/index.js';

let t: TestApp;
let pipeline: Pipeline;
let account: string;
let contact: string;
let repA: string;
let repB: string;
let clientA: TestClient;
let clientB: TestClient;

const party = async (kind: string, name: string) => {
  const res = await t.admin.post('/api/v1/parties', { kind, name });
  expect(res.status).toBe(201);
  return res.body.id as string;
};
const stage = (name: string) => pipeline.stages.find((s) => s.name === name)!.id;

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm] });
  account = await party('organization', 'Acme Ltd');
  contact = await party('person', 'Ann Buyer');
  repA = await party('person', 'Rita Rep');
  repB = await party('person', 'Sam Rep');
  const role = await t.admin.post('/api/v1/roles', {
    name: 'sales-rep',
    permissions: ['crm.deals:read', 'crm.deals:write', 'crm.pipelines:read', 'crm.tasks:read', 'crm.tasks:write', 'parties:read', 'interactions:read'],
  });
  expect(role.status).toBe(201);
  clientA = await t.clientFor({ roles: ['sales-rep'], partyId: repA });
  clientB = await t.clientFor({ roles: ['sales-rep'], partyId: repB });
  const res = await t.admin.post('/api/v1/crm/pipelines', {
    name: 'New business',
    stages: [
      { name: 'Qualify', probability: 10 },
      { name: 'Propose', probability: 50 },
      { name: 'Negotiate', probability: 80 },
      { name: 'Won', outcome: 'won' },
      { name: 'Lost', outcome: 'lost' },
    ],
  });
  expect(res.status).toBe(201);
  pipeline = res.body;
});

afterAll(() => t?.close());

describe('core + CRM alone', () => {
  it('boots and shows its types, attributes and permissions in /api/v1/meta', async () => {
    const types = await t.admin.get('/api/v1/meta/relationship-types');
    const customer = types.body.data.find((x: any) => x.key === 'crm.customer');
    expect(customer).toMatchObject({ owner: 'crm', fromRole: 'vendor', toRole: 'customer', statuses: ['lead', 'prospect', 'customer', 'former-customer'], activeStatuses: ['customer'] });
    expect(types.body.data.find((x: any) => x.key === 'crm.contact')).toMatchObject({ fromRole: 'contact', toRole: 'organization', fromKinds: ['person'], toKinds: ['organization'] });
    const interactions = (await t.admin.get('/api/v1/meta/interaction-types')).body.data.map((x: any) => x.key);
    for (const key of ['crm.call', 'crm.email', 'crm.meeting', 'crm.note', 'crm.offer-received', 'crm.quote-received', 'crm.purchase', 'crm.complaint', 'crm.deal-update']) {
      expect(interactions).toContain(key);
    }
    const attributes = (await t.admin.get('/api/v1/meta/party-attributes')).body.data.map((x: any) => x.key);
    expect(attributes).toEqual(expect.arrayContaining(['crm.industry', 'crm.size', 'crm.source', 'crm.owner']));
    const permissions = (await t.admin.get('/api/v1/meta/permissions')).body.data.map((x: any) => x.key);
    expect(permissions).toEqual(expect.arrayContaining(['crm.deals:read', 'crm.deals:write', 'crm.accounts:read', 'crm.activities:write', 'crm.reports:read']));
    const plugins = await t.admin.get('/api/v1/plugins');
    expect(plugins.body.data.map((p: any) => p.name)).toEqual(['crm']);
  });

  it('validates the CRM party attributes', async () => {
    const ok = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Globex', attributes: { 'crm.industry': 'Energy', 'crm.size': '51-200', 'crm.source': 'fair' } });
    expect(ok.status).toBe(201);
    const bad = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Initech', attributes: { 'crm.size': 'huge' } });
    expect(bad.status).toBe(400);
  });

  it('converts a lead into a customer and a former customer as changes of ONE relationship', async () => {
    const created = await t.admin.post('/api/v1/relationships', { type: 'crm.customer', fromPartyId: t.selfPartyId, toPartyId: account });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'lead', fromRole: 'vendor', toRole: 'customer' });
    const id = created.body.id;
    let version = created.body.version;
    for (const status of ['prospect', 'customer', 'former-customer']) {
      const res = await t.admin.patch(`/api/v1/relationships/${id}`, { status }, { headers: { 'if-match': `"${version}"` } });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, status });
      version = res.body.version;
    }
    // former-customer → lead is not a transition of the lifecycle.
    const refused = await t.admin.patch(`/api/v1/relationships/${id}`, { status: 'lead' }, { headers: { 'if-match': `"${version}"` } });
    expect(refused.status).toBe(400);
    const all = await t.admin.get(`/api/v1/relationships?type=crm.customer&partyId=${account}`);
    expect(all.body.data).toHaveLength(1);
  });

  it('links a person to organizations as a contact with a job title', async () => {
    const res = await t.admin.post('/api/v1/relationships', { type: 'crm.contact', fromPartyId: contact, toPartyId: account, attributes: { jobTitle: 'Head of purchasing' } });
    expect(res.status).toBe(201);
    expect(res.body.attributes).toEqual({ jobTitle: 'Head of purchasing' });
    const wrongKind = await t.admin.post('/api/v1/relationships', { type: 'crm.contact', fromPartyId: account, toPartyId: contact });
    expect(wrongKind.status).toBe(400);
  });
});

let openedDeal: Deal;
const deal = () => openedDeal;

describe('pipelines and deals', () => {
  let deal: Deal;

  it('keeps stages in order with their probability and outcome', async () => {
    const res = await t.admin.get(`/api/v1/crm/pipelines/${pipeline.id}`);
    expect(res.body.stages.map((s: any) => [s.name, s.position, s.probability, s.outcome])).toEqual([
      ['Qualify', 0, 10, 'open'],
      ['Propose', 1, 50, 'open'],
      ['Negotiate', 2, 80, 'open'],
      ['Won', 3, 100, 'won'],
      ['Lost', 4, 0, 'lost'],
    ]);
    const noOpen = await t.admin.post('/api/v1/crm/pipelines', { name: 'Broken', stages: [{ name: 'Won', outcome: 'won' }] });
    expect(noOpen.status).toBe(400);
  });

  it('opens a deal in the first open stage and puts it on the account timeline', async () => {
    const events = t.recordEvents('crm.deal.*');
    const res = await clientA.post('/api/v1/crm/deals', {
      title: 'Acme rollout',
      pipelineId: pipeline.id,
      amount: 12000.5,
      currency: 'EUR',
      expectedClose: '2027-03-31',
      accountId: account,
      contactIds: [contact],
    });
    expect(res.status).toBe(201);
    deal = res.body;
    openedDeal = deal;
    expect(deal).toMatchObject({
      stageId: stage('Qualify'),
      status: 'open',
      amount: 12000.5,
      currency: 'EUR',
      expectedClose: '2027-03-31',
      ownerPartyId: repA,
      accountId: account,
      contactIds: [contact],
      version: 1,
    });
    await t.app.settled();
    expect(events.map((e) => e.name)).toEqual(['crm.deal.created']);
  });

  it('refuses bad deal input with 400 and writes nothing', async () => {
    const before = (await t.admin.get('/api/v1/crm/deals?limit=200')).body.data.length;
    const bad = [
      { title: 'x', pipelineId: pipeline.id, amount: -1, currency: 'EUR', accountId: account },
      { title: 'x', pipelineId: pipeline.id, amount: 1.234, currency: 'EUR', accountId: account },
      { title: 'x', pipelineId: pipeline.id, amount: 1, currency: 'euro', accountId: account },
      { title: 'x', pipelineId: pipeline.id, amount: 1, currency: 'EUR', accountId: crypto.randomUUID() },
      { title: 'x', pipelineId: crypto.randomUUID(), amount: 1, currency: 'EUR', accountId: account },
      { title: 'x', pipelineId: pipeline.id, amount: 1, currency: 'EUR', accountId: account, contactIds: [account] },
      { title: 'x', pipelineId: pipeline.id, amount: 1, currency: 'EUR', accountId: account, unknown: 1 },
      // Past numeric(18,2), and a year PostgreSQL does not have: 400, not the database's 500.
      { title: 'x', pipelineId: pipeline.id, amount: 10_000_000_000_000_000, currency: 'EUR', accountId: account },
      { title: 'x', pipelineId: pipeline.id, amount: 1, currency: 'EUR', accountId: account, expectedClose: '0000-01-01' },
    ];
    for (const body of bad) expect((await t.admin.post('/api/v1/crm/deals', body)).status).toBe(400);
    // A rep may not create a deal owned by someone else (it could not see it).
    expect((await clientA.post('/api/v1/crm/deals', { title: 'x', pipelineId: pipeline.id, amount: 1, currency: 'EUR', accountId: account, ownerPartyId: repB })).status).toBe(400);
    expect((await t.admin.get('/api/v1/crm/deals?limit=200')).body.data.length).toBe(before);
  });

  it('moves a deal, closes it as won, keeps the stage history and tells the timeline', async () => {
    const events = t.recordEvents('crm.deal.*');
    const moved = await clientA.post(`/api/v1/crm/deals/${deal.id}/move`, { stageId: stage('Propose') });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ stageId: stage('Propose'), status: 'open', version: 2 });
    const stale = await clientA.post(`/api/v1/crm/deals/${deal.id}/move`, { stageId: stage('Won') }, { headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    const otherPipeline = await t.admin.post('/api/v1/crm/pipelines', { name: 'Renewals', stages: [{ name: 'Open' }] });
    expect((await clientA.post(`/api/v1/crm/deals/${deal.id}/move`, { stageId: otherPipeline.body.stages[0].id })).status).toBe(400);
    const won = await clientA.post(`/api/v1/crm/deals/${deal.id}/move`, { stageId: stage('Won') });
    expect(won.body).toMatchObject({ status: 'won', version: 3 });
    expect(won.body.closedAt).not.toBeNull();
    await t.app.settled();
    expect(events.map((e) => e.name)).toEqual(['crm.deal.stage-changed', 'crm.deal.stage-changed', 'crm.deal.won']);
    expect(events[0].payload).toMatchObject({ fromStageId: stage('Qualify'), toStageId: stage('Propose') });
    const outbox = await t.outbox({ name: 'crm.deal.won' });
    expect(outbox.map((e) => e.payload.deal.id)).toContain(deal.id);

    const history = await clientA.get(`/api/v1/crm/deals/${deal.id}/history`);
    expect(history.body.data.map((h: any) => [h.fromStageId, h.toStageId])).toEqual([
      [null, stage('Qualify')],
      [stage('Qualify'), stage('Propose')],
      [stage('Propose'), stage('Won')],
    ]);
    expect(history.body.data[1].changedByPartyId).toBe(repA);

    const timeline = await t.admin.get(`/api/v1/parties/${account}/timeline?type=crm.deal-update`);
    const changes = timeline.body.data.filter((i: any) => i.attributes.dealId === deal.id).map((i: any) => i.attributes.change);
    expect(changes).toEqual(['won', 'stage-changed', 'created']);
  });

  it('changes a deal with If-Match', async () => {
    expect((await clientA.patch(`/api/v1/crm/deals/${deal.id}`, { amount: 15000 })).status).toBe(428);
    const res = await clientA.patch(`/api/v1/crm/deals/${deal.id}`, { amount: 15000, contactIds: [] }, { headers: { 'if-match': '"3"' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ amount: 15000, contactIds: [], version: 4 });
  });

  it("shows a sales rep only its own deals: 404 for another rep's deal on every CRM route", async () => {
    const own = await clientB.post('/api/v1/crm/deals', { title: 'Sam deal', pipelineId: pipeline.id, amount: 100, currency: 'USD', accountId: account });
    expect(own.status).toBe(201);
    const foreign = deal.id;
    const checks = [
      await clientB.get(`/api/v1/crm/deals/${foreign}`),
      await clientB.get(`/api/v1/crm/deals/${foreign}/history`),
      await clientB.patch(`/api/v1/crm/deals/${foreign}`, { title: 'mine now' }, { headers: { 'if-match': '"4"' } }),
      await clientB.post(`/api/v1/crm/deals/${foreign}/move`, { stageId: stage('Lost') }),
    ];
    expect(checks.map((c) => c.status)).toEqual([404, 404, 404, 404]);
    expect(checks[0].headers.get('content-type')).toContain('application/problem+json');
    const listB = await clientB.get('/api/v1/crm/deals');
    expect(listB.body.data.map((d: Deal) => d.id)).toEqual([own.body.id]);
    const filtered = await clientB.get(`/api/v1/crm/deals?ownerPartyId=${repA}`);
    expect(filtered.body.data).toEqual([]);
    // An admin (crm.deals:all) sees both; the foreign deal was not changed.
    const all = await t.admin.get('/api/v1/crm/deals');
    expect(all.body.data.map((d: Deal) => d.id).sort()).toEqual([foreign, own.body.id].sort());
    expect((await t.admin.get(`/api/v1/crm/deals/${foreign}`)).body.title).toBe('Acme rollout');
    // A key with the role but no linked party sees no deal at all.
    const unlinked = await t.clientFor({ roles: ['sales-rep'] });
    expect((await unlinked.get('/api/v1/crm/deals')).body.data).toEqual([]);
  });

  it('pages deals with a keyset cursor', async () => {
    const first = await t.admin.get('/api/v1/crm/deals?limit=1');
    expect(first.body.data).toHaveLength(1);
    const second = await t.admin.get(`/api/v1/crm/deals?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    expect(second.body.data[0].id).not.toBe(first.body.data[0].id);
    expect((await t.admin.get('/api/v1/crm/deals?cursor=garbage')).status).toBe(400);
  });
});

describe('tasks', () => {
  const hours = (n: number) => new Date(Date.now() + n * 3_600_000).toISOString();

  it("keeps due date, assignee and done state, lists the overdue ones, and hides other reps' tasks", async () => {
    const events = t.recordEvents('crm.task.*');
    const a1 = await clientA.post('/api/v1/crm/tasks', { title: 'Call Ann back', dueAt: hours(-24), accountId: account });
    expect(a1.status).toBe(201);
    expect(a1.body).toMatchObject({ assigneePartyId: repA, accountId: account, done: false, doneAt: null, version: 1 });
    const a2 = await clientA.post('/api/v1/crm/tasks', { title: 'Send proposal', dueAt: hours(24) });
    const b1 = await t.admin.post('/api/v1/crm/tasks', { title: 'Chase invoice', dueAt: hours(-48), assigneePartyId: repB });
    expect(b1.status).toBe(201);
    // Bad input: no due date, a deal out of reach, another assignee for a rep.
    expect((await clientA.post('/api/v1/crm/tasks', { title: 'x' })).status).toBe(400);
    expect((await clientB.post('/api/v1/crm/tasks', { title: 'x', dueAt: hours(1), dealId: deal().id })).status).toBe(404);
    expect((await clientA.post('/api/v1/crm/tasks', { title: 'x', dueAt: hours(1), assigneePartyId: repB })).status).toBe(400);

    const overdue = await t.admin.get('/api/v1/crm/tasks/overdue');
    expect(overdue.body.data.map((x: any) => x.id)).toEqual([b1.body.id, a1.body.id]);
    const page1 = await t.admin.get('/api/v1/crm/tasks/overdue?limit=1');
    const page2 = await t.admin.get(`/api/v1/crm/tasks/overdue?limit=1&cursor=${page1.body.nextCursor}`);
    expect([...page1.body.data, ...page2.body.data].map((x: any) => x.id)).toEqual([b1.body.id, a1.body.id]);
    expect((await clientA.get('/api/v1/crm/tasks/overdue')).body.data.map((x: any) => x.id)).toEqual([a1.body.id]);
    expect((await clientA.get('/api/v1/crm/tasks?done=false')).body.data.map((x: any) => x.id).sort()).toEqual([a1.body.id, a2.body.id].sort());

    expect((await clientB.get(`/api/v1/crm/tasks/${a1.body.id}`)).status).toBe(404);
    expect((await clientB.patch(`/api/v1/crm/tasks/${a1.body.id}`, { done: true }, { headers: { 'if-match': '"1"' } })).status).toBe(404);

    const done = await clientA.patch(`/api/v1/crm/tasks/${a1.body.id}`, { done: true }, { headers: { 'if-match': '"1"' } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ done: true, version: 2 });
    expect(done.body.doneAt).not.toBeNull();
    expect((await clientA.get('/api/v1/crm/tasks/overdue')).body.data).toEqual([]);
    expect((await clientA.get('/api/v1/crm/tasks?done=true')).body.data.map((x: any) => x.id)).toEqual([a1.body.id]);
    await t.app.settled();
    expect(events.map((e) => e.name)).toEqual(['crm.task.created', 'crm.task.created', 'crm.task.created', 'crm.task.completed']);
  });
});

describe('saved views', () => {
  it('keeps named filters per user, validated per list; another user gets 404', async () => {
    const saved = await clientA.post('/api/v1/crm/views', { resource: 'deals', name: 'My open EUR', filters: { status: 'open', pipelineId: pipeline.id } });
    expect(saved.status).toBe(201);
    expect(saved.body).toMatchObject({ resource: 'deals', name: 'My open EUR', filters: { status: 'open', pipelineId: pipeline.id } });
    expect((await clientA.post('/api/v1/crm/views', { resource: 'deals', name: 'My open EUR', filters: {} })).status).toBe(409);
    expect((await clientA.post('/api/v1/crm/views', { resource: 'deals', name: 'x', filters: { colour: 'red' } })).status).toBe(400);
    expect((await clientA.post('/api/v1/crm/views', { resource: 'deals', name: 'x', filters: { status: 'maybe' } })).status).toBe(400);
    // The sales-rep role has no crm.accounts:read.
    expect((await clientA.post('/api/v1/crm/views', { resource: 'customers', name: 'Leads', filters: { status: 'lead' } })).status).toBe(403);
    expect((await t.admin.post('/api/v1/crm/views', { resource: 'customers', name: 'Leads', filters: { status: 'lead' } })).status).toBe(201);

    expect((await clientA.get('/api/v1/crm/views')).body.data.map((v: any) => v.name)).toEqual(['My open EUR']);
    expect((await clientB.get('/api/v1/crm/views')).body.data).toEqual([]);
    expect((await t.admin.get('/api/v1/crm/views?resource=customers')).body.data.map((v: any) => v.name)).toEqual(['Leads']);
    expect((await clientB.delete(`/api/v1/crm/views/${saved.body.id}`)).status).toBe(404);
    expect((await clientA.delete(`/api/v1/crm/views/${saved.body.id}`)).status).toBe(204);
    expect((await clientA.get('/api/v1/crm/views')).body.data).toEqual([]);
  });
});

describe('routes', () => {
  it('are all in the OpenAPI document and deny without a token or a permission', async () => {
    const doc = (await t.anonymous.get('/api/v1/openapi.json')).body;
    const crmRoutes = t.app.http.routes().filter((r) => r.owner === 'crm');
    expect(crmRoutes.length).toBeGreaterThanOrEqual(16);
    const nobody = await t.clientFor({ roles: ['viewer'] });
    for (const route of crmRoutes) {
      const path = route.fullPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      expect(doc.paths[path]?.[route.method], `${route.method} ${path}`).toBeDefined();
      expect(route.permission).toMatch(/^crm\.|^authenticated$/);
      const url = route.fullPath.replace(/:[A-Za-z0-9_]+/g, crypto.randomUUID());
      expect((await t.anonymous.request(route.method.toUpperCase(), url)).status, url).toBe(401);
      // Saved views are personal (any principal, its own views only); everything else needs a crm permission.
      if (route.permission === 'authenticated') continue;
      expect((await nobody.request(route.method.toUpperCase(), url, route.method === 'get' ? {} : { body: {} })).status, url).toBe(403);
    }
  });
});
