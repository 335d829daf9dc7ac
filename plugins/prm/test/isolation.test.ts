import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, routeKeys, type TestApp, type TestClient } from '@rapport/testing';
import prm from '../src/index.js';
import { ok, organization, person } from './helpers.js';

/**
 * The must-show: partner A cannot list, read or change anything belonging to partner B.
 * Every PRM route is walked with A's credentials and B's ids; the route table is read from
 * the running system, so a route added later fails this test until it is walked here.
 */
let t: TestApp;
let a: { id: string; rel: string; client: TestClient };
let b: { id: string; rel: string; client: TestClient };
const ids: Record<string, string> = {};
const future = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();

async function partner(name: string, program: string, territory: string) {
  const id = await organization(t, name);
  const rel = await ok(
    t.admin.post('/api/v1/relationships', {
      type: 'prm.partner',
      fromPartyId: t.selfPartyId,
      toPartyId: id,
      status: 'active',
      attributes: { kind: 'reseller', program, tier: 'silver', territories: [territory] },
    }),
    201,
  );
  // B is also a supplier of the firm, so the buy-side routes are walked with B's ids too.
  return { id, rel: rel.id as string, client: await t.clientFor({ roles: ['admin'], scopePartyId: id }) };
}

beforeAll(async () => {
  t = await createTestApp({ plugins: [prm] });
  a = await partner('Partner A', 'Resell', 'north');
  b = await partner('Partner B', 'Distribute', 'south');
  await ok(t.admin.post('/api/v1/relationships', { type: 'prm.supplier', fromPartyId: b.id, toPartyId: t.selfPartyId, status: 'approved' }), 201);
  await ok(t.admin.post('/api/v1/prm/programs', { name: 'Resell', tiers: [{ name: 'silver', criteria: {} }] }), 201);
  ids.program = (await ok(t.admin.post('/api/v1/prm/programs', { name: 'Distribute', tiers: [{ name: 'silver', criteria: {} }] }), 201)).id;

  // Everything B has, one of each.
  ids.registration = (await ok(b.client.post('/api/v1/prm/registrations', { partnerId: b.id, customerName: 'B Customer', value: 1, currency: 'EUR', expectedCloseDate: '2027-01-31' }), 201)).id;
  ids.budget = (await ok(t.admin.post('/api/v1/prm/mdf/budgets', { program: 'Distribute', period: '2027', currency: 'EUR', amount: 1000 }), 201)).id;
  ids.mdf = (await ok(b.client.post('/api/v1/prm/mdf/requests', { budgetId: ids.budget, partnerId: b.id, activity: 'B event', amount: 100 }), 201)).id;
  ids.rule = (await ok(t.admin.post('/api/v1/prm/lead-rules', { name: 'South', territory: 'south', weight: 1 }), 201)).id;
  const lead = await ok(t.admin.post('/api/v1/prm/leads', { customerName: 'B Lead', territory: 'south' }), 201);
  ids.lead = lead.id;
  ids.offer = lead.offers[0].id;
  expect(lead.offers[0].partnerId).toBe(b.id);
  const course = await ok(t.admin.post('/api/v1/prm/courses', { title: 'Basics' }), 201);
  ids.course = course.id;
  const staff = await person(t, 'B Staff');
  ids.staff = staff;
  await ok(t.admin.post('/api/v1/relationships', { type: 'prm.staff', fromPartyId: staff, toPartyId: b.id }), 201);
  ids.certification = (await ok(t.admin.post('/api/v1/prm/certifications', { courseId: course.id, personId: staff, partnerId: b.id }), 201)).id;
  const plan = await ok(b.client.post('/api/v1/prm/plans', { partnerId: b.id, title: 'B plan', period: '2027' }), 201);
  ids.plan = plan.id;
  ids.planItem = (await ok(b.client.post(`/api/v1/prm/plans/${plan.id}/items`, { kind: 'goal', title: 'B goal' }, { headers: { 'if-match': '1' } }), 201)).items[0].id;
  ids.document = (await ok(b.client.post('/api/v1/prm/documents', { title: 'B private', content: 'secret', contributorId: b.id }), 201)).id;
  ids.firmDocument = (await ok(t.admin.post('/api/v1/prm/documents', { title: 'Distribute only', content: 'terms', program: 'Distribute' }), 201)).id;
  const rfq = await ok(t.admin.post('/api/v1/prm/rfqs', { title: 'B RFQ', quantity: 1, unit: 'pcs', respondBy: future(24), supplierIds: [b.id] }), 201);
  ids.rfq = rfq.id;
  ids.quote = (await ok(b.client.post(`/api/v1/prm/rfqs/${rfq.id}/quotes`, { supplierId: b.id, unitPrice: 1, currency: 'EUR', leadTimeDays: 1 }), 201)).id;
  ids.po = (await ok(t.admin.post('/api/v1/prm/purchase-orders', { supplierId: b.id, reference: 'PO-B', quantity: 1, unitPrice: 1, currency: 'EUR', promisedAt: future(48) }), 201)).id;
});
afterAll(() => t?.close());

