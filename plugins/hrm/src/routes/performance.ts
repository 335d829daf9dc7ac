import { z } from 'zod';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
  decodeCursor,
  idParams,
  newId,
  pageOf,
  pageQuery,
  toPage,
  type QueryContext,
  type RouteBuilder,
} from '@rapport/core';
import { PERMISSIONS } from '../declarations.js';
import type { ResolvedHrmOptions } from '../options.js';
import { iso } from '../services/context.js';
import { activeEmployment, currentManagerId } from '../services/org.js';
import { DEFAULT_FORMULA, REVIEW_KINDS, finalScore, type ReviewKind, type ScoreFormula } from '../services/performance.js';
import { visibleEmployee } from './org.js';
import { timestamp } from './schemas.js';

const weight = z.number().min(0).max(100);

const cycleSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  periodStart: z.string(),
  periodEnd: z.string(),
  competencies: z.array(z.string()),
  scale: z.object({ name: z.string(), levels: z.array(z.string()) }),
  formula: z.object({ goals: z.number(), competencies: z.number(), reviewers: z.record(z.string(), z.number()), goalCap: z.number() }),
  closedAt: z.string().nullable(),
  createdAt: z.string(),
});
const goalSchema = z.object({ id: z.uuid(), cycleId: z.uuid(), employeeId: z.uuid(), title: z.string(), weight: z.number(), target: z.number(), actual: z.number().nullable(), version: z.number() });

interface CycleRow {
  id: string;
  name: string;
  period_start: Date;
  period_end: Date;
  competencies: string[];
  scale: { name: string; levels: string[] };
  formula: ScoreFormula;
  closed_at: Date | null;
  created_at: Date;
}

