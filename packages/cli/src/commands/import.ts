import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_BATCH_SIZE, findTenant, listImporters, runImport, type Rapport, type RejectedRow } from '@rapport/core';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { ErrorReport } from '../error-report.js';
import { println } from '../io.js';
import { progressReporter } from '../progress.js';

interface ImportCliOptions {
  batchSize: string;
  errors?: string;
  dedupe?: boolean;
  summaryEvents?: boolean;
  tenant?: string;
}

/** Rejections printed to the terminal when no --errors report is asked for. */
const SHOWN_REJECTIONS = 20;

export function registerImport(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('import')
    .description(
      "Bulk-import CSV files through importers (parties, interactions, or a plugin's), in the order given, so later files resolve what earlier ones created; `rapport import --list` shows them",
    )
    .argument('[pairs...]', 'an importer and its CSV file, repeated: crm.accounts accounts.csv crm.contacts contacts.csv …')
    .option('--batch-size <rows>', 'rows per transaction', String(DEFAULT_BATCH_SIZE))
    .option('--errors <report.csv>', 'write every rejected row to this CSV (line, column, message; with several files, the file first)')
    .option('--dedupe', 'skip rows that match an existing record (parties: same e-mail or domain)')
    .option('--summary-events', 'one event (and audit entry) per batch instead of one per row, where the importer supports it (interactions: interactions.imported)')
    .option('--tenant <id>', 'tenant to import into (default: the first tenant)')
    .option('--list', 'list the importers and their columns')
    .action(async (pairs: string[], options: ImportCliOptions & { list?: boolean }) => {
      if (options.list || pairs.length === 0) return done(await ctx.withApp((app) => listAll(ctx, app)));
      if (pairs.length % 2 !== 0) throw new CliError(`Give each importer its CSV file: rapport import <importer> <file.csv> [<importer> <file.csv> …]`);
      const jobs: ImportJob[] = [];
      for (let i = 0; i < pairs.length; i += 2) jobs.push({ importer: pairs[i], file: path.resolve(ctx.io.cwd, pairs[i + 1]) });
      done(await ctx.withApp((app) => importFiles(ctx, app, jobs, options)));
    });
}

interface ImportJob {
  importer: string;
  file: string;
}

async function listAll(ctx: CommandContext, app: Rapport): Promise<number> {
  for (const importer of listImporters(app)) {
    println(ctx.io.stdout, `${importer.name}${importer.owner === 'core' ? '' : ` (plugin ${importer.owner})`}${importer.description ? ` — ${importer.description}` : ''}`);
    for (const column of importer.columns) println(ctx.io.stdout, `  ${column.name}${column.required ? ' (required)' : ''}${column.description ? `: ${column.description}` : ''}`);
  }
  return 0;
}

async function importFiles(ctx: CommandContext, app: Rapport, jobs: ImportJob[], options: ImportCliOptions): Promise<number> {
  const batchSize = Number(options.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new CliError(`--batch-size must be a positive whole number, not "${options.batchSize}"`);
  // Everything is checked before the first row is written: a typo in the third file must not
  // leave the first two imported and the run half done.
  const known = new Set(listImporters(app).map((i) => i.name));
  for (const job of jobs) {
    if (!known.has(job.importer)) throw new CliError(`Unknown importer "${job.importer}"; available: ${[...known].join(', ')}`);
    if (!fs.existsSync(job.file)) throw new CliError(`${job.file} does not exist`);
  }
  if (options.tenant && !(await findTenant(app.knex, options.tenant).catch(() => undefined))) throw new CliError(`Tenant ${options.tenant} does not exist`);

  const report = options.errors ? new ErrorReport(path.resolve(ctx.io.cwd, options.errors), jobs.length > 1) : undefined;
  try {
    for (const [index, job] of jobs.entries()) {
      const code = await importFile(ctx, app, job, batchSize, options, report);
      if (code !== 0) {
        const skipped = jobs.slice(index + 1).map((j) => j.importer);
        if (skipped.length) println(ctx.io.stderr, `rapport: not run after that failure: ${skipped.join(', ')}.`);
        return code;
      }
    }
  } finally {
    await report?.close();
  }
  if (report && report.rows > 0) println(ctx.io.stdout, `Rejected rows are listed in ${report.file} (${jobs.length > 1 ? 'file, ' : ''}line, column, message).`);
  return 0;
}

async function importFile(ctx: CommandContext, app: Rapport, job: ImportJob, batchSize: number, options: ImportCliOptions, report: ErrorReport | undefined): Promise<number> {
  const { stdout, stderr } = ctx.io;
  const shown: RejectedRow[] = [];
  const progress = progressReporter(stderr, `import ${job.importer}`);
  let result;
  try {
    result = await runImport(app, job.importer, job.file, {
      batchSize,
      tenantId: options.tenant,
      dedupe: options.dedupe ?? false,
      summaryEvents: options.summaryEvents ?? false,
      keepRejected: 0,
      onProgress: (p) => progress.update(p),
      onRejected: async (row) => {
        if (report) await report.add(row, path.basename(job.file));
        else if (shown.length < SHOWN_REJECTIONS) shown.push(row);
      },
    });
  } finally {
    progress.stop();
  }

  const seconds = result.seconds.toFixed(1);
  println(stdout, `${result.importer}: ${result.imported} imported, ${result.rejected} rejected, ${result.read} rows read in ${seconds} s (${result.rowsPerSecond} rows/s).`);
  if (result.rejected > 0 && !report) {
    for (const row of shown) for (const error of row.errors) println(stderr, `  line ${row.line}${error.column ? `, ${error.column}` : ''}: ${error.message}`);
    if (result.rejected > shown.length) println(stderr, `  … and ${result.rejected - shown.length} more; --errors <report.csv> writes them all.`);
  }
  if (!result.completed) {
    println(stderr, `rapport: the import stopped: ${result.error?.message}. The ${result.imported} rows imported before it are kept.`);
    return 1;
  }
  if (result.rejected > 0) println(stdout, 'The import completed; the rejected rows were skipped and every other row was kept.');
  return 0;
}
