import type { Knex } from 'knex';
import type { Principal } from '../access/principal.js';
import { newId } from '../util/ids.js';
import { chunk } from '../util/chunk.js';
import { accessChanged, notifyAccessChange } from '../access/principal-cache.js';
import { changesFields, fieldsChanged, notifyFieldsChange } from '../fields/cache.js';
import { copyRows, settleInOrder, worthCopying } from '../storage/copy-rows.js';
import { CONNECTION } from '../kernel/context.js';
import { keyName, type EventKey, type EventMeta, type EventPayload, type EventSubject, type FilterKey, type FilterPayload } from './types.js';

export interface PendingEvent {
  name: string;
  payload: unknown;
  meta: EventMeta;
  subject?: EventSubject;
  /** Emitted by an anonymous write: audited as `anonymous`, with no actor. */
  anonymous?: true;
}

/** Runs the filters registered under a name (the hook bus); a unit of work runs its write's filters through it. */
export interface FilterRunner {
  runFilters(name: string, payload: unknown, uow: UnitOfWork): Promise<unknown>;
  hasFilters(name: string): boolean;
}

/** A filter: runs inside the write's transaction, may return a replacement payload or veto (throw). */
export type FilterHandler<K> = (payload: FilterPayload<K>, uow: UnitOfWork) => FilterPayload<K> | void | Promise<FilterPayload<K> | void>;

/**
 * One write: its transaction, who is writing, and the events it will release.
 * Services take a UnitOfWork explicitly; nothing reaches for a global connection, which
 * on PGlite's single connection would deadlock. The transaction itself is kernel-internal
 * (see `CONNECTION`): a plugin writes its tables through its database handle, `db.in(uow)`.
 */
export class UnitOfWork {
  readonly events: PendingEvent[] = [];
  readonly [CONNECTION]: Knex.Transaction;

  constructor(
    trx: Knex.Transaction,
    readonly tenantId: string,
    readonly principal: Principal,
    private readonly bus: FilterRunner,
    /**
     * An anonymous write (an anonymous survey answer, an upward review): its events carry no
     * actor (outbox, webhooks, listeners) and its audit entries name no one. The principal is
     * still the caller, for the checks of the write itself.
     */
    readonly anonymous = false,
  ) {
    this[CONNECTION] = trx;
  }

  /**
   * The same transaction, caller and pending events, without the caller's record scope.
   * For a plugin workflow step it has already authorized (a partner's deal registration
   * recorded on the vendor's timeline too): kernel services then accept parties the
   * scoped caller cannot see. Events keep the real actor and leave with this write.
   */
  unscoped(): UnitOfWork {
    if (!this.principal.scopePartyId) return this;
    const view = new UnitOfWork(this[CONNECTION], this.tenantId, { ...this.principal, scopePartyId: null }, this.bus, this.anonymous);
    (view as { events: PendingEvent[] }).events = this.events;
    return view;
  }

  /** Records an event of this write; it leaves with the write (outbox, audit, listeners after commit), or not at all. */
  emit<K extends EventKey>(event: K, payload: EventPayload<K>, subject?: EventSubject): void {
    const name = keyName(event);
    this.events.push({
      name,
      payload,
      subject,
      ...(this.anonymous ? { anonymous: true } : {}),
      meta: {
        id: newId(),
        name,
        tenantId: this.tenantId,
        occurredAt: new Date().toISOString(),
        actor: this.anonymous || this.principal.kind === 'system' ? null : { kind: this.principal.kind, id: this.principal.id },
      },
    });
  }

  /** Runs the filters registered on `filter` over `payload`, in this write's transaction. */
  filter<K extends FilterKey>(filter: K, payload: FilterPayload<K>): Promise<FilterPayload<K>> {
    return this.bus.runFilters(keyName(filter), payload, this) as Promise<FilterPayload<K>>;
  }

  /** Whether any filter is registered under `name`: a bulk writer skips `filter` (and its await per row) when none is. */
  hasFilters(filter: FilterKey): boolean {
    return this.bus.hasFilters(keyName(filter));
  }
}

/** Runs one unit of work (the signature of `Rapport.transaction`), for subsystems that write outside a request. */
export type Transact = <T>(work: (uow: UnitOfWork) => Promise<T>, scope?: { tenantId?: string; principal?: Principal; anonymous?: boolean; beforeCommit?: () => Promise<void> }) => Promise<T>;

export interface UnitOfWorkScope {
  tenantId: string;
  principal: Principal;
  anonymous?: boolean;
}

// Events per statement: bounds the size of one statement's arrays, not a parameter count.
const ROWS_PER_INSERT = 5000;

