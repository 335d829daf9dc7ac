import path from 'node:path';
import { parseArgs } from 'node:util';
import { FIRST_PARTY_PLUGINS, parsePlugins, PLUGIN_KEYS, StarterError, STARTER_VERSION, writeSystem, type CreatedSystem, type FirstPartyPlugin } from './system.js';

export interface Output {
  write(chunk: string): unknown;
}

/** Where the starter talks: `npm create rapport` and `rapport init` give their own streams. */
export interface StarterIO {
  stdout: Output;
  stderr: Output;
  /** Relative directories are resolved from here. */
  cwd: string;
  /**
   * Asks one question and resolves to the answer. Given only on a terminal: without it
   * nothing is asked, and what is missing takes its default or is an error.
   */
  ask?: (question: string) => Promise<string>;
}

export interface InitOptions {
  /** Where to write the system; asked for on a terminal when missing. */
  dir?: string;
  /** `crm,prm,hrm`, `none`; asked for on a terminal when missing, all three otherwise. */
  plugins?: string;
}

const DEFAULT_DIR = 'my-system';

/**
 * Writes a system directory: the one implementation behind `npm create rapport` and
 * `rapport init`. `command` is how the user called it, for the messages.
 */
export async function initSystem(options: InitOptions, io: StarterIO, command: string): Promise<CreatedSystem> {
  let dir = options.dir;
  if (dir === undefined) {
    if (!io.ask) throw new StarterError(`Give the directory of the new system: ${command} ${DEFAULT_DIR}`);
    dir = (await io.ask(`Directory of the new system (${DEFAULT_DIR}): `)).trim() || DEFAULT_DIR;
  }
  let plugins: FirstPartyPlugin[];
  if (options.plugins !== undefined) plugins = parsePlugins(options.plugins);
  else if (io.ask) plugins = await askPlugins(io, io.ask);
  else plugins = [...PLUGIN_KEYS];

  const created = writeSystem(path.resolve(io.cwd, dir), plugins);
  const shown = path.relative(io.cwd, created.dir) || '.';
  const out = (line = '') => io.stdout.write(`${line}\n`);
  out(`Created the Rapport system "${created.name}" in ${shown}, with ${plugins.length === 0 ? 'the kernel alone' : plugins.map((p) => FIRST_PARTY_PLUGINS[p].packageName).join(', ')}:`);
  for (const file of created.files) out(`  ${file}`);
  out();
  out('Next:');
  if (shown !== '.') out(`  cd ${shown.includes(' ') ? JSON.stringify(shown) : shown}`);
  out('  npm install');
  out('  cp .env.example .env      # and set RAPPORT_BOOTSTRAP_KEY');
  out('  npm start                 # http://localhost:4000, data in .rapport/');
  return created;
}

async function askPlugins(io: StarterIO, ask: (question: string) => Promise<string>): Promise<FirstPartyPlugin[]> {
  io.stdout.write('Plugins of the new system:\n');
  for (const key of PLUGIN_KEYS) io.stdout.write(`  ${key}  ${FIRST_PARTY_PLUGINS[key].packageName}: ${FIRST_PARTY_PLUGINS[key].summary}\n`);
  for (;;) {
    const answer = (await ask(`Which ones, comma-separated, or "none" (${PLUGIN_KEYS.join(',')}): `)).trim();
    if (answer === '') return [...PLUGIN_KEYS];
    try {
      return parsePlugins(answer);
    } catch (error) {
      if (!(error instanceof StarterError)) throw error;
      io.stderr.write(`${error.message}\n`);
    }
  }
}

const USAGE = `Usage: npm create rapport@latest [directory] [-- --plugins crm,prm,hrm]
       create-rapport [directory] [--plugins crm,prm,hrm]

Writes a Rapport system directory: package.json, rapport.config.ts, .env.example, README.md
and .gitignore. \`npm install && npm start\` in it serves the system on the embedded database.

  directory          where to write it; must be new or empty (asked for on a terminal)
  --plugins <list>   first-party plugins: ${PLUGIN_KEYS.join(', ')}, comma-separated, or "none"
                     (asked for on a terminal; all three otherwise)
  -h, --help         this help
  -v, --version      the version of Rapport it writes a system for
`;

/** `create-rapport [dir] [--plugins list]`: resolves to the exit code. */
export async function runStarter(argv: string[], io: StarterIO): Promise<number> {
  const command = 'npm create rapport@latest';
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { plugins: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
    });
  } catch (error) {
    io.stderr.write(`create-rapport: ${(error as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (parsed.values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (parsed.values.version) {
    io.stdout.write(`${STARTER_VERSION}\n`);
    return 0;
  }
  if (parsed.positionals.length > 1) {
    io.stderr.write(`create-rapport: one directory only, got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}\n\n${USAGE}`);
    return 1;
  }
  try {
    await initSystem({ dir: parsed.positionals[0], plugins: parsed.values.plugins }, io, command);
    return 0;
  } catch (error) {
    if (!(error instanceof StarterError)) throw error;
    io.stderr.write(`create-rapport: ${error.message}\n`);
    return 1;
  }
}
