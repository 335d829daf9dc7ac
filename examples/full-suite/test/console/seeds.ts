import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knex, { type Knex } from 'knex';
// By path, not by package name: the run's global set-up loads this file too, without the test aliases.
import { DEFAULT_TEST_DATABASE_URL } from '../../../../packages/testing/src/database.js';

/**
 * Names of the console tests' seeded databases (PostgreSQL) and directories (PGlite):
 * `<prefix><pid of the worker that made it>_<random>`, so what a dead worker left is known.
 */
const host = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 6);
export const SEED_PREFIX = `rapport_console_seed_${host}_`;

export const testDatabaseUrl = () => process.env.RAPPORT_TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;

/** Runs `work` on a connection of its own to the test server's default database. */
export async function onPostgres(work: (db: Knex) => Promise<unknown>): Promise<void> {
  const admin = knex({ client: 'pg', connection: testDatabaseUrl(), pool: { min: 0, max: 1 } });
  try {
    await work(admin);
  } finally {
    await admin.destroy();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the seeds of processes that have ended: before a new seed is made, and after the
 * run (its workers end without a hook to clean up in).
 */
export async function removeStaleSeeds(kind: 'pglite' | 'postgres'): Promise<void> {
  const stale = (name: string) => {
    const pid = Number(name.slice(SEED_PREFIX.length).split('_')[0]);
    return Number.isInteger(pid) && pid > 0 && !alive(pid);
  };
  if (kind === 'postgres') {
    await onPostgres(async (db) => {
      const { rows } = await db.raw<{ rows: Array<{ datname: string }> }>('select datname from pg_database where starts_with(datname, ?)', [SEED_PREFIX]);
      for (const { datname } of rows.filter((row) => stale(row.datname))) await db.raw(`drop database if exists "${datname}" with (force)`);
    });
  } else {
    for (const entry of fs.readdirSync(os.tmpdir())) if (entry.startsWith(SEED_PREFIX) && stale(entry)) fs.rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
  }
}