/**
 * Runs `work` in a transaction. Its events go to the outbox and the audit log in the same
 * transaction; in-process listeners hear them only after commit, and never on rollback.
 */
export async function runUnitOfWork<T>(
  knex: Knex,
  bus: FilterRunner & { publish(events: PendingEvent[]): void },
  scope: UnitOfWorkScope,
  work: (uow: UnitOfWork) => Promise<T>,
  afterCommit?: (events: PendingEvent[]) => void,
  beforeCommit?: () => Promise<void>,
): Promise<T> {
  let uow!: UnitOfWork;
  const result = await knex.transaction(async (trx) => {
    uow = new UnitOfWork(trx, scope.tenantId, scope.principal, bus, scope.anonymous === true);
    const value = await work(uow);
    await writeOutboxAndAudit(trx, uow.events);
    if (changesAccess(uow.events)) await notifyAccessChange(trx, scope.tenantId);
    if (changesFields(uow.events)) await notifyFieldsChange(trx, scope.tenantId);
    await beforeCommit?.();
    return value;
  });
  // Cached principals may predate this change: forget them before anyone hears of it.
  if (changesAccess(uow.events)) accessChanged();
  if (changesFields(uow.events)) fieldsChanged(scope.tenantId);
  bus.publish(uow.events);
  afterCommit?.(uow.events);
  return result;
}

/** Keys, users, roles and sessions announce their changes as `access.*` events. */
function changesAccess(events: PendingEvent[]): boolean {
  return events.some((e) => e.name.startsWith('access.'));
}

/*
 * The outbox and audit rows of a unit of work. On PostgreSQL, COPY (the server's bulk path:
 * no statement, no bound arrays to parse); a bulk import's 5,000 events are two streams.
 * On PGlite, one statement per table: each column travels as one array parameter and
 * `unnest` turns the arrays back into rows.
 */
async function writeOutboxAndAudit(trx: Knex.Transaction, events: PendingEvent[]): Promise<void> {
  if (events.length === 0) return;
  if (worthCopying(trx, events.length)) {
    // Queued together: the server stores the audit rows right after the outbox rows.
    await settleInOrder([
      copyRows(
        trx,
        'rapport_outbox',
        ['id', 'tenant_id', 'name', 'payload', 'actor', 'occurred_at'],
        events.map((e) => [e.meta.id, e.meta.tenantId, e.name, JSON.stringify(e.payload), e.meta.actor ? JSON.stringify(e.meta.actor) : null, e.meta.occurredAt]),
      ),
      copyRows(
        trx,
        'rapport_audit',
        ['id', 'tenant_id', 'event_id', 'action', 'record_type', 'record_id', 'actor_kind', 'actor_id', 'at'],
        events.map((e) => [e.meta.id, e.meta.tenantId, e.meta.id, e.name, e.subject?.type ?? null, e.subject?.id ?? null, auditActorKind(e), e.meta.actor?.id ?? null, e.meta.occurredAt]),
      ),
    ]);
    return;
  }
  for (const batch of chunk(events, ROWS_PER_INSERT)) {
    await trx.raw(
      `insert into rapport_outbox (id, tenant_id, name, payload, actor, occurred_at)
       select id, tenant_id, name, payload::json, actor::json, occurred_at
       from unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::timestamptz[]) as e(id, tenant_id, name, payload, actor, occurred_at)`,
      [
        batch.map((e) => e.meta.id),
        batch.map((e) => e.meta.tenantId),
        batch.map((e) => e.name),
        batch.map((e) => JSON.stringify(e.payload)),
        batch.map((e) => (e.meta.actor ? JSON.stringify(e.meta.actor) : null)),
        batch.map((e) => e.meta.occurredAt),
      ] as unknown as Knex.RawBinding[],
    );
    await trx.raw(
      `insert into rapport_audit (id, tenant_id, event_id, action, record_type, record_id, actor_kind, actor_id, at)
       select * from unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::uuid[], ?::timestamptz[])`,
      [
        batch.map((e) => e.meta.id),
        batch.map((e) => e.meta.tenantId),
        batch.map((e) => e.meta.id),
        batch.map((e) => e.name),
        batch.map((e) => e.subject?.type ?? null),
        batch.map((e) => e.subject?.id ?? null),
        batch.map((e) => auditActorKind(e)),
        batch.map((e) => e.meta.actor?.id ?? null),
        batch.map((e) => e.meta.occurredAt),
      ] as unknown as Knex.RawBinding[],
    );
  }
}

/** Who the audit log names for an event: its actor's kind, `anonymous` for an anonymous write, else the system. */
function auditActorKind(event: PendingEvent): string {
  if (event.anonymous) return 'anonymous';
  return event.meta.actor?.kind ?? 'system';
}