export function performanceRoutes(r: RouteBuilder, options: ResolvedHrmOptions): void {
  r.post('/review-cycles', {
    summary: 'Create a review cycle: competencies, their named rating scale and the final-score formula',
    permission: PERMISSIONS.reviewsManage,
    body: z.strictObject({
      name: z.string().trim().min(1).max(200),
      periodStart: timestamp,
      periodEnd: timestamp,
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
    response: cycleSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        if (Date.parse(ctx.body.periodEnd) <= Date.parse(ctx.body.periodStart)) throw new ValidationError('periodEnd: must be after periodStart', [{ path: 'periodEnd', message: 'not after periodStart' }]);
        if (new Set(ctx.body.scale.levels).size !== ctx.body.scale.levels.length) throw new ValidationError('scale.levels: must be distinct', [{ path: 'scale.levels', message: 'duplicate level' }]);
        const formula = ctx.body.formula ?? DEFAULT_FORMULA;
        if (formula.goals + formula.competencies === 0) throw new ValidationError('formula: goals and competencies cannot both weigh 0', [{ path: 'formula', message: 'all weights 0' }]);
        const row: CycleRow = { id: newId(), name: ctx.body.name, period_start: new Date(ctx.body.periodStart), period_end: new Date(ctx.body.periodEnd), competencies: ctx.body.competencies, scale: ctx.body.scale, formula, closed_at: null, created_at: options.now() };
        await uow.trx('hrm_review_cycles').insert({ ...row, tenant_id: uow.tenantId, competencies: JSON.stringify(row.competencies), scale: JSON.stringify(row.scale), formula: JSON.stringify(row.formula) });
        const cycle = toCycle(row);
        uow.emit('hrm.review-cycle.created', { cycle }, { type: 'hrm.review-cycle', id: cycle.id });
        return cycle;
      }),
  });

  r.get('/review-cycles', {
    summary: 'List review cycles (newest first); status=open|closed',
    permission: PERMISSIONS.reviewsRead,
    query: z.strictObject({ ...pageQuery, status: z.enum(['open', 'closed']).optional() }),
    response: pageOf(cycleSchema),
    handler: async (ctx) => {
      // Cycles are the firm's: a scoped caller sees them only while it is an employee.
      if (ctx.principal.scopePartyId && !(await activeEmployment(ctx.db, ctx.tenantId, ctx.principal.scopePartyId))) return { data: [], nextCursor: null };
      const after = decodeCursor(ctx.query.cursor, ['uuid']);
      const q = ctx.db('hrm_review_cycles').where({ tenant_id: ctx.tenantId });
      if (ctx.query.status === 'open') q.whereNull('closed_at');
      if (ctx.query.status === 'closed') q.whereNotNull('closed_at');
      if (after) q.where('id', '<', after[0]);
      const rows: CycleRow[] = await q.orderBy('id', 'desc').limit(ctx.query.limit + 1);
      return toPage(rows, ctx.query.limit, toCycle, (row) => [row.id]);
    },
  });

  r.get('/review-cycles/:id', {
    summary: 'Get a review cycle',
    permission: PERMISSIONS.reviewsRead,
    params: idParams,
    response: cycleSchema,
    handler: async (ctx) => {
      if (ctx.principal.scopePartyId && !(await activeEmployment(ctx.db, ctx.tenantId, ctx.principal.scopePartyId))) throw new NotFoundError('Review cycle', ctx.params.id);
      return toCycle(await getCycle(ctx.db, ctx.tenantId, ctx.params.id));
    },
  });

  r.post('/review-cycles/:id/close', {
    summary: 'Close a cycle: no more reviews; upward results become available',
    permission: PERMISSIONS.reviewsManage,
    params: idParams,
    response: cycleSchema,
    status: 200,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const cycle = await getCycle(uow.trx, uow.tenantId, ctx.params.id);
        if (cycle.closed_at) throw new ConflictError(`hrm: review cycle ${cycle.id} is already closed`);
        const closed = { ...cycle, closed_at: options.now() };
        await uow.trx('hrm_review_cycles').where({ tenant_id: uow.tenantId, id: cycle.id }).update({ closed_at: closed.closed_at });
        uow.emit('hrm.review-cycle.closed', { cycle: toCycle(closed) }, { type: 'hrm.review-cycle', id: cycle.id });
        return toCycle(closed);
      }),
  });

  r.post('/review-cycles/:id/goals', {
    summary: 'Set a goal (KPI) of an employee for the cycle: weight, target and, later, actual',
    permission: PERMISSIONS.reviewsManage,
    params: idParams,
    body: z.strictObject({ employeeId: z.uuid(), title: z.string().trim().min(1).max(300), weight: z.number().positive().max(1000), target: z.number().finite().refine((n) => n !== 0, 'target cannot be 0'), actual: z.number().finite().nullable().optional() }),
    response: goalSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        await getCycle(uow.trx, uow.tenantId, ctx.params.id);
        await visibleEmployee(ctx, ctx.body.employeeId, uow.trx);
        const row = { tenant_id: uow.tenantId, id: newId(), cycle_id: ctx.params.id, employee_id: ctx.body.employeeId, title: ctx.body.title, weight: ctx.body.weight, target: ctx.body.target, actual: ctx.body.actual ?? null, version: 1 };
        await uow.trx('hrm_goals').insert(row);
        const goal = toGoal(row);
        uow.emit('hrm.goal.set', { goal }, { type: 'hrm.goal', id: goal.id });
        return goal;
      }),
  });

  r.patch('/goals/:id', {
    summary: 'Record the actual of a goal (If-Match: its version)',
    permission: PERMISSIONS.reviewsManage,
    params: idParams,
    body: z.strictObject({ actual: z.number().finite().nullable().optional(), target: z.number().finite().refine((n) => n !== 0).optional(), weight: z.number().positive().max(1000).optional() }),
    requireIfMatch: true,
    response: goalSchema,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const row = await uow.trx('hrm_goals').where({ tenant_id: uow.tenantId, id: ctx.params.id }).forUpdate().first();
        if (!row) throw new NotFoundError('Goal', ctx.params.id);
        await visibleEmployee(ctx, row.employee_id, uow.trx).catch(() => {
          throw new NotFoundError('Goal', ctx.params.id);
        });
        if (row.version !== ctx.ifMatch) throw new PreconditionFailedError(`hrm: goal ${row.id} is at version ${row.version}`, { currentVersion: row.version });
        const patch = { ...(ctx.body.actual !== undefined && { actual: ctx.body.actual }), ...(ctx.body.target !== undefined && { target: ctx.body.target }), ...(ctx.body.weight !== undefined && { weight: ctx.body.weight }), version: row.version + 1 };
        await uow.trx('hrm_goals').where({ tenant_id: uow.tenantId, id: row.id }).update(patch);
        const goal = toGoal({ ...row, ...patch });
        uow.emit('hrm.goal.updated', { goal, previous: toGoal(row) }, { type: 'hrm.goal', id: goal.id });
        return goal;
      }),
  });

  r.post('/review-cycles/:id/reviews', {
    summary: 'Give a review as oneself: self, manager (of a report), peer, or upward (of one\'s manager, stored without the reviewer)',
    permission: PERMISSIONS.reviewsWrite,
    params: idParams,
    body: z.strictObject({ subjectId: z.uuid(), kind: z.enum(REVIEW_KINDS), ratings: z.record(z.string().max(100), z.string().max(100)), feedback: z.string().trim().min(1).max(20000).optional() }),
    response: z.object({ cycleId: z.uuid(), subjectId: z.uuid(), kind: z.enum(REVIEW_KINDS), submitted: z.literal(true) }),
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const reviewer = ctx.principal.scopePartyId ?? ctx.principal.partyId;
        if (!reviewer) throw new ForbiddenError('hrm: only a principal linked to an employee gives reviews');
        const cycle = await getCycle(uow.trx, uow.tenantId, ctx.params.id);
        if (cycle.closed_at) throw new ConflictError(`hrm: review cycle ${cycle.id} is closed`);
        const { subjectId, kind } = ctx.body;
        for (const [field, id] of [['reviewer', reviewer], ['subjectId', subjectId]] as const) {
          if (!(await activeEmployment(uow.trx, uow.tenantId, id))) throw new ValidationError(`${field}: ${id} is not a current employee`, [{ path: field, message: 'not employed' }]);
        }
        const relationOk =
          kind === 'self'
            ? reviewer === subjectId
            : kind === 'manager'
              ? (await currentManagerId(uow.trx, uow.tenantId, subjectId)) === reviewer
              : kind === 'upward'
                ? (await currentManagerId(uow.trx, uow.tenantId, reviewer)) === subjectId
                : reviewer !== subjectId;
        if (!relationOk) throw new ValidationError(`kind: a ${kind} review does not fit the reviewer and the subject`, [{ path: 'kind', message: 'wrong relation' }]);
        const unknown = Object.keys(ctx.body.ratings).filter((c) => !cycle.competencies.includes(c));
        const badLevel = Object.entries(ctx.body.ratings).filter(([, l]) => !cycle.scale.levels.includes(l));
        if (unknown.length || badLevel.length || Object.keys(ctx.body.ratings).length === 0) {
          throw new ValidationError(`ratings: rate the cycle's competencies on the ${cycle.scale.name} scale (${cycle.scale.levels.join(', ')})`, [
            ...unknown.map((c) => ({ path: `ratings.${c}`, message: 'not a competency of this cycle' })),
            ...badLevel.map(([c]) => ({ path: `ratings.${c}`, message: 'not a level of the scale' })),
          ]);
        }
        const given = await uow.trx('hrm_review_givers').insert({ tenant_id: uow.tenantId, cycle_id: cycle.id, subject_id: subjectId, reviewer_id: reviewer, kind }).onConflict(['tenant_id', 'cycle_id', 'subject_id', 'reviewer_id', 'kind']).ignore().returning('kind');
        if (given.length === 0) throw new ConflictError(`hrm: you already gave a ${kind} review of ${subjectId} in this cycle`);
        await uow.trx('hrm_reviews').insert({
          tenant_id: uow.tenantId,
          id: crypto.randomUUID(),
          cycle_id: cycle.id,
          subject_id: subjectId,
          reviewer_id: kind === 'upward' ? null : reviewer,
          kind,
          ratings: JSON.stringify(ctx.body.ratings),
          feedback: ctx.body.feedback ?? null,
        });
        uow.emit('hrm.review.submitted', { cycleId: cycle.id, subjectId, kind, reviewerId: kind === 'upward' ? null : reviewer }, { type: 'hrm.review-cycle', id: cycle.id });
        return { cycleId: cycle.id, subjectId, kind, submitted: true as const };
      }),
  });

  r.get('/review-cycles/:id/scores/:employeeId', {
    summary: "An employee's scores in a cycle: goals, competencies per reviewer kind, final (the cycle's formula)",
    permission: PERMISSIONS.reviewsRead,
    params: z.strictObject({ id: z.uuid(), employeeId: z.uuid() }),
    response: z.object({
      cycleId: z.uuid(),
      employeeId: z.uuid(),
      goals: z.array(goalSchema),
      goalScore: z.number().nullable(),
      byKind: z.record(z.string(), z.object({ reviews: z.number(), score: z.number().nullable(), suppressed: z.boolean().optional() })),
      competencyScore: z.number().nullable(),
      final: z.number().nullable(),
    }),
    handler: async (ctx) => {
      await visibleEmployee(ctx, ctx.params.employeeId);
      const cycle = await getCycle(ctx.db, ctx.tenantId, ctx.params.id);
      const { goals, reviews } = await loadForScore(ctx.db, ctx.tenantId, cycle.id, ctx.params.employeeId);
      // Upward results move as reviews arrive while the cycle is open, which would time them: closed cycles only.
      const score = finalScore(cycle.formula, goals, cycle.closed_at ? reviews : reviews.filter((r) => r.kind !== 'upward'), cycle.scale.levels, options.minGroupSize);
      if (!cycle.closed_at && reviews.some((r) => r.kind === 'upward')) score.byKind.upward = { reviews: 0, score: null, suppressed: true };
      return { cycleId: cycle.id, employeeId: ctx.params.employeeId, goals: goals.map(toGoal), goalScore: score.goals, byKind: score.byKind, competencyScore: score.competencies, final: score.final };
    },
  });

  r.get('/review-cycles/:id/feedback/:employeeId', {
    summary: 'Written feedback about an employee in a cycle; upward feedback unattributed and only from a group at the threshold',
    permission: PERMISSIONS.reviewsRead,
    params: z.strictObject({ id: z.uuid(), employeeId: z.uuid() }),
    response: z.object({
      attributed: z.array(z.object({ kind: z.string(), reviewerId: z.uuid(), feedback: z.string() })),
      upward: z.object({ suppressed: z.boolean(), feedback: z.array(z.string()) }),
    }),
    handler: async (ctx) => {
      await visibleEmployee(ctx, ctx.params.employeeId);
      const cycle = await getCycle(ctx.db, ctx.tenantId, ctx.params.id);
      const rows: Array<{ kind: ReviewKind; reviewer_id: string | null; feedback: string | null }> = await ctx
        .db('hrm_reviews')
        .where({ tenant_id: ctx.tenantId, cycle_id: ctx.params.id, subject_id: ctx.params.employeeId })
        .orderBy(['kind', 'feedback'])
        .select('kind', 'reviewer_id', 'feedback');
      const upward = rows.filter((r) => r.kind === 'upward');
      const suppressed = !cycle.closed_at || upward.length < options.minGroupSize;
      return {
        attributed: rows.filter((r) => r.kind !== 'upward' && r.feedback).map((r) => ({ kind: r.kind, reviewerId: r.reviewer_id!, feedback: r.feedback! })),
        upward: { suppressed, feedback: suppressed ? [] : upward.flatMap((r) => (r.feedback ? [r.feedback] : [])).sort() },
      };
    },
  });
}

