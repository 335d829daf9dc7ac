import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { hasPermission, systemPrincipal, type Principal } from '../access/principal.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import { findTenant } from '../kernel/tenants.js';
import { openCsv, type CsvRow } from './csv-source.js';
import type { ImportBatchResult, Importer, ImportRecord, ImportSettings, RejectedRow } from './importer.js';
import { findImporter, type ImportHost } from './registry.js';
import { supportsCopy } from '../storage/copy-rows.js';
import { refreshStatistics } from '../storage/statistics.js';
import { describeError, ImportStoppedError, isFatalError } from './errors.js';

export interface ImportProgress {
  /** Data rows read from the source so far. */
  read: number;
  imported: number;
  rejected: number;
  /** Bytes of the source consumed, and its size when known (a file). */
  bytes: number;
  totalBytes?: number;
}

export interface ImportOptions {
  /** Rows per unit of work (default 5000). */
  batchSize?: number;
  /** The tenant to import into (default: the principal's, else the first tenant). */
  tenantId?: string;
  /** Who imports (default: the system principal). Needs `imports:write`; record scopes and filters see it. */
  principal?: Principal;
  /** Skip rows that match an existing record (see each importer). */
  dedupe?: boolean;
  /** One summary event per batch rather than one per record, where the importer supports it (see `ImportSettings.summaryEvents`). */
  summaryEvents?: boolean;
  /** Called after each batch is written. */
  onProgress?: (progress: ImportProgress) => void;
  /** Called for every rejected row, in file order within a batch (stream them to a report). */
  onRejected?: (row: RejectedRow) => void | Promise<void>;
  /** How many rejected rows the result keeps in memory (default 10,000; all reach `onRejected`). */
  keepRejected?: number;
}

export interface ImportResult {
  importer: string;
  tenantId: string;
  read: number;
  imported: number;
  rejected: number;
  /** The first `keepRejected` rejected rows, in file order. */
  rejectedRows: RejectedRow[];
  seconds: number;
  rowsPerSecond: number;
  /** False when a fatal error stopped the run; the batches before it are kept. */
  completed: boolean;
  error?: { message: string; line?: number };
}

export const DEFAULT_BATCH_SIZE = 5000;

/** Imports at least this large refresh the planner's statistics of the tables that grew. */
const ANALYZE_AFTER_ROWS = 1000;

/** Batches of a pipelined importer in flight (each on its own connection) while the next is read. */
const PIPELINE_DEPTH = 2;

/**
 * The generic bulk path. Streams a CSV (a path or a readable) through an importer in
 * batches; each batch is one unit of work. Bad rows are rejected with reasons and every
 * good row lands: when a batch fails as a whole for a reason the importer did not foresee,
 * it is split in halves and retried until the offending rows stand alone.
 *
 * Throws before writing anything when the importer, tenant, principal or header is wrong.
 */
