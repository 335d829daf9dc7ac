import { isoRequired, type QueryContext, type UnitOfWork } from '@rapport/core';
import type { SupplierScorecard, SupplierStanding } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import type { ResolvedPrmOptions } from '../options.js';
import { notFound } from './errors.js';
import type { Partnerships } from './partnerships.js';
import type { PortalParties } from './portal.js';

/** Score thresholds of the standings; `blocked` comes only from the relationship status. */
const STANDING_THRESHOLDS = { preferred: 85, approved: 70 } as const;

const round = (n: number) => Math.round(n * 100) / 100;

/** Price component: paying more than ordered costs 10 points per percent; paying less costs nothing. */
function priceScore(variance: number): number {
  return Math.max(0, Math.min(100, 100 - 10 * Math.max(0, variance)));
}

function standingOf(status: string, score: number | null): SupplierStanding {
  if (status === 'blocked') return 'blocked';
  if (score === null) return 'approved';
  if (score >= STANDING_THRESHOLDS.preferred) return 'preferred';
  if (score >= STANDING_THRESHOLDS.approved) return 'approved';
  return 'watch';
}

/** The supplier scorecard, computed from the recorded deliveries and quotes in a fixed number of queries. */
export class ScorecardService {
  constructor(
    private readonly deps: PrmDeps,
    private readonly options: ResolvedPrmOptions,
    private readonly portal: PortalParties,
    private readonly partnerships: Partnerships,
  ) {}

  async compute(ctx: QueryContext, supplierId: string, now = new Date()): Promise<SupplierScorecard> {
    await this.portal.requireActsFor(ctx, supplierId);
    const rel = await this.partnerships.latestSupply(ctx, supplierId);
    if (!rel) throw notFound('supplier', supplierId);
    const tables = this.deps.db.in(ctx);
    const { raw } = tables;

    const d = await tables('prm_deliveries as d')
      .join('prm_purchase_orders as o', 'o.id', 'd.purchase_order_id')
      .where('d.supplier_id', supplierId)
      .first(
        raw('count(*)::int as deliveries'),
        raw('count(*) filter (where d.received_at <= o.promised_at)::int as on_time'),
        raw('coalesce(sum(d.quantity_accepted), 0)::float8 as accepted'),
        raw('coalesce(sum(d.quantity_rejected), 0)::float8 as rejected'),
        raw('coalesce(sum(d.unit_price * (d.quantity_accepted + d.quantity_rejected)), 0)::float8 as paid'),
        raw('coalesce(sum(o.unit_price * (d.quantity_accepted + d.quantity_rejected)), 0)::float8 as ordered'),
      );
    const r = await tables('prm_rfq_invitations as i')
      .join('prm_rfqs as q', 'q.id', 'i.rfq_id')
      .leftJoin('prm_quotes as a', function () {
        this.on('a.rfq_id', 'i.rfq_id').andOn('a.supplier_id', 'i.supplier_id');
      })
      .where('i.supplier_id', supplierId)
      .where((w) => w.where('q.respond_by', '<=', now).orWhereNotNull('a.id'))
      .first(raw('count(*)::int as due'), raw('count(*) filter (where a.submitted_at <= q.respond_by)::int as answered'));
    const ratings: Array<{ label: string | null; text: string | null; observed_at: Date; observer_party_id: string | null }> = await this.deps.observations
      .query(ctx, { indicator: 'prm.supplier-rating', subjectType: 'relationship', subjectId: rel.id, visible: true })
      .orderBy([
        { column: 'observed_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
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
    return {
      supplierId,
      relationshipId: rel.id,
      relationshipStatus: rel.status,
      deliveries: d.deliveries,
      onTimeDelivery: orNull(onTime),
      quality: orNull(accepted),
      priceVariance: orNull(variance),
      rfqResponsiveness: orNull(responsiveness),
      score,
      standing: standingOf(rel.status, score),
      weights: w,
      ratings: ratings.map((o) => ({ label: o.label, text: o.text, observedAt: isoRequired(o.observed_at), observerPartyId: o.observer_party_id })),
    };
  }

  /** Records the quantitative figures as observations on the supply relationship (a snapshot for trends). */
  async snapshot(uow: UnitOfWork, supplierId: string): Promise<SupplierScorecard> {
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
      await this.deps.observations.record(uow, { indicator, subjectId: card.relationshipId, value, details: { standing: card.standing, weights: card.weights } });
    }
    return card;
  }
}
