import { z } from 'zod';
import { idParams, ForbiddenError, ValidationError, newId, type RequestContext, type RouteBuilder } from '@rapport/core';
import { INDICATORS, INTERACTIONS, PERMISSIONS } from '../declarations.js';
import type { ResolvedHrmOptions } from '../options.js';
import { iso } from '../services/context.js';
import { aggregateExitReasons, quarterOf, type ExitRow } from '../services/exits.js';
import { activeEmployment, endEmployment } from '../services/org.js';
import { timestamp } from './schemas.js';
import { visibleEmployee } from './org.js';

export function exitRoutes(r: RouteBuilder, options: ResolvedHrmOptions): void {
  const reasons = options.exitReasons as [string, ...string[]];
  const counts = z.object({ interviews: z.number(), retained: z.number(), left: z.number(), reasons: z.record(z.string(), z.number()) });
  const interviewSchema = z.object({
    id: z.uuid(),
    employeeId: z.uuid(),
    unitId: z.uuid(),
    confidential: z.boolean(),
    /** null for a confidential interview: its reasons are served only aggregated. */
    reasons: z.array(z.string()).nullable(),
    outcome: z.enum(['retained', 'left']),
    conductedAt: z.string(),
    interactionId: z.uuid().nullable(),
  });

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
      end: timestamp.optional(),
      conductedAt: timestamp.optional(),
    }),
    response: interviewSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        refuseScoped(ctx);
        const body = ctx.body;
        if (new Set(body.reasons).size !== body.reasons.length) throw new ValidationError('reasons: each reason once', [{ path: 'reasons', message: 'duplicate reason' }]);
        // A confidential interview is dated by the clock: a chosen date could move it into a period already served.
        if (body.confidential && body.conductedAt) throw new ValidationError('conductedAt: a confidential interview is dated when it is recorded', [{ path: 'conductedAt', message: 'not allowed when confidential' }]);
        const employee = await visibleEmployee(ctx, ctx.params.id, uow.trx);
        const active = await activeEmployment(uow.trx, uow.tenantId, employee.id);
        if (body.outcome === 'left' && active && !body.end) throw new ValidationError('end: the last day is needed to end the employment', [{ path: 'end', message: 'required when the outcome is left' }]);
        if (body.outcome === 'retained' && !active) throw new ValidationError('outcome: the employment has already ended', [{ path: 'outcome', message: 'cannot be retained' }]);
        if (body.outcome === 'retained' && body.end) throw new ValidationError('end: a retained employee keeps the employment', [{ path: 'end', message: 'not allowed when retained' }]);
        const now = options.now();
        const row: ExitRow & { tenant_id: string; comment: string | null } = {
          tenant_id: uow.tenantId,
          id: newId(),
          employee_id: employee.id,
          unit_id: employee.employment!.unitId,
          reasons: body.reasons,
          confidential: body.confidential,
          outcome: body.outcome,
          conducted_at: body.conductedAt ? new Date(body.conductedAt) : now,
          interaction_id: null,
          comment: body.confidential ? (body.comment ?? null) : null,
        };
        const interviewer = ctx.principal.partyId ?? null;
        const interaction = await ctx.app.services.interactions.create(uow, {
          type: INTERACTIONS.exitInterview,
          occurredAt: row.conducted_at.toISOString(),
          direction: 'internal',
          subject: 'Exit interview',
          // The timeline never carries a confidential interview's reasons.
          summary: body.confidential ? null : `Reasons: ${body.reasons.join(', ')}`,
          attributes: { exitInterviewId: row.id, outcome: body.outcome },
          participants: [{ partyId: employee.id, role: 'employee' }, ...(interviewer && interviewer !== employee.id ? [{ partyId: interviewer, role: 'hr' }] : [])],
        });
        row.interaction_id = interaction.id;
        await uow.trx('hrm_exit_interviews').insert({ ...row, reasons: JSON.stringify(row.reasons) });
        if (body.comment && !body.confidential) {
          await ctx.app.services.observations.record(uow, {
            indicator: INDICATORS.exitComment,
            subjectId: employee.id,
            text: body.comment,
            observedAt: row.conducted_at.toISOString(),
            observerPartyId: interviewer && interviewer !== employee.id ? interviewer : null,
            interactionId: interaction.id,
            details: { exitInterviewId: row.id, reasons: body.reasons, outcome: body.outcome },
          });
        }
        if (body.outcome === 'left' && active) await endEmployment(ctx.app, uow, employee.id, body.end!, body.confidential ? null : body.reasons.join(', '));
        uow.emit('hrm.exit-interview.recorded', { exitInterviewId: row.id, employeeId: employee.id, outcome: body.outcome, confidential: body.confidential }, { type: 'hrm.employee', id: employee.id });
        return toInterview(row);
      }),
  });

  r.get('/employees/:id/exit-interviews', {
    summary: "An employee's exit interviews (confidential ones without their reasons)",
    permission: PERMISSIONS.exitRead,
    params: idParams,
    response: z.object({ data: z.array(interviewSchema) }),
    handler: async (ctx) => {
      refuseScoped(ctx);
      await visibleEmployee(ctx, ctx.params.id);
      const rows: ExitRow[] = await ctx.db('hrm_exit_interviews').where({ tenant_id: ctx.tenantId, employee_id: ctx.params.id }).orderBy(['conducted_at', 'id']).select('id', 'employee_id', 'unit_id', 'reasons', 'confidential', 'outcome', 'conducted_at', 'interaction_id');
      return { data: rows.map(toInterview) };
    },
  });

  r.get('/exit-interviews/reasons', {
    summary: 'Exit reasons and outcomes per unit for a quarter; confidential interviews only once the quarter ended and at the anonymity threshold',
    permission: PERMISSIONS.exitRead,
    query: z.strictObject({ period: z.string().regex(/^\d{4}-Q[1-4]$/).optional() }),
    response: z.object({
      period: z.string(),
      from: z.string(),
      to: z.string(),
      ended: z.boolean(),
      minGroupSize: z.number(),
      units: z.array(
        z.object({
          unitId: z.uuid(),
          open: counts,
          confidential: z.union([z.object({ suppressed: z.literal(true) }), counts.extend({ suppressed: z.literal(false), comments: z.array(z.string()) })]),
        }),
      ),
    }),
    handler: async (ctx) => {
      refuseScoped(ctx);
      const now = options.now();
      const { period, from, to } = quarterOf(ctx.query.period, now);
      const rows: Array<ExitRow & { comment: string | null }> = await ctx
        .db('hrm_exit_interviews')
        .where({ tenant_id: ctx.tenantId })
        .where('conducted_at', '>=', from)
        .where('conducted_at', '<', to)
        .select('unit_id', 'reasons', 'confidential', 'outcome', 'comment');
      const ended = to.getTime() <= now.getTime();
      return { period, from: from.toISOString(), to: to.toISOString(), ended, minGroupSize: options.minGroupSize, units: aggregateExitReasons(rows, options.exitReasons, { ended, minGroupSize: options.minGroupSize }) };
    },
  });
}

function refuseScoped(ctx: RequestContext<any, any, any>): void {
  if (ctx.principal.scopePartyId) throw new ForbiddenError("hrm: exit interviews are HR's (unscoped principals only)");
}

function toInterview(row: ExitRow) {
  return {
    id: row.id,
    employeeId: row.employee_id,
    unitId: row.unit_id,
    confidential: row.confidential,
    reasons: row.confidential ? null : row.reasons,
    outcome: row.outcome,
    conductedAt: iso(row.conducted_at)!,
    interactionId: row.interaction_id,
  };
}
