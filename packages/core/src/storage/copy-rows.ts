import { finished } from 'node:stream/promises';
import type { Knex } from 'knex';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * True when `db` (a knex instance or transaction) talks to a PostgreSQL server through
 * `pg`, so `COPY … FROM STDIN` is available; false on PGlite.
 */
export function supportsCopy(db: Knex): boolean {
  return (db as unknown as { client: { config: { client?: unknown } } }).client.config.client === 'pg';
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

/** Text sent per CopyData write: large enough to keep messages few, small enough to start the server early. */
const CHUNK_CHARS = 256 * 1024;
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
    const stream = connection.query(copyFrom(`copy ${quote(table)} (${columns.map(quote).join(', ')}) from stdin`));
    // Rejects with the server's error; the writes below are buffered until then, never lost.
    const done = finished(stream);
    let text = '';
    for (const row of rows) {
      let line = '';
      for (let i = 0; i < row.length; i++) line += (i === 0 ? '' : '\t') + copyField(row[i]);
      text += line + '\n';
      if (text.length >= CHUNK_CHARS) {
        stream.write(text);
        text = '';
      }
    }
    if (text) stream.end(text);
    else stream.end();
    await done;
  } finally {
    await client.releaseConnection(connection);
  }
}

interface PgConnection {
  query<T extends NodeJS.WritableStream>(stream: T): T;
}
