import { z } from 'zod';
import { pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { ACTIVITY_TYPES } from '../declarations.js';
import { listActivities, recordActivity } from '../services/activities.js';
import { activitiesPerOwner, forecastByMonth, pipelineByStage, stageConversion, winRate } from '../services/reports.js';
import { interactionSchema, occurredAt } from './schemas.js';

const tags = ['crm'];
const moneyFigures = z.object({ currency: z.string(), count: z.number().int(), amount: z.number(), weightedAmount: z.number() });
const period = { from: occurredAt.optional(), to: occurredAt.optional() };

export function reportRoutes(r: RouteBuilder): void {
  r.post('/activities', {
    summary: 'Record a call, e-mail, meeting or note (owner defaults to the caller)',
    tags,
    permission: 'crm.activities:write',
    body: z.strictObject({
      type: z.enum(ACTIVITY_TYPES),
      ownerPartyId: z.uuid().nullable().optional(),
      accountId: z.uuid().optional(),
      contactIds: z.array(z.uuid()).max(100).optional(),
      attendeeIds: z.array(z.uuid()).max(100).optional(),
      occurredAt: occurredAt.optional(),
      channel: z.string().trim().min(1).max(50).nullable().optional(),
      direction: z.enum(['inbound', 'outbound', 'internal']).optional(),
      subject: z.string().max(500).nullable().optional(),
      summary: z.string().max(20000).nullable().optional(),
      relationshipId: z.uuid().nullable().optional(),
    }),
    response: interactionSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => recordActivity(ctx.app, uow, ctx.body)),
  });

  r.get('/activities', {
    summary: 'Calls, e-mails, meetings and notes, newest first (own activities only without crm.activities:all)',
    tags,
    permission: 'crm.activities:read',
    query: z.strictObject({ ...pageQuery, type: z.enum(ACTIVITY_TYPES).optional(), accountId: z.uuid().optional() }),
    response: pageOf(interactionSchema),
    handler: (ctx) => listActivities(ctx.app, ctx, ctx.query),
  });

  r.get('/reports/pipeline', {
    summary: 'Pipeline by stage: count, amount and weighted amount per currency',
    tags,
    permission: 'crm.reports:read',
    query: z.strictObject({ pipelineId: z.uuid() }),
    response: z.object({
      pipelineId: z.uuid(),
      stages: z.array(
        z.object({ stageId: z.uuid(), name: z.string(), position: z.number(), probability: z.number(), outcome: z.string(), count: z.number().int(), byCurrency: z.array(moneyFigures) }),
      ),
    }),
    handler: (ctx) => pipelineByStage(ctx.app, ctx, ctx.query.pipelineId),
  });

  r.get('/reports/conversion', {
    summary: 'Stage-to-stage conversion: of the deals that reached a stage, how many reached the next',
    tags,
    permission: 'crm.reports:read',
    query: z.strictObject({ pipelineId: z.uuid() }),
    response: z.object({
      pipelineId: z.uuid(),
      stages: z.array(
        z.object({
          stageId: z.uuid(),
          name: z.string(),
          outcome: z.enum(['open', 'won']),
          reached: z.number().int(),
          nextStageId: z.uuid().nullable(),
          advanced: z.number().int().nullable(),
          conversionRate: z.number().nullable(),
        }),
      ),
    }),
    handler: (ctx) => stageConversion(ctx.app, ctx, ctx.query.pipelineId),
  });

  r.get('/reports/win-rate', {
    summary: 'Won ÷ (won + lost) of the deals closed in a period',
    tags,
    permission: 'crm.reports:read',
    query: z.strictObject({ pipelineId: z.uuid().optional(), ownerPartyId: z.uuid().optional(), ...period }),
    response: z.object({ won: z.number().int(), lost: z.number().int(), winRate: z.number().nullable() }),
    handler: (ctx) => winRate(ctx.app, ctx, ctx.query),
  });

  r.get('/reports/forecast', {
    summary: 'Weighted forecast of open deals by month of expected close',
    tags,
    permission: 'crm.reports:read',
    query: z.strictObject({ pipelineId: z.uuid().optional(), ownerPartyId: z.uuid().optional() }),
    response: z.object({ data: z.array(moneyFigures.extend({ month: z.string().nullable() })) }),
    handler: (ctx) => forecastByMonth(ctx.app, ctx, ctx.query),
  });

  r.get('/reports/activities', {
    summary: 'Activities (calls, e-mails, meetings, notes) per owner in a period',
    tags,
    permission: 'crm.reports:read',
    query: z.strictObject(period),
    response: z.object({ data: z.array(z.object({ ownerPartyId: z.uuid(), total: z.number().int(), byType: z.record(z.string(), z.number().int()) })) }),
    handler: (ctx) => activitiesPerOwner(ctx.app, ctx, ctx.query),
  });
}
