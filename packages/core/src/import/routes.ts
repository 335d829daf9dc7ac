import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { KernelModule } from '../app/module.js';
import type { PermissionDefinition } from '../kernel/types.js';
import { AUTHENTICATED, type Principal } from '../access/principal.js';
import { NotFoundError, RapportError, ValidationError } from '../errors.js';
import { keysetBatches, sendCsv, type CsvColumn } from '../http/csv-export.js';
import { keysetPage } from '../http/keyset.js';
import { booleanQuery, idParams, pageOf, pageQuery } from '../http/pagination.js';
import type { RequestContext, RouteBuilder } from '../http/routes.js';
import { JobFailedError } from '../jobs/jobs.js';
import { jobSchema, type Job } from '../jobs/schemas.js';
import { isPostgres } from '../storage/listener.js';
import { newId } from '../util/ids.js';
import { insertUnnest } from './bulk-insert.js';
import { openCsv } from './csv-source.js';
import type { RejectedRow, RowError } from './importer.js';
import { listImporters, type ImporterInfo, type ImportHost } from './registry.js';
import { assertMayUse, checkHeader, DEFAULT_BATCH_SIZE, runImport } from './run-import.js';
import { receiveUpload, UploadSweeper } from './upload.js';

/** The job kind of an HTTP import. */
export const IMPORT_JOB_KIND = 'import';
export const DEFAULT_MAX_UPLOAD_BYTES = 256 * 1024 * 1024;
/** Rejected rows written to the report per statement. */
const REJECTIONS_PER_INSERT = 1000;
const CSV_MEDIA_TYPES = ['text/csv', 'application/csv'];
/**
 * Rows per batch of a background import on the embedded database unless the caller says
 * otherwise: PGlite has one connection, so each batch's transaction holds every other
 * request until it commits. A tenth of the usual batch keeps that wait to a fraction of a
 * second at about the same rows/s (bench/tools/import-stall.mjs).
 */
export const EMBEDDED_BACKGROUND_BATCH_SIZE = 500;

/** The rejected-rows report as CSV: one line per rejected row. */
const REPORT_COLUMNS: ReadonlyArray<CsvColumn<{ line: number; errors: RowError[] }>> = [
  { header: 'line', value: (row) => row.line },
  { header: 'columns', value: (row) => [...new Set(row.errors.map((e) => e.column).filter(Boolean))].join(';') },
  { header: 'reasons', value: (row) => row.errors.map((e) => (e.column ? `${e.column}: ${e.message}` : e.message)).join('; ') },
];

const importerSchema = z.object({
  name: z.string(),
  owner: z.string(),
  description: z.string().nullable(),
  /** Needed besides imports:write. */
  permission: z.string().nullable(),
  columns: z.array(z.object({ name: z.string(), required: z.boolean(), description: z.string().nullable() })),
});

const rejectedRowSchema = z.object({
  line: z.number().int(),
  errors: z.array(z.object({ column: z.string().optional(), message: z.string() })),
});

/**
 * CSV import over HTTP, as a background job: the upload is streamed to a file, checked
 * (importer, media type, size, header) before anything is written, then imported in the
 * background as the caller (its permissions, record scopes and the plugins' filters apply).
 * Progress is on the job; rejected rows, with their line and reasons, stay retrievable.
 */
export const IMPORT_PERMISSIONS: readonly PermissionDefinition[] = [{ key: 'imports:write', description: 'Run bulk imports' }];

export function importsModule(app: ImportHost): KernelModule {
  return { name: 'imports', permissions: IMPORT_PERMISSIONS, routes: (r) => importRoutes(r, app) };
}

