import { z } from 'zod';
import { decimalNumber, idParams, isoDate, pageOf, pageQuery, textListQuery, type RouteBuilder } from '@rapport/core';
import { REGISTRATION_STATUSES, registrationSchema } from '@rapport/prm-contract';
import type { RegistrationService } from '../services/registrations.js';

const createBody = z.strictObject({
  partnerId: z.uuid(),
  customerName: z.string().trim().min(1).max(300),
  customerDomain: z.string().trim().min(1).max(253).optional(),
  value: decimalNumber(18, 2).nonnegative().max(1e15),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR'),
  expectedCloseDate: isoDate,
  notes: z.string().max(5000).optional(),
});

/** Partners file and read their own registrations (`any`); deciding and expiring are the firm's (`internal`). */
export function registrationRoutes(r: RouteBuilder, registrations: RegistrationService): void {
  r.get('/registrations', {
    summary: 'List deal registrations (a partner: its own)',
    tags: ['prm'],
    permission: 'prm.registrations:read',
    audience: 'any',
    description: 'Newest first, or by customer name with `sort=customerName` / `sort=-customerName`; `q` and `startsWith` match the customer name, case-insensitively.',
    query: z.strictObject({ ...pageQuery, status: z.enum(REGISTRATION_STATUSES).optional(), partnerId: z.uuid().optional(), ...textListQuery('customerName') }),
    response: pageOf(registrationSchema),
    handler: (ctx) => registrations.list(ctx, ctx.query),
  });
  r.post('/registrations', {
    summary: 'Register a deal (conflicts are detected at once)',
    tags: ['prm'],
    permission: 'prm.registrations:write',
    audience: 'any',
    body: createBody,
    response: registrationSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => registrations.submit(uow, ctx.body)),
  });
  r.get('/registrations/:id', {
    summary: 'Get a deal registration',
    tags: ['prm'],
    permission: 'prm.registrations:read',
    audience: 'any',
    params: idParams,
    response: registrationSchema,
    handler: (ctx) => registrations.get(ctx, ctx.params.id),
  });
  r.post('/registrations/:id/approve', {
    summary: 'Approve a deal registration; its protection period starts',
    tags: ['prm'],
    permission: 'prm.registrations:decide',
    params: idParams,
    body: z.strictObject({ reason: z.string().trim().min(1).max(2000).optional() }).optional(),
    response: registrationSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => registrations.decide(uow, ctx.params.id, 'approve', ctx.body?.reason, ctx.ifMatch)),
  });
  r.post('/registrations/:id/reject', {
    summary: 'Reject a deal registration with a reason the partner sees',
    tags: ['prm'],
    permission: 'prm.registrations:decide',
    params: idParams,
    body: z.strictObject({ reason: z.string().trim().min(1).max(2000) }),
    response: registrationSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => registrations.decide(uow, ctx.params.id, 'reject', ctx.body.reason, ctx.ifMatch)),
  });
  r.post('/registrations/expire', {
    summary: 'Expire approved registrations whose protection has run out (a job may call it)',
    tags: ['prm'],
    permission: 'prm.registrations:decide',
    response: z.object({ expired: z.array(registrationSchema) }),
    status: 200,
    handler: async (ctx) => ({ expired: await ctx.transaction((uow) => registrations.expireDue(uow)) }),
  });
}