type Res = { status: number; text: string; body: any };
/** 404: B's record does not exist for A. 403: a firm-only action, refused to every portal principal before any lookup. */
type Expect = 404 | 403 | ((res: Res) => void);

const noneOf = (field: string, value: () => string) => (res: Res) => {
  expect(res.status, res.text).toBe(200);
  expect(res.body.data.map((x: any) => x[field])).not.toContain(value());
};
const notListed = (id: () => string) => noneOf('id', id);

function walk(): Record<string, [() => Promise<Res>, Expect]> {
  const c = () => a.client;
  const B = () => b.id;
  return {
    // Onboarding and registrations
    'POST /api/v1/prm/partners/applications': [() => c().post('/api/v1/prm/partners/applications', { partnerId: B(), kind: 'referral' }), 404],
    'GET /api/v1/prm/registrations': [() => c().get(`/api/v1/prm/registrations?partnerId=${B()}`), (res) => expect(res.body.data).toEqual([])],
    'POST /api/v1/prm/registrations': [() => c().post('/api/v1/prm/registrations', { partnerId: B(), customerName: 'Sneaky', value: 1, currency: 'EUR', expectedCloseDate: '2027-01-31' }), 404],
    'GET /api/v1/prm/registrations/:id': [() => c().get(`/api/v1/prm/registrations/${ids.registration}`), 404],
    'POST /api/v1/prm/registrations/:id/approve': [() => c().post(`/api/v1/prm/registrations/${ids.registration}/approve`, {}), 403],
    'POST /api/v1/prm/registrations/:id/reject': [() => c().post(`/api/v1/prm/registrations/${ids.registration}/reject`, { reason: 'no' }), 403],
    'POST /api/v1/prm/registrations/expire': [() => c().post('/api/v1/prm/registrations/expire'), 403],
    // Programs, tiers, scorecards
    'GET /api/v1/prm/programs': [() => c().get('/api/v1/prm/programs'), noneOf('name', () => 'Distribute')],
    'POST /api/v1/prm/programs': [() => c().post('/api/v1/prm/programs', { name: 'Distribute2', tiers: [{ name: 'x', criteria: {} }] }), 403],
    'PATCH /api/v1/prm/programs/:id': [() => c().patch(`/api/v1/prm/programs/${ids.program}`, { mdfVisibility: 'shared' }), 403],
    'GET /api/v1/prm/partners/:partnerId/tier': [() => c().get(`/api/v1/prm/partners/${B()}/tier`), 404],
    'POST /api/v1/prm/partners/:partnerId/tier/evaluations': [() => c().post(`/api/v1/prm/partners/${B()}/tier/evaluations`), 403],
    'GET /api/v1/prm/partners/:partnerId/scorecard': [() => c().get(`/api/v1/prm/partners/${B()}/scorecard`), 404],
    'POST /api/v1/prm/partners/:partnerId/scorecard/snapshots': [() => c().post(`/api/v1/prm/partners/${B()}/scorecard/snapshots`), 403],
    // MDF
    'GET /api/v1/prm/mdf/budgets': [() => c().get('/api/v1/prm/mdf/budgets?limit=200'), notListed(() => ids.budget)],
    'POST /api/v1/prm/mdf/budgets': [() => c().post('/api/v1/prm/mdf/budgets', { program: 'Distribute', period: '2028', currency: 'EUR', amount: 1 }), 403],
    'GET /api/v1/prm/mdf/requests': [() => c().get(`/api/v1/prm/mdf/requests?partnerId=${B()}`), (res) => expect(res.body.data).toEqual([])],
    'POST /api/v1/prm/mdf/requests': [() => c().post('/api/v1/prm/mdf/requests', { budgetId: ids.budget, partnerId: B(), activity: 'x', amount: 1 }), 404],
    'GET /api/v1/prm/mdf/requests/:id': [() => c().get(`/api/v1/prm/mdf/requests/${ids.mdf}`), 404],
    'POST /api/v1/prm/mdf/requests/:id/approve': [() => c().post(`/api/v1/prm/mdf/requests/${ids.mdf}/approve`), 403],
    'POST /api/v1/prm/mdf/requests/:id/reject': [() => c().post(`/api/v1/prm/mdf/requests/${ids.mdf}/reject`, { reason: 'no' }), 403],
    'POST /api/v1/prm/mdf/requests/:id/claim': [() => c().post(`/api/v1/prm/mdf/requests/${ids.mdf}/claim`, { amount: 1, proof: 'x' }), 404],
    'POST /api/v1/prm/mdf/requests/:id/pay': [() => c().post(`/api/v1/prm/mdf/requests/${ids.mdf}/pay`), 403],
    // Leads
    'GET /api/v1/prm/lead-rules': [() => c().get('/api/v1/prm/lead-rules'), (res) => expect(res.status).toBe(200)], // the terms, not B's
    'POST /api/v1/prm/lead-rules': [() => c().post('/api/v1/prm/lead-rules', { name: 'Me', weight: 1000 }), 403],
    'POST /api/v1/prm/lead-rules/:id/active': [() => c().post(`/api/v1/prm/lead-rules/${ids.rule}/active`, { active: false }), 403],
    'GET /api/v1/prm/leads': [() => c().get('/api/v1/prm/leads?limit=200'), notListed(() => ids.lead)],
    'POST /api/v1/prm/leads': [() => c().post('/api/v1/prm/leads', { customerName: 'x' }), 403],
    'GET /api/v1/prm/leads/:id': [() => c().get(`/api/v1/prm/leads/${ids.lead}`), 404],
    'POST /api/v1/prm/leads/:id/distribute': [() => c().post(`/api/v1/prm/leads/${ids.lead}/distribute`), 403],
    'GET /api/v1/prm/lead-offers': [() => c().get(`/api/v1/prm/lead-offers?partnerId=${B()}`), (res) => expect(res.body.data).toEqual([])],
    'GET /api/v1/prm/lead-offers/:id': [() => c().get(`/api/v1/prm/lead-offers/${ids.offer}`), 404],
    'POST /api/v1/prm/lead-offers/:id/accept': [() => c().post(`/api/v1/prm/lead-offers/${ids.offer}/accept`), 404],
    'POST /api/v1/prm/lead-offers/:id/decline': [() => c().post(`/api/v1/prm/lead-offers/${ids.offer}/decline`, { reason: 'x' }), 404],
    // Training
    'GET /api/v1/prm/courses': [() => c().get('/api/v1/prm/courses'), (res) => expect(res.status).toBe(200)], // the open catalogue
    'POST /api/v1/prm/courses': [() => c().post('/api/v1/prm/courses', { title: 'x' }), 403],
    'GET /api/v1/prm/certifications': [() => c().get(`/api/v1/prm/certifications?partnerId=${B()}`), (res) => expect(res.body.data).toEqual([])],
    'POST /api/v1/prm/certifications': [() => c().post('/api/v1/prm/certifications', { courseId: ids.course, personId: ids.staff, partnerId: B() }), 403],
    'GET /api/v1/prm/certifications/:id': [() => c().get(`/api/v1/prm/certifications/${ids.certification}`), 404],
    // Plans and documents
    'GET /api/v1/prm/plans': [() => c().get(`/api/v1/prm/plans?partnerId=${B()}`), (res) => expect(res.body.data).toEqual([])],
    'POST /api/v1/prm/plans': [() => c().post('/api/v1/prm/plans', { partnerId: B(), title: 'x', period: 'x' }), 404],
    'GET /api/v1/prm/plans/:id': [() => c().get(`/api/v1/prm/plans/${ids.plan}`), 404],
    'PATCH /api/v1/prm/plans/:id': [() => c().patch(`/api/v1/prm/plans/${ids.plan}`, { title: 'mine' }, { headers: { 'if-match': '2' } }), 404],
    'POST /api/v1/prm/plans/:id/items': [() => c().post(`/api/v1/prm/plans/${ids.plan}/items`, { kind: 'goal', title: 'x' }, { headers: { 'if-match': '2' } }), 404],
    'PATCH /api/v1/prm/plans/:id/items/:itemId': [() => c().patch(`/api/v1/prm/plans/${ids.plan}/items/${ids.planItem}`, { title: 'x' }, { headers: { 'if-match': '1' } }), 404],
    'GET /api/v1/prm/documents': [
      () => c().get('/api/v1/prm/documents?limit=200&includeArchived=true'),
      (res) => {
        expect(res.status).toBe(200);
        expect(res.body.data.map((d: any) => d.id)).not.toContain(ids.document);
        expect(res.body.data.map((d: any) => d.id)).not.toContain(ids.firmDocument);
      },
    ],
    'POST /api/v1/prm/documents': [() => c().post('/api/v1/prm/documents', { title: 'x', content: 'x', contributorId: B() }), 404],
    'GET /api/v1/prm/documents/:id': [() => c().get(`/api/v1/prm/documents/${ids.document}`), 404],
    'POST /api/v1/prm/documents/:id/archive': [() => c().post(`/api/v1/prm/documents/${ids.document}/archive`), 404],
    // Buy side, with B as the supplier
    'POST /api/v1/prm/suppliers/applications': [() => c().post('/api/v1/prm/suppliers/applications', { supplierId: B(), qualification: {} }), 404],
    'GET /api/v1/prm/rfqs': [() => c().get('/api/v1/prm/rfqs?limit=200'), notListed(() => ids.rfq)],
    'POST /api/v1/prm/rfqs': [() => c().post('/api/v1/prm/rfqs', { title: 'x', quantity: 1, unit: 'x', respondBy: future(1), supplierIds: [B()] }), 403],
    'GET /api/v1/prm/rfqs/:id': [() => c().get(`/api/v1/prm/rfqs/${ids.rfq}`), 404],
    'POST /api/v1/prm/rfqs/:id/quotes': [() => c().post(`/api/v1/prm/rfqs/${ids.rfq}/quotes`, { supplierId: B(), unitPrice: 0.5, currency: 'EUR', leadTimeDays: 1 }), 404],
    'POST /api/v1/prm/rfqs/:id/award': [() => c().post(`/api/v1/prm/rfqs/${ids.rfq}/award`, { quoteId: ids.quote }), 403],
    'GET /api/v1/prm/purchase-orders': [() => c().get('/api/v1/prm/purchase-orders?limit=200'), notListed(() => ids.po)],
    'POST /api/v1/prm/purchase-orders': [() => c().post('/api/v1/prm/purchase-orders', { supplierId: B(), reference: 'x', quantity: 1, unitPrice: 1, currency: 'EUR', promisedAt: future(1) }), 403],
    'GET /api/v1/prm/purchase-orders/:id': [() => c().get(`/api/v1/prm/purchase-orders/${ids.po}`), 404],
    'POST /api/v1/prm/purchase-orders/:id/deliveries': [() => c().post(`/api/v1/prm/purchase-orders/${ids.po}/deliveries`, { receivedAt: future(0), quantityAccepted: 1, quantityRejected: 0 }), 403],
    'GET /api/v1/prm/suppliers/:supplierId/scorecard': [() => c().get(`/api/v1/prm/suppliers/${B()}/scorecard`), 404],
    'POST /api/v1/prm/suppliers/:supplierId/scorecard/snapshots': [() => c().post(`/api/v1/prm/suppliers/${B()}/scorecard/snapshots`), 403],
  };
}

