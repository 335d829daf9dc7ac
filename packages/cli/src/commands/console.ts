import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as ConsoleModule from '@rapport/console';
import type { Command } from 'commander';
import { DEFAULT_CONSOLE_DIR } from '../config.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { println } from '../io.js';

type ConsoleBuilder = typeof ConsoleModule;

export function registerConsole(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  const command = program.command('console').description('The web console of the system (served at /console)');
  command
    .command('build')
    .description("Build the console with the console parts (`./console` exports) of the config's plugins")
    .option('-o, --out <dir>', `where to write it (default: ${DEFAULT_CONSOLE_DIR} beside the config, where \`rapport serve\` looks)`)
    .option('-f, --force', 'build even when nothing changed since the last build')
    .action(async (options: { out?: string; force?: boolean }) => done(await build(ctx, options)));
}

/** @rapport/console from the system's own install, else from the CLI's: a server-only install needs neither. */
async function loadBuilder(baseDir: string): Promise<ConsoleBuilder> {
  for (const from of [path.join(baseDir, 'rapport.config.js'), import.meta.url]) {
    try {
      const manifest = createRequire(from).resolve('@rapport/console/package.json');
      return (await import(pathToFileURL(path.join(path.dirname(manifest), 'dist', 'index.js')).href)) as ConsoleBuilder;
    } catch {
      // Not installed there: try the next place.
    }
  }
  throw new CliError('The console is not installed: add @rapport/console to the system (npm install @rapport/console), then run `rapport console build` again');
}

async function build(ctx: CommandContext, options: { out?: string; force?: boolean }): Promise<number> {
  const config = await ctx.loadConfig();
  const outDir = options.out ? path.resolve(ctx.io.cwd, options.out) : (config.http?.console?.dir ?? path.join(config.baseDir, DEFAULT_CONSOLE_DIR));
  const builder = await loadBuilder(config.baseDir);
  const result = await builder.buildConsole({ plugins: config.pluginPackages, baseDir: config.baseDir, outDir, force: options.force, logLevel: 'warn' }).catch((error: Error) => {
    throw new CliError(`The console build failed: ${error.message}`, { cause: error });
  });
  const { stdout } = ctx.io;
  const parts = result.plugins.length ? result.plugins.map((p) => p.name).join(', ') : 'none';
  println(stdout, `${result.built ? 'Built' : 'Up to date:'} the console in ${path.relative(ctx.io.cwd, result.outDir) || '.'} (plugin console parts: ${parts}).`);
  println(stdout, `Sign-in page: ${(result.initialJsGzipBytes / 1024).toFixed(1)} KB of JavaScript gzipped (budget ${builder.INITIAL_JS_BUDGET_BYTES / 1024} KB).`);
  return 0;
}
