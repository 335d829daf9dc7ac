import { ConflictError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { prm, type MdfVisibility, type Program, type Tier, type TierMetric, type TierStanding } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import { programRecord } from '../records.js';
import { notFound } from './errors.js';
import type { Partnerships } from './partnerships.js';
import { PARTNER_TYPE, type PortalParties } from './portal.js';
import type { TrainingService } from './training.js';

const PROGRAMS = 'prm_programs';
/** The tier metrics look at the trailing year. */
const METRICS_WINDOW_MS = 365 * 86_400_000;

/** Partner programs with tiers and criteria; the partner sees its own standing and gap. */
export class ProgramService {
  constructor(
    private readonly deps: PrmDeps,
    private readonly portal: PortalParties,
    private readonly partnerships: Partnerships,
    private readonly training: TrainingService,
  ) {}

  async create(uow: UnitOfWork, input: { name: string; description?: string; tiers: Tier[]; mdfVisibility?: MdfVisibility }): Promise<Program> {
    const tables = this.deps.db.in(uow);
    const taken = await tables(PROGRAMS).where('name', input.name).first('id');
    if (taken) throw new ConflictError(`prm: program ${input.name} exists`, { programId: taken.id });
    const [row] = await tables(PROGRAMS)
      .insert({
        id: newId(),
        name: input.name,
        description: input.description ?? null,
        tiers: JSON.stringify(input.tiers),
        mdf_visibility: input.mdfVisibility ?? 'own',
        created_at: new Date(),
      })
      .returning(programRecord.columns());
    const program = programRecord.fromRow(row);
    uow.emit(prm.events.programCreated, { program }, { type: 'prm.program', id: program.id });
    return program;
  }

  /** Changes what can change without touching partnerships: the description and what partners see of MDF. */
  async update(uow: UnitOfWork, id: string, patch: { description?: string | null; mdfVisibility?: MdfVisibility }): Promise<Program> {
    const tables = this.deps.db.in(uow);
    const row = await tables(PROGRAMS).where('id', id).forUpdate().first(programRecord.columns());
    if (!row) throw notFound('program', id);
    const previous = programRecord.fromRow(row);
    const changes: Record<string, unknown> = {};
    if (patch.description !== undefined) changes.description = patch.description;
    if (patch.mdfVisibility !== undefined) changes.mdf_visibility = patch.mdfVisibility;
    if (Object.keys(changes).length === 0) return previous;
    const [updated] = await tables(PROGRAMS).where('id', id).update(changes).returning(programRecord.columns());
    const program = programRecord.fromRow(updated);
    uow.emit(prm.events.programUpdated, { program, previous }, { type: 'prm.program', id: program.id });
    return program;
  }

  /** Programs by name; a partner sees the programs it is in (the criteria are the rules it plays by). */
  list(ctx: QueryContext, page: { limit: number; cursor?: string }): Promise<Page<Program>> {
    const tables = this.deps.db.in(ctx);
    const q = tables(PROGRAMS).select(programRecord.columns());
    const own = this.portal.ofCaller(ctx);
    if (own) {
      q.whereIn('name', this.deps.relationships.query(ctx, { type: PARTNER_TYPE }).whereIn('to_party_id', own).select(tables.raw("attributes->>'program'")));
    }
    return keysetPage(
      q,
      page,
      [
        { column: 'name', type: 'string' },
        { column: 'id', type: 'uuid' },
      ],
      (rows: object[]) => rows.map((r) => programRecord.fromRow(r)),
    );
  }

  async byName(ctx: QueryContext, name: string): Promise<Program | undefined> {
    const row = await this.deps.db.in(ctx)(PROGRAMS).where('name', name).first(programRecord.columns());
    return row ? programRecord.fromRow(row) : undefined;
  }

  /** The partner's metrics, the tier they qualify for and the gap to the next one, in a fixed number of queries. */
  async standing(ctx: QueryContext, partnerId: string, now = new Date()): Promise<TierStanding> {
    await this.portal.requireActsFor(ctx, partnerId);
    const rel = await this.partnerships.latest(ctx, partnerId);
    const programName = rel?.attributes.program;
    if (!rel || !programName) throw notFound('partner program membership', partnerId);
    const program = await this.byName(ctx, programName);
    if (!program) throw notFound('program', programName);
    const tables = this.deps.db.in(ctx);
    const { raw } = tables;
    const m = await tables('prm_registrations')
      .where('partner_id', partnerId)
      .where('created_at', '>', new Date(now.getTime() - METRICS_WINDOW_MS))
      .first(
        raw("coalesce(sum(value) filter (where status in ('approved', 'expired')), 0)::float8 as revenue"),
        raw("count(*) filter (where status in ('approved', 'expired'))::int as approved"),
        raw("count(*) filter (where status in ('approved', 'expired', 'rejected'))::int as decided"),
      );
    const metrics: Record<TierMetric, number> = {
      partnerSourcedRevenue: m.revenue,
      approvedRegistrations: m.approved,
      registrationApprovalRate: m.decided > 0 ? Math.round((10000 * m.approved) / m.decided) / 100 : 0,
      certifiedStaff: await this.training.certifiedStaff(ctx, partnerId, now),
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
      currentTier: rel.attributes.tier ?? null,
      qualifiedTier: qualified >= 0 ? program.tiers[qualified].name : null,
      metrics,
      nextTier: next?.name ?? null,
      gap,
    };
  }
}
