import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import prm from '../src/index.js';
import { activePartner, expectStatus, ok } from './helpers.js';

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
