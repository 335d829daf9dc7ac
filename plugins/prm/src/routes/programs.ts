import { z } from 'zod';
import type { Rapport, RouteBuilder } from '@rapport/core';
import { ProgramService, TIER_METRICS } from '../services/programs.js';
import { PartnerScorecardService } from '../services/partner-scorecard.js';
import { observationSchema } from '@rapport/core';

const criteria = z.strictObject(Object.fromEntries(TIER_METRICS.map((m) => [m, z.number().finite().nonnegative().optional()])) as Record<(typeof TIER_METRICS)[number], z.ZodOptional<z.ZodNumber>>);
const percent = z.number().finite().min(0).max(100).optional();
const benefits = z.strictObject({ marginPercent: percent, rebatePercent: percent });
const tierSchema = z.strictObject({ name: z.string().trim().min(1).max(100), criteria, benefits: benefits.optional() });
const programSchema = z.object({ id: z.uuid(), name: z.string(), description: z.string().nullable(), tiers: z.array(z.object({ name: z.string(), criteria: z.record(z.string(), z.number()), benefits: z.object({ marginPercent: z.number().optional(), rebatePercent: z.number().optional() }).optional() })), createdAt: z.string() });
const metricsSchema = z.object(Object.fromEntries(TIER_METRICS.map((m) => [m, z.number()])));
const partnerParams = z.strictObject({ partnerId: z.uuid() });
const standingSchema = z.object({
  partnerId: z.uuid(),
  relationshipId: z.uuid(),
  program: z.string(),
  currentTier: z.string().nullable(),
  qualifiedTier: z.string().nullable(),
  metrics: metricsSchema,
  nextTier: z.string().nullable(),
  gap: z.record(z.string(), z.number()),
});
const rate = z.number().nullable();
const partnerScorecardSchema = z.object({
  partnerId: z.uuid(),
  relationshipId: z.uuid(),
  periodStart: z.string(),
  periodEnd: z.string(),
  partnerSourcedRevenue: z.number(),
  marginEarned: z.number().nullable(),
  rebatesEarned: z.number().nullable(),
  mdfUsed: z.number(),
  registrationApprovalRate: rate,
  meanDaysToDecision: z.number().nullable(),
  registrationsDecided: z.number().int(),
  leadAcceptanceRate: rate,
  leadsOffered: z.number().int(),
  leadsAccepted: z.number().int(),
});
const ctxOf = (ctx: { db: any; tenantId: string; principal: any }) => ({ db: ctx.db, tenantId: ctx.tenantId, principal: ctx.principal });

export function programRoutes(r: RouteBuilder): void {
  const programs = (ctx: { app: Rapport }) => new ProgramService(ctx.app);
  const scorecards = (ctx: { app: Rapport }) => new PartnerScorecardService(ctx.app);

  r.get('/programs', {
    summary: 'List partner programs with their tiers and criteria (a partner: its own programs)',
    tags: ['prm'],
    permission: 'prm.partners:read',
    response: z.object({ data: z.array(programSchema) }),
    handler: async (ctx) => ({ data: await programs(ctx).list(ctxOf(ctx)) }),
  });
  r.post('/programs', {
    summary: 'Define a partner program: tiers lowest first, each with minimum criteria',
    tags: ['prm'],
    permission: 'prm.partners:write',
    body: z.strictObject({
      name: z.string().trim().min(1).max(100),
      description: z.string().max(5000).optional(),
      tiers: z.array(tierSchema).min(1).max(20).refine((tiers) => new Set(tiers.map((t) => t.name)).size === tiers.length, 'tier names must be unique'),
    }),
    response: programSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => programs(ctx).create(uow, ctx.body)),
  });
  r.get('/partners/:partnerId/tier', {
    summary: "A partner's tier: its metrics, the tier it qualifies for and the gap to the next",
    tags: ['prm'],
    permission: 'prm.partners:read',
    params: partnerParams,
    response: standingSchema,
    handler: (ctx) => programs(ctx).standing(ctxOf(ctx), ctx.params.partnerId),
  });
  r.post('/partners/:partnerId/tier/evaluations', {
    summary: 'Record the tier standing as a prm.tier-standing observation on the partnership (both sides read it)',
    tags: ['prm'],
    permission: 'prm.partners:write',
    params: partnerParams,
    response: z.object({ standing: standingSchema, observation: observationSchema }),
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => scorecards(ctx).evaluateTier(uow, ctx.params.partnerId)),
  });
  r.get('/partners/:partnerId/scorecard', {
    summary: 'The mutual-benefit scorecard of a partnership: value in both directions over the last year (the partner sees its own)',
    tags: ['prm'],
    permission: 'prm.scorecards:read',
    params: partnerParams,
    response: partnerScorecardSchema,
    handler: (ctx) => scorecards(ctx).compute(ctxOf(ctx), ctx.params.partnerId),
  });
  r.post('/partners/:partnerId/scorecard/snapshots', {
    summary: 'Record the mutual-benefit figures as indicator observations on the partnership',
    tags: ['prm'],
    permission: 'prm.scorecards:write',
    params: partnerParams,
    response: z.object({ scorecard: partnerScorecardSchema, observations: z.array(observationSchema) }),
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => scorecards(ctx).snapshot(uow, ctx.params.partnerId)),
  });
}
