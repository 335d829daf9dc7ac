import { ok } from '@rapport/client';
import { daysFromNow, ensureParty, relate, type SeedContext } from './context.js';

/**
 * The firm as buyer (role reversal): approved suppliers, an RFQ with quotes and an award,
 * a purchase order with a delivery (the scorecard's data), and the CRM's buyer-side view of
 * the same vendor.
 */
export async function seedSuppliers(ctx: SeedContext) {
  const { client, selfPartyId } = ctx;
  const steel = await ensureParty(ctx, { kind: 'organization', name: 'Steelworks Ltd', contactPoints: [{ kind: 'domain', value: 'steelworks.example' }] });
  const bolts = await ensureParty(ctx, { kind: 'organization', name: 'Bolt & Nut Co', contactPoints: [{ kind: 'domain', value: 'boltnut.example' }] });
  await relate(ctx, { type: 'prm.supplier', fromPartyId: steel.id, toPartyId: selfPartyId, status: 'approved', attributes: { categories: ['sheet steel', 'profiles'] } });
  await relate(ctx, { type: 'prm.supplier', fromPartyId: bolts.id, toPartyId: selfPartyId, status: 'approved', attributes: { categories: ['fasteners'] } });

  const rfq = ok(
    await client.POST('/api/v1/prm/rfqs', {
      body: { title: 'Stainless sheet 2 mm', description: 'For the packaging line frames', quantity: 2_000, unit: 'kg', respondBy: daysFromNow(ctx, 10), supplierIds: [steel.id, bolts.id] },
    }),
  );
  const quote = ok(await client.POST('/api/v1/prm/rfqs/{id}/quotes', { params: { path: { id: rfq.id } }, body: { supplierId: steel.id, unitPrice: 4.2, currency: 'EUR', leadTimeDays: 14 } }));
  ok(
    await client.POST('/api/v1/prm/rfqs/{id}/quotes', {
      params: { path: { id: rfq.id } },
      body: { supplierId: bolts.id, unitPrice: 4.9, currency: 'EUR', leadTimeDays: 21, notes: 'Not our core range' },
    }),
  );
  ok(await client.POST('/api/v1/prm/rfqs/{id}/award', { params: { path: { id: rfq.id } }, body: { quoteId: quote.id } }));

  const order = ok(
    await client.POST('/api/v1/prm/purchase-orders', {
      body: {
        supplierId: steel.id,
        reference: 'PO-1001',
        quantity: 2_000,
        unitPrice: 4.2,
        currency: 'EUR',
        orderedAt: daysFromNow(ctx, -20),
        promisedAt: daysFromNow(ctx, -6),
        rfqId: rfq.id,
        quoteId: quote.id,
      },
    }),
  );
  ok(
    await client.POST('/api/v1/prm/purchase-orders/{id}/deliveries', { params: { path: { id: order.id } }, body: { receivedAt: daysFromNow(ctx, -7), quantityAccepted: 1_980, quantityRejected: 20 } }),
  );

  // The CRM sees the same vendor from the buyer's side: Steelworks → self as `crm.customer`.
  await relate(ctx, { type: 'crm.customer', fromPartyId: steel.id, toPartyId: selfPartyId, status: 'customer' });
  ok(
    await client.POST('/api/v1/crm/vendors/{id}/interactions', {
      params: { path: { id: steel.id } },
      body: { type: 'crm.purchase', subject: 'PO-1001 stainless sheet', amount: 8_400, currency: 'EUR', reference: 'PO-1001', occurredAt: daysFromNow(ctx, -20) },
    }),
  );

  return { steel, bolts, rfq, order };
}