describe('portal isolation between partners', () => {
  it('walks every PRM route with A’s credentials and B’s ids', async () => {
    const table = walk();
    const registered = routeKeys(t.app, 'prm');
    expect(Object.keys(table).sort(), 'every registered PRM route is walked, and nothing else').toEqual([...registered].sort());

    const snapshot = async () => ({
      program: await t.app.knex('prm_programs').where({ id: ids.program }).first('mdf_visibility', 'description'),
      registration: await t.app.knex('prm_registrations').where({ id: ids.registration }).first('status', 'version'),
      mdf: await t.app.knex('prm_mdf_requests').where({ id: ids.mdf }).first('status', 'version'),
      offer: await t.app.knex('prm_lead_offers').where({ id: ids.offer }).first('status'),
      plan: await t.app.knex('prm_plans').where({ id: ids.plan }).first('title', 'version'),
      item: await t.app.knex('prm_plan_items').where({ id: ids.planItem }).first('title', 'version'),
      document: await t.app.knex('prm_documents').where({ id: ids.document }).first('archived_at'),
      quotes: Number((await t.app.knex('prm_quotes').where({ rfq_id: ids.rfq }).count('* as n').first())!.n),
      registrations: Number((await t.app.knex('prm_registrations').where({ partner_id: b.id }).count('* as n').first())!.n),
      plans: Number((await t.app.knex('prm_plans').where({ partner_id: b.id }).count('* as n').first())!.n),
    });
    const before = await snapshot();

    for (const [route, [call, expected]] of Object.entries(table)) {
      const res = await call();
      if (typeof expected === 'number') expect(res.status, `${route}: ${res.text}`).toBe(expected);
      else expected(res);
    }
    // Nothing of B's changed, and nothing was added in B's name.
    expect(await snapshot()).toEqual(before);
    // B's own lists show these records: the walk does not pass because nothing exists at all.
    expect((await ok(b.client.get('/api/v1/prm/lead-offers'))).data.map((o: any) => o.id)).toEqual([ids.offer]);
    expect((await ok(b.client.get('/api/v1/prm/documents'))).data.map((d: any) => d.id).sort()).toEqual([ids.document, ids.firmDocument].sort());
  });

  it('refuses a portal principal naming itself (or anyone) staff of an organization, the firm included', async () => {
    const count = async () => Number((await t.app.knex('rapport_relationships').where({ type: 'prm.staff' }).count('* as n').first())!.n);
    const before = await count();
    // A's own contact, on A's portal: staff of the firm would open every partner's records to it.
    const contact = await person(t, 'A Contact');
    const asContact = await t.clientFor({ roles: ['admin'], scopePartyId: contact });
    for (const toPartyId of [t.selfPartyId, a.id]) {
      const res = await asContact.post('/api/v1/relationships', { type: 'prm.staff', fromPartyId: contact, toPartyId });
      expect(res.status, res.text).toBe(403);
      expect(res.body.detail).toContain('prm.staff');
    }
    expect(await count()).toBe(before);
    // Nor changes one the firm made.
    const made = await ok(t.admin.post('/api/v1/relationships', { type: 'prm.staff', fromPartyId: contact, toPartyId: a.id }), 201);
    const changed = await asContact.patch(`/api/v1/relationships/${made.id}`, { status: 'inactive' }, { headers: { 'if-match': String(made.version) } });
    expect(changed.status, changed.text).toBe(403);
  });

  it('shows every PRM route in the OpenAPI document', async () => {
    const doc = await ok(t.admin.get('/api/v1/openapi.json'));
    for (const r of t.app.http.routes().filter((x) => x.owner === 'prm')) {
      const path = r.fullPath.replace(/:(\w+)/g, '{$1}');
      expect(doc.paths[path]?.[r.method], `${r.method} ${path}`).toBeDefined();
    }
  });
});
