import type { QueryContext, Rapport } from '@rapport/core';
import { ACTIVITY_TYPES } from '../declarations.js';
import { visibleDeals } from './deals.js';
import { ownActivitiesOnly } from './activities.js';
import { getPipeline } from './pipelines.js';

/*
 * Every report is a fixed number of queries whatever the data size: the grouping happens in
 * SQL over the caller's visible deals (own deals only for a sales rep), never in a loop.
 * Amounts are never summed across currencies: each figure is per currency.
 */

export interface MoneyFigures {
  currency: string;
  count: number;
  amount: number;
  weightedAmount: number;
}

const money = (v: unknown) => Math.round(Number(v ?? 0) * 100) / 100;

/** Open and closed deals per stage: count, amount, amount × stage probability. 3 queries. */
export async function pipelineByStage(app: Rapport, ctx: QueryContext, pipelineId: string) {
  const pipeline = await getPipeline(ctx, pipelineId);
  const rows: Array<{ stage_id: string; currency: string; count: string | number; amount: string; weighted: string }> = await visibleDeals(app, ctx)
    .join('crm_stages as s', function () {
      this.on('s.tenant_id', 'd.tenant_id').andOn('s.id', 'd.stage_id');
    })
    .where('d.pipeline_id', pipelineId)
    .groupBy('d.stage_id', 'd.currency')
    .orderBy('d.currency')
    .select('d.stage_id', 'd.currency', ctx.db.raw('count(*) as count'), ctx.db.raw('sum(d.amount) as amount'), ctx.db.raw('sum(d.amount * s.probability / 100.0) as weighted'));
  return {
    pipelineId,
    stages: pipeline.stages.map((stage) => {
      const figures: MoneyFigures[] = rows
        .filter((r) => r.stage_id === stage.id)
        .map((r) => ({ currency: r.currency, count: Number(r.count), amount: money(r.amount), weightedAmount: money(r.weighted) }));
      return { stageId: stage.id, name: stage.name, position: stage.position, probability: stage.probability, outcome: stage.outcome, count: figures.reduce((n, f) => n + f.count, 0), byCurrency: figures };
    }),
  };
}

/** Won ÷ (won + lost) among deals closed in [from, to). 1 query. */
export async function winRate(app: Rapport, ctx: QueryContext, filter: { pipelineId?: string; ownerPartyId?: string; from?: string; to?: string }) {
  const q = visibleDeals(app, ctx).whereIn('d.status', ['won', 'lost']);
  if (filter.pipelineId) q.where('d.pipeline_id', filter.pipelineId);
  if (filter.ownerPartyId) q.where('d.owner_party_id', filter.ownerPartyId);
  if (filter.from) q.where('d.closed_at', '>=', filter.from);
  if (filter.to) q.where('d.closed_at', '<', filter.to);
  const row = await q.first(ctx.db.raw(`count(*) filter (where d.status = 'won') as won`), ctx.db.raw(`count(*) filter (where d.status = 'lost') as lost`));
  const won = Number(row?.won ?? 0);
  const lost = Number(row?.lost ?? 0);
  return { won, lost, winRate: won + lost === 0 ? null : won / (won + lost) };
}

/** Open deals by month of expected close: count, amount and weighted amount per currency. 1 query. */
export async function forecastByMonth(app: Rapport, ctx: QueryContext, filter: { pipelineId?: string; ownerPartyId?: string }) {
  const month = `to_char(d.expected_close, 'YYYY-MM')`;
  const q = visibleDeals(app, ctx)
    .join('crm_stages as s', function () {
      this.on('s.tenant_id', 'd.tenant_id').andOn('s.id', 'd.stage_id');
    })
    .where('d.status', 'open')
    .groupByRaw(`${month}, d.currency`)
    .orderByRaw(`${month} nulls last, d.currency`)
    .select(ctx.db.raw(`${month} as month`), 'd.currency', ctx.db.raw('count(*) as count'), ctx.db.raw('sum(d.amount) as amount'), ctx.db.raw('sum(d.amount * s.probability / 100.0) as weighted'));
  if (filter.pipelineId) q.where('d.pipeline_id', filter.pipelineId);
  if (filter.ownerPartyId) q.where('d.owner_party_id', filter.ownerPartyId);
  const rows: Array<{ month: string | null; currency: string; count: string | number; amount: string; weighted: string }> = await q;
  return { data: rows.map((r) => ({ month: r.month, currency: r.currency, count: Number(r.count), amount: money(r.amount), weightedAmount: money(r.weighted) })) };
}