async function getCycle(db: QueryContext['db'], tenantId: string, id: string): Promise<CycleRow> {
  const row: CycleRow | undefined = await db('hrm_review_cycles').where({ tenant_id: tenantId, id }).first();
  if (!row) throw new NotFoundError('Review cycle', id);
  return row;
}

async function loadForScore(db: QueryContext['db'], tenantId: string, cycleId: string, employeeId: string) {
  const goals = await db('hrm_goals').where({ tenant_id: tenantId, cycle_id: cycleId, employee_id: employeeId }).orderBy('id');
  const reviews: Array<{ kind: ReviewKind; ratings: Record<string, string> }> = await db('hrm_reviews').where({ tenant_id: tenantId, cycle_id: cycleId, subject_id: employeeId }).select('kind', 'ratings');
  return { goals, reviews };
}

function toCycle(row: CycleRow) {
  return { id: row.id, name: row.name, periodStart: iso(row.period_start)!, periodEnd: iso(row.period_end)!, competencies: row.competencies, scale: row.scale, formula: row.formula, closedAt: iso(row.closed_at), createdAt: iso(row.created_at)! };
}

function toGoal(row: { id: string; cycle_id: string; employee_id: string; title: string; weight: number; target: number; actual: number | null; version: number }) {
  return { id: row.id, cycleId: row.cycle_id, employeeId: row.employee_id, title: row.title, weight: Number(row.weight), target: Number(row.target), actual: row.actual === null ? null : Number(row.actual), version: row.version };
}

