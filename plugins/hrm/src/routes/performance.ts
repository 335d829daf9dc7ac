import { z } from 'zod';
import { idParams, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { DEFAULT_FORMULA, REVIEW_KINDS, goalSchema, reviewCycleSchema, reviewFeedbackSchema, reviewReceiptSchema, scoresSchema } from '@rapport/hrm-contract';
import { PERMISSIONS } from '../declarations.js';
import type { HrmServices } from '../services/index.js';
import { hrmTimestamp } from './inputs.js';

const weight = z.number().min(0).max(100);
const employeeInCycle = z.strictObject({ id: z.uuid(), employeeId: z.uuid() });

/**
 * Review cycles, goals and reviews. Employees (scoped principals) give reviews as themselves and
 * read their own scores; with hrm.team:read a manager reads and sets its reports' (goals too).
 * Creating and closing cycles is the firm's.
 */
export function performanceRoutes(r: RouteBuilder, { reviews }: HrmServices): void {
  r.post('/review-cycles', {
    summary: 'Create a review cycle: competencies, their named rating scale and the final-score formula',
    permission: PERMISSIONS.reviewsManage,
    body: z.strictObject({
      name: z.string().trim().min(1).max(200),
      periodStart: hrmTimestamp,
      periodEnd: hrmTimestamp,
      competencies: z.array(z.string().trim().min(1).max(100)).min(1).max(50),
      scale: z.strictObject({ name: z.string().trim().min(1).max(100), levels: z.array(z.string().trim().min(1).max(100)).min(2).max(10) }),
      formula: z
        .strictObject({
          goals: weight,
          competencies: weight,
          reviewers: z.strictObject({ self: weight, manager: weight, peer: weight, upward: weight }),
          goalCap: z.number().min(1).max(10).default(DEFAULT_FORMULA.goalCap),
        })
        .optional(),
    }),
    response: reviewCycleSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => reviews.createCycle(uow, ctx.body)),
  });

  r.get('/review-cycles', {
    summary: 'List review cycles (newest first); status=open|closed',
    permission: PERMISSIONS.reviewsRead,
    audience: 'any',
    query: z.strictObject({ ...pageQuery, status: z.enum(['open', 'closed']).optional() }),
    response: pageOf(reviewCycleSchema),
    handler: (ctx) => reviews.listCycles(ctx, ctx.query),
  });

  r.get('/review-cycles/:id', {
    summary: 'Get a review cycle',
    permission: PERMISSIONS.reviewsRead,
    audience: 'any',
    params: idParams,
    response: reviewCycleSchema,
    handler: (ctx) => reviews.getCycle(ctx, ctx.params.id),
  });

  r.post('/review-cycles/:id/close', {
    summary: 'Close a cycle: no more reviews; upward results become available',
    permission: PERMISSIONS.reviewsManage,
    params: idParams,
    response: reviewCycleSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => reviews.closeCycle(uow, ctx.params.id)),
  });

  r.post('/review-cycles/:id/goals', {
    summary: 'Set a goal (KPI) of an employee for the cycle: weight, target and, later, actual',
    permission: PERMISSIONS.reviewsManage,
    audience: 'any',
    params: idParams,
    body: z.strictObject({
      employeeId: z.uuid(),
      title: z.string().trim().min(1).max(300),
      weight: z.number().positive().max(1000),
      target: z
        .number()
        .finite()
        .refine((n) => n !== 0, 'target cannot be 0'),
      actual: z.number().finite().nullable().optional(),
    }),
    response: goalSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => reviews.setGoal(uow, ctx.params.id, ctx.body)),
  });

  r.patch('/goals/:id', {
    summary: 'Record the actual of a goal (If-Match: its version)',
    permission: PERMISSIONS.reviewsManage,
    audience: 'any',
    params: idParams,
    body: z.strictObject({
      actual: z.number().finite().nullable().optional(),
      target: z
        .number()
        .finite()
        .refine((n) => n !== 0)
        .optional(),
      weight: z.number().positive().max(1000).optional(),
    }),
    requireIfMatch: true,
    response: goalSchema,
    handler: (ctx) => ctx.transaction((uow) => reviews.updateGoal(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });

  r.post('/review-cycles/:id/reviews', {
    summary: "Give a review as oneself: self, manager (of a report), peer, or upward (of one's manager, stored without the reviewer)",
    permission: PERMISSIONS.reviewsWrite,
    audience: 'any',
    params: idParams,
    body: z.strictObject({ subjectId: z.uuid(), kind: z.enum(REVIEW_KINDS), ratings: z.record(z.string().max(100), z.string().max(100)), feedback: z.string().trim().min(1).max(20000).optional() }),
    // An upward review names no one: no actor on its event, no one in the audit, a keyed idempotency record.
    anonymous: ({ body }) => body.kind === 'upward',
    response: reviewReceiptSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => reviews.submit(uow, ctx.params.id, ctx.body)),
  });

  r.get('/review-cycles/:id/scores/:employeeId', {
    summary: "An employee's scores in a cycle: goals, competencies per reviewer kind, final (the cycle's formula)",
    permission: PERMISSIONS.reviewsRead,
    audience: 'any',
    params: employeeInCycle,
    response: scoresSchema,
    handler: (ctx) => reviews.scores(ctx, ctx.params.id, ctx.params.employeeId),
  });

  r.get('/review-cycles/:id/feedback/:employeeId', {
    summary: 'Written feedback about an employee in a cycle; upward feedback unattributed and only from a group at the threshold',
    permission: PERMISSIONS.reviewsRead,
    audience: 'any',
    params: employeeInCycle,
    response: reviewFeedbackSchema,
    handler: (ctx) => reviews.feedback(ctx, ctx.params.id, ctx.params.employeeId),
  });
}
