import type { Knex } from 'knex';
import type { DatabaseKind } from './database.js';

/** Any constant every node agrees on ("rapp" in ASCII). */
const BOOT_LOCK_KEY = 0x72617070;

/**
 * Several app nodes may start at once against one PostgreSQL (a rolling deploy, replicas: 3).
 * Migrations, the first tenant, the bootstrap key and plugin installs must then run on one
 * node at a time, or two nodes create two "first" tenants and race on the same DDL. A
 * transaction on a connection of its own holds an advisory lock while the boot runs on the
 * others; PostgreSQL drops the lock with the transaction, even if the process dies.
 *
 * PGlite needs none: one connection, and the data-directory lock admits one process. A pool
 * of one connection cannot hold the lock and boot at once, so it goes without too.
 */
export async function withBootLock<T>(knex: Knex, kind: DatabaseKind, work: () => Promise<T>): Promise<T> {
  const poolMax = (knex.client as { config?: { pool?: { max?: number } } }).config?.pool?.max ?? 10;
  if (kind !== 'postgres' || poolMax < 2) return work();
  const holder = await knex.transaction();
  try {
    await holder.raw('select pg_advisory_xact_lock(?)', [BOOT_LOCK_KEY]);
    return await work();
  } finally {
    await holder.commit().catch(() => undefined);
  }
}
