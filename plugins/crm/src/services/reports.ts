import type { QueryContext } from '@rapport/core';
import { ACTIVITY_TYPES, type ActivityReport, type ConversionReport, type Forecast, type MoneyFigures, type PipelineReport, type Stage, type WinRate } from '@rapport/crm-contract';
import type { CrmDeps } from '../deps.js';
import type { ActivityService } from './activities.js';
import type { DealService } from './deals.js';
import type { PipelineService } from './pipelines.js';

/*
 * Every report is a fixed number of queries whatever the data size: the grouping happens in
 * SQL over the caller's visible deals (own deals only for a sales rep), never in a loop.
 * Amounts are never summed across currencies: each figure is per currency.
 */

const money = (v: unknown) => Math.round(Number(v ?? 0) * 100) / 100;

/** A stage a deal progresses through (a lost stage is an exit). */
type ProgressStage = Stage & { outcome: 'open' | 'won' };
const withOutcome =
  (outcome: ProgressStage['outcome']) =>
  (stage: Stage): stage is ProgressStage =>
    stage.outcome === outcome;

export interface DealReportFilter {
  pipelineId?: string;
  ownerPartyId?: string;
}

export class ReportService {
  constructor(
    private readonly deps: CrmDeps,
    private readonly deals: DealService,
    private readonly pipelines: PipelineService,
    private readonly activities: ActivityService,
  ) {}

  /** Open and closed deals per stage: count, amount, amount × stage probability. 3 queries. */
  async pipelineByStage(ctx: QueryContext, pipelineId: string): Promise<PipelineReport> {
    const pipeline = await this.pipelines.get(ctx, pipelineId);
    const { raw } = this.deps.db.in(ctx);
    const rows: Array<{ stage_id: string; currency: string; count: string | number; amount: string; weighted: string }> = await this.deals
      .visible(ctx)
      .join('crm_stages as s', 's.id', 'd.stage_id')
      .where('d.pipeline_id', pipelineId)
      .groupBy('d.stage_id', 'd.currency')
      .orderBy('d.currency')
      .select('d.stage_id', 'd.currency', raw('count(*) as count'), raw('sum(d.amount) as amount'), raw('sum(d.amount * s.probability / 100.0) as weighted'));
    return {
      pipelineId,
      stages: pipeline.stages.map((stage) => {
        const figures: MoneyFigures[] = rows
          .filter((r) => r.stage_id === stage.id)
          .map((r) => ({ currency: r.currency, count: Number(r.count), amount: money(r.amount), weightedAmount: money(r.weighted) }));
        return {
          stageId: stage.id,
          name: stage.name,
          position: stage.position,
          probability: stage.probability,
          outcome: stage.outcome,
          count: figures.reduce((n, f) => n + f.count, 0),
          byCurrency: figures,
        };
      }),
    };
  }

  /** Won ÷ (won + lost) among deals closed in [from, to). 1 query. */
  async winRate(ctx: QueryContext, filter: DealReportFilter & { from?: string; to?: string }): Promise<WinRate> {
    const { raw } = this.deps.db.in(ctx);
    const q = this.deals.visible(ctx).whereIn('d.status', ['won', 'lost']);
    if (filter.pipelineId) q.where('d.pipeline_id', filter.pipelineId);
    if (filter.ownerPartyId) q.where('d.owner_party_id', filter.ownerPartyId);
    if (filter.from) q.where('d.closed_at', '>=', filter.from);
    if (filter.to) q.where('d.closed_at', '<', filter.to);
    const row = await q.first(raw(`count(*) filter (where d.status = 'won') as won`), raw(`count(*) filter (where d.status = 'lost') as lost`));
    const won = Number(row?.won ?? 0);
    const lost = Number(row?.lost ?? 0);
    return { won, lost, winRate: won + lost === 0 ? null : won / (won + lost) };
  }

  /** Open deals by month of expected close: count, amount and weighted amount per currency. 1 query. */
  async forecastByMonth(ctx: QueryContext, filter: DealReportFilter): Promise<Forecast> {
    const { raw } = this.deps.db.in(ctx);
    const month = `to_char(d.expected_close, 'YYYY-MM')`;
    const q = this.deals
      .visible(ctx)
      .join('crm_stages as s', 's.id', 'd.stage_id')
      .where('d.status', 'open')
      .groupByRaw(`${month}, d.currency`)
      .orderByRaw(`${month} nulls last, d.currency`)
      .select(raw(`${month} as month`), 'd.currency', raw('count(*) as count'), raw('sum(d.amount) as amount'), raw('sum(d.amount * s.probability / 100.0) as weighted'));
    if (filter.pipelineId) q.where('d.pipeline_id', filter.pipelineId);
    if (filter.ownerPartyId) q.where('d.owner_party_id', filter.ownerPartyId);
    const rows: Array<{ month: string | null; currency: string; count: string | number; amount: string; weighted: string }> = await q;
    return { data: rows.map((r) => ({ month: r.month, currency: r.currency, count: Number(r.count), amount: money(r.amount), weightedAmount: money(r.weighted) })) };
  }

  /**
   * Calls, e-mails, meetings and notes per owner (participant role `owner`) in [from, to),
   * within the caller's `interactions` record scope; a rep counts only its own. 1 query.
   */
  async activitiesPerOwner(ctx: QueryContext, filter: { from?: string; to?: string }): Promise<ActivityReport> {
    const { interactions } = this.deps;
    const q = interactions
      .query(ctx, { type: ACTIVITY_TYPES, since: filter.from, until: filter.to, visible: true })
      .join(interactions.participantQuery(ctx, { role: 'owner' }).as('o'), 'o.interaction_id', 'interactions.id')
      .groupBy('o.party_id', 'interactions.type')
      .orderBy('o.party_id')
      .select('o.party_id', 'interactions.type')
      .count({ count: '*' });
    const rows: Array<{ party_id: string; type: string; count: string | number }> = await this.activities.ownOnly(ctx, q, 'interactions.id');
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
  async stageConversion(ctx: QueryContext, pipelineId: string): Promise<ConversionReport> {
    const pipeline = await this.pipelines.get(ctx, pipelineId);
    const steps = [...pipeline.stages.filter(withOutcome('open')), ...pipeline.stages.filter(withOutcome('won'))];
    const tables = this.deps.db.in(ctx);
    const rank = `case when s.outcome = 'won' then 1000000 + s.position else s.position end`;
    const deals = this.deals.visible(ctx).where('d.pipeline_id', pipelineId).select('d.id');
    const furthest = tables('crm_deal_stage_history as h')
      .join('crm_stages as s', 's.id', 'h.to_stage_id')
      .whereNot('s.outcome', 'lost')
      .whereIn('h.deal_id', deals)
      .groupBy('h.deal_id')
      .select('h.deal_id', tables.raw(`max(${rank}) as reach`));
    const rows: Array<{ id: string; reached: string | number }> = await tables('crm_stages as s')
      .leftJoin(furthest.as('f'), function () {
        this.on(tables.raw(`f.reach >= ${rank}`));
      })
      .where('s.pipeline_id', pipelineId)
      .whereNot('s.outcome', 'lost')
      .groupBy('s.id')
      .select('s.id', tables.raw('count(f.deal_id) as reached'));
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
}
