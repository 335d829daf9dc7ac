import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import { createPrmPlugin } from '../src/index.js';
import { expectStatus, ok, organization } from './helpers.js';

const WEIGHTS = { onTime: 4, quality: 3, price: 2, responsiveness: 1 };
let t: TestApp;
let s1: { id: string; rel: string; client: TestClient };
let s2: { id: string; rel: string; client: TestClient };
const hours = (n: number) => new Date(Date.now() + n * 3_600_000).toISOString();
const at = (iso: string) => `${iso}T12:00:00.000Z`;

async function approvedSupplier(name: string) {
  const id = await organization(t, name);
  const rel = await ok(t.admin.post('/api/v1/relationships', { type: 'prm.supplier', fromPartyId: id, toPartyId: t.selfPartyId, status: 'approved' }), 201);
  return { id, rel: rel.id as string, client: await t.clientFor({ roles: ['admin'], scopePartyId: id }) };
}

beforeAll(async () => {
  t = await createTestApp({ plugins: [createPrmPlugin({ scorecardWeights: WEIGHTS })] });
  s1 = await approvedSupplier('Steel One');
  s2 = await approvedSupplier('Steel Two');
});
afterAll(() => t?.close());

describe('supplier onboarding', () => {
  it('takes a qualification from the portal; the firm approves', async () => {
    const org = await organization(t, 'Bolt Works');
    const portal = await t.clientFor({ roles: ['admin'], scopePartyId: org });
    const rel = await ok(portal.post('/api/v1/prm/suppliers/applications', { supplierId: org, categories: ['fasteners'], qualification: { iso9001: true, employees: 40 } }), 201);
    expect(rel).toMatchObject({ type: 'prm.supplier', fromPartyId: org, toPartyId: t.selfPartyId, fromRole: 'supplier', toRole: 'buyer', status: 'applied' });
    expectStatus(await portal.post('/api/v1/prm/suppliers/applications', { supplierId: org, qualification: {} }), 409);
    expectStatus(await portal.patch(`/api/v1/relationships/${rel.id}`, { status: 'approved' }, { headers: { 'if-match': '1' } }), 403);
    // Not approved yet: no RFQ.
    expectStatus(await t.admin.post('/api/v1/prm/rfqs', { title: 'Bolts', quantity: 1000, unit: 'pcs', respondBy: hours(24), supplierIds: [org] }), 400);
    const approved = await ok(t.admin.patch(`/api/v1/relationships/${rel.id}`, { status: 'conditional', attributes: { conditions: 'Audit within 6 months' } }, { headers: { 'if-match': '1' } }));
    expect(approved.status).toBe('conditional');
  });
});

