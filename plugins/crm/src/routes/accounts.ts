import { z } from 'zod';
import { idParams, interactionSchema, isoTimestamp, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { CUSTOMER_STATUSES, PURCHASE_TYPES, counterpartSchema, currencySchema, mirroredRelationshipSchema } from '@rapport/crm-contract';
import type { CounterpartService } from '../services/counterparts.js';

const tags = ['crm'];
const listQuery = z.strictObject({ ...pageQuery, status: z.enum(CUSTOMER_STATUSES).optional() });

/*
 * The counterparts' reads are open to scoped principals (a customer's or vendor's portal):
 * the kernel's relationship and party scopes leave them their own side only.
 */
export function accountRoutes(r: RouteBuilder, counterparts: CounterpartService): void {
  r.get('/customers', {
    summary: 'Our customers: crm.customer relationships where the self party is the vendor',
    tags,
    permission: 'crm.accounts:read',
    audience: 'any',
    query: listQuery,
    response: pageOf(counterpartSchema),
    handler: (ctx) => counterparts.list(ctx, 'customers', ctx.query),
  });

  r.get('/vendors', {
    summary: 'Our vendors: crm.customer relationships where the self party is the customer (role reversal)',
    tags,
    permission: 'crm.accounts:read',
    audience: 'any',
    query: listQuery,
    response: pageOf(counterpartSchema),
    handler: (ctx) => counterparts.list(ctx, 'vendors', ctx.query),
  });

  r.post('/vendors/:id/interactions', {
    summary: "Record an offer or quote received, a purchase or a complaint on a vendor's timeline",
    tags,
    permission: 'crm.activities:write',
    params: idParams,
    body: z.strictObject({
      type: z.enum(PURCHASE_TYPES),
      occurredAt: isoTimestamp.optional(),
      subject: z.string().max(500).nullable().optional(),
      summary: z.string().max(20000).nullable().optional(),
      amount: z.number().finite().nonnegative().optional(),
      currency: currencySchema.optional(),
      reference: z.string().min(1).max(200).optional(),
      buyerContactId: z.uuid().optional(),
    }),
    response: interactionSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => counterparts.recordPurchase(uow, ctx.params.id, ctx.body)),
  });

  r.get('/relationships/:id/other-side', {
    summary: 'Any relationship as the other side sees it (ends and roles swapped)',
    tags,
    permission: 'crm.accounts:read',
    audience: 'any',
    params: idParams,
    response: mirroredRelationshipSchema,
    handler: (ctx) => counterparts.mirror(ctx, ctx.params.id),
  });
}
