import { z } from 'zod';
import { idParams, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { MDF_VISIBILITIES, TIER_METRICS, partnerScorecardSchema, partnerScorecardSnapshotSchema, programSchema, tierEvaluationSchema, tierStandingSchema } from '@rapport/prm-contract';
import type { PartnerScorecardService } from '../services/partner-scorecard.js';
import type { ProgramService } from '../services/programs.js';

const criteria = z.strictObject(Object.fromEntries(TIER_METRICS.map((m) => [m, z.number().finite().nonnegative().optional()])) as Record<(typeof TIER_METRICS)[number], z.ZodOptional<z.ZodNumber>>);
const percent = z.number().finite().min(0).max(100).optional();
const tierInput = z.strictObject({ name: z.string().trim().min(1).max(100), criteria, benefits: z.strictObject({ marginPercent: percent, rebatePercent: percent }).optional() });
const partnerParams = z.strictObject({ partnerId: z.uuid() });

/** Partners read the programs they are in, their tier and their scorecard (`any`); defining programs and recording evaluations are the firm's (`internal`). */
export function programRoutes(r: RouteBuilder, services: { programs: ProgramService; scorecards: PartnerScorecardService }): void {
  const { programs, scorecards } = services;

  r.get('/programs', {
    summary: 'List partner programs with their tiers and criteria (a partner: its own programs)',
    tags: ['prm'],
    permission: 'prm.partners:read',
    audience: 'any',
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(programSchema),
    handler: (ctx) => programs.list(ctx, ctx.query),
  });
  r.post('/programs', {
    summary: 'Define a partner program: tiers lowest first, each with minimum criteria',
    tags: ['prm'],
    permission: 'prm.partners:write',
    body: z.strictObject({
      name: z.string().trim().min(1).max(100),
      description: z.string().max(5000).optional(),
      tiers: z
        .array(tierInput)
        .min(1)
        .max(20)
        .refine((tiers) => new Set(tiers.map((t) => t.name)).size === tiers.length, 'tier names must be unique'),
      mdfVisibility: z.enum(MDF_VISIBILITIES).optional(),
    }),
    response: programSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => programs.create(uow, ctx.body)),
  });
  r.patch('/programs/:id', {
    summary: "Change a program's description or what its partners see of MDF budgets (`own` figures only, or the remaining budget too: `shared`)",
    tags: ['prm'],
    permission: 'prm.partners:write',
    params: idParams,
    body: z
      .strictObject({ description: z.string().max(5000).nullable().optional(), mdfVisibility: z.enum(MDF_VISIBILITIES).optional() })
      .refine((b) => Object.keys(b).length > 0, 'name at least one of description, mdfVisibility'),
    response: programSchema,
    handler: (ctx) => ctx.transaction((uow) => programs.update(uow, ctx.params.id, ctx.body)),
  });
  r.get('/partners/:partnerId/tier', {
    summary: "A partner's tier: its metrics, the tier it qualifies for and the gap to the next",
    tags: ['prm'],
    permission: 'prm.partners:read',
    audience: 'any',
    params: partnerParams,
    response: tierStandingSchema,
    handler: (ctx) => programs.standing(ctx, ctx.params.partnerId),
  });
  r.post('/partners/:partnerId/tier/evaluations', {
    summary: 'Record the tier standing as a prm.tier-standing observation on the partnership (both sides read it)',
    tags: ['prm'],
    permission: 'prm.partners:write',
    params: partnerParams,
    response: tierEvaluationSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => scorecards.evaluateTier(uow, ctx.params.partnerId)),
  });
  r.get('/partners/:partnerId/scorecard', {
    summary: 'The mutual-benefit scorecard of a partnership: value in both directions over the last year (the partner sees its own)',
    tags: ['prm'],
    permission: 'prm.scorecards:read',
    audience: 'any',
    params: partnerParams,
    response: partnerScorecardSchema,
    handler: (ctx) => scorecards.compute(ctx, ctx.params.partnerId),
  });
  r.post('/partners/:partnerId/scorecard/snapshots', {
    summary: 'Record the mutual-benefit figures as indicator observations on the partnership',
    tags: ['prm'],
    permission: 'prm.scorecards:write',
    params: partnerParams,
    response: partnerScorecardSnapshotSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => scorecards.snapshot(uow, ctx.params.partnerId)),
  });
}
