import { z } from 'zod';
import { idParams, ForbiddenError, PreconditionFailedError, ValidationError, type RequestContext, type RouteBuilder } from '@rapport/core';
import { INDICATORS, PERMISSIONS, TYPES } from '../declarations.js';
import type { ResolvedHrmOptions } from '../options.js';
import { groupResults } from '../services/engagement.js';
import { finalScore, type ReviewKind, type ScoreFormula } from '../services/performance.js';
import { RETENTION_WEIGHTS, retentionRisk, type RetentionSignals } from '../services/retention.js';
import { RETENTION_WEIGHTS_KEY, retentionWeights } from '../services/settings.js';
import { responsesOf, toSurvey, type SurveyRow } from '../services/surveys.js';
import { visibleEmployee } from './org.js';

const riskSchema = z.object({
  employeeId: z.uuid(),
  asOf: z.string(),
  score: z.number(),
  level: z.enum(['low', 'medium', 'high']),
  factors: z.array(z.object({ key: z.string(), weight: z.number(), value: z.number(), contribution: z.number(), detail: z.string() })),
});

const weight = z.number().finite().min(0).max(100);
const weightsBody = z.strictObject({ tenure: weight, 'manager-change': weight, 'review-trend': weight, 'engagement-trend': weight, 'open-grievances': weight });
const weightsSchema = z.object({
  weights: z.object({ tenure: z.number(), 'manager-change': z.number(), 'review-trend': z.number(), 'engagement-trend': z.number(), 'open-grievances': z.number() }),
  defaults: z.object({ tenure: z.number(), 'manager-change': z.number(), 'review-trend': z.number(), 'engagement-trend': z.number(), 'open-grievances': z.number() }),
  custom: z.boolean(),
  version: z.number(),
});

export function retentionRoutes(r: RouteBuilder, options: ResolvedHrmOptions): void {
  r.get('/settings/retention-weights', {
    summary: "The tenant's retention-risk weights (the defaults until it sets its own)",
    permission: PERMISSIONS.retentionRead,
    response: weightsSchema,
    handler: async (ctx) => {
      const current = await retentionWeights(ctx.db, ctx.tenantId);
      return { ...current, defaults: { ...RETENTION_WEIGHTS } };
    },
  });

  r.put('/settings/retention-weights', {
    summary: 'Set the retention-risk weights of the tenant: every factor, each 0–100, summing to 100 (If-Match: the version, once set)',
    permission: PERMISSIONS.retentionWrite,
    body: weightsBody,
    response: weightsSchema,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        if (ctx.principal.scopePartyId) throw new ForbiddenError('hrm: retention weights are a tenant-wide setting');
        const total = Object.values(ctx.body).reduce((a, b) => a + b, 0);
        if (Math.abs(total - 100) > 1e-9) throw new ValidationError(`hrm: retention weights must sum to 100 (they sum to ${total}), so the score stays 0–100`, [{ path: '', message: `sum is ${total}` }]);
        const current = await uow.trx('hrm_settings').where({ tenant_id: uow.tenantId, key: RETENTION_WEIGHTS_KEY }).forUpdate().first('version');
        const version = current?.version ?? 0;
        if (current && ctx.ifMatch === undefined) throw new PreconditionFailedError('hrm: If-Match with the current version is required to change the retention weights', { currentVersion: version });
        if (ctx.ifMatch !== undefined && ctx.ifMatch !== version) throw new PreconditionFailedError(`hrm: retention weights are at version ${version}`, { currentVersion: version });
        const row = { tenant_id: uow.tenantId, key: RETENTION_WEIGHTS_KEY, value: JSON.stringify(ctx.body), version: version + 1, updated_at: new Date() };
        await uow.trx('hrm_settings').insert(row).onConflict(['tenant_id', 'key']).merge();
        uow.emit('hrm.settings.updated', { key: RETENTION_WEIGHTS_KEY, version: row.version }, { type: 'hrm.settings', id: RETENTION_WEIGHTS_KEY });
        return { weights: { ...ctx.body }, defaults: { ...RETENTION_WEIGHTS }, custom: true, version: row.version };
      }),
  });

  r.get('/employees/:id/retention-risk', {
    summary: 'Retention risk of an employee (0–100) with the factors behind it',
    permission: PERMISSIONS.retentionRead,
    params: idParams,
    response: riskSchema,
    handler: async (ctx) => {
      guard(ctx);
      await visibleEmployee(ctx, ctx.params.id);
      return assess(ctx, ctx.params.id, options);
    },
  });

  r.post('/employees/:id/retention-risk', {
    summary: 'Record the current retention risk as an hrm.retention-risk observation (the factors in its details)',
    permission: PERMISSIONS.retentionWrite,
    params: idParams,
    response: riskSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        guard(ctx);
        await visibleEmployee(ctx, ctx.params.id, uow.trx);
        const risk = await assess({ ...ctx, db: uow.trx } as RequestContext<any, any, any>, ctx.params.id, options);
        await ctx.app.services.observations.record(uow, {
          indicator: INDICATORS.retentionRisk,
          subjectId: ctx.params.id,
          value: risk.score,
          observedAt: risk.asOf,
          details: { level: risk.level, factors: risk.factors },
        });
        return risk;
      }),
  });
}

