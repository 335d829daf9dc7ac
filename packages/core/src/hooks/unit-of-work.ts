import type { Knex } from 'knex';
import type { Principal } from '../access/principal.js';
import { newId } from '../util/ids.js';
import { chunk } from '../util/chunk.js';
import type { HookBus } from './hook-bus.js';
import type { EventMeta, EventPayload, EventSubject, FilterContext, FilterPayload } from './types.js';

export interface PendingEvent {
  name: string;
  payload: unknown;
  meta: EventMeta;
  subject?: EventSubject;
}

/**
 * One write: its transaction, who is writing, and the events it will release.
 * Services take a UnitOfWork explicitly; nothing reaches for a global connection, which
 * on PGlite's single connection would deadlock.
 */
export class UnitOfWork implements FilterContext {
  readonly events: PendingEvent[] = [];

  constructor(
    readonly trx: Knex.Transaction,
    readonly tenantId: string,
    readonly principal: Principal,
    private readonly bus: HookBus,
  ) {}

  /**
   * The same transaction, caller and pending events, without the caller's record scope.
   * For a plugin workflow step it has already authorized (a partner's deal registration
   * recorded on the vendor's timeline too): kernel services then accept parties the
   * scoped caller cannot see. Events keep the real actor and leave with this write.
   */
  unscoped(): UnitOfWork {
    if (!this.principal.scopePartyId) return this;
    const view = new UnitOfWork(this.trx, this.tenantId, { ...this.principal, scopePartyId: null }, this.bus);
    (view as { events: PendingEvent[] }).events = this.events;
    return view;
  }

  /** The transaction, so a UnitOfWork serves wherever a read context is expected. */
  get db(): Knex.Transaction {
    return this.trx;
  }

  emit<N extends string>(name: N, payload: EventPayload<N>, subject?: EventSubject): void {
    this.events.push({
      name,
      payload,
      subject,
      meta: {
        id: newId(),
        name,
        tenantId: this.tenantId,
        occurredAt: new Date().toISOString(),
        actor: this.principal.kind === 'system' ? null : { kind: this.principal.kind, id: this.principal.id },
      },
    });
  }

  filter<N extends string>(name: N, payload: FilterPayload<N>): Promise<FilterPayload<N>> {
    return this.bus.runFilters(name, payload, this);
  }
}

export interface UnitOfWorkScope {
  tenantId: string;
  principal: Principal;
}

// 6 columns per outbox row, 7 per audit row: stay far below PostgreSQL's 65,535 parameters.
const ROWS_PER_INSERT = 5000;

/**
 * Runs `work` in a transaction. Its events go to the outbox and the audit log in the same
 * transaction; in-process listeners hear them only after commit, and never on rollback.
 */
export async function runUnitOfWork<T>(
  knex: Knex,
  bus: HookBus,
  scope: UnitOfWorkScope,
  work: (uow: UnitOfWork) => Promise<T>,
  afterCommit?: (events: PendingEvent[]) => void,
): Promise<T> {
  let uow!: UnitOfWork;
  const result = await knex.transaction(async (trx) => {
    uow = new UnitOfWork(trx, scope.tenantId, scope.principal, bus);
    const value = await work(uow);
    await writeOutboxAndAudit(trx, uow.events);
    return value;
  });
  bus.publish(uow.events);
  afterCommit?.(uow.events);
  return result;
}

async function writeOutboxAndAudit(trx: Knex.Transaction, events: PendingEvent[]): Promise<void> {
  for (const batch of chunk(events, ROWS_PER_INSERT)) {
    await trx('rapport_outbox').insert(
      batch.map((e) => ({
        id: e.meta.id,
        tenant_id: e.meta.tenantId,
        name: e.name,
        payload: JSON.stringify(e.payload),
        meta: JSON.stringify(e.meta),
        occurred_at: e.meta.occurredAt,
      })),
    );
    await trx('rapport_audit').insert(
      batch.map((e) => ({
        id: newId(),
        tenant_id: e.meta.tenantId,
        event_id: e.meta.id,
        action: e.name,
        record_type: e.subject?.type ?? null,
        record_id: e.subject?.id ?? null,
        actor_kind: e.meta.actor?.kind ?? 'system',
        actor_id: e.meta.actor?.id ?? null,
        at: e.meta.occurredAt,
      })),
    );
  }
}
