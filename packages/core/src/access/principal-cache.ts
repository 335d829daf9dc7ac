import type { Knex } from 'knex';
import type { Principal } from './principal.js';
import { isPostgres, listenerOf, type DatabaseListener } from '../storage/listener.js';

/**
 * Resolved principals by token hash, so a request does not pay two queries to learn who
 * is calling. Revocation stays immediate:
 *
 * - Every committed unit of work that emitted an `access.*` event (key revoked, role,
 *   user or session changed) empties every cache of this process (`accessChanged`).
 * - On PostgreSQL the same commit sends `NOTIFY rapport_access_changed`; each node keeps
 *   a listening connection and empties its cache when it hears it. While that connection
 *   is down, the cache is bypassed: every request reads the database, as without a cache.
 * - A generation counter stops a lookup that read the database before a change committed
 *   from storing its stale answer after the change emptied the cache.
 * - Entries live at most `ENTRY_TTL_MS`, and never past a session's expiry.
 *
 * Unknown or refused tokens are never cached: a token is cached only once it worked.
 */
export const ACCESS_CHANNEL = 'rapport_access_changed';
const ENTRY_TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;

export interface CachedGrant {
  principal: Principal;
  /** Epoch ms after which the entry must be read again. */
  expiresAt: number;
  /** API keys: when `last_used_at` was last written (epoch ms), so it is stamped about once a minute. */
  lastUsedAt: number | null;
}

/** Every cache of this process, so a change committed through any app reaches all of them. */
const caches = new Set<PrincipalCache>();
const byKnex = new WeakMap<Knex, PrincipalCache>();

export class PrincipalCache {
  private readonly entries = new Map<string, CachedGrant>();
  private generation = 0;
  /** False on PostgreSQL until the node listens for changes made by other nodes. */
  private trusted: boolean;
  private readonly listener: DatabaseListener | undefined;
  private stopped = false;

  constructor(
    private readonly knex: Knex,
    shared: boolean,
  ) {
    // PGlite has one connection in one process: every change goes through this process.
    this.trusted = !shared;
    if (!shared) return;
    this.listener = listenerOf(knex);
    void this.listener.subscribe(ACCESS_CHANNEL, {
      message: () => this.invalidate(),
      // Anything read before we listened could predate a change we never heard of.
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

  /** Whether cached entries may be used (and stored) right now. */
  get active(): boolean {
    return this.trusted && !this.stopped;
  }

  /** Starts listening for other nodes' changes (PostgreSQL); resolves once listening or after a failed try. */
  ready(): Promise<void> {
    // While the listener retries (the database refused it a moment ago), requests read the database.
    if (!this.listener || this.trusted || this.stopped) return Promise.resolve();
    return this.listener.ready();
  }

  get(hash: string): CachedGrant | undefined {
    if (!this.active) return undefined;
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry;
  }

  /** Take this before reading the database; `set` refuses the answer if a change came in between. */
  snapshot(): number {
    return this.generation;
  }

  set(hash: string, generation: number, grant: Omit<CachedGrant, 'expiresAt'> & { expiresAt?: number | null }): void {
    if (!this.active || generation !== this.generation) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    const expiresAt = Math.min(Date.now() + ENTRY_TTL_MS, grant.expiresAt ?? Infinity);
    this.entries.set(hash, { principal: grant.principal, lastUsedAt: grant.lastUsedAt, expiresAt });
  }

  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }

  /** Stops using the cache (the database handle is closing; its listener is stopped with it). */
  stop(): void {
    this.stopped = true;
    this.invalidate();
    caches.delete(this);
    byKnex.delete(this.knex);
  }
}

/** The cache of a root knex (one per database handle), created on first use. */
export function principalCacheOf(knex: Knex): PrincipalCache {
  let cache = byKnex.get(knex);
  if (!cache) {
    cache = new PrincipalCache(knex, isPostgres(knex));
    byKnex.set(knex, cache);
    caches.add(cache);
  }
  return cache;
}

/** Stops the cache of a database handle before the handle closes. */
export function stopPrincipalCache(knex: Knex): void {
  byKnex.get(knex)?.stop();
}

/** A change to keys, users, roles or sessions committed in this process: forget every cached principal. */
export function accessChanged(): void {
  for (const cache of caches) cache.invalidate();
}

/**
 * Inside the transaction that changes access: tells the other nodes once it commits
 * (PostgreSQL delivers NOTIFY on commit, never on rollback).
 */
export async function notifyAccessChange(trx: Knex.Transaction, tenantId: string): Promise<void> {
  if (isPostgres(trx)) await trx.raw('select pg_notify(?, ?)', [ACCESS_CHANNEL, tenantId]);
}
