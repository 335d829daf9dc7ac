import { z } from 'zod';
import { ConflictError, decimalNumber, idParams, isoTimestamp, pageOf, pageQuery, type Rapport, type RouteBuilder } from '@rapport/core';
import type { ResolvedPrmOptions } from '../types.js';
import { OrderService } from '../services/orders.js';
import { SUPPLIER_TYPE, requireActsFor, selfPartyId } from '../services/portal.js';
import { RfqService } from '../services/rfqs.js';
import { ScorecardService } from '../services/scorecard.js';
import { SUPPLIER_STANDINGS } from '../services/supply.js';

const timestamp = isoTimestamp;
const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR');
// numeric(18, 4) columns.
const quantity = decimalNumber(18, 4).nonnegative().max(1e12);
const price = decimalNumber(18, 4).nonnegative().max(1e12);
const ctxOf = (ctx: { db: any; tenantId: string; principal: any }) => ({ db: ctx.db, tenantId: ctx.tenantId, principal: ctx.principal });

const quoteSchema = z.object({
  id: z.uuid(),
  rfqId: z.uuid(),
  supplierId: z.uuid(),
  unitPrice: z.number(),
  currency: z.string(),
  leadTimeDays: z.number().int(),
  notes: z.string().nullable(),
  status: z.enum(['submitted', 'awarded', 'lost']),
  submittedAt: z.string(),
  onTime: z.boolean(),
});
const rfqSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  description: z.string().nullable(),
  quantity: z.number(),
  unit: z.string(),
  respondBy: z.string(),
  status: z.enum(['open', 'awarded', 'cancelled']),
  awardedQuoteId: z.uuid().nullable(),
  supplierIds: z.array(z.uuid()),
  quotes: z.array(quoteSchema),
  version: z.number().int(),
  createdAt: z.string(),
});
const deliverySchema = z.object({
  id: z.uuid(),
  purchaseOrderId: z.uuid(),
  receivedAt: z.string(),
  quantityAccepted: z.number(),
  quantityRejected: z.number(),
  unitPrice: z.number(),
  interactionId: z.uuid(),
});
const orderSchema = z.object({
  id: z.uuid(),
  supplierId: z.uuid(),
  relationshipId: z.uuid(),
  rfqId: z.uuid().nullable(),
  quoteId: z.uuid().nullable(),
  reference: z.string(),
  quantity: z.number(),
  unitPrice: z.number(),
  currency: z.string(),
  orderedAt: z.string(),
  promisedAt: z.string(),
  interactionId: z.uuid(),
  deliveries: z.array(deliverySchema),
  createdAt: z.string(),
});
const pct = z.number().nullable();
const scorecardSchema = z.object({
  supplierId: z.uuid(),
  relationshipId: z.uuid(),
  relationshipStatus: z.string(),
  deliveries: z.number().int(),
  onTimeDelivery: pct,
  quality: pct,
  priceVariance: pct,
  rfqResponsiveness: pct,
  score: pct,
  standing: z.enum(SUPPLIER_STANDINGS),
  weights: z.object({ onTime: z.number(), quality: z.number(), price: z.number(), responsiveness: z.number() }),
  ratings: z.array(z.object({ label: z.string().nullable(), text: z.string().nullable(), observedAt: z.string(), observerPartyId: z.uuid().nullable() })),
});
const supplierParams = z.strictObject({ supplierId: z.uuid() });

