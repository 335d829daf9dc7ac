import type { Knex } from 'knex';

interface ClientInternals {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void>;
  query(connection: unknown, query: { sql: string; bindings: readonly unknown[]; method: 'select'; options: object }): Promise<unknown>;
  processResponse(result: unknown, runner: unknown): unknown;
}

/**
 * Runs one SELECT whose SQL was written (or built once) ahead of time, with knex `?`
 * placeholders, and returns its rows. For hot reads that run on every request (a record
 * by id): on the root handle it skips the query builder and knex's runner, which cost
 * about as much CPU as the database round trip itself, and goes straight to a pooled
 * connection through the client's own `query` (so the `query` event, positional
 * bindings and error messages stay as for any knex query). Inside a transaction it runs
 * on that transaction's connection through `raw`, as it must (PGlite has one connection).
 */
export async function preparedSelect<T>(db: Knex, sql: string, bindings: readonly unknown[]): Promise<T[]> {
  return preparedSelects(db, (select) => select<T>(sql, bindings));
}

export type PreparedSelect = <T>(sql: string, bindings: readonly unknown[]) => Promise<T[]>;

/**
 * Several prepared SELECTs of one read on one pooled connection, taken once: a read of a
 * record and its children (a party and its contact points) waits for the pool once instead
 * of once a statement, and on PGlite's single connection does not queue behind other
 * requests between its two statements. Inside a transaction they run on that transaction.
 */
export async function preparedSelects<R>(db: Knex, work: (select: PreparedSelect) => Promise<R>): Promise<R> {
  if ((db as { isTransaction?: boolean }).isTransaction) {
    return work(async <T>(sql: string, bindings: readonly unknown[]) => (await db.raw<{ rows: T[] }>(sql, bindings as Knex.RawBinding[])).rows);
  }
  const client = (db as unknown as { client: ClientInternals }).client;
  const connection = await client.acquireConnection();
  try {
    return await work(async <T>(sql: string, bindings: readonly unknown[]) => {
      const result = await client.query(connection, { sql, bindings, method: 'select', options: {} });
      return client.processResponse(result, null) as T[];
    });
  } finally {
    await client.releaseConnection(connection);
  }
}
