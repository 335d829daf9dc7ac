import { z } from 'zod';
import { decimalNumber, idParams, pageOf, pageQuery, type Rapport, type RouteBuilder } from '@rapport/core';
import { LEAD_STATUSES, LeadService, OFFER_STATUSES } from '../services/leads.js';
import { PARTNER_KINDS, type ResolvedPrmOptions } from '../types.js';

const ruleSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  territory: z.string().nullable(),
  tiers: z.array(z.string()).nullable(),
  kinds: z.array(z.enum(PARTNER_KINDS)).nullable(),
  weight: z.number().int(),
  active: z.boolean(),
  createdAt: z.string(),
});
const offerSchema = z.object({
  id: z.uuid(),
  leadId: z.uuid(),
  partnerId: z.uuid(),
  relationshipId: z.uuid(),
  ruleId: z.uuid(),
  status: z.enum(OFFER_STATUSES),
  offeredAt: z.string(),
  respondBy: z.string(),
  respondedAt: z.string().nullable(),
  declineReason: z.string().nullable(),
});
const leadFields = {
  id: z.uuid(),
  customerName: z.string(),
  customerDomain: z.string().nullable(),
  contactName: z.string().nullable(),
  contactEmail: z.string().nullable(),
  territory: z.string().nullable(),
  value: z.number().nullable(),
  currency: z.string().nullable(),
  description: z.string().nullable(),
  status: z.enum(LEAD_STATUSES),
  responseHours: z.number().int(),
  acceptedPartnerId: z.uuid().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
};
const leadSchema = z.object({ ...leadFields, offers: z.array(offerSchema) });
const offerWithLeadSchema = offerSchema.extend({ lead: z.object(leadFields) });
const name = z.string().trim().min(1).max(100);
const ctxOf = (ctx: { db: any; tenantId: string; principal: any }) => ({ db: ctx.db, tenantId: ctx.tenantId, principal: ctx.principal });

export function leadRoutes(r: RouteBuilder, options: ResolvedPrmOptions): void {
  const leads = (ctx: { app: Rapport }) => new LeadService(ctx.app, options.leadResponseHours);

  r.get('/lead-rules', {
    summary: 'List lead distribution rules (the terms leads are offered by; partners may read them)',
    tags: ['prm'],
    permission: 'prm.leads:read',
    response: z.object({ data: z.array(ruleSchema) }),
    handler: async (ctx) => ({ data: await leads(ctx).listRules(ctxOf(ctx)) }),
  });
  r.post('/lead-rules', {
    summary: 'Define a lead distribution rule: who may be offered leads (territory, tiers, kinds) and with what weight',
    tags: ['prm'],
    permission: 'prm.leads:manage',
    body: z.strictObject({
      name,
      territory: name.optional(),
      tiers: z.array(name).min(1).max(20).optional(),
      kinds: z.array(z.enum(PARTNER_KINDS)).min(1).optional(),
      weight: z.number().int().min(1).max(1000),
    }),
    response: ruleSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => leads(ctx).createRule(uow, ctx.body)),
  });
  r.post('/lead-rules/:id/active', {
    summary: 'Switch a lead rule on or off (rules are kept, never deleted)',
    tags: ['prm'],
    permission: 'prm.leads:manage',
    params: idParams,
    body: z.strictObject({ active: z.boolean() }),
    response: ruleSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => leads(ctx).setRuleActive(uow, ctx.params.id, ctx.body.active)),
  });
  r.get('/leads', {
    summary: 'List leads with their offers (a partner: the leads offered to it, with its own offers only)',
    tags: ['prm'],
    permission: 'prm.leads:read',
    query: z.strictObject({ ...pageQuery, status: z.enum(LEAD_STATUSES).optional() }),
    response: pageOf(leadSchema),
    handler: (ctx) => leads(ctx).list(ctxOf(ctx), ctx.query),
  });
  r.post('/leads', {
    summary: 'Create a lead; it is offered at once to the first eligible partner',
    tags: ['prm'],
    permission: 'prm.leads:manage',
    body: z.strictObject({
      customerName: z.string().trim().min(1).max(300),
      customerDomain: z.string().trim().min(1).max(253).optional(),
      contactName: z.string().trim().min(1).max(300).optional(),
      contactEmail: z.email().max(320).optional(),
      territory: name.optional(),
      value: decimalNumber(18, 2).nonnegative().max(1e15).optional(),
      currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR').optional(),
      description: z.string().max(5000).optional(),
      responseHours: z.number().int().min(1).max(24 * 90).optional(),
    }),
    response: leadSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => leads(ctx).create(uow, ctx.body)),
  });
  r.get('/leads/:id', {
    summary: 'Get a lead with its offers (a partner: only its own offer)',
    tags: ['prm'],
    permission: 'prm.leads:read',
    params: idParams,
    response: leadSchema,
    handler: (ctx) => leads(ctx).get(ctxOf(ctx), ctx.params.id),
  });
  r.post('/leads/:id/distribute', {
    summary: 'Offer an open or unassigned lead again (after new rules or partners)',
    tags: ['prm'],
    permission: 'prm.leads:manage',
    params: idParams,
    response: leadSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => leads(ctx).redistribute(uow, ctx.params.id)),
  });
  r.get('/lead-offers', {
    summary: 'List lead offers with their leads (a partner: the offers made to it)',
    tags: ['prm'],
    permission: 'prm.leads:read',
    query: z.strictObject({ ...pageQuery, status: z.enum(OFFER_STATUSES).optional(), partnerId: z.uuid().optional() }),
    response: pageOf(offerWithLeadSchema),
    handler: (ctx) => leads(ctx).listOffers(ctxOf(ctx), ctx.query),
  });
  r.get('/lead-offers/:id', {
    summary: 'Get a lead offer with its lead',
    tags: ['prm'],
    permission: 'prm.leads:read',
    params: idParams,
    response: offerWithLeadSchema,
    handler: (ctx) => leads(ctx).getOffer(ctxOf(ctx), ctx.params.id),
  });
  r.post('/lead-offers/:id/accept', {
    summary: 'Accept a lead offer before its deadline; the lead becomes the partner’s',
    tags: ['prm'],
    permission: 'prm.leads:write',
    params: idParams,
    response: offerWithLeadSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => leads(ctx).accept(uow, ctx.params.id)),
  });
  r.post('/lead-offers/:id/decline', {
    summary: 'Decline a lead offer with a reason; the lead moves on and is never offered to this partner again',
    tags: ['prm'],
    permission: 'prm.leads:write',
    params: idParams,
    body: z.strictObject({ reason: z.string().trim().min(1).max(2000) }),
    response: offerWithLeadSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => leads(ctx).decline(uow, ctx.params.id, ctx.body.reason)),
  });
}
