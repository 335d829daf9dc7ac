import { z } from 'zod';
import { idParams, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { CUSTOMER_STATUSES, PURCHASE_TYPES } from '../declarations.js';
import { listCounterparts, mirrorRelationship, recordPurchaseInteraction } from '../services/counterparts.js';
import { currency, counterpartSchema, interactionSchema, mirroredRelationshipSchema, occurredAt } from './schemas.js';

const tags = ['crm'];
const listQuery = z.strictObject({ ...pageQuery, status: z.enum(CUSTOMER_STATUSES).optional() });

export function accountRoutes(r: RouteBuilder): void {
  r.get('/customers', {
    summary: 'Our customers: crm.customer relationships where the self party is the vendor',
    tags,
    permission: 'crm.accounts:read',
    query: listQuery,
    response: pageOf(counterpartSchema),
    handler: (ctx) => listCounterparts(ctx.app, ctx, 'customers', ctx.query),
  });

  r.get('/vendors', {
    summary: 'Our vendors: crm.customer relationships where the self party is the customer (role reversal)',
    tags,
    permission: 'crm.accounts:read',
    query: listQuery,
    response: pageOf(counterpartSchema),
    handler: (ctx) => listCounterparts(ctx.app, ctx, 'vendors', ctx.query),
  });

  r.post('/vendors/:id/interactions', {
    summary: "Record an offer or quote received, a purchase or a complaint on a vendor's timeline",
    tags,
    permission: 'crm.activities:write',
    params: idParams,
    body: z.strictObject({
      type: z.enum(PURCHASE_TYPES),
      occurredAt: occurredAt.optional(),
      subject: z.string().max(500).nullable().optional(),
      summary: z.string().max(20000).nullable().optional(),
      amount: z.number().finite().nonnegative().optional(),
      currency: currency.optional(),
      reference: z.string().min(1).max(200).optional(),
      buyerContactId: z.uuid().optional(),
    }),
    response: interactionSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => recordPurchaseInteraction(ctx.app, uow, ctx.params.id, ctx.body)),
  });

  r.get('/relationships/:id/other-side', {
    summary: 'Any relationship as the other side sees it (ends and roles swapped)',
    tags,
    permission: 'crm.accounts:read',
    params: idParams,
    response: mirroredRelationshipSchema,
    handler: (ctx) => mirrorRelationship(ctx.app, ctx, ctx.params.id),
  });
}