function importRoutes(r: RouteBuilder, app: ImportHost): void {
  const tags = ['Imports'];
  const uploads = new UploadSweeper(app, app.config.imports?.uploadDir ?? path.join(os.tmpdir(), 'rapport-imports'));

  r.get('/importers', {
    summary: 'CSV importers of the kernel and of enabled plugins, with their columns',
    tags,
    permission: 'meta:read',
    audience: 'any',
    response: z.object({ data: z.array(importerSchema) }),
    handler: () => ({
      data: listImporters(app).map((i) => ({
        name: i.name,
        owner: i.owner,
        description: i.description ?? null,
        permission: i.permission ?? null,
        columns: i.columns.map((c) => ({ name: c.name, required: c.required ?? false, description: c.description ?? null })),
      })),
    }),
  });

  r.post('/imports/:importer', {
    summary: 'Import a CSV file in the background',
    description:
      'Send the file as the `text/csv` body (header line first). Answers 202 with the job (`Location: /api/v1/jobs/{id}`) once the file is ' +
      'received and its header checked; follow the job for progress and the result, and read rejected rows at `/api/v1/imports/{id}/rejected`. ' +
      '404 for an unknown importer, 415 for another media type, 413 above the upload limit, 400 for an empty file or a header that does not fit.',
    tags,
    permission: 'imports:write',
    params: z.strictObject({ importer: z.string().min(1).max(100) }),
    query: z.strictObject({
      dedupe: booleanQuery.optional(),
      batchSize: z.coerce
        .number()
        .int()
        .min(1)
        .max(50_000)
        .optional()
        .describe(`Rows per transaction (default ${DEFAULT_BATCH_SIZE} on PostgreSQL, ${EMBEDDED_BACKGROUND_BATCH_SIZE} on the embedded database, whose one connection each batch holds)`),
      summaryEvents: booleanQuery
        .optional()
        .describe('One event and audit entry per batch instead of one per row, where the importer supports it (interactions: `interactions.imported`); others ignore it'),
    }),
    requestBody: { contentType: 'text/csv', description: 'The CSV file, a header line naming the columns first (see GET /api/v1/importers)' },
    status: 202,
    response: jobSchema,
    handler: (ctx) => startHttpImport(app, uploads, ctx),
  });

  r.get('/imports/:id/rejected', {
    summary: 'Rejected rows of an import, with their line and reasons',
    description: 'In file order. The job must be one the caller may see (its own, or any with `jobs:read`).',
    tags,
    permission: AUTHENTICATED,
    audience: 'any',
    params: idParams,
    query: z.strictObject(pageQuery),
    response: pageOf(rejectedRowSchema),
    handler: async ({ params, query, principal }) => {
      const job = await importJob(app, principal, params.id);
      const q = app.knex('rapport_import_rejections').where({ tenant_id: job.tenantId, job_id: job.id }).select('line', 'errors');
      return keysetPage(q, query, [{ column: 'line', type: 'number' }], (rows: RejectedRow[]) => rows.map((row) => ({ line: row.line, errors: row.errors })));
    },
  });

  r.get('/imports/:id/rejected.csv', {
    summary: 'Rejected rows of an import as CSV (line, columns, reasons)',
    tags,
    permission: AUTHENTICATED,
    audience: 'any',
    params: idParams,
    raw: true,
    responseContentType: 'text/csv',
    handler: async ({ params, principal, koa }) => {
      const job = await importJob(app, principal, params.id);
      const batches = keysetBatches<{ line: number; errors: RowError[] }>((after, limit) =>
        app
          .knex('rapport_import_rejections')
          .where({ tenant_id: job.tenantId, job_id: job.id })
          .where('line', '>', after?.line ?? 0)
          .orderBy('line')
          .limit(limit)
          .select('line', 'errors'),
      );
      await sendCsv(koa, `rejected-${job.id}.csv`, REPORT_COLUMNS, batches);
    },
  });
}

async function startHttpImport(app: ImportHost, uploads: UploadSweeper, ctx: RequestContext<{ importer: string }, { dedupe?: boolean; batchSize?: number; summaryEvents?: boolean }>): Promise<Job> {
  const importer = usableImporter(app, ctx.params.importer);
  assertMayUse(importer, ctx.principal);
  const req = ctx.koa.req;
  const mediaType = ctx.koa.is(CSV_MEDIA_TYPES);
  if (mediaType === null) throw new ValidationError('The body is empty: send the CSV file, header line first, as text/csv');
  if (mediaType === false) {
    throw new RapportError(415, 'unsupported-media-type', `Send the CSV file as text/csv, not ${ctx.koa.get('content-type') || 'a body without Content-Type'}`);
  }
  const encoding = (ctx.koa.get('content-encoding') || 'identity').toLowerCase();
  if (encoding !== 'identity') throw new RapportError(415, 'unsupported-media-type', `Content-Encoding "${encoding}" is not supported; send the CSV uncompressed`);

  const settings = app.config.imports ?? {};
  uploads.sweepSoon();
  // The file is named after its job, so a sweep can tell a crashed node's leftover from a live import's file.
  const jobId = newId();
  const upload = await receiveUpload(req, { dir: uploads.dir, name: `${jobId}.csv`, maxBytes: settings.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES });
  try {
    if (upload.bytes === 0) throw new ValidationError('The body is empty: send the CSV file, header line first, as text/csv');
    await checkUploadedHeader(importer, upload.path);
    await app.limits.quota(ctx.tenantId, 'uploadBytesPerDay', upload.bytes);
  } catch (error) {
    await upload.remove();
    throw error;
  }

  const dedupe = ctx.query.dedupe ?? false;
  const batchSize = ctx.query.batchSize ?? (isPostgres(app.knex) ? DEFAULT_BATCH_SIZE : EMBEDDED_BACKGROUND_BATCH_SIZE);
  const summaryEvents = ctx.query.summaryEvents ?? false;
  let job: Job;
  try {
    job = await app.jobs.start(
      {
        id: jobId,
        kind: IMPORT_JOB_KIND,
        principal: ctx.principal,
        input: { importer: importer.name, dedupe, batchSize, summaryEvents, bytes: upload.bytes },
        progress: { done: 0, total: upload.bytes, read: 0, imported: 0, rejected: 0, bytes: 0, totalBytes: upload.bytes },
      },
      async ({ job, principal, signal, progress }) => {
        try {
          return await importInBackground(app, { job, principal, signal, progress, importer: importer.name, file: upload.path, dedupe, batchSize, summaryEvents });
        } finally {
          await upload.remove();
        }
      },
    );
  } catch (error) {
    await upload.remove();
    throw error;
  }
  ctx.koa.set('Location', `/api/v1/jobs/${job.id}`);
  return job;
}