export async function runImport(app: ImportHost, importerName: string, source: string | Readable, options: ImportOptions = {}): Promise<ImportResult> {
  const started = performance.now();
  const importer = findImporter(app, importerName);
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValidationError(`The batch size must be a positive integer, not ${batchSize}`);
  const { tenantId, principal } = await resolveScope(app, options);
  assertMayUse(importer, principal);
  const settings: ImportSettings = { dedupe: options.dedupe ?? false, summaryEvents: options.summaryEvents ?? false };
  const keep = options.keepRejected ?? 10_000;

  const csv = openCsv(source);
  const rows = csv.rows;
  const first = await rows.next();
  try {
    checkHeader(importer, csv.header());
  } catch (error) {
    await rows.return(undefined);
    throw error;
  }

  const result: ImportResult = {
    importer: importer.name,
    tenantId,
    read: 0,
    imported: 0,
    rejected: 0,
    rejectedRows: [],
    seconds: 0,
    rowsPerSecond: 0,
    completed: true,
  };
  let bytes = 0;
  const report = async (rejected: RejectedRow[]) => {
    for (const row of rejected.sort((a, b) => a.line - b.line)) {
      result.rejected++;
      if (result.rejectedRows.length < keep) result.rejectedRows.push(row);
      await options.onRejected?.(row);
    }
  };
  const progress = () => options.onProgress?.({ read: result.read, imported: result.imported, rejected: result.rejected, bytes, totalBytes: csv.totalBytes });

  // Batches land in file order, one transaction each. An importer that declares `pipelined`
  // has batch N+1 read, checked and written (its own transaction, on another connection)
  // while batch N is being written; N+1 commits only after N has (`settings.waitTurn`
  // before COMMIT, and before any write that the importer makes wait), and rolls back if
  // the run stopped at N. Others run one at a time. Only with a pool of connections
  // (PostgreSQL): PGlite's one connection serves one transaction.
  const pipelined = importer.pipelined === true && supportsCopy(app.knex);
  let failure: { error: unknown; line?: number } | undefined;
  let settled: Promise<void> = Promise.resolve();
  const inFlight: Array<Promise<void>> = [];
  let batch: ImportRecord[] = [];
  let malformed: RejectedRow[] = [];
  const flush = async () => {
    if (failure) throw new ImportStoppedError();
    if (batch.length === 0 && malformed.length === 0) return;
    const rows = batch;
    const early = malformed;
    batch = [];
    malformed = [];
    const previous = settled;
    // Serial importers (and every importer on a single connection) start after the batch before has settled.
    if (!pipelined) {
      await previous;
      if (failure) throw new ImportStoppedError();
    }
    const waitTurn = async () => {
      await previous;
      if (failure) throw new ImportStoppedError();
    };
    // The tenant's daily quota of imported rows is counted before each batch: used up, the import stops there.
    const written =
      rows.length === 0
        ? Promise.resolve({ imported: 0, rejected: [] })
        : app.limits.quota(tenantId, 'importRowsPerDay', rows.length).then(() => writeIsolating(app, importer, rows, { tenantId, principal }, { ...settings, waitTurn }));
    // Settling never rejects: the first failure is kept, and the batches after it stop at their turn.
    settled = previous.then(async () => {
      let outcome: ImportBatchResult | undefined;
      try {
        outcome = await written;
      } catch (error) {
        if (failure) return;
        failure = error instanceof ImportStoppedError ? { error } : { error, line: rows[0].line };
      }
      // The run stopped at an earlier batch; this one waited for its turn and wrote nothing.
      if (failure && outcome) return;
      try {
        if (outcome) result.imported += outcome.imported;
        // The rows found malformed while this batch was read are reported with it, in line order.
        await report([...early, ...(outcome?.rejected ?? [])]);
        if (outcome) progress();
      } catch (error) {
        // A callback stopped the run (an HTTP import job that was cancelled): after this batch.
        failure ??= { error };
      }
      // PGlite answers without touching the event loop: between batches let requests and
      // timers run, or an import in the background (an HTTP import job) would stall the server.
      await yieldToEventLoop();
    });
    written.catch(() => undefined);
    // Reading goes on while at most PIPELINE_DEPTH batches are in flight: the database always
    // has the next batch's rows to store while this process reads and checks the one after.
    if (pipelined) {
      inFlight.push(settled);
      if (inFlight.length > PIPELINE_DEPTH) await inFlight.shift();
    }
  };

  const consume = async (row: CsvRow) => {
    result.read++;
    bytes = row.bytes;
    if (row.malformed) {
      malformed.push({ line: row.line, errors: [row.malformed] });
      // A file of mostly malformed rows still reports them as it goes, not all at the end.
      if (malformed.length >= batchSize) await flush();
      return;
    }
    batch.push({ line: row.line, record: row.record });
    if (batch.length >= batchSize) await flush();
  };

  let readError: unknown;
  try {
    if (!first.done) await consume(first.value);
    for await (const row of rows) await consume(row);
  } catch (error) {
    await rows.return(undefined);
    if (!(error instanceof ImportStoppedError)) readError = error;
  }
  // A broken file still keeps the good rows read before the break.
  await flush().catch(() => undefined);
  await settled;
  if (failure) {
    result.completed = false;
    const { error, line } = failure;
    result.error = line === undefined ? { message: describeError(error) } : { message: `the batch starting at line ${line} could not be written: ${describeError(error)}`, line };
  } else if (readError) {
    result.completed = false;
    result.error = { message: describeError(readError) };
  }
  progress();
  result.seconds = (performance.now() - started) / 1000;
  result.rowsPerSecond = result.seconds > 0 ? Math.round(result.imported / result.seconds) : result.imported;
  // Fresh statistics before the imported rows are listed: see refreshStatistics.
  if (result.imported >= ANALYZE_AFTER_ROWS) {
    await refreshStatistics(app.knex).catch((error: unknown) =>
      app.logger.warn({ err: error, importer: importerName }, 'import: refreshing the planner statistics failed; lists may be slow until autovacuum analyzes'),
    );
  }
  return result;
}

