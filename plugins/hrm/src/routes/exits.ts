import { z } from 'zod';
import { idParams, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { exitInterviewSchema, exitReasonsSchema } from '@rapport/hrm-contract';
import { PERMISSIONS } from '../declarations.js';
import type { ResolvedHrmOptions } from '../options.js';
import type { HrmServices } from '../services/index.js';
import { hrmTimestamp } from './inputs.js';

/** Exit interviews: HR's alone (no route is open to scoped principals). */
export function exitRoutes(r: RouteBuilder, { exits }: HrmServices, options: ResolvedHrmOptions): void {
  const reasons = options.exitReasons as [string, ...string[]];

  r.post('/employees/:id/exit-interviews', {
    summary: 'Record an exit interview: reasons (named choices), comment, outcome. "retained" keeps the employment; "left" ends it (give `end`)',
    description: `Reasons: ${reasons.join(', ')}. A confidential interview keeps its reasons and comment out of the timeline, events and observations; they appear only in per-unit aggregates at the anonymity threshold, for ended quarters.`,
    permission: PERMISSIONS.exitWrite,
    params: idParams,
    body: z.strictObject({
      reasons: z.array(z.enum(reasons)).min(1).max(reasons.length),
      comment: z.string().trim().min(1).max(20000).optional(),
      outcome: z.enum(['retained', 'left']),
      confidential: z.boolean().default(false),
      end: hrmTimestamp.optional(),
      conductedAt: hrmTimestamp.optional(),
    }),
    response: exitInterviewSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => exits.record(uow, ctx.params.id, ctx.body)),
  });

  r.get('/employees/:id/exit-interviews', {
    summary: "An employee's exit interviews, oldest first (confidential ones without their reasons)",
    permission: PERMISSIONS.exitRead,
    params: idParams,
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(exitInterviewSchema),
    handler: (ctx) => exits.list(ctx, ctx.params.id, ctx.query),
  });

  r.get('/exit-interviews/reasons', {
    summary: 'Exit reasons and outcomes per unit for a quarter; confidential interviews only once the quarter ended and at the anonymity threshold',
    permission: PERMISSIONS.exitRead,
    query: z.strictObject({
      period: z
        .string()
        .regex(/^\d{4}-Q[1-4]$/)
        .optional(),
    }),
    response: exitReasonsSchema,
    handler: (ctx) => exits.reasons(ctx, ctx.query.period),
  });
}
