import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { finished } from 'node:stream/promises';
import type { Knex } from 'knex';
import type * as CopyStreams from 'pg-copy-streams';
import { lazyModule } from '../util/lazy-module.js';

const copyStreams = lazyModule<typeof CopyStreams>('pg-copy-streams');
import { isPostgres } from './listener.js';

/**
 * True when `db` (a knex instance or transaction) talks to a PostgreSQL server through
 * `pg`, so `COPY … FROM STDIN` is available; false on PGlite.
 */
export function supportsCopy(db: Knex): boolean {
  return isPostgres(db);
}

/**
 * Below this many rows a COPY (a round trip to open it, one to close it) costs more than
 * the single INSERT it replaces: a request's one or two rows keep the INSERT.
 */
export const COPY_MIN_ROWS = 100;

/** Whether `rows` rows are worth a COPY on `db`. */
export function worthCopying(db: Knex, rows: number): boolean {
  return rows >= COPY_MIN_ROWS && supportsCopy(db);
}

/** Bytes sent per CopyData write: large enough to keep messages few, small enough to start the server early. */
const CHUNK_BYTES = 256 * 1024;
const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * One value in COPY's text format: `\N` for null, ISO 8601 for a Date, JSON for an object,
 * with backslash, tab and line breaks escaped.
 */
export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  else if (typeof value === 'boolean') return value ? 't' : 'f';
  else if (value instanceof Date) return value.toISOString();
  else if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`;
  else text = JSON.stringify(value);
  return SPECIAL.test(text) ? text.replace(SPECIALS, (c) => ESCAPES[c]) : text;
}

/**
 * Writes rows with `COPY table (columns) FROM STDIN` on the connection of `db` — inside its
 * transaction when `db` is one. Each row is an array of values in column order. The
 * server parses nothing but the rows (no statement, no bound arrays), and it starts
 * storing the first chunk while the next is being built. PostgreSQL only: check
 * `supportsCopy` first. A value the table refuses fails the whole COPY with the server's
 * error (its SQLSTATE intact), like a multi-row INSERT.
 */
export async function copyRows(db: Knex, table: string, columns: readonly string[], rows: Iterable<ReadonlyArray<unknown>>): Promise<void> {
  const client = (db as unknown as { client: { acquireConnection(): Promise<PgConnection>; releaseConnection(c: PgConnection): Promise<void> } }).client;
  const connection = await client.acquireConnection();
  try {
    const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
    const stream = connection.query(copyStreams().from(`copy ${quote(table)} (${columns.map(quote).join(', ')}) from stdin`));
    // Rejects with the server's error; the writes below are buffered until then, never lost.
    const done = finished(stream);
    // Rows are encoded into the chunk being filled (a CopyData message need not end on a
    // row), one write per row: a row's fields joined in a string cost less than a native
    // write for every field.
    let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let used = 0;
    for (const row of rows) {
      let line = '';
      for (let i = 0; i < row.length; i++) line += (i === 0 ? '' : '\t') + copyField(row[i]);
      line += '\n';
      // A UTF-8 character takes at most three bytes per UTF-16 code unit.
      const room = line.length * 3;
      if (used + room > chunk.length) {
        if (used > 0) {
          stream.write(chunk.subarray(0, used));
          // Let the connection hear the server's go-ahead and send this chunk: the server
          // stores it while the next one is encoded.
          await yieldToEventLoop();
          // The server refused the COPY (or an earlier statement of the transaction): stop encoding.
          if (stream.destroyed) break;
        }
        chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, room));
        used = 0;
      }
      used += chunk.write(line, used);
    }
    stream.end(used > 0 ? chunk.subarray(0, used) : undefined);
    await done;
  } finally {
    await client.releaseConnection(connection);
  }
}

interface PgConnection {
  query<T extends NodeJS.WritableStream>(stream: T): T;
}

/**
 * Awaits writes queued on one connection, in the order they were queued. All of them
 * settle before this returns (none is left running on a connection about to be released),
 * and the error is the first write's that failed: after it the transaction is aborted and
 * the later writes only fail for that reason.
 */
export async function settleInOrder(writes: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const outcomes = await Promise.allSettled(writes);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
}
