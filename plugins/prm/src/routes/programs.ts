import { z } from 'zod';
import type { Rapport, RouteBuilder } from '@rapport/core';
import { ProgramService, TIER_METRICS } from '../services/programs.js';

const criteria = z.strictObject(Object.fromEntries(TIER_METRICS.map((m) => [m, z.number().finite().nonnegative().optional()])) as Record<(typeof TIER_METRICS)[number], z.ZodOptional<z.ZodNumber>>);
const tierSchema = z.strictObject({ name: z.string().trim().min(1).max(100), criteria });
const programSchema = z.object({ id: z.uuid(), name: z.string(), description: z.string().nullable(), tiers: z.array(z.object({ name: z.string(), criteria: z.record(z.string(), z.number()) })), createdAt: z.string() });
const metricsSchema = z.object(Object.fromEntries(TIER_METRICS.map((m) => [m, z.number()])));
const ctxOf = (ctx: { db: any; tenantId: string; principal: any }) => ({ db: ctx.db, tenantId: ctx.tenantId, principal: ctx.principal });

export function programRoutes(r: RouteBuilder): void {
  const programs = (ctx: { app: Rapport }) => new ProgramService(ctx.app);

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
    params: z.strictObject({ partnerId: z.uuid() }),
    response: z.object({
      partnerId: z.uuid(),
      relationshipId: z.uuid(),
      program: z.string(),
      currentTier: z.string().nullable(),
      qualifiedTier: z.string().nullable(),
      metrics: metricsSchema,
      nextTier: z.string().nullable(),
      gap: z.record(z.string(), z.number()),
    }),
    handler: (ctx) => programs(ctx).standing(ctxOf(ctx), ctx.params.partnerId),
  });
}
