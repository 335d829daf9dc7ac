import { z } from 'zod';
import { decimalNumber, idParams, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { LEAD_STATUSES, OFFER_STATUSES, PARTNER_KINDS, leadOfferWithLeadSchema, leadRuleSchema, leadSchema } from '@rapport/prm-contract';
import type { LeadService } from '../services/leads.js';

const name = z.string().trim().min(1).max(100);

/**
 * Partners read the rules, the leads and offers made to them, and answer their offers
 * (`any`); rules, leads and distribution are the firm's (`internal`).
 */
export function leadRoutes(r: RouteBuilder, leads: LeadService): void {
  r.get('/lead-rules', {
    summary: 'List lead distribution rules (the terms leads are offered by; partners may read them)',
    tags: ['prm'],
    permission: 'prm.leads:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(leadRuleSchema),
    handler: (ctx) => leads.listRules(ctx, ctx.query),
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
    response: leadRuleSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => leads.createRule(uow, ctx.body)),
  });
  r.post('/lead-rules/:id/active', {
    summary: 'Switch a lead rule on or off (rules are kept, never deleted)',
    tags: ['prm'],
    permission: 'prm.leads:manage',
    params: idParams,
    body: z.strictObject({ active: z.boolean() }),
    response: leadRuleSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => leads.setRuleActive(uow, ctx.params.id, ctx.body.active)),
  });
  r.get('/leads', {
    summary: 'List leads with their offers (a partner: the leads offered to it, with its own offers only)',
    tags: ['prm'],
    permission: 'prm.leads:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery, status: z.enum(LEAD_STATUSES).optional() }),
    response: pageOf(leadSchema),
    handler: (ctx) => leads.list(ctx, ctx.query),
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
      currency: z
        .string()
        .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR')
        .optional(),
      description: z.string().max(5000).optional(),
      responseHours: z
        .number()
        .int()
        .min(1)
        .max(24 * 90)
        .optional(),
    }),
    response: leadSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => leads.create(uow, ctx.body)),
  });
  r.get('/leads/:id', {
    summary: 'Get a lead with its offers (a partner: only its own offer)',
    tags: ['prm'],
    permission: 'prm.leads:read',
    audience: 'any',
    params: idParams,
    response: leadSchema,
    handler: (ctx) => leads.get(ctx, ctx.params.id),
  });
  r.post('/leads/:id/distribute', {
    summary: 'Offer an open or unassigned lead again (after new rules or partners)',
    tags: ['prm'],
    permission: 'prm.leads:manage',
    params: idParams,
    response: leadSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => leads.redistribute(uow, ctx.params.id)),
  });
  r.get('/lead-offers', {
    summary: 'List lead offers with their leads (a partner: the offers made to it)',
    tags: ['prm'],
    permission: 'prm.leads:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery, status: z.enum(OFFER_STATUSES).optional(), partnerId: z.uuid().optional() }),
    response: pageOf(leadOfferWithLeadSchema),
    handler: (ctx) => leads.listOffers(ctx, ctx.query),
  });
  r.get('/lead-offers/:id', {
    summary: 'Get a lead offer with its lead',
    tags: ['prm'],
    permission: 'prm.leads:read',
    audience: 'any',
    params: idParams,
    response: leadOfferWithLeadSchema,
    handler: (ctx) => leads.getOffer(ctx, ctx.params.id),
  });
  r.post('/lead-offers/:id/accept', {
    summary: 'Accept a lead offer before its deadline; the lead becomes the partner’s',
    tags: ['prm'],
    permission: 'prm.leads:write',
    audience: 'any',
    params: idParams,
    response: leadOfferWithLeadSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => leads.accept(uow, ctx.params.id)),
  });
  r.post('/lead-offers/:id/decline', {
    summary: 'Decline a lead offer with a reason; the lead moves on and is never offered to this partner again',
    tags: ['prm'],
    permission: 'prm.leads:write',
    audience: 'any',
    params: idParams,
    body: z.strictObject({ reason: z.string().trim().min(1).max(2000) }),
    response: leadOfferWithLeadSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => leads.decline(uow, ctx.params.id, ctx.body.reason)),
  });
}