describe('RFQ → quotes → award', () => {
  it('lets each supplier answer through its own scope only', async () => {
    const rfq = await ok(t.admin.post('/api/v1/prm/rfqs', { title: 'Steel sheet', quantity: 500, unit: 'kg', respondBy: hours(48), supplierIds: [s1.id, s2.id] }), 201);
    expect(rfq.supplierIds.sort()).toEqual([s1.id, s2.id].sort());
    expectStatus(await s1.client.post('/api/v1/prm/rfqs', { title: 'x', quantity: 1, unit: 'kg', respondBy: hours(1), supplierIds: [s1.id] }), 403);

    const q1 = await ok(s1.client.post(`/api/v1/prm/rfqs/${rfq.id}/quotes`, { supplierId: s1.id, unitPrice: 2.5, currency: 'EUR', leadTimeDays: 10 }), 201);
    expect(q1).toMatchObject({ status: 'submitted', onTime: true });
    expectStatus(await s1.client.post(`/api/v1/prm/rfqs/${rfq.id}/quotes`, { supplierId: s2.id, unitPrice: 1, currency: 'EUR', leadTimeDays: 1 }), 404);
    expectStatus(await s1.client.post(`/api/v1/prm/rfqs/${rfq.id}/quotes`, { supplierId: s1.id, unitPrice: 2, currency: 'EUR', leadTimeDays: 10 }), 409);
    const q2 = await ok(s2.client.post(`/api/v1/prm/rfqs/${rfq.id}/quotes`, { supplierId: s2.id, unitPrice: 2.4, currency: 'EUR', leadTimeDays: 20 }), 201);

    const seenBy1 = await ok(s1.client.get(`/api/v1/prm/rfqs/${rfq.id}`));
    expect(seenBy1.supplierIds).toEqual([s1.id]);
    expect(seenBy1.quotes.map((q: any) => q.id)).toEqual([q1.id]);
    const seenByFirm = await ok(t.admin.get(`/api/v1/prm/rfqs/${rfq.id}`));
    expect(seenByFirm.quotes.map((q: any) => q.id)).toEqual([q1.id, q2.id]);

    expectStatus(await s1.client.post(`/api/v1/prm/rfqs/${rfq.id}/award`, { quoteId: q1.id }), 403);
    const awarded = await ok(t.admin.post(`/api/v1/prm/rfqs/${rfq.id}/award`, { quoteId: q1.id }));
    expect(awarded).toMatchObject({ status: 'awarded', awardedQuoteId: q1.id });
    expect(Object.fromEntries(awarded.quotes.map((q: any) => [q.supplierId, q.status]))).toEqual({ [s1.id]: 'awarded', [s2.id]: 'lost' });
    expect((await ok(s2.client.get(`/api/v1/prm/rfqs/${rfq.id}`))).awardedQuoteId).toBeNull();
    expectStatus(await s2.client.post(`/api/v1/prm/rfqs/${rfq.id}/quotes`, { supplierId: s2.id, unitPrice: 1, currency: 'EUR', leadTimeDays: 1 }), 409);

    const timeline = await ok(s1.client.get(`/api/v1/relationships/${s1.rel}/timeline`));
    expect(timeline.data.map((i: any) => i.type).sort()).toEqual(['prm.quote', 'prm.rfq']);
  });
});

