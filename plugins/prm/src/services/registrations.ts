import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationError,
  decodeCursor,
  newId,
  normalizeContactPoint,
  toPage,
  type FilterPayload,
  type Page,
  type QueryContext,
  type Rapport,
  type UnitOfWork,
} from '@rapport/core';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Registration, RegistrationConflict, RegistrationStatus, ResolvedPrmOptions } from '../types.js';
import { PARTNER_TYPE, normalizeName, requireActsFor, selfPartyId } from './portal.js';

export interface RegistrationInput {
  partnerId: string;
  customerName: string;
  customerDomain?: string;
  value: number;
  currency: string;
  expectedCloseDate: string;
  notes?: string;
}

export interface RegistrationListQuery {
  status?: RegistrationStatus;
  partnerId?: string;
  limit: number;
  cursor?: string;
}

interface RegistrationRow {
  id: string;
  partner_id: string;
  relationship_id: string;
  customer_name: string;
  customer_key: string;
  customer_domain: string | null;
  customer_party_id: string | null;
  value: string | number;
  currency: string;
  expected_close_date: string;
  notes: string | null;
  status: string;
  conflicts: RegistrationConflict[] | string;
  decision_reason: string | null;
  decided_at: Date | null;
  protected_until: Date | null;
  deal_id?: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const DAY_MS = 86_400_000;

const pluginConflictList = z.array(z.object({ reason: z.string().trim().min(1).max(100), message: z.string().max(2000), recordId: z.string().min(1).max(200).optional() })).max(100);

/** Deal registration: submission with conflict detection, decision, protection and expiry. */
export class RegistrationService {
  constructor(
    private readonly app: Rapport,
    private readonly options: ResolvedPrmOptions,
  ) {}

  visible(ctx: QueryContext): Knex.QueryBuilder {
    const query = ctx.db('prm_registrations').where('tenant_id', ctx.tenantId);
    return this.app.scopes.apply(query, ctx, 'prm.registrations', 'id');
  }

  async get(ctx: QueryContext, id: string): Promise<Registration> {
    const row = await this.visible(ctx).where('id', id).first();
    if (!row) throw new NotFoundError('prm registration', id);
    return this.present(ctx, row);
  }

  async list(ctx: QueryContext, query: RegistrationListQuery): Promise<Page<Registration>> {
    const q = this.visible(ctx).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(query.limit + 1);
    if (query.partnerId) q.where('partner_id', query.partnerId);
    if (query.status) this.whereStatus(q, query.status);
    const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
    if (after) q.whereRaw('(created_at, id) < (?, ?)', after);
    const rows: RegistrationRow[] = await q;
    return toPage(rows, query.limit, (r) => this.present(ctx, r), (r) => [r.created_at.toISOString(), r.id]);
  }

