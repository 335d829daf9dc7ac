import { ForbiddenError, type Observation, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';
import { PARTNER_TYPE, requireActsFor, selfPartyId } from './portal.js';
import { ProgramService, type Program, type TierStanding } from './programs.js';
import { notFound } from './supply.js';

const DAY_MS = 86_400_000;
/** The scorecard and the tier metrics look at the same trailing year. */
export const SCORECARD_WINDOW_DAYS = 365;

/**
 * Value in both directions of one partnership, over the trailing year. The partner reads
 * the same figures as the firm: what it brought (revenue), what it got (margin, rebates,
 * MDF, leads) and how the firm treated it (approval rate, time to decision).
 */
export interface PartnerScorecard {
  partnerId: string;
  relationshipId: string;
  periodStart: string;
  periodEnd: string;
  /** To the firm: value of the partner's registrations once approved. */
  partnerSourcedRevenue: number;
  /** To the partner: revenue × the margin and rebate percentages of its current tier (null without such terms). */
  marginEarned: number | null;
  rebatesEarned: number | null;
  /** To the partner: MDF claimed (claimed or paid requests). */
  mdfUsed: number;
  /** Of the registrations the firm decided, the share approved (null: none decided). */
  registrationApprovalRate: number | null;
  /** Mean days from submission to the firm's decision (first-to-file rejections at submission left out). */
  meanDaysToDecision: number | null;
  registrationsDecided: number;
  /** Of the lead offers that ended (accepted, declined or expired), the share accepted. */
  leadAcceptanceRate: number | null;
  leadsOffered: number;
  leadsAccepted: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export class PartnerScorecardService {
  constructor(private readonly app: Rapport) {}

  /** Five queries whatever the history: relationship, registrations, MDF, lead offers, program. */
  async compute(ctx: QueryContext, partnerId: string, now = new Date()): Promise<PartnerScorecard> {
    await requireActsFor(ctx, partnerId);
    const self = await selfPartyId(ctx.db, ctx.tenantId);
    const rel = await ctx.db('rapport_relationships')
      .where({ tenant_id: ctx.tenantId, type: PARTNER_TYPE, from_party_id: self, to_party_id: partnerId })
      .orderBy('created_at', 'desc')
      .first('id', 'attributes');
    if (!rel) throw notFound('partnership', partnerId);
    const since = new Date(now.getTime() - SCORECARD_WINDOW_DAYS * DAY_MS);
    const db = ctx.db;
    const reg = await db('prm_registrations')
      .where({ tenant_id: ctx.tenantId, partner_id: partnerId })
      .where('created_at', '>', since)
      .first(
        db.raw("coalesce(sum(value) filter (where status in ('approved', 'expired')), 0)::float8 as revenue"),
        db.raw("count(*) filter (where status in ('approved', 'expired'))::int as approved"),
        db.raw("count(*) filter (where status in ('approved', 'expired', 'rejected') and decided_at > created_at)::int as reviewed"),
        db.raw("count(*) filter (where status in ('approved', 'expired') and decided_at > created_at)::int as reviewed_approved"),
        db.raw("avg(extract(epoch from (decided_at - created_at))) filter (where decided_at > created_at)::float8 as decision_seconds"),
      );
    const mdf = await db('prm_mdf_requests')
      .where({ tenant_id: ctx.tenantId, partner_id: partnerId })
      .where('created_at', '>', since)
      .first(db.raw("coalesce(sum(claimed_amount) filter (where status in ('claimed', 'paid')), 0)::float8 as used"));
    const leads = await db('prm_lead_offers')
      .where({ tenant_id: ctx.tenantId, partner_id: partnerId })
      .where('offered_at', '>', since)
      .first(
        db.raw('count(*)::int as offered'),
        db.raw("count(*) filter (where status = 'accepted')::int as accepted"),
        db.raw("count(*) filter (where status in ('accepted', 'declined', 'expired') or (status = 'offered' and respond_by <= ?))::int as ended", [now]),
      );
    const terms = await this.tierTerms(ctx, rel.attributes ?? {});
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
  async snapshot(uow: UnitOfWork, partnerId: string, now = new Date()): Promise<{ scorecard: PartnerScorecard; observations: Observation[] }> {
    firmOnly(uow, 'record scorecard snapshots');
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
        await this.app.services.observations.record(uow, { indicator, subjectId: card.relationshipId, value, observedAt: now.toISOString(), details: { periodStart: card.periodStart, periodEnd: card.periodEnd } }),
      );
    }
    return { scorecard: card, observations };
  }

  /**
   * Records a tier evaluation as a `prm.tier-standing` observation: the value is the rank of
   * the tier the partner qualifies for (1 = lowest, 0 = none), the details say which tier,
   * the metrics and the gap. The tier on the partnership stays the firm's decision.
   */
  async evaluateTier(uow: UnitOfWork, partnerId: string, now = new Date()): Promise<{ standing: TierStanding; observation: Observation }> {
    firmOnly(uow, 'record tier evaluations');
    const standing = await new ProgramService(this.app).standing(uow, partnerId, now);
    const program = await uow.trx('prm_programs').where({ tenant_id: uow.tenantId, name: standing.program }).first('tiers');
    const tiers: Program['tiers'] = typeof program.tiers === 'string' ? JSON.parse(program.tiers) : program.tiers;
    const rank = standing.qualifiedTier === null ? 0 : tiers.findIndex((t) => t.name === standing.qualifiedTier) + 1;
    const observation = await this.app.services.observations.record(uow, {
      indicator: 'prm.tier-standing',
      subjectId: standing.relationshipId,
      value: rank,
      observedAt: now.toISOString(),
      details: { program: standing.program, qualifiedTier: standing.qualifiedTier, currentTier: standing.currentTier, nextTier: standing.nextTier, metrics: standing.metrics, gap: standing.gap },
    });
    return { standing, observation };
  }

  private async tierTerms(ctx: QueryContext, attributes: { program?: string; tier?: string }): Promise<{ marginPercent?: number; rebatePercent?: number } | null> {
    if (!attributes.program || !attributes.tier) return null;
    const row = await ctx.db('prm_programs').where({ tenant_id: ctx.tenantId, name: attributes.program }).first('tiers');
    if (!row) return null;
    const tiers: Program['tiers'] = typeof row.tiers === 'string' ? JSON.parse(row.tiers) : row.tiers;
    return tiers.find((t) => t.name === attributes.tier)?.benefits ?? null;
  }
}

function firmOnly(ctx: QueryContext, action: string): void {
  if (ctx.principal.scopePartyId) throw new ForbiddenError(`prm: a partner principal cannot ${action}`);
}