describe('scorecard', () => {
  it('equals an independent computation from the recorded deliveries and quotes', async () => {
    // Two more RFQs to s1: one already due and never answered, one answered late.
    await ok(t.admin.post('/api/v1/prm/rfqs', { title: 'Unanswered', quantity: 1, unit: 'kg', respondBy: hours(-2), supplierIds: [s1.id] }), 201);
    const late = await ok(t.admin.post('/api/v1/prm/rfqs', { title: 'Late', quantity: 1, unit: 'kg', respondBy: hours(-1), supplierIds: [s1.id] }), 201);
    expect((await ok(s1.client.post(`/api/v1/prm/rfqs/${late.id}/quotes`, { supplierId: s1.id, unitPrice: 3, currency: 'EUR', leadTimeDays: 5 }), 201)).onTime).toBe(false);

    const orders = [
      {
        reference: 'PO-1',
        quantity: 100,
        unitPrice: 10,
        promised: '2026-03-10',
        deliveries: [
          { received: '2026-03-09', accepted: 60, rejected: 0 },
          { received: '2026-03-12', accepted: 38, rejected: 2, unitPrice: 11 },
        ],
      },
      { reference: 'PO-2', quantity: 50, unitPrice: 4, promised: '2026-04-01', deliveries: [{ received: '2026-04-01', accepted: 45, rejected: 5, unitPrice: 3.8 }] },
      { reference: 'PO-3', quantity: 10, unitPrice: 100, promised: '2026-05-01', deliveries: [{ received: '2026-05-03', accepted: 10, rejected: 0 }] },
    ];
    for (const o of orders) {
      const po = await ok(
        t.admin.post('/api/v1/prm/purchase-orders', {
          supplierId: s1.id,
          reference: o.reference,
          quantity: o.quantity,
          unitPrice: o.unitPrice,
          currency: 'EUR',
          orderedAt: at('2026-02-01'),
          promisedAt: at(o.promised),
        }),
        201,
      );
      for (const d of o.deliveries) {
        await ok(
          t.admin.post(`/api/v1/prm/purchase-orders/${po.id}/deliveries`, {
            receivedAt: at(d.received),
            quantityAccepted: d.accepted,
            quantityRejected: d.rejected,
            ...(d.unitPrice ? { unitPrice: d.unitPrice } : {}),
          }),
          201,
        );
      }
    }
    const rating = await ok(t.admin.post('/api/v1/observations', { indicator: 'prm.supplier-rating', subjectId: s1.rel, label: 'good', text: 'Helpful when a batch slipped' }), 201);

    // Independent computation.
    const all = orders.flatMap((o) => o.deliveries.map((d) => ({ ...d, promised: o.promised, ordered: o.unitPrice, paid: d.unitPrice ?? o.unitPrice })));
    const onTime = (100 * all.filter((d) => d.received <= d.promised).length) / all.length;
    const units = all.reduce((s, d) => s + d.accepted + d.rejected, 0);
    const quality = (100 * all.reduce((s, d) => s + d.accepted, 0)) / units;
    const paid = all.reduce((s, d) => s + d.paid * (d.accepted + d.rejected), 0);
    const ordered = all.reduce((s, d) => s + d.ordered * (d.accepted + d.rejected), 0);
    const variance = (100 * (paid - ordered)) / ordered;
    const responsiveness = (100 * 1) / 3; // on time, never, late
    const priceScore = Math.max(0, Math.min(100, 100 - 10 * Math.max(0, variance)));
    const score = (onTime * 4 + quality * 3 + priceScore * 2 + responsiveness * 1) / 10;
    const r2 = (n: number) => Math.round(n * 100) / 100;

    const card = await ok(t.admin.get(`/api/v1/prm/suppliers/${s1.id}/scorecard`));
    expect(card).toMatchObject({
      supplierId: s1.id,
      relationshipId: s1.rel,
      deliveries: 4,
      onTimeDelivery: r2(onTime),
      quality: r2(quality),
      priceVariance: r2(variance),
      rfqResponsiveness: r2(responsiveness),
      score: r2(score),
      standing: score >= 85 ? 'preferred' : score >= 70 ? 'approved' : 'watch',
      weights: WEIGHTS,
    });
    expect(card.ratings).toEqual([{ label: 'good', text: 'Helpful when a batch slipped', observedAt: rating.observedAt, observerPartyId: null }]);
    // The supplier sees its own card; not another's.
    expect(await ok(s1.client.get(`/api/v1/prm/suppliers/${s1.id}/scorecard`))).toEqual(card);
    expectStatus(await s2.client.get(`/api/v1/prm/suppliers/${s1.id}/scorecard`), 404);

    const snap = await ok(t.admin.post(`/api/v1/prm/suppliers/${s1.id}/scorecard/snapshots`), 201);
    expect(snap.score).toBe(card.score);
    const observed = await ok(t.admin.get(`/api/v1/observations?subjectId=${s1.rel}&indicator=prm.supplier-score`));
    expect(observed.data.map((o: any) => o.value)).toEqual([card.score]);
  });

  it('refuses new RFQs and POs to a blocked supplier, clearly, and writes nothing', async () => {
    const rel = await ok(t.admin.get(`/api/v1/relationships/${s2.rel}`));
    await ok(t.admin.patch(`/api/v1/relationships/${s2.rel}`, { status: 'blocked' }, { headers: { 'if-match': String(rel.version) } }));
    const count = async () => Number((await t.app.knex('prm_rfqs').count('* as n').first())!.n) + Number((await t.app.knex('prm_purchase_orders').count('* as n').first())!.n);
    const before = await count();
    const rfq = await t.admin.post('/api/v1/prm/rfqs', { title: 'More steel', quantity: 5, unit: 'kg', respondBy: hours(5), supplierIds: [s1.id, s2.id] });
    expectStatus(rfq, 409);
    expect(rfq.body.detail).toMatch(/blocked/);
    const po = await t.admin.post('/api/v1/prm/purchase-orders', { supplierId: s2.id, reference: 'PO-X', quantity: 1, unitPrice: 1, currency: 'EUR', promisedAt: hours(48) });
    expectStatus(po, 409);
    expect(po.body.detail).toMatch(/blocked/);
    expect(await count()).toBe(before);
    expect((await ok(t.admin.get(`/api/v1/prm/suppliers/${s2.id}/scorecard`))).standing).toBe('blocked');
  });

  it('refuses bad input with 4xx', async () => {
    const bad = [
      { supplierId: s1.id, reference: 'PO', quantity: -1, unitPrice: 1, currency: 'EUR', promisedAt: hours(1) },
      { supplierId: s1.id, reference: 'PO', quantity: 1, unitPrice: 1, currency: 'EUR', orderedAt: hours(10), promisedAt: hours(1) },
      { supplierId: s1.id, reference: 'PO', quantity: 1, unitPrice: 1, currency: 'EUR', promisedAt: 'tomorrow' },
      // numeric(18,4) would store 1.0001; PostgreSQL has no year 0.
      { supplierId: s1.id, reference: 'PO', quantity: 1.00005, unitPrice: 1, currency: 'EUR', promisedAt: hours(1) },
      { supplierId: s1.id, reference: 'PO', quantity: 1, unitPrice: 1, currency: 'EUR', orderedAt: '0000-01-01T00:00:00Z', promisedAt: hours(1) },
      { supplierId: await organization(t, 'Random Org'), reference: 'PO', quantity: 1, unitPrice: 1, currency: 'EUR', promisedAt: hours(1) },
    ];
    for (const body of bad) {
      const res = await t.admin.post('/api/v1/prm/purchase-orders', body);
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });
});

describe('supplier portal isolation', () => {
  it('answers 404 to supplier B on every supply route with supplier A ids', async () => {
    const rfq = await ok(t.admin.post('/api/v1/prm/rfqs', { title: 'Only for one', quantity: 1, unit: 'kg', respondBy: hours(5), supplierIds: [s1.id] }), 201);
    const po = (await ok(t.admin.get(`/api/v1/prm/purchase-orders?supplierId=${s1.id}`))).data[0];
    expect((await ok(s2.client.get('/api/v1/prm/rfqs?limit=200'))).data.map((r: any) => r.id)).not.toContain(rfq.id);
    expect((await ok(s2.client.get('/api/v1/prm/purchase-orders?limit=200'))).data).toEqual([]);
    expect((await ok(s1.client.get('/api/v1/prm/purchase-orders?limit=200'))).data.length).toBe(3);

    const byPath: Record<string, () => Promise<{ status: number; text: string }>> = {
      'GET /api/v1/prm/rfqs/:id': () => s2.client.get(`/api/v1/prm/rfqs/${rfq.id}`),
      'POST /api/v1/prm/rfqs/:id/quotes': () => s2.client.post(`/api/v1/prm/rfqs/${rfq.id}/quotes`, { supplierId: s2.id, unitPrice: 1, currency: 'EUR', leadTimeDays: 1 }),
      'POST /api/v1/prm/rfqs/:id/award': () => s2.client.post(`/api/v1/prm/rfqs/${rfq.id}/award`, { quoteId: rfq.id }),
      'GET /api/v1/prm/purchase-orders/:id': () => s2.client.get(`/api/v1/prm/purchase-orders/${po.id}`),
      'POST /api/v1/prm/purchase-orders/:id/deliveries': () => s2.client.post(`/api/v1/prm/purchase-orders/${po.id}/deliveries`, { receivedAt: hours(0), quantityAccepted: 1, quantityRejected: 0 }),
      'GET /api/v1/prm/suppliers/:supplierId/scorecard': () => s2.client.get(`/api/v1/prm/suppliers/${s1.id}/scorecard`),
      'POST /api/v1/prm/suppliers/:supplierId/scorecard/snapshots': () => s2.client.post(`/api/v1/prm/suppliers/${s1.id}/scorecard/snapshots`),
    };
    const withIds = t.app.http
      .routes()
      .filter((r) => r.owner === 'prm' && r.fullPath.includes('/:') && /^\/api\/v1\/prm\/(rfqs|purchase-orders|suppliers)\//.test(r.fullPath))
      .map((r) => `${r.method.toUpperCase()} ${r.fullPath}`);
    expect(withIds.sort()).toEqual(Object.keys(byPath).sort());
    for (const [route, call] of Object.entries(byPath)) {
      const res = await call();
      // Buyer-only actions are refused to every portal principal (403); everything else is 404.
      const expected = /award|deliveries|snapshots/.test(route) ? 403 : 404;
      expect(res.status, `${route}: ${res.text}`).toBe(expected);
    }
    const rel = await ok(t.admin.get(`/api/v1/relationships/${s1.rel}`));
    expect(rel.status).toBe('approved');
  });
});
