import { z } from 'zod';
import { booleanQuery, decimalNumber, idParams, isoDate, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { PLAN_ITEM_KINDS, PLAN_ITEM_STATUSES, PLAN_STATUSES, planDetailSchema, planSchema, sharedDocumentSchema } from '@rapport/prm-contract';
import type { DocumentService } from '../services/documents.js';
import type { PlanService } from '../services/plans.js';

const amount = decimalNumber(18, 2).min(-1e15).max(1e15).nullable();
const itemFields = {
  kind: z.enum(PLAN_ITEM_KINDS),
  title: z.string().trim().min(1).max(500),
  target: amount.optional(),
  actual: amount.optional(),
  unit: z.string().trim().min(1).max(50).nullable().optional(),
  dueDate: isoDate.nullable().optional(),
  status: z.enum(PLAN_ITEM_STATUSES).optional(),
};
const version = 'Send If-Match with the version you edited: 428 without it, 412 when the other side edited first.';

/**
 * Joint business plans and the shared information base: what both sides work on together,
 * so every route is open to the partner's portal (`any`), within its record scope.
 */
export function collaborationRoutes(r: RouteBuilder, services: { plans: PlanService; documents: DocumentService }): void {
  const { plans, documents } = services;

  r.get('/plans', {
    summary: 'List joint business plans (a partner: its own)',
    tags: ['prm'],
    permission: 'prm.plans:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery, partnerId: z.uuid().optional() }),
    response: pageOf(planSchema),
    handler: (ctx) => plans.list(ctx, ctx.query),
  });
  r.post('/plans', {
    summary: 'Start a joint business plan with a partner (either side may)',
    tags: ['prm'],
    permission: 'prm.plans:write',
    audience: 'any',
    body: z.strictObject({ partnerId: z.uuid(), title: z.string().trim().min(1).max(300), period: z.string().trim().min(1).max(50) }),
    response: planDetailSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => plans.create(uow, ctx.body)),
  });
  r.get('/plans/:id', {
    summary: 'Get a plan with its goals, milestones and the history of edits (who, which side, what)',
    tags: ['prm'],
    permission: 'prm.plans:read',
    audience: 'any',
    params: idParams,
    response: planDetailSchema,
    handler: (ctx) => plans.get(ctx, ctx.params.id),
  });
  r.patch('/plans/:id', {
    summary: 'Edit a plan (title, period, status)',
    description: version,
    tags: ['prm'],
    permission: 'prm.plans:write',
    audience: 'any',
    params: idParams,
    body: z.strictObject({ title: z.string().trim().min(1).max(300).optional(), period: z.string().trim().min(1).max(50).optional(), status: z.enum(PLAN_STATUSES).optional() }),
    response: planDetailSchema,
    handler: (ctx) => ctx.transaction((uow) => plans.update(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });
  r.post('/plans/:id/items', {
    summary: 'Add a goal or milestone to a plan',
    description: `${version} (the plan's version)`,
    tags: ['prm'],
    permission: 'prm.plans:write',
    audience: 'any',
    params: idParams,
    body: z.strictObject(itemFields),
    response: planDetailSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => plans.addItem(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });
  r.patch('/plans/:id/items/:itemId', {
    summary: 'Edit a goal or milestone (progress, status, target…)',
    description: `${version} (the item's version)`,
    tags: ['prm'],
    permission: 'prm.plans:write',
    audience: 'any',
    params: z.strictObject({ id: z.uuid(), itemId: z.uuid() }),
    body: z.strictObject({ ...itemFields, kind: itemFields.kind.optional(), title: itemFields.title.optional() }),
    response: planDetailSchema,
    handler: (ctx) => ctx.transaction((uow) => plans.updateItem(uow, ctx.params.id, ctx.params.itemId, ctx.body, ctx.ifMatch)),
  });

  r.get('/documents', {
    summary: 'The shared information base (a partner: what its program and tier allow, its own and shared contributions)',
    tags: ['prm'],
    permission: 'prm.documents:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery, contributorId: z.uuid().optional(), includeArchived: booleanQuery.optional() }),
    response: pageOf(sharedDocumentSchema),
    handler: (ctx) => documents.list(ctx, ctx.query),
  });
  r.post('/documents', {
    summary: 'Share a document or link: the firm by program and tier; a partner as its own contribution',
    tags: ['prm'],
    permission: 'prm.documents:write',
    audience: 'any',
    body: z.strictObject({
      title: z.string().trim().min(1).max(300),
      description: z.string().max(5000).optional(),
      url: z
        .url({ protocol: /^https?$/ })
        .max(2000)
        .optional(),
      content: z.string().min(1).max(100_000).optional(),
      program: z.string().trim().min(1).max(100).optional(),
      tiers: z.array(z.string().trim().min(1).max(100)).min(1).max(20).optional(),
      contributorId: z.uuid().optional(),
      sharedWithPartners: z.boolean().optional(),
    }),
    response: sharedDocumentSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => documents.create(uow, ctx.body)),
  });
  r.get('/documents/:id', {
    summary: 'Get a shared document',
    tags: ['prm'],
    permission: 'prm.documents:read',
    audience: 'any',
    params: idParams,
    response: sharedDocumentSchema,
    handler: (ctx) => documents.get(ctx, ctx.params.id),
  });
  r.post('/documents/:id/archive', {
    summary: 'Withdraw a document (a partner: only its own contributions)',
    tags: ['prm'],
    permission: 'prm.documents:write',
    audience: 'any',
    params: idParams,
    response: sharedDocumentSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => documents.archive(uow, ctx.params.id)),
  });
}
