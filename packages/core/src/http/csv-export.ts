import { Readable } from 'node:stream';
import type Koa from 'koa';
import type * as CsvStringify from 'csv-stringify';
import { lazyModule } from '../util/lazy-module.js';

const csvStringify = lazyModule<typeof CsvStringify>('csv-stringify');

/** One CSV column: the header text and how to read the cell from a row. */
export interface CsvColumn<Row> {
  header: string;
  value(row: Row): unknown;
}

/** Rows per query when exporting; small enough to keep memory flat, large enough to keep round trips few. */
export const DEFAULT_EXPORT_BATCH_SIZE = 1000;

/**
 * Reads a table in keyset batches: `fetch(after, limit)` returns the next `limit` rows after
 * the last row of the previous batch (`undefined` for the first), in the order the keyset
 * defines. Stops at the first short batch. Only one batch is in memory at a time, and no
 * connection or transaction is held between batches (PGlite has a single connection that
 * other requests need while a long export runs; a server-side cursor would hold it).
 */
export async function* keysetBatches<Row>(fetch: (after: Row | undefined, limit: number) => Promise<Row[]>, batchSize = DEFAULT_EXPORT_BATCH_SIZE): AsyncGenerator<Row[]> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`keysetBatches: the batch size must be a positive integer, not ${batchSize}`);
  let after: Row | undefined;
  for (;;) {
    const rows = await fetch(after, batchSize);
    if (rows.length > 0) yield rows;
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1];
  }
}

/** A cell as text: dates in ISO 8601, objects as JSON, null and undefined empty. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return value.toString();
  return JSON.stringify(value);
}

/**
 * Cells a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) get a leading
 * apostrophe, so an exported name like `=HYPERLINK(…)` stays text (CSV injection). Numbers
 * are left alone: a negative amount is not a formula.
 */
function defuse(text: string, value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return text;
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** The CSV text of the rows, header first, as a stream of chunks. */
export function csvStream<Row>(columns: ReadonlyArray<CsvColumn<Row>>, batches: AsyncIterable<Row[]>): Readable {
  const records = Readable.from(
    (async function* () {
      for await (const batch of batches) {
        for (const row of batch) {
          yield columns.map((column) => {
            const value = column.value(row);
            return defuse(cell(value), value);
          });
        }
      }
    })(),
  );
  const stringifier = csvStringify().stringify({ header: true, columns: columns.map((c) => c.header), record_delimiter: '\r\n' });
  // A failing query mid-export ends the response early; the client sees a truncated body, never a silent success.
  records.on('error', (error) => stringifier.destroy(error));
  return records.pipe(stringifier);
}

/**
 * Answers a raw route (`raw: true`) with a streamed CSV download. Rows come from `batches`
 * (use `keysetBatches`) and are written as they arrive, so an export of any size runs in
 * constant memory. Apply the caller's tenant and record scope in the queries that feed it.
 * The first batch is read before the response starts, so a query that fails at once still
 * answers with a problem document rather than a broken download.
 *
 *   r.get('/exports/deals', { raw: true, responseContentType: 'text/csv', …, handler: (ctx) =>
 *     sendCsv(ctx.koa, 'deals.csv', columns, keysetBatches((after, limit) => visible(ctx).where(…).limit(limit))) });
 */
export async function sendCsv<Row>(koa: Koa.Context, filename: string, columns: ReadonlyArray<CsvColumn<Row>>, batches: AsyncIterable<Row[]>): Promise<void> {
  const iterator = batches[Symbol.asyncIterator]();
  const first = await iterator.next();
  const rest: AsyncIterable<Row[]> = {
    async *[Symbol.asyncIterator]() {
      if (first.done) return;
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    },
  };
  koa.status = 200;
  koa.type = 'text/csv; charset=utf-8';
  koa.set('Content-Disposition', `attachment; filename="${filename.replace(/["\\\r\n]/g, '_')}"`);
  koa.set('Cache-Control', 'no-store');
  koa.body = csvStream(columns, rest);
}
