import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import prm from '../src/index.js';
import { activePartner, expectStatus, ok, organization } from './helpers.js';

let t: TestApp;
let a: { id: string; relationshipId: string; client: TestClient };
let b: { id: string; relationshipId: string; client: TestClient };
let budgetId: string;

beforeAll(async () => {
  t = await createTestApp({ plugins: [prm] });
  a = await activePartner(t, 'Alpha MDF'); // program "Resell"
  b = await activePartner(t, 'Beta MDF');
  budgetId = (await ok(t.admin.post('/api/v1/prm/mdf/budgets', { program: 'Resell', period: '2027-Q1', currency: 'EUR', amount: 1000 }), 201)).id;
});
afterAll(() => t?.close());

const remaining = async () => Number((await t.app.knex('prm_mdf_budgets').where({ id: budgetId }).first('remaining')).remaining);

describe('MDF', () => {
  it('goes request → approval → claim with proof → paid, on both timelines', async () => {
    expect((await ok(a.client.get('/api/v1/prm/mdf/budgets'))).data.map((x: any) => x.id)).toEqual([budgetId]);
    expectStatus(await a.client.post('/api/v1/prm/mdf/budgets', { program: 'Resell', period: '2027-Q2', currency: 'EUR', amount: 5 }), 403);
    const req = await ok(a.client.post('/api/v1/prm/mdf/requests', { budgetId, partnerId: a.id, activity: 'Trade show booth', amount: 300 }), 201);
    expect(req.status).toBe('requested');
    expectStatus(await a.client.post(`/api/v1/prm/mdf/requests/${req.id}/approve`), 403);
    await ok(t.admin.post(`/api/v1/prm/mdf/requests/${req.id}/approve`, { reason: 'Good plan' }));
    expect(await remaining()).toBe(700);
    expectStatus(await a.client.post(`/api/v1/prm/mdf/requests/${req.id}/claim`, { amount: 301, proof: 'invoice.pdf' }), 400);
    const claimed = await ok(a.client.post(`/api/v1/prm/mdf/requests/${req.id}/claim`, { amount: 250, proof: 'https://files.example/invoice-17.pdf' }));
    expect(claimed).toMatchObject({ status: 'claimed', claimedAmount: 250 });
    expect(await remaining()).toBe(750); // the unspent 50 went back
    const paid = await ok(t.admin.post(`/api/v1/prm/mdf/requests/${req.id}/pay`));
    expect(paid.status).toBe('paid');
    expectStatus(await t.admin.post(`/api/v1/prm/mdf/requests/${req.id}/pay`), 409);
    const steps = await ok(a.client.get(`/api/v1/relationships/${a.relationshipId}/timeline`));
    expect(
      steps.data
        .filter((i: any) => i.type === 'prm.mdf')
        .map((i: any) => i.attributes.step)
        .sort(),
    ).toEqual(['approved', 'claimed', 'paid', 'requested']);
  });

  it('works without CRM: an approved registration simply has no deal', async () => {
    const reg = await ok(a.client.post('/api/v1/prm/registrations', { partnerId: a.id, customerName: 'Stark', value: 1, currency: 'EUR', expectedCloseDate: '2027-01-01' }), 201);
    expect((await ok(t.admin.post(`/api/v1/prm/registrations/${reg.id}/approve`))).dealId).toBeNull();
  });

  it('never lets the budget go below zero under concurrent approvals', async () => {
    const before = await remaining(); // 750
    const requests = [];
    for (let i = 0; i < 8; i++) {
      const partner = i % 2 ? b : a;
      requests.push(await ok(partner.client.post('/api/v1/prm/mdf/requests', { budgetId, partnerId: partner.id, activity: `Campaign ${i}`, amount: 200 }), 201));
    }
    const results = await Promise.all(requests.map((r) => t.admin.post(`/api/v1/prm/mdf/requests/${r.id}/approve`)));
    const approved = results.filter((r) => r.status === 200).length;
    expect(approved).toBe(Math.floor(before / 200));
    expect(results.filter((r) => r.status === 409).length).toBe(8 - approved);
    expect(results.find((r) => r.status === 409)!.body.detail).toMatch(/less than 200 left/);
    expect(await remaining()).toBe(before - approved * 200);
    const statuses = await t.app
      .knex('prm_mdf_requests')
      .whereIn(
        'id',
        requests.map((r) => r.id),
      )
      .pluck('status');
    expect(statuses.filter((s: string) => s === 'approved')).toHaveLength(approved);
  });

  it('keeps partners to their own requests (404) and refuses bad input', async () => {
    const mine = await ok(b.client.post('/api/v1/prm/mdf/requests', { budgetId, partnerId: b.id, activity: 'Webinar', amount: 10 }), 201);
    const list = await ok(a.client.get('/api/v1/prm/mdf/requests?limit=200'));
    expect(list.data.every((r: any) => r.partnerId === a.id)).toBe(true);
    const byPath: Record<string, () => Promise<{ status: number; text: string }>> = {
      'GET /api/v1/prm/mdf/requests/:id': () => a.client.get(`/api/v1/prm/mdf/requests/${mine.id}`),
      'POST /api/v1/prm/mdf/requests/:id/claim': () => a.client.post(`/api/v1/prm/mdf/requests/${mine.id}/claim`, { amount: 1, proof: 'x' }),
      'POST /api/v1/prm/mdf/requests/:id/approve': () => a.client.post(`/api/v1/prm/mdf/requests/${mine.id}/approve`),
      'POST /api/v1/prm/mdf/requests/:id/reject': () => a.client.post(`/api/v1/prm/mdf/requests/${mine.id}/reject`, { reason: 'x' }),
      'POST /api/v1/prm/mdf/requests/:id/pay': () => a.client.post(`/api/v1/prm/mdf/requests/${mine.id}/pay`),
    };
    const withIds = t.app.http
      .routes()
      .filter((r) => r.owner === 'prm' && r.fullPath.startsWith('/api/v1/prm/mdf/') && r.fullPath.includes('/:'))
      .map((r) => `${r.method.toUpperCase()} ${r.fullPath}`);
    expect(withIds.sort()).toEqual(Object.keys(byPath).sort());
    for (const [route, call] of Object.entries(byPath)) {
      const res = await call();
      expect(res.status, `${route}: ${res.text}`).toBe(/approve|reject|pay/.test(route) ? 403 : 404);
    }
    expectStatus(await a.client.post('/api/v1/prm/mdf/requests', { budgetId, partnerId: b.id, activity: 'x', amount: 1 }), 404);
    // isolation.test.ts walks every PRM route, MDF included, with another partner's ids.

    for (const body of [
      { budgetId, partnerId: a.id, activity: 'x', amount: 0 },
      { budgetId, partnerId: a.id, activity: 'x', amount: 2000 },
      { budgetId: a.id, partnerId: a.id, activity: 'x', amount: 1 },
    ]) {
      const res = await t.admin.post('/api/v1/prm/mdf/requests', body);
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expectStatus(await t.admin.post('/api/v1/prm/mdf/budgets', { program: 'Resell', period: '2027-Q1', currency: 'EUR', amount: 1 }), 409);
  });
});

describe('what a partner sees of an MDF budget', () => {
  async function partnerIn(program: string, name: string) {
    const id = await organization(t, name);
    await ok(
      t.admin.post('/api/v1/relationships', { type: 'prm.partner', fromPartyId: t.selfPartyId, toPartyId: id, status: 'active', attributes: { kind: 'reseller', program, tier: 'silver' } }),
      201,
    );
    return { id, client: await t.clientFor({ roles: ['admin'], scopePartyId: id }) };
  }
  async function spend(partner: { id: string; client: TestClient }, budget: string, amount: number, claim?: number) {
    const req = await ok(partner.client.post('/api/v1/prm/mdf/requests', { budgetId: budget, partnerId: partner.id, activity: 'Campaign', amount }), 201);
    await ok(t.admin.post(`/api/v1/prm/mdf/requests/${req.id}/approve`));
    if (claim !== undefined) await ok(partner.client.post(`/api/v1/prm/mdf/requests/${req.id}/claim`, { amount: claim, proof: 'invoice' }));
    return req.id as string;
  }
  const budgetAs = async (client: TestClient, id: string) => (await ok(client.get('/api/v1/prm/mdf/budgets'))).data.find((x: any) => x.id === id);

  it('shows a partner only its own figures by default, whatever the others spend', async () => {
    const program = await ok(t.admin.post('/api/v1/prm/programs', { name: 'Own MDF', tiers: [{ name: 'silver', criteria: {} }] }), 201);
    expect(program.mdfVisibility).toBe('own');
    const first = await partnerIn('Own MDF', 'Own First');
    const second = await partnerIn('Own MDF', 'Own Second');
    const budget = (await ok(t.admin.post('/api/v1/prm/mdf/budgets', { program: 'Own MDF', period: '2030', currency: 'EUR', amount: 1000 }), 201)).id;
    await spend(first, budget, 300);
    const pending = await ok(first.client.post('/api/v1/prm/mdf/requests', { budgetId: budget, partnerId: first.id, activity: 'Later', amount: 40 }), 201);
    expect(pending.status).toBe('requested');

    const seen = await budgetAs(first.client, budget);
    expect(seen).toMatchObject({ amount: 1000, remaining: null, own: { requested: 40, approved: 300, claimed: 0 } });
    // The other partner spends: nothing the first one sees changes.
    await spend(second, budget, 200, 150);
    expect(await budgetAs(first.client, budget)).toEqual(seen);
    expect(await budgetAs(second.client, budget)).toMatchObject({ remaining: null, own: { requested: 0, approved: 200, claimed: 150 } });
    // The firm sees what is left, and no partner's figures.
    expect(await budgetAs(t.admin, budget)).toMatchObject({ amount: 1000, remaining: 550, own: null });
  });

  it('shows the remaining budget to partners of a program that shares it, set when created or later by the firm', async () => {
    await ok(t.admin.post('/api/v1/prm/programs', { name: 'Shared MDF', tiers: [{ name: 'silver', criteria: {} }], mdfVisibility: 'shared' }), 201);
    const sharer = await partnerIn('Shared MDF', 'Shared Partner');
    const budget = (await ok(t.admin.post('/api/v1/prm/mdf/budgets', { program: 'Shared MDF', period: '2030', currency: 'EUR', amount: 500 }), 201)).id;
    await spend(sharer, budget, 100);
    expect(await budgetAs(sharer.client, budget)).toMatchObject({ remaining: 400, own: { requested: 0, approved: 100, claimed: 0 } });

    // The firm turns sharing on for "Own MDF", and off again.
    const programs = (await ok(t.admin.get('/api/v1/prm/programs?limit=200'))).data;
    const own = programs.find((p: any) => p.name === 'Own MDF');
    const ownBudget = (await ok(t.admin.get('/api/v1/prm/mdf/budgets?limit=200'))).data.find((b: any) => b.program === 'Own MDF').id;
    const first = (await ok(t.admin.get('/api/v1/parties?q=Own%20First'))).data[0].id;
    const firstClient = await t.clientFor({ roles: ['admin'], scopePartyId: first });
    expectStatus(await firstClient.patch(`/api/v1/prm/programs/${own.id}`, { mdfVisibility: 'shared' }), 403);
    expect((await budgetAs(firstClient, ownBudget)).remaining).toBeNull();
    const changed = await ok(t.admin.patch(`/api/v1/prm/programs/${own.id}`, { mdfVisibility: 'shared' }));
    expect(changed).toMatchObject({ id: own.id, name: 'Own MDF', mdfVisibility: 'shared' });
    expect((await t.outbox({ name: 'prm.program.updated' })).map((e) => e.payload.program.mdfVisibility)).toEqual(['shared']);
    expect((await budgetAs(firstClient, ownBudget)).remaining).toBe(550);
    await ok(t.admin.patch(`/api/v1/prm/programs/${own.id}`, { mdfVisibility: 'own' }));
    expect((await budgetAs(firstClient, ownBudget)).remaining).toBeNull();

    // Bad changes are 4xx and change nothing.
    expectStatus(await t.admin.patch(`/api/v1/prm/programs/${own.id}`, { mdfVisibility: 'everyone' }), 400);
    expectStatus(await t.admin.patch(`/api/v1/prm/programs/${own.id}`, {}), 400);
    expectStatus(await t.admin.patch('/api/v1/prm/programs/01890000-0000-7000-8000-0000000000ff', { mdfVisibility: 'shared' }), 404);
    expect((await t.app.knex('prm_programs').where({ id: own.id }).first('mdf_visibility')).mdf_visibility).toBe('own');
  });
});
