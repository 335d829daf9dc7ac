import { z } from 'zod';
import { decimalNumber, idParams, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { MDF_STATUSES, mdfBudgetSchema, mdfRequestSchema } from '@rapport/prm-contract';
import type { MdfService } from '../services/mdf.js';

const amount = decimalNumber(18, 2).positive().max(1e13);

/** Partners read budgets, request and claim (`any`); budgets, approvals, rejections and payments are the firm's (`internal`). */
export function mdfRoutes(r: RouteBuilder, mdf: MdfService): void {
  r.get('/mdf/budgets', {
    summary: 'List MDF budgets (a partner: those of its program)',
    tags: ['prm'],
    permission: 'prm.mdf:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(mdfBudgetSchema),
    handler: (ctx) => mdf.listBudgets(ctx, ctx.query),
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
    response: mdfBudgetSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => mdf.createBudget(uow, ctx.body)),
  });
  r.get('/mdf/requests', {
    summary: 'List MDF requests (a partner: its own)',
    tags: ['prm'],
    permission: 'prm.mdf:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery, status: z.enum(MDF_STATUSES).optional(), partnerId: z.uuid().optional() }),
    response: pageOf(mdfRequestSchema),
    handler: (ctx) => mdf.listRequests(ctx, ctx.query),
  });
  r.post('/mdf/requests', {
    summary: 'Request market development funds for an activity',
    tags: ['prm'],
    permission: 'prm.mdf:write',
    audience: 'any',
    body: z.strictObject({ budgetId: z.uuid(), partnerId: z.uuid(), activity: z.string().trim().min(1).max(1000), amount }),
    response: mdfRequestSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => mdf.request(uow, ctx.body)),
  });
  r.get('/mdf/requests/:id', {
    summary: 'Get an MDF request',
    tags: ['prm'],
    permission: 'prm.mdf:read',
    audience: 'any',
    params: idParams,
    response: mdfRequestSchema,
    handler: (ctx) => mdf.getRequest(ctx, ctx.params.id),
  });
  r.post('/mdf/requests/:id/approve', {
    summary: 'Approve an MDF request: spends the budget, 409 when too little is left',
    tags: ['prm'],
    permission: 'prm.mdf:decide',
    params: idParams,
    body: z.strictObject({ reason: z.string().trim().min(1).max(2000).optional() }).optional(),
    response: mdfRequestSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => mdf.approve(uow, ctx.params.id, ctx.body?.reason)),
  });
  r.post('/mdf/requests/:id/reject', {
    summary: 'Reject an MDF request with a reason the partner sees',
    tags: ['prm'],
    permission: 'prm.mdf:decide',
    params: idParams,
    body: z.strictObject({ reason: z.string().trim().min(1).max(2000) }),
    response: mdfRequestSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => mdf.reject(uow, ctx.params.id, ctx.body.reason)),
  });
  r.post('/mdf/requests/:id/claim', {
    summary: 'Claim the spent amount with proof (the unspent rest returns to the budget)',
    tags: ['prm'],
    permission: 'prm.mdf:write',
    audience: 'any',
    params: idParams,
    body: z.strictObject({ amount: decimalNumber(18, 2).nonnegative().max(1e13), proof: z.string().trim().min(1).max(5000) }),
    response: mdfRequestSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => mdf.claim(uow, ctx.params.id, ctx.body)),
  });
  r.post('/mdf/requests/:id/pay', {
    summary: 'Mark a claim paid',
    tags: ['prm'],
    permission: 'prm.mdf:decide',
    params: idParams,
    response: mdfRequestSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => mdf.pay(uow, ctx.params.id)),
  });
}