export function supplyRoutes(r: RouteBuilder, options: ResolvedPrmOptions): void {
  const rfqs = (ctx: { app: Rapport }) => new RfqService(ctx.app);
  const orders = (ctx: { app: Rapport }) => new OrderService(ctx.app);
  const scorecards = (ctx: { app: Rapport }) => new ScorecardService(ctx.app, options);

  r.post('/suppliers/applications', {
    summary: 'Apply as a supplier with the qualification questionnaire (the firm is the buyer)',
    tags: ['prm'],
    permission: 'prm.suppliers:write',
    body: z.strictObject({
      supplierId: z.uuid(),
      categories: z.array(z.string().trim().min(1).max(100)).max(50).optional(),
      qualification: z.record(z.string().min(1).max(100), z.union([z.string().max(5000), z.number(), z.boolean()])),
    }),
    response: z.object({ id: z.uuid(), status: z.string() }).loose(),
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        await requireActsFor(uow, ctx.body.supplierId);
        const self = await selfPartyId(uow.trx, uow.tenantId);
        const existing = await uow.trx('rapport_relationships').where({ tenant_id: uow.tenantId, type: SUPPLIER_TYPE, from_party_id: ctx.body.supplierId, to_party_id: self }).whereNot('status', 'ended').first('id', 'status');
        if (existing) throw new ConflictError(`prm: party ${ctx.body.supplierId} is already a supplier (${existing.status})`, { relationshipId: existing.id });
        const elevated = uow.unscoped();
        const relationship = await ctx.app.services.relationships.create(elevated, {
          type: SUPPLIER_TYPE,
          fromPartyId: ctx.body.supplierId,
          toPartyId: self,
          status: 'applied',
          attributes: { qualification: ctx.body.qualification, ...(ctx.body.categories ? { categories: ctx.body.categories } : {}) },
        });
        await ctx.app.services.interactions.create(elevated, {
          type: 'prm.onboarding',
          direction: 'inbound',
          subject: 'Supplier qualification received',
          relationshipId: relationship.id,
          participants: [
            { partyId: ctx.body.supplierId, role: 'supplier' },
            { partyId: self, role: 'buyer' },
          ],
        });
        return relationship;
      }),
  });

  r.get('/rfqs', {
    summary: 'List RFQs (a supplier: those sent to it)',
    tags: ['prm'],
    permission: 'prm.rfqs:read',
    query: z.strictObject({ ...pageQuery, status: z.enum(['open', 'awarded', 'cancelled']).optional() }),
    response: pageOf(rfqSchema),
    handler: (ctx) => rfqs(ctx).list(ctxOf(ctx), ctx.query),
  });
  r.post('/rfqs', {
    summary: 'Send a request for quotation to suppliers (refused for a blocked supplier)',
    tags: ['prm'],
    permission: 'prm.rfqs:write',
    body: z.strictObject({
      title: z.string().trim().min(1).max(300),
      description: z.string().max(20000).optional(),
      quantity,
      unit: z.string().trim().min(1).max(50),
      respondBy: timestamp,
      supplierIds: z.array(z.uuid()).min(1).max(100),
    }),
    response: rfqSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => rfqs(ctx).create(uow, ctx.body)),
  });
  r.get('/rfqs/:id', {
    summary: 'Get an RFQ with its quotes (a supplier: its own quote only)',
    tags: ['prm'],
    permission: 'prm.rfqs:read',
    params: idParams,
    response: rfqSchema,
    handler: (ctx) => rfqs(ctx).get(ctxOf(ctx), ctx.params.id),
  });
  r.post('/rfqs/:id/quotes', {
    summary: 'Answer an RFQ with a quote (supplier portal)',
    tags: ['prm'],
    permission: 'prm.rfqs:write',
    params: idParams,
    body: z.strictObject({ supplierId: z.uuid(), unitPrice: price, currency, leadTimeDays: z.number().int().min(0).max(3650), notes: z.string().max(5000).optional() }),
    response: quoteSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => rfqs(ctx).quote(uow, ctx.params.id, ctx.body)),
  });
  r.post('/rfqs/:id/award', {
    summary: 'Award an RFQ to one quote; the others lose',
    tags: ['prm'],
    permission: 'prm.rfqs:write',
    params: idParams,
    body: z.strictObject({ quoteId: z.uuid() }),
    response: rfqSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => rfqs(ctx).award(uow, ctx.params.id, ctx.body.quoteId)),
  });

  r.get('/purchase-orders', {
    summary: 'List purchase orders with their deliveries (a supplier: its own)',
    tags: ['prm'],
    permission: 'prm.purchase-orders:read',
    query: z.strictObject({ ...pageQuery, supplierId: z.uuid().optional() }),
    response: pageOf(orderSchema),
    handler: (ctx) => orders(ctx).list(ctxOf(ctx), ctx.query),
  });
  r.post('/purchase-orders', {
    summary: 'Place a purchase order (summary level; refused for a blocked supplier)',
    tags: ['prm'],
    permission: 'prm.purchase-orders:write',
    body: z.strictObject({
      supplierId: z.uuid(),
      reference: z.string().trim().min(1).max(100),
      quantity,
      unitPrice: price,
      currency,
      orderedAt: timestamp.optional(),
      promisedAt: timestamp,
      rfqId: z.uuid().optional(),
      quoteId: z.uuid().optional(),
    }),
    response: orderSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => orders(ctx).create(uow, ctx.body)),
  });
  r.get('/purchase-orders/:id', {
    summary: 'Get a purchase order with its deliveries',
    tags: ['prm'],
    permission: 'prm.purchase-orders:read',
    params: idParams,
    response: orderSchema,
    handler: (ctx) => orders(ctx).get(ctxOf(ctx), ctx.params.id),
  });
  r.post('/purchase-orders/:id/deliveries', {
    summary: 'Record a delivery received against a purchase order',
    tags: ['prm'],
    permission: 'prm.purchase-orders:write',
    params: idParams,
    body: z.strictObject({ receivedAt: timestamp, quantityAccepted: quantity, quantityRejected: quantity, unitPrice: price.optional() }),
    response: deliverySchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => orders(ctx).deliver(uow, ctx.params.id, ctx.body)),
  });

  r.get('/suppliers/:supplierId/scorecard', {
    summary: 'Supplier scorecard: on-time, quality, price variance, RFQ responsiveness, ratings, weighted score and standing',
    tags: ['prm'],
    permission: 'prm.scorecards:read',
    params: supplierParams,
    response: scorecardSchema,
    handler: (ctx) => scorecards(ctx).compute(ctxOf(ctx), ctx.params.supplierId),
  });
  r.post('/suppliers/:supplierId/scorecard/snapshots', {
    summary: 'Record the scorecard figures as indicator observations on the supply relationship',
    tags: ['prm'],
    permission: 'prm.scorecards:write',
    params: supplierParams,
    response: scorecardSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => scorecards(ctx).snapshot(uow, ctx.params.supplierId)),
  });
}