/** Calls, e-mails, meetings and notes per owner (participant role `owner`) in [from, to); a rep counts only its own. 1 query. */
export async function activitiesPerOwner(app: Rapport, ctx: QueryContext, filter: { from?: string; to?: string }) {
  const q = ctx
    .db('rapport_interactions as i')
    .join('rapport_interaction_participants as p', function () {
      this.on('p.tenant_id', 'i.tenant_id').andOn('p.interaction_id', 'i.id');
    })
    .where('i.tenant_id', ctx.tenantId)
    .where('p.role', 'owner')
    .whereIn('i.type', ACTIVITY_TYPES)
    .groupBy('p.party_id', 'i.type')
    .orderBy('p.party_id')
    .select('p.party_id', 'i.type', ctx.db.raw('count(*) as count'));
  if (filter.from) q.where('i.occurred_at', '>=', filter.from);
  if (filter.to) q.where('i.occurred_at', '<', filter.to);
  ownActivitiesOnly(ctx, q);
  const rows: Array<{ party_id: string; type: string; count: string | number }> = await app.scopes.apply(q, ctx, 'interactions', 'i.id');
  const owners = new Map<string, { ownerPartyId: string; total: number; byType: Record<string, number> }>();
  for (const r of rows) {
    const owner = owners.get(r.party_id) ?? { ownerPartyId: r.party_id, total: 0, byType: Object.fromEntries(ACTIVITY_TYPES.map((t) => [t, 0])) };
    owner.byType[r.type] = Number(r.count);
    owner.total += Number(r.count);
    owners.set(r.party_id, owner);
  }
  return { data: [...owners.values()] };
}

/**
 * Stage-to-stage conversion: of the visible deals of a pipeline that reached a stage, how
 * many reached the next one. A deal "reached" every stage up to the furthest it ever
 * entered (its stage history), so a deal opened directly in a later stage counts for the
 * earlier ones too. Progress runs through the open stages in order, then the won stage(s);
 * a lost stage is an exit, never progress. 3 queries (the pipeline and its stages, the figures).
 */
export async function stageConversion(app: Rapport, ctx: QueryContext, pipelineId: string) {
  const pipeline = await getPipeline(ctx, pipelineId);
  const steps = [...pipeline.stages.filter((s) => s.outcome === 'open'), ...pipeline.stages.filter((s) => s.outcome === 'won')];
  const rank = `case when s.outcome = 'won' then 1000000 + s.position else s.position end`;
  const deals = visibleDeals(app, ctx).where('d.pipeline_id', pipelineId).select('d.id');
  const furthest = ctx
    .db('crm_deal_stage_history as h')
    .join('crm_stages as s', function () {
      this.on('s.tenant_id', 'h.tenant_id').andOn('s.id', 'h.to_stage_id');
    })
    .where('h.tenant_id', ctx.tenantId)
    .whereNot('s.outcome', 'lost')
    .whereIn('h.deal_id', deals)
    .groupBy('h.deal_id')
    .select('h.deal_id', ctx.db.raw(`max(${rank}) as reach`));
  const rows: Array<{ id: string; reached: string | number }> = await ctx
    .db('crm_stages as s')
    .leftJoin(furthest.as('f'), function () {
      this.on(ctx.db.raw(`f.reach >= ${rank}`));
    })
    .where({ 's.tenant_id': ctx.tenantId, 's.pipeline_id': pipelineId })
    .whereNot('s.outcome', 'lost')
    .groupBy('s.id')
    .select('s.id', ctx.db.raw('count(f.deal_id) as reached'));
  const reached = new Map(rows.map((r) => [r.id, Number(r.reached)]));
  return {
    pipelineId,
    stages: steps.map((stage, i) => {
      const here = reached.get(stage.id) ?? 0;
      const next = steps[i + 1];
      const advanced = next ? (reached.get(next.id) ?? 0) : null;
      return {
        stageId: stage.id,
        name: stage.name,
        outcome: stage.outcome,
        reached: here,
        nextStageId: next?.id ?? null,
        advanced,
        conversionRate: advanced === null || here === 0 ? null : advanced / here,
      };
    }),
  };
}
