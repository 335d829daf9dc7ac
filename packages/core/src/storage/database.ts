import path from 'node:path';
import type * as PgModule from 'pg';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from 'pino';
import ClientPgLite from 'knex-pglite';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { createRequire } from 'node:module';
import { DataDirLock } from './lock.js';
import { startFromTemplate, templateFile } from './pglite-template.js';
import { stopPrincipalCache } from '../access/principal-cache.js';
import { stopListener } from './listener.js';
import { stopFieldCache } from '../fields/cache.js';

export type DatabaseKind = 'pglite' | 'postgres';

/** The extensions an embedded database is opened with (an instance given in `pglite` must load them too). */
export const PGLITE_EXTENSIONS = { pg_trgm };

export interface DatabaseConfig {
  /** postgres://… selects PostgreSQL; absent selects embedded PGlite. */
  url?: string;
  /** PGlite data directory (default ./.rapport). `memory://` keeps it in memory. */
  dataDir?: string;
  /** A PostgreSQL schema to work in (tests use one per file). */
  schema?: string;
  /**
   * Pool on PostgreSQL: its size, how long a request waits for a connection (default 10 s)
   * and how long opening one may take (default 5 s). Bounded so that a database that is down
   * or unreachable answers 503 within seconds instead of holding requests for minutes.
   */
  pool?: { min?: number; max?: number; acquireTimeoutMs?: number; connectTimeoutMs?: number };
  /** An already-open PGlite instance (the test kit loads one from a snapshot). */
  pglite?: unknown;
  /** postgres:// URLs of streaming replicas that reads may go to (docs/operations.md, "Read replicas"). */
  replicas?: string[];
  /** A replica further behind the primary than this is skipped (default 2000 ms). */
  replicaMaxLagMs?: number;
}

export interface Database {
  readonly knex: Knex;
  readonly kind: DatabaseKind;
  /**
   * Resolves once the database can take a first statement. PGlite opens a new data directory
   * by running initdb, which a loaded machine may take minutes over: waited for here, without
   * a deadline, so no request-sized connection timeout cuts a start short.
   */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The `pg` driver, loaded on first use: an embedded (PGlite) server never needs it, and
 * loading it is tens of milliseconds of every start.
 */
let pgTypesSet = false;
function preparePgDriver(): void {
  if (pgTypesSet) return;
  const pg = createRequire(import.meta.url)('pg') as typeof PgModule;
  // Counts and bigints come back as strings from pg; the kernel only counts small sets, so numbers are safe.
  pg.types.setTypeParser(20, (value) => Number(value));
  pg.types.setTypeParser(1700, (value) => Number(value));
  pgTypesSet = true;
}

/*
 * knex-pglite reports a delete's command as "DEL", which knex's PostgreSQL dialect does not
 * recognise, so `.delete()` resolved to a result object instead of the row count. Name it
 * as PostgreSQL does and deletes count the same on both databases.
 */
class PgliteClient extends (ClientPgLite as unknown as new (config: Knex.Config) => { processResponse(obj: unknown, runner: unknown): unknown }) {
  processResponse(obj: { method?: string; response?: { command?: string } }, runner: unknown): unknown {
    if (obj.method === 'del') return super.processResponse({ ...obj, method: 'delete' }, runner);
    return super.processResponse(obj, runner);
  }
}

/**
 * Opens the configured database. `logger` receives the driver's own warnings at debug level:
 * during an outage knex warns once per failed connection attempt, and the HTTP layer already
 * logs the outage once (http/outage.ts).
 */
export function openDatabase(config: DatabaseConfig = {}, logger?: Logger): Database {
  if (config.url) return openPostgres(config, logger);
  return openPglite(config);
}

function openPostgres(config: DatabaseConfig, logger: Logger | undefined): Database {
  preparePgDriver();
  const knex = knexFactory({
    client: 'pg',
    connection: { connectionString: config.url, connectionTimeoutMillis: config.pool?.connectTimeoutMs ?? 5_000 },
    acquireConnectionTimeout: config.pool?.acquireTimeoutMs ?? 10_000,
    log: {
      warn: (message: unknown) => logger?.debug({ driver: 'knex' }, String(message)),
      error: (message: unknown) => logger?.debug({ driver: 'knex' }, String(message)),
      deprecate: (method: string, alternative: string) => logger?.debug({ driver: 'knex' }, `${method} is deprecated, use ${alternative}`),
      debug: () => undefined,
    },
    pool: { min: config.pool?.min ?? 0, max: config.pool?.max ?? 10 },
    searchPath: config.schema ? [config.schema, 'public'] : undefined,
  });
  return {
    knex,
    ready: () => Promise.resolve(),
    kind: 'postgres',
    async close() {
      // The listening connection (other nodes' changes) is outside the pool.
      stopPrincipalCache(knex);
      stopFieldCache(knex);
      await stopListener(knex);
      await knex.destroy();
    },
  };
}

function openPglite(config: DatabaseConfig): Database {
  const dataDir = config.dataDir ?? path.resolve('.rapport');
  const inMemory = dataDir.startsWith('memory://') || config.pglite !== undefined;
  const lock = inMemory ? undefined : DataDirLock.acquire(dataDir);
  let knex: Knex;
  let opening: Promise<void> | undefined;
  try {
    // Opened here rather than by knex-pglite, which cannot load extensions: search needs pg_trgm.
    // The options form: PGlite ignores its second argument when the first (the directory) is undefined.
    const pgdata = inMemory ? undefined : path.join(dataDir, 'pgdata');
    // A new directory starts from the initdb template when there is one (see storage/pglite-template.ts).
    const template = config.pglite === undefined ? startFromTemplate(pgdata, templateFile()) : undefined;
    const pglite = config.pglite ?? new PGlite({ dataDir: pgdata, extensions: PGLITE_EXTENSIONS, ...(template && { loadDataDir: template }) });
    knex = knexFactory({
      client: PgliteClient as unknown as typeof knexFactory.Client,
      dialect: 'postgres',
      connection: () => ({ pglite }) as object,
      // A request waits this long for the one connection (an import's batch may hold it); the
      // first open is waited for apart, by ready().
      acquireConnectionTimeout: config.pool?.acquireTimeoutMs ?? 60_000,
    } as Knex.Config);
    opening = (pglite as { waitReady?: Promise<void> }).waitReady;
  } catch (error) {
    lock?.release();
    throw error;
  }
  // knex-pglite opens its PGlite when the client is made, but closes it only through a pooled
  // connection: a handle that never ran a query would leave it opening (and writing to the
  // data directory) after close().
  const owned = config.pglite === undefined ? (knex.client as { pglite?: OwnedPglite }).pglite : undefined;
  return {
    knex,
    kind: 'pglite',
    ready: () => opening ?? Promise.resolve(),
    async close() {
      try {
        stopPrincipalCache(knex);
        stopFieldCache(knex);
        await stopListener(knex);
        await knex.destroy();
        if (owned && !owned.closed) {
          await owned.waitReady.catch(() => undefined);
          if (!owned.closed) await owned.close();
        }
      } finally {
        lock?.release();
      }
    },
  };
}

interface OwnedPglite {
  readonly closed: boolean;
  readonly waitReady: Promise<void>;
  close(): Promise<void>;
}
