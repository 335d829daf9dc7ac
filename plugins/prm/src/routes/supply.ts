import { z } from 'zod';
import { decimalNumber, idParams, isoTimestamp, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { RFQ_STATUSES, deliverySchema, purchaseOrderSchema, quoteSchema, rfqSchema, supplierScorecardSchema } from '@rapport/prm-contract';
import type { OrderService } from '../services/orders.js';
import type { RfqService } from '../services/rfqs.js';
import type { ScorecardService } from '../services/scorecard.js';

const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR');
// numeric(18, 4) columns.
const quantity = decimalNumber(18, 4).nonnegative().max(1e12);
const price = decimalNumber(18, 4).nonnegative().max(1e12);
const supplierParams = z.strictObject({ supplierId: z.uuid() });

/**
 * The buy side. Suppliers read what was sent to them and answer RFQs (`any`); sending RFQs,
 * awarding, ordering, recording deliveries and scorecard snapshots are the firm's (`internal`).
 */
export function supplyRoutes(r: RouteBuilder, services: { rfqs: RfqService; orders: OrderService; scorecards: ScorecardService }): void {
  const { rfqs, orders, scorecards } = services;

  r.get('/rfqs', {
    summary: 'List RFQs (a supplier: those sent to it)',
    tags: ['prm'],
    permission: 'prm.rfqs:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery, status: z.enum(RFQ_STATUSES).optional() }),
    response: pageOf(rfqSchema),
    handler: (ctx) => rfqs.list(ctx, ctx.query),
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
      respondBy: isoTimestamp,
      supplierIds: z.array(z.uuid()).min(1).max(100),
    }),
    response: rfqSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => rfqs.create(uow, ctx.body)),
  });
  r.get('/rfqs/:id', {
    summary: 'Get an RFQ with its quotes (a supplier: its own quote only)',
    tags: ['prm'],
    permission: 'prm.rfqs:read',
    audience: 'any',
    params: idParams,
    response: rfqSchema,
    handler: (ctx) => rfqs.get(ctx, ctx.params.id),
  });
  r.post('/rfqs/:id/quotes', {
    summary: 'Answer an RFQ with a quote (supplier portal)',
    tags: ['prm'],
    permission: 'prm.rfqs:write',
    audience: 'any',
    params: idParams,
    body: z.strictObject({ supplierId: z.uuid(), unitPrice: price, currency, leadTimeDays: z.number().int().min(0).max(3650), notes: z.string().max(5000).optional() }),
    response: quoteSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => rfqs.quote(uow, ctx.params.id, ctx.body)),
  });
  r.post('/rfqs/:id/award', {
    summary: 'Award an RFQ to one quote; the others lose',
    tags: ['prm'],
    permission: 'prm.rfqs:write',
    params: idParams,
    body: z.strictObject({ quoteId: z.uuid() }),
    response: rfqSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => rfqs.award(uow, ctx.params.id, ctx.body.quoteId)),
  });

  r.get('/purchase-orders', {
    summary: 'List purchase orders with their deliveries (a supplier: its own)',
    tags: ['prm'],
    permission: 'prm.purchase-orders:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery, supplierId: z.uuid().optional() }),
    response: pageOf(purchaseOrderSchema),
    handler: (ctx) => orders.list(ctx, ctx.query),
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
      orderedAt: isoTimestamp.optional(),
      promisedAt: isoTimestamp,
      rfqId: z.uuid().optional(),
      quoteId: z.uuid().optional(),
    }),
    response: purchaseOrderSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => orders.create(uow, ctx.body)),
  });
  r.get('/purchase-orders/:id', {
    summary: 'Get a purchase order with its deliveries',
    tags: ['prm'],
    permission: 'prm.purchase-orders:read',
    audience: 'any',
    params: idParams,
    response: purchaseOrderSchema,
    handler: (ctx) => orders.get(ctx, ctx.params.id),
  });
  r.post('/purchase-orders/:id/deliveries', {
    summary: 'Record a delivery received against a purchase order',
    tags: ['prm'],
    permission: 'prm.purchase-orders:write',
    params: idParams,
    body: z.strictObject({ receivedAt: isoTimestamp, quantityAccepted: quantity, quantityRejected: quantity, unitPrice: price.optional() }),
    response: deliverySchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => orders.deliver(uow, ctx.params.id, ctx.body)),
  });

  r.get('/suppliers/:supplierId/scorecard', {
    summary: 'Supplier scorecard: on-time, quality, price variance, RFQ responsiveness, ratings, weighted score and standing',
    tags: ['prm'],
    permission: 'prm.scorecards:read',
    audience: 'any',
    params: supplierParams,
    response: supplierScorecardSchema,
    handler: (ctx) => scorecards.compute(ctx, ctx.params.supplierId),
  });
  r.post('/suppliers/:supplierId/scorecard/snapshots', {
    summary: 'Record the scorecard figures as indicator observations on the supply relationship',
    tags: ['prm'],
    permission: 'prm.scorecards:write',
    params: supplierParams,
    response: supplierScorecardSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => scorecards.snapshot(uow, ctx.params.supplierId)),
  });
}
