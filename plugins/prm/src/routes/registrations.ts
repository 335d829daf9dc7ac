import { z } from 'zod';
import { decimalNumber, idParams, isoDate, pageOf, pageQuery, type Rapport, type RouteBuilder } from '@rapport/core';
import { REGISTRATION_STATUSES } from '../types.js';
import { RegistrationService } from '../services/registrations.js';
import type { ResolvedPrmOptions } from '../types.js';

export const registrationSchema = z.object({
  id: z.uuid(),
  partnerId: z.uuid(),
  relationshipId: z.uuid(),
  customerName: z.string(),
  customerDomain: z.string().nullable(),
  customerPartyId: z.uuid().nullable(),
  value: z.number(),
  currency: z.string(),
  expectedCloseDate: z.string(),
  notes: z.string().nullable(),
  status: z.enum(REGISTRATION_STATUSES),
  conflicts: z.array(
    z.object({
      kind: z.string().describe("'registration', 'existing-customer', or the reason another plugin reported"),
      message: z.string().optional(),
      recordId: z.string().optional(),
      registrationId: z.uuid().optional(),
      partyId: z.uuid().optional(),
      filedAt: z.string().optional(),
    }),
  ),
  decisionReason: z.string().nullable(),
  decidedAt: z.string().nullable(),
  protectedUntil: z.string().nullable(),
  dealId: z.string().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const createBody = z.strictObject({
  partnerId: z.uuid(),
  customerName: z.string().trim().min(1).max(300),
  customerDomain: z.string().trim().min(1).max(253).optional(),
  value: decimalNumber(18, 2).nonnegative().max(1e15),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR'),
  expectedCloseDate: isoDate,
  notes: z.string().max(5000).optional(),
});

export function registrationRoutes(r: RouteBuilder, options: ResolvedPrmOptions): void {
  const service = (ctx: { app: Rapport }) => new RegistrationService(ctx.app, options);
  const qctx = (ctx: { db: any; tenantId: string; principal: any }) => ({ db: ctx.db, tenantId: ctx.tenantId, principal: ctx.principal });

  r.get('/registrations', {
    summary: 'List deal registrations (a partner: its own)',
    tags: ['prm'],
    permission: 'prm.registrations:read',
    query: z.strictObject({ ...pageQuery, status: z.enum(REGISTRATION_STATUSES).optional(), partnerId: z.uuid().optional() }),
    response: pageOf(registrationSchema),
    handler: (ctx) => service(ctx).list(qctx(ctx), ctx.query),
  });
  r.post('/registrations', {
    summary: 'Register a deal (conflicts are detected at once)',
    tags: ['prm'],
    permission: 'prm.registrations:write',
    body: createBody,
    response: registrationSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => service(ctx).submit(uow, ctx.body)),
  });
  r.get('/registrations/:id', {
    summary: 'Get a deal registration',
    tags: ['prm'],
    permission: 'prm.registrations:read',
    params: idParams,
    response: registrationSchema,
    handler: (ctx) => service(ctx).get(qctx(ctx), ctx.params.id),
  });
  r.post('/registrations/:id/approve', {
    summary: 'Approve a deal registration; its protection period starts',
    tags: ['prm'],
    permission: 'prm.registrations:decide',
    params: idParams,
    body: z.strictObject({ reason: z.string().trim().min(1).max(2000).optional() }).optional(),
    response: registrationSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => service(ctx).decide(uow, ctx.params.id, 'approve', ctx.body?.reason, ctx.ifMatch)),
  });
  r.post('/registrations/:id/reject', {
    summary: 'Reject a deal registration with a reason the partner sees',
    tags: ['prm'],
    permission: 'prm.registrations:decide',
    params: idParams,
    body: z.strictObject({ reason: z.string().trim().min(1).max(2000) }),
    response: registrationSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => service(ctx).decide(uow, ctx.params.id, 'reject', ctx.body.reason, ctx.ifMatch)),
  });
  r.post('/registrations/expire', {
    summary: 'Expire approved registrations whose protection has run out (a job may call it)',
    tags: ['prm'],
    permission: 'prm.registrations:decide',
    response: z.object({ expired: z.array(registrationSchema) }),
    status: 200,
    handler: async (ctx) => ({ expired: await ctx.transaction((uow) => service(ctx).expireDue(uow)) }),
  });
}
