import { z } from 'zod';
import { idParams, type RouteBuilder } from '@rapport/core';
import { conditionSchema, createRule, deleteRule, listRules, scoreParty, type LeadScoringRuntime } from '../services/scoring.js';

const tags = ['crm'];
const ruleSchema = z.object({ id: z.string(), name: z.string(), points: z.number().int(), condition: z.unknown(), createdAt: z.string().nullable(), source: z.enum(['data', 'plugin']) });

export function scoringRoutes(r: RouteBuilder, scoring: LeadScoringRuntime): void {
  r.get('/scoring/rules', {
    summary: 'Lead-scoring rules: those kept as data and those contributed by plugins',
    tags,
    permission: 'crm.scoring:read',
    response: z.object({ data: z.array(ruleSchema) }),
    handler: async (ctx) => ({
      data: [
        ...(await listRules(ctx)).map((rule) => ({ ...rule, source: 'data' as const })),
        ...scoring.contributedRules().map((rule) => ({ id: rule.key, name: rule.name, points: rule.points, condition: null, createdAt: null, source: 'plugin' as const })),
      ],
    }),
  });

  r.post('/scoring/rules', {
    summary: 'Add a lead-scoring rule (a condition on attributes or interactions → points)',
    tags,
    permission: 'crm.scoring:write',
    body: z.strictObject({ name: z.string().trim().min(1).max(200), points: z.number().int().min(-1000).max(1000), condition: conditionSchema }),
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => createRule(uow, ctx.body)),
  });

  r.delete('/scoring/rules/:id', {
    summary: 'Remove a lead-scoring rule',
    tags,
    permission: 'crm.scoring:write',
    params: idParams,
    status: 204,
    handler: async (ctx) => {
      await ctx.transaction((uow) => deleteRule(uow, ctx.params.id));
      return null;
    },
  });

  r.post('/scoring/parties/:id/recompute', {
    summary: "Recompute a party's lead score now and record it when it changed",
    tags,
    permission: 'crm.scoring:write',
    params: idParams,
    status: 200,
    response: z.object({ partyId: z.uuid(), score: z.number(), firedRules: z.array(z.object({ id: z.string(), name: z.string(), points: z.number() })), recorded: z.boolean() }),
    handler: (ctx) => ctx.transaction((uow) => scoreParty(ctx.app, uow, scoring, ctx.params.id)),
  });
}
