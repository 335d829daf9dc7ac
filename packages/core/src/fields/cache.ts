import type { Knex } from 'knex';
import { isPostgres, listenerOf, type DatabaseListener } from '../storage/listener.js';

/** NOTIFY channel of custom field changes; the payload is the tenant id. */
export const FIELDS_CHANNEL = 'rapport_fields_changed';

const caches = new Set<FieldCache>();
const byKnex = new WeakMap<Knex, FieldCache>();

/**
 * Each tenant's compiled field definitions, so a write does not read them every time.
 * Kept as the principal cache is kept (access/principal-cache.ts): a committed `field.*`
 * event empties the tenant's entry in every cache of this process; on PostgreSQL the same
 * commit sends NOTIFY so other nodes empty theirs, and while a node is not listening it
 * reads the database on every write. A generation per cache stops a read that began
 * before a change from storing what it read.
 */
export class FieldCache<T = unknown> {
  private readonly entries = new Map<string, T>();
  private generation = 0;
  private trusted: boolean;
  private readonly listener: DatabaseListener | undefined;

  constructor(
    private readonly knex: Knex,
    shared: boolean,
  ) {
    this.trusted = !shared;
    if (!shared) return;
    this.listener = listenerOf(knex);
    void this.listener.subscribe(FIELDS_CHANNEL, {
      message: (tenantId) => this.invalidate(tenantId),
      listening: () => {
        this.invalidate();
        this.trusted = true;
      },
      lost: () => {
        this.trusted = false;
        this.invalidate();
      },
    });
  }

  /** The tenant's entry, loading it (and keeping it when nothing changed meanwhile). */
  async get(tenantId: string, cacheable: boolean, load: () => Promise<T>): Promise<T> {
    if (this.listener && !this.trusted) void this.listener.ready();
    const hit = this.trusted && cacheable ? this.entries.get(tenantId) : undefined;
    if (hit !== undefined) return hit;
    const generation = this.generation;
    const value = await load();
    if (this.trusted && cacheable && generation === this.generation) this.entries.set(tenantId, value);
    return value;
  }

  invalidate(tenantId?: string): void {
    this.generation++;
    if (tenantId) this.entries.delete(tenantId);
    else this.entries.clear();
  }

  stop(): void {
    this.trusted = false;
    this.invalidate();
    caches.delete(this);
    byKnex.delete(this.knex);
  }
}

export function fieldCacheOf<T>(knex: Knex): FieldCache<T> {
  let cache = byKnex.get(knex);
  if (!cache) {
    cache = new FieldCache(knex, isPostgres(knex));
    byKnex.set(knex, cache);
    caches.add(cache);
  }
  return cache as FieldCache<T>;
}

export function stopFieldCache(knex: Knex): void {
  byKnex.get(knex)?.stop();
}

/** Custom field definitions announce their changes as `field.*` events. */
export function changesFields(events: ReadonlyArray<{ name: string }>): boolean {
  return events.some((e) => e.name.startsWith('field.'));
}

/** After a commit that changed a tenant's fields: every cache of this process forgets them. */
export function fieldsChanged(tenantId: string): void {
  for (const cache of caches) cache.invalidate(tenantId);
}

/** Inside the changing transaction: the other nodes hear of it once it commits. */
export async function notifyFieldsChange(trx: Knex.Transaction, tenantId: string): Promise<void> {
  if (isPostgres(trx)) await trx.raw('select pg_notify(?, ?)', [FIELDS_CHANNEL, tenantId]);
}
