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
  tenant?: string;
}

/** Rejections printed to the terminal when no --errors report is asked for. */
const SHOWN_REJECTIONS = 20;

export function registerImport(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('import')
    .description('Bulk-import a CSV file through an importer (parties, interactions, or a plugin\'s); `rapport import --list` shows them')
    .argument('[importer]', 'parties, interactions, or <plugin>.<thing>')
    .argument('[file]', 'the CSV file, with a header line')
    .option('--batch-size <rows>', 'rows per transaction', String(DEFAULT_BATCH_SIZE))
    .option('--errors <report.csv>', 'write every rejected row to this CSV (line, column, message)')
    .option('--dedupe', 'skip rows that match an existing record (parties: same e-mail or domain)')
    .option('--tenant <id>', 'tenant to import into (default: the first tenant)')
    .option('--list', 'list the importers and their columns')
    .action(async (importer: string | undefined, file: string | undefined, options: ImportCliOptions & { list?: boolean }) => {
      if (options.list || !importer) return done(await ctx.withApp((app) => listAll(ctx, app)));
      if (!file) throw new CliError('Give the CSV file to import: rapport import <importer> <file.csv>');
      done(await ctx.withApp((app) => importFile(ctx, app, importer, path.resolve(ctx.io.cwd, file), options)));
    });
}

async function listAll(ctx: CommandContext, app: Rapport): Promise<number> {
  for (const importer of listImporters(app)) {
    println(ctx.io.stdout, `${importer.name}${importer.owner === 'core' ? '' : ` (plugin ${importer.owner})`}${importer.description ? ` — ${importer.description}` : ''}`);
    for (const column of importer.columns) println(ctx.io.stdout, `  ${column.name}${column.required ? ' (required)' : ''}${column.description ? `: ${column.description}` : ''}`);
  }
  return 0;
}

async function importFile(ctx: CommandContext, app: Rapport, importer: string, file: string, options: ImportCliOptions): Promise<number> {
  const { stdout, stderr } = ctx.io;
  const batchSize = Number(options.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new CliError(`--batch-size must be a positive whole number, not "${options.batchSize}"`);
  if (!fs.existsSync(file)) throw new CliError(`${file} does not exist`);
  if (options.tenant && !(await findTenant(app.knex, options.tenant).catch(() => undefined))) throw new CliError(`Tenant ${options.tenant} does not exist`);

  const report = options.errors ? new ErrorReport(path.resolve(ctx.io.cwd, options.errors)) : undefined;
  const shown: RejectedRow[] = [];
  const progress = progressReporter(stderr, `import ${importer}`);
  let result;
  try {
    result = await runImport(app, importer, file, {
      batchSize,
      tenantId: options.tenant,
      dedupe: options.dedupe ?? false,
      keepRejected: 0,
      onProgress: (p) => progress.update(p),
      onRejected: async (row) => {
        if (report) await report.add(row);
        else if (shown.length < SHOWN_REJECTIONS) shown.push(row);
      },
    });
  } finally {
    progress.stop();
    await report?.close();
  }

  const seconds = result.seconds.toFixed(1);
  println(stdout, `${result.importer}: ${result.imported} imported, ${result.rejected} rejected, ${result.read} rows read in ${seconds} s (${result.rowsPerSecond} rows/s).`);
  if (result.rejected > 0) {
    if (report) println(stdout, `Rejected rows are listed in ${report.file} (line, column, message).`);
    else {
      for (const row of shown) for (const error of row.errors) println(stderr, `  line ${row.line}${error.column ? `, ${error.column}` : ''}: ${error.message}`);
      if (result.rejected > shown.length) println(stderr, `  … and ${result.rejected - shown.length} more; --errors <report.csv> writes them all.`);
    }
  }
  if (!result.completed) {
    println(stderr, `rapport: the import stopped: ${result.error?.message}. The ${result.imported} rows imported before it are kept.`);
    return 1;
  }
  if (result.rejected > 0) println(stdout, 'The import completed; the rejected rows were skipped and every other row was kept.');
  return 0;
}