/** The person assessed never reads their own risk through a scoped principal. */
function guard(ctx: RequestContext<any, any, any>): void {
  if (ctx.principal.scopePartyId && ctx.principal.scopePartyId === ctx.params.id) throw new ForbiddenError('hrm: retention risk is for HR and managers');
}

async function assess(ctx: RequestContext<any, any, any>, employeeId: string, options: ResolvedHrmOptions) {
  const db = ctx.db;
  const tenantId = ctx.tenantId;
  const now = options.now();
  const employment = await db('rapport_relationships').where({ tenant_id: tenantId, type: TYPES.employment, to_party_id: employeeId, status: 'active' }).first('valid_from', 'attributes');
  const lines: Array<{ status: string; created_at: Date }> = await db('rapport_relationships').where({ tenant_id: tenantId, type: TYPES.reportsTo, to_party_id: employeeId }).orderBy('created_at', 'desc').select('status', 'created_at');
  const current = lines.find((l) => l.status === 'active');
  const changed = current && lines.some((l) => l.status !== 'active');

  const cycles: Array<{ id: string; formula: ScoreFormula; scale: { levels: string[] } }> = await db('hrm_review_cycles').where({ tenant_id: tenantId }).whereNotNull('closed_at').orderBy('closed_at', 'desc').limit(2).select('id', 'formula', 'scale');
  const cycleIds = cycles.map((c) => c.id);
  const goals = cycleIds.length ? await db('hrm_goals').where({ tenant_id: tenantId, employee_id: employeeId }).whereIn('cycle_id', cycleIds) : [];
  const reviews: Array<{ cycle_id: string; kind: ReviewKind; ratings: Record<string, string> }> = cycleIds.length
    ? await db('hrm_reviews').where({ tenant_id: tenantId, subject_id: employeeId }).whereIn('cycle_id', cycleIds).select('cycle_id', 'kind', 'ratings')
    : [];
  const reviewScores = cycles
    .map((c) => finalScore(c.formula, goals.filter((g: { cycle_id: string }) => g.cycle_id === c.id).map((g: any) => ({ weight: Number(g.weight), target: Number(g.target), actual: g.actual === null ? null : Number(g.actual) })), reviews.filter((x) => x.cycle_id === c.id), c.scale.levels, options.minGroupSize).final)
    .filter((s): s is number => s !== null)
    .reverse();

  const unitId: string | undefined = employment?.attributes?.unitId;
  let unitEnps: number[] = [];
  if (unitId) {
    const rows: SurveyRow[] = await db('hrm_surveys').where({ tenant_id: tenantId, status: 'closed' }).orderBy('closed_at', 'desc').limit(12);
    const surveys = rows.map(toSurvey).filter((s) => s.questions.some((q) => q.type === 'enps'));
    const responses = await responsesOf(db, tenantId, surveys.map((s) => s.id));
    unitEnps = surveys
      .map((s) => {
        const list = responses.get(s.id)!;
        if (list.length < s.minGroupSize) return null;
        const g = groupResults(s, list, (x) => x.unitId, s.minGroupSize).find((x) => x.key === unitId);
        return g && !g.suppressed ? g.enps : null;
      })
      .filter((e): e is number => e !== null)
      .slice(0, 2)
      .reverse();
  }
  const [{ n }] = await db('hrm_requests')
    .where({ tenant_id: tenantId, requester_party_id: employeeId })
    .whereIn('status', ['open', 'in-progress'])
    .where('resolution_due_at', '<', now)
    .count<{ n: string }[]>('* as n');

  const start = employment?.valid_from ? new Date(employment.valid_from) : null;
  const signals: RetentionSignals = {
    tenureMonths: start ? Math.max(0, Math.floor((now.getTime() - start.getTime()) / (30.44 * 86_400_000))) : null,
    daysSinceManagerChange: changed ? Math.max(0, Math.floor((now.getTime() - new Date(current!.created_at).getTime()) / 86_400_000)) : null,
    reviewScores: reviewScores.length === 2 ? reviewScores : [],
    unitEnps: unitEnps.length === 2 ? unitEnps : [],
    openBreachedRequests: Number(n),
  };
  const { weights } = await retentionWeights(db, tenantId);
  return { employeeId, asOf: now.toISOString(), ...retentionRisk(signals, weights) };
}
