import type { QueryContext, Rapport, UnitOfWork } from '@rapport/core';
import type { ResolvedPrmOptions } from '../types.js';
import { SUPPLIER_TYPE, requireActsFor, selfPartyId } from './portal.js';
import { notFound, requireBuyer, type SupplierStanding } from './supply.js';

export interface SupplierScorecard {
  supplierId: string;
  relationshipId: string;
  relationshipStatus: string;
  deliveries: number;
  /** Percent of deliveries received by the promised date. */
  onTimeDelivery: number | null;
  /** Percent of delivered units accepted. */
  quality: number | null;
  /** Percent paid above (+) or below (−) the ordered price, weighted by delivered units. */
  priceVariance: number | null;
  /** Percent of RFQs answered by their deadline, among those due or answered. */
  rfqResponsiveness: number | null;
  /** Weighted 0–100 over the components that have data. */
  score: number | null;
  standing: SupplierStanding;
  weights: ResolvedPrmOptions['scorecardWeights'];
  ratings: Array<{ label: string | null; text: string | null; observedAt: string; observerPartyId: string | null }>;
}

/** Score thresholds of the standings; `blocked` comes only from the relationship status. */
export const STANDING_THRESHOLDS = { preferred: 85, approved: 70 } as const;

const round = (n: number) => Math.round(n * 100) / 100;

/** Price component: paying more than ordered costs 10 points per percent; paying less costs nothing. */
export function priceScore(variance: number): number {
  return Math.max(0, Math.min(100, 100 - 10 * Math.max(0, variance)));
}

/** The supplier scorecard, computed from the recorded deliveries and quotes in a fixed number of queries. */
export class ScorecardService {
  constructor(
    private readonly app: Rapport,
    private readonly options: ResolvedPrmOptions,
  ) {}

  async compute(ctx: QueryContext, supplierId: string, now = new Date()): Promise<SupplierScorecard> {
    await requireActsFor(ctx, supplierId);
    const self = await selfPartyId(ctx.db, ctx.tenantId);
    const rel = await ctx.db('rapport_relationships').where({ tenant_id: ctx.tenantId, type: SUPPLIER_TYPE, from_party_id: supplierId, to_party_id: self }).orderBy('created_at', 'desc').first('id', 'status');
    if (!rel) throw notFound('supplier', supplierId);

    const d = await ctx.db('prm_deliveries as d')
      .join('prm_purchase_orders as o', function () {
        this.on('o.tenant_id', 'd.tenant_id').andOn('o.id', 'd.purchase_order_id');
      })
      .where({ 'd.tenant_id': ctx.tenantId, 'd.supplier_id': supplierId })
      .first(
        ctx.db.raw('count(*)::int as deliveries'),
        ctx.db.raw('count(*) filter (where d.received_at <= o.promised_at)::int as on_time'),
        ctx.db.raw('coalesce(sum(d.quantity_accepted), 0)::float8 as accepted'),
        ctx.db.raw('coalesce(sum(d.quantity_rejected), 0)::float8 as rejected'),
        ctx.db.raw('coalesce(sum(d.unit_price * (d.quantity_accepted + d.quantity_rejected)), 0)::float8 as paid'),
        ctx.db.raw('coalesce(sum(o.unit_price * (d.quantity_accepted + d.quantity_rejected)), 0)::float8 as ordered'),
      );
    const r = await ctx.db('prm_rfq_invitations as i')
      .join('prm_rfqs as q', function () {
        this.on('q.tenant_id', 'i.tenant_id').andOn('q.id', 'i.rfq_id');
      })
      .leftJoin('prm_quotes as a', function () {
        this.on('a.tenant_id', 'i.tenant_id').andOn('a.rfq_id', 'i.rfq_id').andOn('a.supplier_id', 'i.supplier_id');
      })
      .where({ 'i.tenant_id': ctx.tenantId, 'i.supplier_id': supplierId })
      .where((w) => w.where('q.respond_by', '<=', now).orWhereNotNull('a.id'))
      .first(ctx.db.raw('count(*)::int as due'), ctx.db.raw('count(*) filter (where a.submitted_at <= q.respond_by)::int as answered'));
    const ratings = await this.app.scopes
      .apply(ctx.db('rapport_observations').where({ tenant_id: ctx.tenantId, subject_type: 'relationship', subject_id: rel.id, indicator: 'prm.supplier-rating' }), ctx, 'observations', 'id')
      .orderBy([{ column: 'observed_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(20)
      .select('label', 'text', 'observed_at', 'observer_party_id');

    // Unrounded figures feed the score; only the answer is rounded.
    const units = d.accepted + d.rejected;
    const onTime = d.deliveries > 0 ? (100 * d.on_time) / d.deliveries : null;
    const accepted = units > 0 ? (100 * d.accepted) / units : null;
    const variance = d.ordered > 0 ? (100 * (d.paid - d.ordered)) / d.ordered : null;
    const responsiveness = r.due > 0 ? (100 * r.answered) / r.due : null;
    const w = this.options.scorecardWeights;
    const parts: Array<[number | null, number]> = [
      [onTime, w.onTime],
      [accepted, w.quality],
      [variance === null ? null : priceScore(variance), w.price],
      [responsiveness, w.responsiveness],
    ];
    const present = parts.filter((p): p is [number, number] => p[0] !== null && p[1] > 0);
    const weight = present.reduce((sum, [, wt]) => sum + wt, 0);
    const score = weight > 0 ? round(present.reduce((sum, [v, wt]) => sum + v * wt, 0) / weight) : null;
    const orNull = (n: number | null) => (n === null ? null : round(n));
    const onTimeDelivery = orNull(onTime);
    const quality = orNull(accepted);
    const priceVariance = orNull(variance);
    const rfqResponsiveness = orNull(responsiveness);
    return {
      supplierId,
      relationshipId: rel.id,
      relationshipStatus: rel.status,
      deliveries: d.deliveries,
      onTimeDelivery,
      quality,
      priceVariance,
      rfqResponsiveness,
      score,
      standing: standingOf(rel.status, score),
      weights: w,
      ratings: ratings.map((o: any) => ({ label: o.label, text: o.text, observedAt: new Date(o.observed_at).toISOString(), observerPartyId: o.observer_party_id })),
    };
  }

  /** Records the quantitative figures as observations on the supply relationship (a snapshot for trends). */
  async snapshot(uow: UnitOfWork, supplierId: string): Promise<SupplierScorecard> {
    requireBuyer(uow, 'record scorecards');
    const card = await this.compute(uow, supplierId);
    const figures: Array<[string, number | null]> = [
      ['prm.on-time-delivery', card.onTimeDelivery],
      ['prm.quality', card.quality],
      ['prm.price-variance', card.priceVariance],
      ['prm.rfq-responsiveness', card.rfqResponsiveness],
      ['prm.supplier-score', card.score],
    ];
    for (const [indicator, value] of figures) {
      if (value === null) continue;
      await this.app.services.observations.record(uow, { indicator, subjectId: card.relationshipId, value, details: { standing: card.standing, weights: card.weights } });
    }
    return card;
  }
}

export function standingOf(status: string, score: number | null): SupplierStanding {
  if (status === 'blocked') return 'blocked';
  if (score === null) return 'approved';
  if (score >= STANDING_THRESHOLDS.preferred) return 'preferred';
  if (score >= STANDING_THRESHOLDS.approved) return 'approved';
  return 'watch';
}
