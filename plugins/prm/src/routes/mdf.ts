import { z } from 'zod';
import { decimalNumber, idParams, pageOf, pageQuery, type Rapport, type RouteBuilder } from '@rapport/core';
import { MDF_STATUSES, MdfService } from '../services/mdf.js';

const amount = decimalNumber(18, 2).positive().max(1e13);
const budgetSchema = z.object({ id: z.uuid(), program: z.string(), period: z.string(), currency: z.string(), amount: z.number(), remaining: z.number(), createdAt: z.string() });
const requestSchema = z.object({
  id: z.uuid(),
  budgetId: z.uuid(),
  partnerId: z.uuid(),
  relationshipId: z.uuid(),
  activity: z.string(),
  amount: z.number(),
  status: z.enum(MDF_STATUSES),
  decisionReason: z.string().nullable(),
  claimedAmount: z.number().nullable(),
  proof: z.string().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const ctxOf = (ctx: { db: any; tenantId: string; principal: any }) => ({ db: ctx.db, tenantId: ctx.tenantId, principal: ctx.principal });

export function mdfRoutes(r: RouteBuilder): void {
  const mdf = (ctx: { app: Rapport }) => new MdfService(ctx.app);

  r.get('/mdf/budgets', {
    summary: 'List MDF budgets (a partner: those of its program)',
    tags: ['prm'],
    permission: 'prm.mdf:read',
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(budgetSchema),
    handler: (ctx) => mdf(ctx).listBudgets(ctxOf(ctx), ctx.query),
  });
  r.post('/mdf/budgets', {
    summary: 'Create an MDF budget for a program and period',
    tags: ['prm'],
    permission: 'prm.mdf:decide',
    body: z.strictObject({
      program: z.string().trim().min(1).max(100),
      period: z.string().trim().min(1).max(20),
      currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR'),
      amount,
    }),
    response: budgetSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => mdf(ctx).createBudget(uow, ctx.body)),
  });
  r.get('/mdf/requests', {
    summary: 'List MDF requests (a partner: its own)',
    tags: ['prm'],
    permission: 'prm.mdf:read',
    query: z.strictObject({ ...pageQuery, status: z.enum(MDF_STATUSES).optional(), partnerId: z.uuid().optional() }),
    response: pageOf(requestSchema),
    handler: (ctx) => mdf(ctx).listRequests(ctxOf(ctx), ctx.query),
  });
  r.post('/mdf/requests', {
    summary: 'Request market development funds for an activity',
    tags: ['prm'],
    permission: 'prm.mdf:write',
    body: z.strictObject({ budgetId: z.uuid(), partnerId: z.uuid(), activity: z.string().trim().min(1).max(1000), amount }),
    response: requestSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => mdf(ctx).request(uow, ctx.body)),
  });
  r.get('/mdf/requests/:id', {
    summary: 'Get an MDF request',
    tags: ['prm'],
    permission: 'prm.mdf:read',
    params: idParams,
    response: requestSchema,
    handler: (ctx) => mdf(ctx).getRequest(ctxOf(ctx), ctx.params.id),
  });
  r.post('/mdf/requests/:id/approve', {
    summary: 'Approve an MDF request: spends the budget, 409 when too little is left',
    tags: ['prm'],
    permission: 'prm.mdf:decide',
    params: idParams,
    body: z.strictObject({ reason: z.string().trim().min(1).max(2000).optional() }).optional(),
    response: requestSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => mdf(ctx).approve(uow, ctx.params.id, ctx.body?.reason)),
  });
  r.post('/mdf/requests/:id/reject', {
    summary: 'Reject an MDF request with a reason the partner sees',
    tags: ['prm'],
    permission: 'prm.mdf:decide',
    params: idParams,
    body: z.strictObject({ reason: z.string().trim().min(1).max(2000) }),
    response: requestSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => mdf(ctx).reject(uow, ctx.params.id, ctx.body.reason)),
  });
  r.post('/mdf/requests/:id/claim', {
    summary: 'Claim the spent amount with proof (the unspent rest returns to the budget)',
    tags: ['prm'],
    permission: 'prm.mdf:write',
    params: idParams,
    body: z.strictObject({ amount: decimalNumber(18, 2).nonnegative().max(1e13), proof: z.string().trim().min(1).max(5000) }),
    response: requestSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => mdf(ctx).claim(uow, ctx.params.id, ctx.body)),
  });
  r.post('/mdf/requests/:id/pay', {
    summary: 'Mark a claim paid',
    tags: ['prm'],
    permission: 'prm.mdf:decide',
    params: idParams,
    response: requestSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => mdf(ctx).pay(uow, ctx.params.id)),
  });
}