  async submit(uow: UnitOfWork, input: RegistrationInput): Promise<Registration> {
    await requireActsFor(uow, input.partnerId);
    const relationship = await uow.trx('rapport_relationships')
      .where({ tenant_id: uow.tenantId, type: PARTNER_TYPE, to_party_id: input.partnerId, status: 'active' })
      .first('id', 'from_party_id');
    if (!relationship) {
      throw new ValidationError(`prm: party ${input.partnerId} is not an active partner`, [{ path: 'partnerId', message: 'not an active partner' }]);
    }
    const domain = input.customerDomain ? normalizeContactPoint({ kind: 'domain', value: input.customerDomain }) : null;
    const key = normalizeName(input.customerName);
    if (!key) throw new ValidationError('prm: customerName needs letters or digits', [{ path: 'customerName', message: 'empty after normalization' }]);
    await this.lockCustomer(uow, key, domain);

    const now = new Date();
    const own = [...(await this.registrationConflicts(uow, { key, domain, partnerId: input.partnerId, now })), ...(await this.customerConflicts(uow, key, domain))];
    const customerPartyId = own.find((c) => c.kind === 'existing-customer')?.partyId ?? null;
    const conflicts = [...own, ...(await this.pluginConflicts(uow, { customerPartyId, customerName: input.customerName, customerDomain: domain, partnerPartyId: input.partnerId }))];
    const earlier = conflicts.find((c) => c.kind === 'registration');
    const autoReject = this.options.firstToFile && earlier !== undefined;
    const row: RegistrationRow & { tenant_id: string } = {
      tenant_id: uow.tenantId,
      id: newId(),
      partner_id: input.partnerId,
      relationship_id: relationship.id,
      customer_name: input.customerName,
      customer_key: key,
      customer_domain: domain,
      customer_party_id: customerPartyId,
      value: input.value,
      currency: input.currency,
      expected_close_date: input.expectedCloseDate,
      notes: input.notes ?? null,
      status: autoReject ? 'rejected' : 'submitted',
      conflicts: JSON.stringify(conflicts),
      decision_reason: autoReject ? `First to file: another partner registered this customer earlier (${earlier!.filedAt!.slice(0, 10)}).` : null,
      decided_at: autoReject ? now : null,
      protected_until: null,
      version: 1,
      created_at: now,
      updated_at: now,
    };
    await uow.trx('prm_registrations').insert(row);
    const registration = this.toRegistration({ ...row, conflicts });
    await this.recordStep(uow, registration, 'submitted');
    uow.emit('prm.registration.submitted', { registration }, { type: 'prm.registration', id: registration.id });
    if (autoReject) {
      await this.recordStep(uow, registration, 'rejected', registration.decisionReason ?? undefined);
      uow.emit('prm.registration.rejected', { registration }, { type: 'prm.registration', id: registration.id });
    }
    return this.present(uow, { ...row, conflicts });
  }

  async decide(uow: UnitOfWork, id: string, decision: 'approve' | 'reject', reason: string | undefined, expectedVersion?: number): Promise<Registration> {
    if (uow.principal.scopePartyId) throw new ForbiddenError('prm: a partner cannot decide on deal registrations');
    const row: RegistrationRow | undefined = await this.visible(uow).where('id', id).forUpdate().first();
    if (!row) throw new NotFoundError('prm registration', id);
    if (expectedVersion !== undefined && row.version !== expectedVersion) {
      throw new ConflictError(`prm registration ${id} is at version ${row.version}, not ${expectedVersion}`);
    }
    const current = this.toRegistration(row);
    if (current.status !== 'submitted') throw new ConflictError(`prm registration ${id} is ${current.status}; only a submitted registration can be decided`);
    const now = new Date();
    if (decision === 'approve') await this.checkApprovable(uow, row, now);
    const patch = {
      status: decision === 'approve' ? 'approved' : 'rejected',
      decision_reason: reason ?? null,
      decided_at: now,
      protected_until: decision === 'approve' ? new Date(now.getTime() + this.options.protectionDays * DAY_MS) : null,
      version: row.version + 1,
      updated_at: now,
    };
    let registration = this.toRegistration({ ...row, ...patch });
    let dealId: string | null = null;
    if (decision === 'approve') {
      // The documented extension point: CRM (when installed) turns the registration into a deal.
      ({ dealId } = await uow.filter('prm.registration.convert', { registration, dealId: null }));
      registration = { ...registration, dealId };
    }
    await uow.trx('prm_registrations').where({ tenant_id: uow.tenantId, id }).update({ ...patch, ...(dealId ? { deal_id: dealId } : {}) });
    const step = decision === 'approve' ? 'approved' : 'rejected';
    await this.recordStep(uow, registration, step, reason);
    uow.emit(`prm.registration.${step}`, { registration }, { type: 'prm.registration', id });
    return registration;
  }

  /** Marks approved registrations whose protection has run out as expired, with a timeline step each. */
  async expireDue(uow: UnitOfWork, now = new Date()): Promise<Registration[]> {
    if (uow.principal.scopePartyId) throw new ForbiddenError('prm: a partner cannot expire deal registrations');
    const rows: RegistrationRow[] = await uow.trx('prm_registrations')
      .where({ tenant_id: uow.tenantId, status: 'approved' })
      .where('protected_until', '<=', now)
      .update({ status: 'expired', updated_at: now, version: uow.trx.raw('version + 1') })
      .returning('*');
    const expired = rows.map((r) => this.toRegistration(r));
    for (const registration of expired) {
      await this.recordStep(uow, registration, 'expired');
      uow.emit('prm.registration.expired', { registration }, { type: 'prm.registration', id: registration.id });
    }
    return expired;
  }

