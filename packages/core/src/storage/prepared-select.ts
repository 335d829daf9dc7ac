import type { Knex } from 'knex';

interface ClientInternals {
  acquireConnection(): Promise<Connection>;
  releaseConnection(connection: Connection): Promise<void>;
  positionBindings(sql: string): string;
  emit(event: 'query' | 'query-error', ...args: unknown[]): boolean;
}

/** A pooled connection of either driver: `pg`'s Client and PGlite both answer `query(text, values)` with `{ rows }`. */
interface Connection {
  query(sql: string, bindings: readonly unknown[]): Promise<{ rows: unknown[] }>;
  __knexUid?: string;
  __knexTxId?: string;
}

/** Each prepared statement's SQL with the driver's `$n` placeholders, worked out once. */
const positional = new Map<string, string>();

function positionalSql(client: ClientInternals, sql: string): string {
  let text = positional.get(sql);
  if (text === undefined) {
    // The statements are constants of the code; the bound only guards against a caller building them per request.
    if (positional.size > 1000) positional.clear();
    text = client.positionBindings(sql);
    positional.set(sql, text);
  }
  return text;
}

/**
 * One statement on a pooled connection as knex's `client.query` runs it — the same `query`
 * event, the same `query-error` event and error message (the statement, then the driver's
 * message) — without what that costs per call: placeholders rewritten by a regular
 * expression, a promise wrapped around the driver's own, a copied response.
 */
async function selectOn<T>(client: ClientInternals, connection: Connection, sql: string, bindings: readonly unknown[]): Promise<T[]> {
  const text = positionalSql(client, sql);
  const query = { __knexUid: connection.__knexUid, __knexTxId: connection.__knexTxId, sql: text, bindings, method: 'select', options: {} };
  client.emit('query', query);
  try {
    return (await connection.query(text, bindings)).rows as T[];
  } catch (error) {
    if (error instanceof Error) error.message = `${text} - ${error.message}`;
    client.emit('query-error', error, query);
    throw error;
  }
}

/**
 * Runs one SELECT whose SQL was written (or built once) ahead of time, with knex `?`
 * placeholders, and returns its rows. For hot reads that run on every request (a record
 * by id): on the root handle it skips the query builder and knex's runner, which cost
 * about as much CPU as the database round trip itself, and goes straight to a pooled
 * connection (the `query` event, positional bindings and error messages stay as for any
 * knex query: see `selectOn`). Inside a transaction it runs
 * on that transaction's connection through `raw`, as it must (PGlite has one connection).
 */
export async function preparedSelect<T>(db: Knex, sql: string, bindings: readonly unknown[]): Promise<T[]> {
  return preparedSelects(db, (select) => select<T>(sql, bindings));
}

export type PreparedSelect = <T>(sql: string, bindings: readonly unknown[]) => Promise<T[]>;

/**
 * Several prepared SELECTs of one read on one pooled connection, taken once: a read of a
 * record and its children waits for the pool once instead of once a statement, and on
 * PGlite's single connection does not queue behind other requests between its statements.
 * Inside a transaction they run on that transaction.
 */
export async function preparedSelects<R>(db: Knex, work: (select: PreparedSelect) => Promise<R>): Promise<R> {
  if ((db as { isTransaction?: boolean }).isTransaction) {
    return work(async <T>(sql: string, bindings: readonly unknown[]) => (await db.raw<{ rows: T[] }>(sql, bindings as Knex.RawBinding[])).rows);
  }
  const client = (db as unknown as { client: ClientInternals }).client;
  const connection = await client.acquireConnection();
  try {
    return await work(<T>(sql: string, bindings: readonly unknown[]) => selectOn<T>(client, connection, sql, bindings));
  } finally {
    await client.releaseConnection(connection);
  }
}
