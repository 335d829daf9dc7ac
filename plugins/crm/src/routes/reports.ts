import { z } from 'zod';
import { isoTimestamp, type RouteBuilder } from '@rapport/core';
import { activityReportSchema, conversionReportSchema, forecastSchema, pipelineReportSchema, winRateSchema } from '@rapport/crm-contract';
import type { ReportService } from '../services/reports.js';

const tags = ['crm'];
const period = { from: isoTimestamp.optional(), to: isoTimestamp.optional() };

/** The firm's sales figures: for its own principals only (the default audience). */
export function reportRoutes(r: RouteBuilder, reports: ReportService): void {
  r.get('/reports/pipeline', {
    summary: 'Pipeline by stage: count, amount and weighted amount per currency',
    tags,
    permission: 'crm.reports:read',
    query: z.strictObject({ pipelineId: z.uuid() }),
    response: pipelineReportSchema,
    handler: (ctx) => reports.pipelineByStage(ctx, ctx.query.pipelineId),
  });

  r.get('/reports/conversion', {
    summary: 'Stage-to-stage conversion: of the deals that reached a stage, how many reached the next',
    tags,
    permission: 'crm.reports:read',
    query: z.strictObject({ pipelineId: z.uuid() }),
    response: conversionReportSchema,
    handler: (ctx) => reports.stageConversion(ctx, ctx.query.pipelineId),
  });

  r.get('/reports/win-rate', {
    summary: 'Won ÷ (won + lost) of the deals closed in a period',
    tags,
    permission: 'crm.reports:read',
    query: z.strictObject({ pipelineId: z.uuid().optional(), ownerPartyId: z.uuid().optional(), ...period }),
    response: winRateSchema,
    handler: (ctx) => reports.winRate(ctx, ctx.query),
  });

  r.get('/reports/forecast', {
    summary: 'Weighted forecast of open deals by month of expected close',
    tags,
    permission: 'crm.reports:read',
    query: z.strictObject({ pipelineId: z.uuid().optional(), ownerPartyId: z.uuid().optional() }),
    response: forecastSchema,
    handler: (ctx) => reports.forecastByMonth(ctx, ctx.query),
  });

  r.get('/reports/activities', {
    summary: 'Activities (calls, e-mails, meetings, notes) per owner in a period',
    tags,
    permission: 'crm.reports:read',
    query: z.strictObject(period),
    response: activityReportSchema,
    handler: (ctx) => reports.activitiesPerOwner(ctx, ctx.query),
  });
}