/** One unit of work for the batch; on an unforeseen failure, bisect until the bad rows stand alone. */
async function writeIsolating(app: ImportHost, importer: Importer, rows: ImportRecord[], scope: { tenantId: string; principal: Principal }, settings: ImportSettings): Promise<ImportBatchResult> {
  try {
    // A pipelined batch may be written while the one before it still is; it commits after it.
    return await app.transaction((uow) => importer.importBatch(uow, rows, settings), { ...scope, beforeCommit: settings.waitTurn });
  } catch (error) {
    if (isFatalError(error)) throw error;
    if (rows.length === 1) return { imported: 0, rejected: [{ line: rows[0].line, errors: [{ message: describeError(error) }] }] };
    const middle = Math.ceil(rows.length / 2);
    const left = await writeIsolating(app, importer, rows.slice(0, middle), scope, settings);
    const right = await writeIsolating(app, importer, rows.slice(middle), scope, settings);
    return { imported: left.imported + right.imported, rejected: [...left.rejected, ...right.rejected] };
  }
}

async function resolveScope(app: ImportHost, options: ImportOptions): Promise<{ tenantId: string; principal: Principal }> {
  const principal = options.principal;
  if (principal) {
    if (options.tenantId && options.tenantId !== principal.tenantId) throw new ForbiddenError('A principal imports only into its own tenant');
    if (!hasPermission(principal, 'imports:write')) throw new ForbiddenError('Importing needs the imports:write permission');
    return { tenantId: principal.tenantId, principal };
  }
  const tenantId = options.tenantId ?? app.defaultTenant.id;
  if (tenantId !== app.defaultTenant.id && !(await findTenant(app.knex, tenantId))) throw new NotFoundError('Tenant', tenantId);
  return { tenantId, principal: systemPrincipal(tenantId) };
}

/** Required columns present, no column the importer does not know (a typo would silently drop data). */
export function checkHeader(importer: Importer, header: string[]): void {
  if (header.length === 0) throw new ValidationError('The CSV file is empty: it needs a header line naming the columns');
  const missing = importer.columns.filter((c) => c.required && !header.includes(c.name)).map((c) => c.name);
  const unknown = header.filter((name) => !importer.columns.some((c) => (c.name.endsWith('*') ? name.startsWith(c.name.slice(0, -1)) && name.length > c.name.length - 1 : c.name === name)));
  const problems: string[] = [];
  if (missing.length) problems.push(`missing required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  if (unknown.length) problems.push(`unknown column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  if (problems.length) {
    throw new ValidationError(`The CSV header does not fit importer "${importer.name}": ${problems.join('; ')} (columns: ${importer.columns.map((c) => c.name).join(', ')})`);
  }
}

/** The importer's own permission, besides `imports:write` (checked by `resolveScope`). */
export function assertMayUse(importer: Importer, principal: Principal): void {
  if (importer.permission && !hasPermission(principal, importer.permission)) {
    throw new ForbiddenError(`Importing with "${importer.name}" also needs the permission "${importer.permission}"`);
  }
}
