import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { registerCitus } from './commands/citus.js';
import { registerConsole } from './commands/console.js';
import { registerCreatePlugin } from './commands/create-plugin.js';
import { registerImport } from './commands/import.js';
import { registerInit } from './commands/init.js';
import { registerKeys } from './commands/keys.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPlugins } from './commands/plugins.js';
import { registerServe } from './commands/serve.js';
import { CommandContext, type GlobalOptions } from './context.js';
import { withDotEnv } from './dotenv.js';
import { formatError } from './errors.js';
import { defaultIO, println, type CliIO } from './io.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/**
 * Runs the `rapport` command line and resolves to its exit code. The binary calls it with
 * process.argv; tests call it in-process with their own streams, environment and cwd.
 */
export async function run(argv: string[], io: Partial<CliIO> = {}): Promise<number> {
  const given: CliIO = { ...defaultIO(), ...io };
  let cli: CliIO;
  try {
    // A .env in the current directory fills in what the environment does not set.
    cli = { ...given, env: withDotEnv(given.env, given.cwd) };
  } catch (error) {
    println(given.stderr, formatError(error, false));
    return 1;
  }
  const program = new Command('rapport');
  let exitCode = 0;
  const done = (code: number) => {
    exitCode = code;
  };
  const ctx = new CommandContext(cli, () => program.opts<GlobalOptions>());

  program
    .description('Rapport: relationship management on a kernel of parties, relationships, interactions and indicators')
    .version(version, '-v, --version')
    .option('-c, --config <path>', 'configuration file (default: rapport.config.{ts,mts,js,mjs,json} in the current directory)')
    .option('--data-dir <dir>', 'PGlite data directory when no DATABASE_URL is set (env RAPPORT_DATA_DIR, default ./.rapport)')
    .option('--database-url <url>', 'PostgreSQL connection URL (env DATABASE_URL)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (env LOG_LEVEL)')
    .showHelpAfterError('(run `rapport --help` for the commands and their options)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => cli.stdout.write(text),
      writeErr: (text) => cli.stderr.write(text),
    });
  for (const register of [registerServe, registerMigrate, registerCitus, registerPlugins, registerKeys, registerImport, registerCreatePlugin, registerInit, registerConsole])
    register(program, ctx, done);
  for (const command of program.commands) applyOverrides(command);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const level = program.opts<GlobalOptions>().logLevel ?? cli.env.LOG_LEVEL;
    println(cli.stderr, formatError(error, level === 'debug' || level === 'trace'));
    return typeof (error as { exitCode?: unknown }).exitCode === 'number' ? (error as { exitCode: number }).exitCode : 1;
  }
}

/** Subcommands report through the same streams and never call process.exit themselves. */
function applyOverrides(command: Command): void {
  command.exitOverride();
  command.configureOutput(command.parent!.configureOutput());
  for (const sub of command.commands) applyOverrides(sub);
}
