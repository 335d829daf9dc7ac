import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { PGlite } from '@electric-sql/pglite';
import { PGLITE_EXTENSIONS, type DatabaseConfig } from '@rapport/core';

export type TestDatabaseKind = 'pglite' | 'postgres';

export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Which database the suite runs on: RAPPORT_TEST_DB=pglite|postgres (pglite by default). */
export function testDatabaseKind(): TestDatabaseKind {
  const kind = process.env.RAPPORT_TEST_DB ?? 'pglite';
  if (kind !== 'pglite' && kind !== 'postgres') throw new Error(`RAPPORT_TEST_DB must be pglite or postgres, not "${kind}"`);
  return kind;
}

export interface IsolatedDatabase {
  kind: TestDatabaseKind;
  config: DatabaseConfig;
  /** Drops what was created for this database. */
  dispose(): Promise<void>;
}

/**
 * A database nobody else uses: on PostgreSQL a fresh schema (so test files run in
 * parallel on one server), on PGlite a fresh in-memory instance, loaded from the
 * snapshot the global set-up made when there is one (about 4× faster than initdb).
 */
export async function isolatedDatabase(kind: TestDatabaseKind = testDatabaseKind()): Promise<IsolatedDatabase> {
  if (kind === 'postgres') {
    const url = process.env.RAPPORT_TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
    try {
      await admin.raw(`create schema "${schema}"`);
    } finally {
      await admin.destroy();
    }
    return {
      kind,
      // Generous waits: a loaded CI machine can take seconds to open a connection, and no test
      // may fail on speed (the outage test sets its own short ones).
      config: { url, schema, pool: { min: 0, max: 5, connectTimeoutMs: 60_000, acquireTimeoutMs: 120_000 } },
      async dispose() {
        const cleanup = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
        try {
          await cleanup.raw(`drop schema if exists "${schema}" cascade`);
        } finally {
          await cleanup.destroy();
        }
      },
    };
  }
  const snapshot = process.env.RAPPORT_PGLITE_SNAPSHOT;
  const pglite =
    snapshot && fs.existsSync(snapshot) ? new PGlite({ loadDataDir: new Blob([fs.readFileSync(snapshot)]), extensions: PGLITE_EXTENSIONS }) : new PGlite({ extensions: PGLITE_EXTENSIONS });
  await pglite.waitReady;
  return { kind, config: { pglite }, dispose: async () => undefined };
}

/** Writes an initialized empty PGlite data directory to `file` (run once per test run). */
export async function writePgliteSnapshot(file: string): Promise<void> {
  const pglite = new PGlite();
  await pglite.waitReady;
  const dump = await pglite.dumpDataDir('none');
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  await pglite.close();
}
