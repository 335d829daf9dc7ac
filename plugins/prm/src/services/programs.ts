import { ConflictError, ForbiddenError, newId, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';
import { PARTNER_TYPE, portalParties, requireActsFor, selfPartyId } from './portal.js';
import { notFound } from './supply.js';
import { countCertifiedStaff } from './training.js';

/** What tier criteria can require; each is computed from PRM's own records. */
export const TIER_METRICS = ['partnerSourcedRevenue', 'approvedRegistrations', 'registrationApprovalRate', 'certifiedStaff'] as const;
export type TierMetric = (typeof TIER_METRICS)[number];

export interface Tier {
  name: string;
  criteria: Partial<Record<TierMetric, number>>;
  /** What the tier gives the partner, as percentages of its partner-sourced revenue (feeds the mutual scorecard). */
  benefits?: { marginPercent?: number; rebatePercent?: number };
}

export interface Program {
  id: string;
  name: string;
  description: string | null;
  tiers: Tier[];
  createdAt: string;
}

export interface TierStanding {
  partnerId: string;
  relationshipId: string;
  program: string;
  /** The tier on the partnership (set by the firm). */
  currentTier: string | null;
  /** The highest tier whose criteria the partner meets now. */
  qualifiedTier: string | null;
  metrics: Record<TierMetric, number>;
  nextTier: string | null;
  /** What is still missing for the next tier, per criterion (0 when met). */
  gap: Partial<Record<TierMetric, number>>;
}

/** Partner programs with tiers and criteria; the partner sees its own standing and gap. */
export class ProgramService {
  constructor(private readonly app: Rapport) {}

  async create(uow: UnitOfWork, input: { name: string; description?: string; tiers: Tier[] }): Promise<Program> {
    if (uow.principal.scopePartyId) throw new ForbiddenError('prm: a partner principal cannot define programs');
    const taken = await uow.trx('prm_programs').where({ tenant_id: uow.tenantId, name: input.name }).first('id');
    if (taken) throw new ConflictError(`prm: program ${input.name} exists`, { programId: taken.id });
    const row = { tenant_id: uow.tenantId, id: newId(), name: input.name, description: input.description ?? null, tiers: JSON.stringify(input.tiers), created_at: new Date() };
    await uow.trx('prm_programs').insert(row);
    const program = toProgram({ ...row, tiers: input.tiers });
    uow.emit('prm.program.created', { program }, { type: 'prm.program', id: program.id });
    return program;
  }

  async list(ctx: QueryContext): Promise<Program[]> {
    const q = ctx.db('prm_programs').where('tenant_id', ctx.tenantId).orderBy('name');
    const scope = ctx.principal.scopePartyId;
    if (scope) {
      // A partner sees the programs it is in (the criteria are the rules it plays by).
      q.whereIn(
        'name',
        ctx.db('rapport_relationships')
          .select(ctx.db.raw("attributes->>'program'"))
          .where({ tenant_id: ctx.tenantId, type: PARTNER_TYPE })
          .whereIn('to_party_id', portalParties(ctx.db, ctx.tenantId, scope)),
      );
    }
    return (await q).map(toProgram);
  }

  /** The partner's metrics, the tier they qualify for and the gap to the next one, in a fixed number of queries. */
  async standing(ctx: QueryContext, partnerId: string, now = new Date()): Promise<TierStanding> {
    await requireActsFor(ctx, partnerId);
    const self = await selfPartyId(ctx.db, ctx.tenantId);
    const rel = await ctx.db('rapport_relationships').where({ tenant_id: ctx.tenantId, type: PARTNER_TYPE, from_party_id: self, to_party_id: partnerId }).orderBy('created_at', 'desc').first('id', 'attributes');
    const programName: string | undefined = rel?.attributes?.program;
    if (!rel || !programName) throw notFound('partner program membership', partnerId);
    const programRow = await ctx.db('prm_programs').where({ tenant_id: ctx.tenantId, name: programName }).first();
    if (!programRow) throw notFound('program', programName);
    const program = toProgram(programRow);
    const since = new Date(now.getTime() - 365 * 86_400_000);
    const m = await ctx.db('prm_registrations')
      .where({ tenant_id: ctx.tenantId, partner_id: partnerId })
      .where('created_at', '>', since)
      .first(
        ctx.db.raw("coalesce(sum(value) filter (where status in ('approved', 'expired')), 0)::float8 as revenue"),
        ctx.db.raw("count(*) filter (where status in ('approved', 'expired'))::int as approved"),
        ctx.db.raw("count(*) filter (where status in ('approved', 'expired', 'rejected'))::int as decided"),
      );
    const metrics: Record<TierMetric, number> = {
      partnerSourcedRevenue: m.revenue,
      approvedRegistrations: m.approved,
      registrationApprovalRate: m.decided > 0 ? Math.round((10000 * m.approved) / m.decided) / 100 : 0,
      certifiedStaff: await countCertifiedStaff(ctx.db, ctx.tenantId, partnerId, now),
    };
    const meets = (tier: Tier) => Object.entries(tier.criteria).every(([k, min]) => metrics[k as TierMetric] >= (min ?? 0));
    let qualified = -1;
    program.tiers.forEach((tier, i) => {
      if (meets(tier)) qualified = i;
    });
    const next = program.tiers[qualified + 1];
    const gap: Partial<Record<TierMetric, number>> = {};
    if (next) for (const [k, min] of Object.entries(next.criteria)) gap[k as TierMetric] = Math.max(0, (min ?? 0) - metrics[k as TierMetric]);
    return {
      partnerId,
      relationshipId: rel.id,
      program: program.name,
      currentTier: rel.attributes?.tier ?? null,
      qualifiedTier: qualified >= 0 ? program.tiers[qualified].name : null,
      metrics,
      nextTier: next?.name ?? null,
      gap,
    };
  }
}

function toProgram(row: any): Program {
  return { id: row.id, name: row.name, description: row.description ?? null, tiers: typeof row.tiers === 'string' ? JSON.parse(row.tiers) : row.tiers, createdAt: new Date(row.created_at).toISOString() };
}
