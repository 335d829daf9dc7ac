import { z } from 'zod';
import { idParams, type RouteBuilder } from '@rapport/core';
import { leadScoreSchema, listedScoreRuleSchema, scoreConditionSchema, scoreRuleSchema } from '@rapport/crm-contract';
import type { ScoringService } from '../services/scoring.js';

const tags = ['crm'];

export function scoringRoutes(r: RouteBuilder, scoring: ScoringService): void {
  r.get('/scoring/rules', {
    summary: 'Lead-scoring rules: those kept as data and those contributed by plugins',
    tags,
    permission: 'crm.scoring:read',
    response: z.object({ data: z.array(listedScoreRuleSchema) }),
    handler: async (ctx) => ({ data: await scoring.listed(ctx) }),
  });

  r.post('/scoring/rules', {
    summary: 'Add a lead-scoring rule (a condition on attributes or interactions → points)',
    tags,
    permission: 'crm.scoring:write',
    body: z.strictObject({ name: z.string().trim().min(1).max(200), points: z.number().int().min(-1000).max(1000), condition: scoreConditionSchema }),
    response: scoreRuleSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => scoring.createRule(uow, ctx.body)),
  });

  r.delete('/scoring/rules/:id', {
    summary: 'Remove a lead-scoring rule',
    tags,
    permission: 'crm.scoring:write',
    params: idParams,
    status: 204,
    handler: (ctx) => ctx.transaction((uow) => scoring.deleteRule(uow, ctx.params.id)),
  });

  r.post('/scoring/parties/:id/recompute', {
    summary: "Recompute a party's lead score now and record it when it changed",
    tags,
    permission: 'crm.scoring:write',
    params: idParams,
    status: 200,
    response: leadScoreSchema,
    handler: (ctx) => ctx.transaction((uow) => scoring.score(uow, ctx.params.id)),
  });
}
