import type { Knex } from 'knex';
import {
  ConflictError,
  ValidationError,
  applyTextList,
  isoRequired,
  keysetPage,
  newId,
  normalizeContactPoint,
  type Page,
  type QueryContext,
  type TextListFilter,
  type UnitOfWork,
} from '@rapport/core';
import { prm, type Registration, type RegistrationConflict, type RegistrationConflictsPayload, type RegistrationStatus } from '@rapport/prm-contract';
import { z } from 'zod';
import type { PrmDeps } from '../deps.js';
import type { ResolvedPrmOptions } from '../options.js';
import { registrationRecord } from '../records.js';
import { notFound } from './errors.js';
import { newestFirst } from './pages.js';
import type { Partnerships } from './partnerships.js';
import type { PortalParties } from './portal.js';

export interface RegistrationInput {
  partnerId: string;
  customerName: string;
  customerDomain?: string;
  value: number;
  currency: string;
  expectedCloseDate: string;
  notes?: string;
}

export interface RegistrationListQuery extends TextListFilter {
  status?: RegistrationStatus;
  partnerId?: string;
  limit: number;
  cursor?: string;
}

const TABLE = 'prm_registrations';
const SCOPE = 'prm.registrations';
const DAY_MS = 86_400_000;

/**
 * A customer's name as registrations compare it: case and spacing folded and punctuation
 * dropped, so "ACME, Inc." and "acme inc" are one customer. Deliberately stricter than core's
 * `normalizeName` (which keeps punctuation); it is stored in `customer_key`, so registrations
 * filed earlier keep matching. `CUSTOMER_KEY_SQL` folds a party's name the same way.
 */