  /**
   * Conflicts other plugins know of (CRM: an open direct deal), through the
   * `prm.registration.conflicts` filter in this transaction. They flag the registration for
   * the reviewer like an existing customer does; they do not trigger first-to-file.
   */
  private async pluginConflicts(uow: UnitOfWork, registration: FilterPayload<'prm.registration.conflicts'>['registration']): Promise<RegistrationConflict[]> {
    const result = await uow.filter('prm.registration.conflicts', { registration, conflicts: [] });
    const parsed = pluginConflictList.safeParse(result?.conflicts);
    if (!parsed.success) throw new Error(`prm: a prm.registration.conflicts filter returned invalid conflicts: ${parsed.error.message}`);
    return parsed.data.map((c) => ({ kind: c.reason, message: c.message, ...(c.recordId ? { recordId: c.recordId } : {}) }));
  }

  /** Serializes submissions and approvals for one customer, so first-to-file holds under races. */
  private async lockCustomer(uow: UnitOfWork, key: string, domain: string | null): Promise<void> {
    const keys = [`name:${key}`, ...(domain ? [`domain:${domain}`] : [])].sort();
    for (const k of keys) await uow.trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`prm:${uow.tenantId}:${k}`]);
  }

  private sameCustomer(q: Knex.QueryBuilder, key: string, domain: string | null): Knex.QueryBuilder {
    return q.where((w) => {
      w.where('customer_key', key);
      if (domain) w.orWhere('customer_domain', domain);
    });
  }

  /** Live registrations of the same customer by other partners: pending inside the window, or approved and protected. */
  private async registrationConflicts(ctx: QueryContext, at: { key: string; domain: string | null; partnerId: string; now: Date }): Promise<RegistrationConflict[]> {
    const windowStart = new Date(at.now.getTime() - this.options.protectionDays * DAY_MS);
    const q = ctx.db('prm_registrations').where('tenant_id', ctx.tenantId).whereNot('partner_id', at.partnerId);
    this.sameCustomer(q, at.key, at.domain).where((w) =>
      w.where((s) => s.where('status', 'submitted').where('created_at', '>', windowStart)).orWhere((a) => a.where('status', 'approved').where('protected_until', '>', at.now)),
    );
    const rows: RegistrationRow[] = await q.orderBy([{ column: 'created_at' }, { column: 'id' }]).select('id', 'created_at');
    return rows.map((r) => ({ kind: 'registration' as const, registrationId: r.id, filedAt: r.created_at.toISOString() }));
  }

  /**
   * An organization with that domain or name that already plays `customer` toward the self
   * party in some relationship (CRM's, an import's…): PRM needs no CRM to see it.
   */
  private async customerConflicts(ctx: QueryContext, key: string, domain: string | null): Promise<RegistrationConflict[]> {
    const self = await selfPartyId(ctx.db, ctx.tenantId);
    const candidates = ctx.db('rapport_parties as p')
      .select('p.id')
      .where({ 'p.tenant_id': ctx.tenantId, 'p.kind': 'organization' })
      .whereNull('p.archived_at')
      .where((w) => {
        w.whereRaw("trim(regexp_replace(lower(p.name), '[^[:alnum:]]+', ' ', 'g')) = ?", [key]);
        if (domain) {
          w.orWhereExists(
            ctx.db('rapport_contact_points as c').select(ctx.db.raw('1')).whereRaw('c.tenant_id = p.tenant_id and c.party_id = p.id').where({ 'c.kind': 'domain', 'c.normalized': domain }),
          );
        }
      });
    const rows: Array<{ id: string }> = await ctx.db('rapport_relationships as r')
      .distinct(ctx.db.raw("case when r.to_role = 'customer' then r.to_party_id else r.from_party_id end as id"))
      .where('r.tenant_id', ctx.tenantId)
      .where((w) =>
        w
          .where((a) => a.where('r.to_role', 'customer').where('r.from_party_id', self).whereIn('r.to_party_id', candidates))
          .orWhere((b) => b.where('r.from_role', 'customer').where('r.to_party_id', self).whereIn('r.from_party_id', candidates)),
      );
    return rows.map((r) => ({ kind: 'existing-customer' as const, partyId: r.id }));
  }

  private async checkApprovable(uow: UnitOfWork, row: RegistrationRow, now: Date): Promise<void> {
    await this.lockCustomer(uow, row.customer_key, row.customer_domain);
    const others = await this.registrationConflicts(uow, { key: row.customer_key, domain: row.customer_domain, partnerId: row.partner_id, now });
    const ids = others.map((o) => o.registrationId!);
    if (ids.length === 0) return;
    const live: RegistrationRow[] = await uow.trx('prm_registrations').where('tenant_id', uow.tenantId).whereIn('id', ids).select('id', 'status', 'created_at');
    const protectedOne = live.find((r) => r.status === 'approved');
    if (protectedOne) throw new ConflictError(`prm: registration ${protectedOne.id} of another partner already protects this customer`, { registrationId: protectedOne.id });
    const earlier = live.find((r) => r.created_at < row.created_at);
    if (this.options.firstToFile && earlier) {
      throw new ConflictError(`prm: first to file — decide the earlier registration ${earlier.id} first`, { registrationId: earlier.id });
    }
  }

  /** One interaction per step, on the partner's and the firm's timelines (and the submitter's). */
  private async recordStep(uow: UnitOfWork, registration: Registration, step: RegistrationStatus, reason?: string): Promise<void> {
    const self = await selfPartyId(uow.trx, uow.tenantId);
    const participants = [
      { partyId: registration.partnerId, role: 'partner' },
      { partyId: self, role: 'principal' },
    ];
    const submitter = uow.principal.scopePartyId;
    if (step === 'submitted' && submitter && submitter !== registration.partnerId) participants.push({ partyId: submitter, role: 'submitter' });
    await this.app.services.interactions.create(uow.unscoped(), {
      type: 'prm.deal-registration',
      direction: step === 'submitted' ? 'inbound' : 'outbound',
      subject: `Deal registration ${step}: ${registration.customerName}`,
      summary: reason ?? null,
      relationshipId: registration.relationshipId,
      participants,
      attributes: { registrationId: registration.id, step, ...(reason ? { reason } : {}) },
    });
  }

  private whereStatus(q: Knex.QueryBuilder, status: RegistrationStatus): void {
    const now = new Date();
    if (status === 'approved') q.where('status', 'approved').where('protected_until', '>', now);
    else if (status === 'expired') q.where((w) => w.where('status', 'expired').orWhere((a) => a.where('status', 'approved').where('protected_until', '<=', now)));
    else q.where('status', status);
  }

  /** A partner sees that a conflict exists and why, never whose registration it is. */
  private present(ctx: QueryContext, row: RegistrationRow): Registration {
    const registration = this.toRegistration(row);
    if (!ctx.principal.scopePartyId) return registration;
    return { ...registration, conflicts: registration.conflicts.map((c) => (c.message === undefined ? { kind: c.kind } : { kind: c.kind, message: c.message })) };
  }

  toRegistration(row: RegistrationRow): Registration {
    const conflicts = typeof row.conflicts === 'string' ? (JSON.parse(row.conflicts) as RegistrationConflict[]) : row.conflicts;
    const protectedUntil = row.protected_until ? new Date(row.protected_until) : null;
    // Protection runs out by itself; the stored status catches up when expireDue runs.
    const status = row.status === 'approved' && protectedUntil && protectedUntil <= new Date() ? 'expired' : (row.status as RegistrationStatus);
    return {
      id: row.id,
      partnerId: row.partner_id,
      relationshipId: row.relationship_id,
      customerName: row.customer_name,
      customerDomain: row.customer_domain,
      customerPartyId: row.customer_party_id,
      value: Number(row.value),
      currency: row.currency,
      expectedCloseDate: row.expected_close_date,
      notes: row.notes,
      status,
      conflicts,
      decisionReason: row.decision_reason,
      decidedAt: row.decided_at ? new Date(row.decided_at).toISOString() : null,
      protectedUntil: protectedUntil ? protectedUntil.toISOString() : null,
      dealId: row.deal_id ?? null,
      version: row.version,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }
}
