import type { Observation, QueryContext, UnitOfWork } from '@rapport/core';
import { prm, type PartnerScorecard, type PartnerScorecardSnapshot, type TierEvaluation } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import { notFound } from './errors.js';
import type { FirmRelationship, Partnerships } from './partnerships.js';
import type { PortalParties } from './portal.js';
import type { ProgramService } from './programs.js';

const DAY_MS = 86_400_000;
/** The scorecard and the tier metrics look at the same trailing year. */
const SCORECARD_WINDOW_DAYS = 365;

const round2 = (n: number) => Math.round(n * 100) / 100;

/** The mutual-benefit scorecard of a partnership, and the tier evaluations recorded on it. */
export class PartnerScorecardService {
  constructor(
    private readonly deps: PrmDeps,
    private readonly portal: PortalParties,
    private readonly partnerships: Partnerships,
    private readonly programs: ProgramService,
  ) {}

  /** Five queries whatever the history: relationship, registrations, MDF, lead offers, program. */
  async compute(ctx: QueryContext, partnerId: string, now = new Date()): Promise<PartnerScorecard> {
    await this.portal.requireActsFor(ctx, partnerId);
    const rel = await this.partnerships.latest(ctx, partnerId);
    if (!rel) throw notFound('partnership', partnerId);
    const since = new Date(now.getTime() - SCORECARD_WINDOW_DAYS * DAY_MS);
    const tables = this.deps.db.in(ctx);
    const { raw } = tables;
    const reg = await tables('prm_registrations')
      .where('partner_id', partnerId)
      .where('created_at', '>', since)
      .first(
        raw("coalesce(sum(value) filter (where status in ('approved', 'expired')), 0)::float8 as revenue"),
        raw("count(*) filter (where status in ('approved', 'expired'))::int as approved"),
        raw("count(*) filter (where status in ('approved', 'expired', 'rejected') and decided_at > created_at)::int as reviewed"),
        raw("count(*) filter (where status in ('approved', 'expired') and decided_at > created_at)::int as reviewed_approved"),
        raw('avg(extract(epoch from (decided_at - created_at))) filter (where decided_at > created_at)::float8 as decision_seconds'),
      );
    const mdf = await tables('prm_mdf_requests')
      .where('partner_id', partnerId)
      .where('created_at', '>', since)
      .first(raw("coalesce(sum(claimed_amount) filter (where status in ('claimed', 'paid')), 0)::float8 as used"));
    const leads = await tables('prm_lead_offers')
      .where('partner_id', partnerId)
      .where('offered_at', '>', since)
      .first(
        raw('count(*)::int as offered'),
        raw("count(*) filter (where status = 'accepted')::int as accepted"),
        raw("count(*) filter (where status in ('accepted', 'declined', 'expired') or (status = 'offered' and respond_by <= ?))::int as ended", [now]),
      );
    const terms = await this.tierTerms(ctx, rel);
    const revenue = Number(reg.revenue);
    return {
      partnerId,
      relationshipId: rel.id,
      periodStart: since.toISOString(),
      periodEnd: now.toISOString(),
      partnerSourcedRevenue: revenue,
      marginEarned: terms?.marginPercent === undefined ? null : round2((revenue * terms.marginPercent) / 100),
      rebatesEarned: terms?.rebatePercent === undefined ? null : round2((revenue * terms.rebatePercent) / 100),
      mdfUsed: Number(mdf.used),
      registrationApprovalRate: reg.reviewed > 0 ? round2((100 * reg.reviewed_approved) / reg.reviewed) : null,
      meanDaysToDecision: reg.decision_seconds === null ? null : round2(Number(reg.decision_seconds) / 86_400),
      registrationsDecided: reg.reviewed,
      leadAcceptanceRate: leads.ended > 0 ? round2((100 * leads.accepted) / leads.ended) : null,
      leadsOffered: leads.offered,
      leadsAccepted: leads.accepted,
    };
  }

  /** Records the figures as observations on the partnership, so both sides see the trend. */
  async snapshot(uow: UnitOfWork, partnerId: string, now = new Date()): Promise<PartnerScorecardSnapshot> {
    const card = await this.compute(uow, partnerId, now);
    const earnings = card.marginEarned === null && card.rebatesEarned === null ? null : (card.marginEarned ?? 0) + (card.rebatesEarned ?? 0);
    const figures: Array<[string, number | null]> = [
      ['prm.partner-sourced-revenue', card.partnerSourcedRevenue],
      ['prm.partner-earnings', earnings],
      ['prm.mdf-used', card.mdfUsed],
      ['prm.registration-approval-rate', card.registrationApprovalRate],
      ['prm.registration-decision-days', card.meanDaysToDecision],
      ['prm.lead-acceptance-rate', card.leadAcceptanceRate],
    ];
    const observations: Observation[] = [];
    for (const [indicator, value] of figures) {
      if (value === null) continue;
      observations.push(
        await this.deps.observations.record(uow, {
          indicator,
          subjectId: card.relationshipId,
          value,
          observedAt: now.toISOString(),
          details: { periodStart: card.periodStart, periodEnd: card.periodEnd },
        }),
      );
    }
    const snapshot = { scorecard: card, observations };
    uow.emit(prm.events.scorecardRecorded, { snapshot }, { type: 'prm.partnership', id: card.relationshipId });
    return snapshot;
  }

  /**
   * Records a tier evaluation as a `prm.tier-standing` observation: the value is the rank of
   * the tier the partner qualifies for (1 = lowest, 0 = none), the details say which tier,
   * the metrics and the gap. The tier on the partnership stays the firm's decision.
   */
  async evaluateTier(uow: UnitOfWork, partnerId: string, now = new Date()): Promise<TierEvaluation> {
    const standing = await this.programs.standing(uow, partnerId, now);
    const tiers = (await this.programs.byName(uow, standing.program))?.tiers ?? [];
    const rank = standing.qualifiedTier === null ? 0 : tiers.findIndex((t) => t.name === standing.qualifiedTier) + 1;
    const observation = await this.deps.observations.record(uow, {
      indicator: 'prm.tier-standing',
      subjectId: standing.relationshipId,
      value: rank,
      observedAt: now.toISOString(),
      details: { program: standing.program, qualifiedTier: standing.qualifiedTier, currentTier: standing.currentTier, nextTier: standing.nextTier, metrics: standing.metrics, gap: standing.gap },
    });
    const evaluation = { standing, observation };
    uow.emit(prm.events.tierEvaluated, { evaluation }, { type: 'prm.partnership', id: standing.relationshipId });
    return evaluation;
  }

  /** The benefits of the partnership's current tier, if its program defines any. */
  private async tierTerms(ctx: QueryContext, rel: FirmRelationship): Promise<{ marginPercent?: number; rebatePercent?: number } | null> {
    const { program, tier } = rel.attributes;
    if (!program || !tier) return null;
    return (await this.programs.byName(ctx, program))?.tiers.find((t) => t.name === tier)?.benefits ?? null;
  }
}