class ImportStopped extends Error {}

async function importInBackground(
  app: ImportHost,
  run: {
    job: Job;
    principal: Principal;
    signal: AbortSignal;
    progress: (p: Record<string, unknown>) => void;
    importer: string;
    file: string;
    dedupe: boolean;
    batchSize: number;
    summaryEvents: boolean;
  },
): Promise<Record<string, unknown>> {
  const pending: RejectedRow[] = [];
  const writeRejected = async () => {
    const rows = pending.splice(0);
    if (rows.length === 0) return;
    await insertUnnest(
      app.knex,
      'rapport_import_rejections',
      { tenant_id: 'uuid', job_id: 'uuid', line: 'int', errors: 'jsonb' },
      rows.map((row) => ({ tenant_id: run.job.tenantId, job_id: run.job.id, line: row.line, errors: JSON.stringify(row.errors) })),
    );
  };
  // Thrown (once) from the progress callback after a batch: runImport stops there, keeping what it wrote.
  let stopped = false;
  const stopIfAborted = () => {
    if (run.signal.aborted && !stopped) {
      stopped = true;
      throw new ImportStopped('the import was stopped');
    }
  };
  const result = await runImport(app, run.importer, run.file, {
    principal: run.principal,
    dedupe: run.dedupe,
    summaryEvents: run.summaryEvents,
    batchSize: run.batchSize,
    keepRejected: 0,
    onProgress: (p) => {
      run.progress({ done: p.bytes, total: p.totalBytes ?? null, read: p.read, imported: p.imported, rejected: p.rejected, bytes: p.bytes, totalBytes: p.totalBytes ?? null });
      stopIfAborted();
    },
    onRejected: async (row) => {
      pending.push(row);
      if (pending.length >= REJECTIONS_PER_INSERT) await writeRejected();
    },
  });
  await writeRejected();
  const summary: Record<string, unknown> = {
    importer: result.importer,
    read: result.read,
    imported: result.imported,
    rejected: result.rejected,
    seconds: result.seconds,
    rowsPerSecond: result.rowsPerSecond,
    completed: result.completed,
    rejectedReport: `/api/v1/imports/${run.job.id}/rejected`,
    ...(result.error && !run.signal.aborted ? { error: result.error } : {}),
  };
  if (!result.completed && !run.signal.aborted) throw new JobFailedError(result.error?.message ?? 'the import stopped before the end of the file', summary);
  return summary;
}

/** Kernel importers and enabled plugins' ones; anything else is a 404 that says what exists. */
function usableImporter(app: ImportHost, name: string): ImporterInfo {
  const importers = listImporters(app);
  const importer = importers.find((i) => i.name === name);
  if (importer) return importer;
  const declared = app.plugins.importers.get(name);
  if (declared) throw new RapportError(404, 'not-found', `Importer "${name}" belongs to plugin "${declared.owner}", which is not enabled`);
  throw new RapportError(404, 'not-found', `Unknown importer "${name}"; available: ${importers.map((i) => i.name).join(', ')}`);
}

/** The header must fit the importer before the job is accepted, so a wrong file is a 400 now rather than a failed job later. */
async function checkUploadedHeader(importer: ImporterInfo, file: string): Promise<void> {
  const csv = openCsv(file);
  try {
    await csv.rows.next();
  } finally {
    await csv.rows.return(undefined);
  }
  checkHeader(importer, csv.header());
}

async function importJob(app: ImportHost, principal: Principal, id: string): Promise<Job> {
  const job = await app.jobs.get(principal, id);
  if (job.kind !== IMPORT_JOB_KIND) throw new NotFoundError('Import', id);
  return job;
}