function customerKey(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
const CUSTOMER_KEY_SQL = "trim(regexp_replace(lower(??), '[^[:alnum:]]+', ' ', 'g'))";

const pluginConflictList = z.array(z.object({ reason: z.string().trim().min(1).max(100), message: z.string().max(2000), recordId: z.string().min(1).max(200).optional() })).max(100);

/** Deal registration: submission with conflict detection, decision, protection and expiry. */
export class RegistrationService {
  constructor(
    private readonly deps: PrmDeps,
    private readonly options: ResolvedPrmOptions,
    private readonly portal: PortalParties,
    private readonly partnerships: Partnerships,
  ) {}

  async get(ctx: QueryContext, id: string): Promise<Registration> {
    const row = await this.visible(ctx).where('id', id).first(registrationRecord.columns());
    if (!row) throw notFound('registration', id);
    return this.present(ctx, row);
  }

  list(ctx: QueryContext, query: RegistrationListQuery): Promise<Page<Registration>> {
    const q = this.visible(ctx).select(registrationRecord.columns());
    if (query.partnerId) q.where('partner_id', query.partnerId);
    if (query.status) whereStatus(q, query.status);
    const keys = applyTextList(q, 'customer_name', 'id', query, newestFirst());
    return keysetPage(q, query, keys, (rows: object[]) => rows.map((r) => this.present(ctx, r)));
  }

  async submit(uow: UnitOfWork, input: RegistrationInput): Promise<Registration> {
    await this.portal.requireActsFor(uow, input.partnerId);
    const partnership = await this.partnerships.active(uow, input.partnerId);
    if (!partnership) {
      throw new ValidationError(`prm: party ${input.partnerId} is not an active partner`, [{ path: 'partnerId', message: 'not an active partner' }]);
    }
    const domain = input.customerDomain ? normalizeContactPoint({ kind: 'domain', value: input.customerDomain }) : null;
    const key = customerKey(input.customerName);
    if (!key) throw new ValidationError('prm: customerName needs letters or digits', [{ path: 'customerName', message: 'empty after normalization' }]);
    await this.lockCustomer(uow, key, domain);

    const now = new Date();
    const own = [...(await this.registrationConflicts(uow, { key, domain, partnerId: input.partnerId, now })), ...(await this.customerConflicts(uow, key, domain))];
    const customerPartyId = own.find((c) => c.kind === 'existing-customer')?.partyId ?? null;
    const conflicts = [...own, ...(await this.pluginConflicts(uow, { customerPartyId, customerName: input.customerName, customerDomain: domain, partnerPartyId: input.partnerId }))];
    const earlier = conflicts.find((c) => c.kind === 'registration');
    const autoReject = this.options.firstToFile && earlier !== undefined;
    const [row] = await this.deps.db
      .in(uow)(TABLE)
      .insert({
        id: newId(),
        partner_id: input.partnerId,
        relationship_id: partnership.id,
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
        decision_reason: autoReject ? `First to file: another partner registered this customer earlier (${earlier.filedAt!.slice(0, 10)}).` : null,
        decided_at: autoReject ? now : null,
        protected_until: null,
        version: 1,
        created_at: now,
        updated_at: now,
      })
      .returning(registrationRecord.columns());
    const registration = toRegistration(row);
    await this.recordStep(uow, registration, 'submitted');
    uow.emit(prm.events.registrationSubmitted, { registration }, { type: 'prm.registration', id: registration.id });
    if (autoReject) {
      await this.recordStep(uow, registration, 'rejected', registration.decisionReason ?? undefined);
      uow.emit(prm.events.registrationRejected, { registration }, { type: 'prm.registration', id: registration.id });
    }
    return this.present(uow, row);
  }

  async decide(uow: UnitOfWork, id: string, decision: 'approve' | 'reject', reason: string | undefined, expectedVersion?: number): Promise<Registration> {
    const row = await this.visible(uow)
      .where('id', id)
      .forUpdate()
      .first([...registrationRecord.columns(), 'customer_key']);
    if (!row) throw notFound('registration', id);
    if (expectedVersion !== undefined && row.version !== expectedVersion) {
      throw new ConflictError(`prm registration ${id} is at version ${row.version}, not ${expectedVersion}`);
    }
    const current = toRegistration(row);
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
    let registration = toRegistration({ ...row, ...patch });
    if (decision === 'approve') {
      // The documented extension point: CRM (when installed) turns the registration into a deal.
      const { dealId } = await uow.filter(prm.filters.registrationConvert, { registration, dealId: null });
      registration = { ...registration, dealId };
    }
    await this.deps.db
      .in(uow)(TABLE)
      .where('id', id)
      .update({ ...patch, ...(registration.dealId ? { deal_id: registration.dealId } : {}) });
    await this.recordStep(uow, registration, decision === 'approve' ? 'approved' : 'rejected', reason);
    uow.emit(decision === 'approve' ? prm.events.registrationApproved : prm.events.registrationRejected, { registration }, { type: 'prm.registration', id });
    return registration;
  }

  /** Marks approved registrations whose protection has run out as expired, with a timeline step each. */
  async expireDue(uow: UnitOfWork, now = new Date()): Promise<Registration[]> {
    const tables = this.deps.db.in(uow);
    const rows = await tables(TABLE)
      .where('status', 'approved')
      .where('protected_until', '<=', now)
      .update({ status: 'expired', updated_at: now, version: tables.raw('version + 1') })
      .returning(registrationRecord.columns());
    const expired = rows.map(toRegistration);
    for (const registration of expired) {
      await this.recordStep(uow, registration, 'expired');
      uow.emit(prm.events.registrationExpired, { registration }, { type: 'prm.registration', id: registration.id });
    }
    return expired;
  }

  private visible(ctx: QueryContext): Knex.QueryBuilder {
    return this.deps.scopes.apply(this.deps.db.in(ctx)(TABLE), ctx, SCOPE, 'id');
  }

  /**
   * Conflicts other plugins know of (CRM: an open direct deal), through the
   * `prm.registration.conflicts` filter in this transaction. They flag the registration for
   * the reviewer like an existing customer does; they do not trigger first-to-file.
   */
  private async pluginConflicts(uow: UnitOfWork, registration: RegistrationConflictsPayload['registration']): Promise<RegistrationConflict[]> {
    const result = await uow.filter(prm.filters.registrationConflicts, { registration, conflicts: [] });
    const parsed = pluginConflictList.safeParse(result?.conflicts);
    if (!parsed.success) throw new Error(`prm: a prm.registration.conflicts filter returned invalid conflicts: ${parsed.error.message}`);
    return parsed.data.map((c) => ({ kind: c.reason, message: c.message, ...(c.recordId ? { recordId: c.recordId } : {}) }));
  }

  /** Serializes submissions and approvals for one customer, so first-to-file holds under races. */
  private async lockCustomer(uow: UnitOfWork, key: string, domain: string | null): Promise<void> {
    const tables = this.deps.db.in(uow);
    // Always in the same order, so two writes locking the same name and domain cannot deadlock.
    for (const lock of [`name:${key}`, ...(domain ? [`domain:${domain}`] : [])].sort()) await tables.lock(lock);
  }

  /** Live registrations of the same customer by other partners: pending inside the window, or approved and protected. */
  private async registrationConflicts(ctx: QueryContext, at: { key: string; domain: string | null; partnerId: string; now: Date }): Promise<RegistrationConflict[]> {
    const windowStart = new Date(at.now.getTime() - this.options.protectionDays * DAY_MS);
    const rows: Array<{ id: string; created_at: Date }> = await this.deps.db
      .in(ctx)(TABLE)
      .whereNot('partner_id', at.partnerId)
      .where((w) => {
        w.where('customer_key', at.key);
        if (at.domain) w.orWhere('customer_domain', at.domain);
      })
      .where((w) => w.where((s) => s.where('status', 'submitted').where('created_at', '>', windowStart)).orWhere((a) => a.where('status', 'approved').where('protected_until', '>', at.now)))
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .select('id', 'created_at');
    return rows.map((r) => ({ kind: 'registration' as const, registrationId: r.id, filedAt: isoRequired(r.created_at) }));
  }

  /**
   * An organization with that domain or name that already plays `customer` toward the self
   * party in some relationship (CRM's, an import's…): PRM needs no CRM to see it.
   */
  private async customerConflicts(ctx: QueryContext, key: string, domain: string | null): Promise<RegistrationConflict[]> {
    const { parties, relationships, tenants } = this.deps;
    const raw = this.deps.db.in(ctx).raw;
    const self = await tenants.selfPartyId(ctx);
    const candidates = () =>
      parties
        .query(ctx, { kind: 'organization' })
        .select('id')
        .whereNull('archived_at')
        .where((w) => {
          w.whereRaw(`${CUSTOMER_KEY_SQL} = ?`, ['name', key]);
          if (domain) w.orWhereIn('id', parties.contactPointQuery(ctx, { kind: 'domain', value: domain }).select('party_id'));
        });
    const rows: Array<{ id: string }> = await relationships
      .query(ctx)
      .distinct(raw("case when to_role = 'customer' then to_party_id else from_party_id end as id"))
      .where((w) =>
        w
          .where((a) => a.where('to_role', 'customer').where('from_party_id', self).whereIn('to_party_id', candidates()))
          .orWhere((b) => b.where('from_role', 'customer').where('to_party_id', self).whereIn('from_party_id', candidates())),
      );
    return rows.map((r) => ({ kind: 'existing-customer' as const, partyId: r.id }));
  }

  private async checkApprovable(uow: UnitOfWork, row: { customer_key: string; customer_domain: string | null; partner_id: string; created_at: Date }, now: Date): Promise<void> {
    await this.lockCustomer(uow, row.customer_key, row.customer_domain);
    const others = await this.registrationConflicts(uow, { key: row.customer_key, domain: row.customer_domain, partnerId: row.partner_id, now });
    if (others.length === 0) return;
    const live: Array<{ id: string; status: string; created_at: Date }> = await this.deps.db
      .in(uow)(TABLE)
      .whereIn(
        'id',
        others.map((o) => o.registrationId!),
      )
      .select('id', 'status', 'created_at');
    const protectedOne = live.find((r) => r.status === 'approved');
    if (protectedOne) throw new ConflictError(`prm: registration ${protectedOne.id} of another partner already protects this customer`, { registrationId: protectedOne.id });
    const earlier = live.find((r) => r.created_at < row.created_at);
    if (this.options.firstToFile && earlier) {
      throw new ConflictError(`prm: first to file — decide the earlier registration ${earlier.id} first`, { registrationId: earlier.id });
    }
  }

  /** One interaction per step, on the partner's and the firm's timelines (and the submitter's). */
  private async recordStep(uow: UnitOfWork, registration: Registration, step: RegistrationStatus, reason?: string): Promise<void> {
    const participants = [
      { partyId: registration.partnerId, role: 'partner' },
      { partyId: await this.deps.tenants.selfPartyId(uow), role: 'principal' },
    ];
    const submitter = uow.principal.scopePartyId;
    if (step === 'submitted' && submitter && submitter !== registration.partnerId) participants.push({ partyId: submitter, role: 'submitter' });
    // The partner's portal cannot see the firm's party: the step is PRM's, already authorized.
    await this.deps.interactions.create(uow.unscoped(), {
      type: 'prm.deal-registration',
      direction: step === 'submitted' ? 'inbound' : 'outbound',
      subject: `Deal registration ${step}: ${registration.customerName}`,
      summary: reason ?? null,
      relationshipId: registration.relationshipId,
      participants,
      attributes: { registrationId: registration.id, step, ...(reason ? { reason } : {}) },
    });
  }

  /** A partner sees that a conflict exists and why, never whose registration it is. */
  private present(ctx: QueryContext, row: object): Registration {
    const registration = toRegistration(row);
    if (!ctx.principal.scopePartyId) return registration;
    return { ...registration, conflicts: registration.conflicts.map((c) => (c.message === undefined ? { kind: c.kind } : { kind: c.kind, message: c.message })) };
  }
}

/** Protection runs out by itself: an approved registration past it reads `expired` before expireDue records it. */
function toRegistration(row: object): Registration {
  const registration = registrationRecord.fromRow(row);
  const lapsed = registration.status === 'approved' && registration.protectedUntil !== null && Date.parse(registration.protectedUntil) <= Date.now();
  return lapsed ? { ...registration, status: 'expired' } : registration;
}

function whereStatus(q: Knex.QueryBuilder, status: RegistrationStatus): void {
  const now = new Date();
  if (status === 'approved') q.where('status', 'approved').where('protected_until', '>', now);
  else if (status === 'expired') q.where((w) => w.where('status', 'expired').orWhere((a) => a.where('status', 'approved').where('protected_until', '<=', now)));
  else q.where('status', status);
}
