import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkConfig, ConfigError, configReference, named, rapportConfigSchema, type PluginDefinition, type Rapport, type RapportConfig } from '@rapport/core';
import { z } from 'zod';
import type { Logger } from 'pino';
import { CliError } from './errors.js';
import { FIRST_PARTY_PLUGINS, loadFirstPartyPlugins, loadPlugin } from './plugin-loader.js';

/** What `rapport.config.ts` (or .mts, .js, .mjs, .json) may hold. */
export interface RapportCliConfig extends Omit<RapportConfig, 'plugins'> {
  /** Plugin objects, or package names (or paths) whose default export is a plugin. */
  plugins?: Array<PluginDefinition | string>;
  /** Port `rapport serve` listens on (default 4000). */
  port?: number;
  /** Address `rapport serve` binds (default 0.0.0.0). */
  host?: string;
  /**
   * Runs in `rapport serve` once the server listens, on every start (so it must be
   * idempotent) — e.g. to load demo data through the HTTP API. If it throws, the server
   * stops and the command fails with its message.
   */
  onListen?: (context: ListeningContext) => void | Promise<void>;
}

/** What `onListen` gets: the running system, the URL it answers on, and the server's logger. */
export interface ListeningContext {
  app: Rapport;
  /** e.g. `http://127.0.0.1:4000` (a wildcard host is given as 127.0.0.1). */
  url: string;
  logger: Logger;
}

/** The file's settings: the core's, plugins also by package name or path, and the server's own. */
const cliConfigSchema = rapportConfigSchema.extend({
  plugins: z
    .array(
      z.union([
        named(z.string().min(1), 'package name or path'),
        named(
          z.custom<PluginDefinition>((v) => typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string', 'a plugin or a package name'),
          'plugin',
        ),
      ]),
    )
    .optional()
    .describe('Plugin objects, or package names (or paths) whose default export is a plugin'),
  port: z.number().int().min(0).max(65535).optional().describe('Port `rapport serve` listens on (PORT; default 4000)'),
  host: z.string().min(1).optional().describe('Address `rapport serve` binds (HOST; default 0.0.0.0)'),
  onListen: named(
    z.custom<NonNullable<RapportCliConfig['onListen']>>((v) => typeof v === 'function', 'expected a function'),
    'function',
  )
    .optional()
    .describe('Runs once the server listens, on every start'),
});

/** The settings of a rapport.config file as a Markdown table (docs/operations.md is generated from it). */
export function configFileReference(): string {
  return configReference(cliConfigSchema);
}

/** Typed identity for `rapport.config.ts`: `export default defineConfig({ ... })`. */
export function defineConfig(config: RapportCliConfig): RapportCliConfig {
  return config;
}

/** The configuration a command runs with, after flags, environment, file and defaults. */
export interface ResolvedConfig extends RapportConfig {
  plugins: PluginDefinition[];
  port: number;
  host: string;
  /** The file it came from, or null when none was found. */
  configFile: string | null;
  /** The file's directory (or the current one): where packages resolve from and `dist/console` is built. */
  baseDir: string;
  /** The plugins given by package name, in order: what `rapport console build` looks in for `./console` parts. */
  pluginPackages: string[];
  onListen?: RapportCliConfig['onListen'];
}

/** Settings given as command-line flags; they beat everything else. */
export interface ConfigOverrides {
  port?: number | string;
  host?: string;
  databaseUrl?: string;
  dataDir?: string;
  logLevel?: string;
}

export interface LoadConfigOptions {
  /** Where to look for rapport.config.* and resolve relative paths (default: process.cwd()). */
  cwd?: string;
  /** An explicit config file (`--config`). */
  config?: string;
  /** Environment to read (default: process.env). */
  env?: Record<string, string | undefined>;
  overrides?: ConfigOverrides;
}

export const CONFIG_FILE_NAMES = ['rapport.config.ts', 'rapport.config.mts', 'rapport.config.js', 'rapport.config.mjs', 'rapport.config.json'];
export const DEFAULT_PORT = 4000;
export const DEFAULT_HOST = '0.0.0.0';
/** Where `rapport console build` writes, relative to the config file, and where `rapport serve` looks. */
export const DEFAULT_CONSOLE_DIR = path.join('dist', 'console');

/**
 * Loads the configuration. Precedence: flags > environment > config file > defaults.
 * Environment: PORT, HOST, DATABASE_URL, RAPPORT_REPLICA_URLS (comma-separated),
 * RAPPORT_DATA_DIR, RAPPORT_BOOTSTRAP_KEY, LOG_LEVEL, RAPPORT_TENANT_NAME, RAPPORT_CONSOLE_DIR. With no config file at all, every first-party plugin
 * that is installed is loaded (@rapport/plugin-crm, -prm, -hrm).
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const flags = options.overrides ?? {};
  const configFile = findConfigFile(cwd, options.config);
  const file = configFile ? await readConfigFile(configFile) : {};
  const baseDir = configFile ? path.dirname(configFile) : cwd;
  const fromEnv = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);

  const plugins = configFile
    ? await Promise.all((file.plugins ?? []).map((entry, index) => loadPlugin(entry, baseDir, `${path.basename(configFile)} plugins[${index}]`)))
    : await loadFirstPartyPlugins(cwd);

  const databaseUrl = flags.databaseUrl ?? fromEnv('DATABASE_URL') ?? file.database?.url;
  const dataDir = flags.dataDir
    ? path.resolve(cwd, flags.dataDir)
    : fromEnv('RAPPORT_DATA_DIR')
      ? path.resolve(cwd, fromEnv('RAPPORT_DATA_DIR')!)
      : file.database?.dataDir
        ? file.database.dataDir.startsWith('memory://')
          ? file.database.dataDir
          : path.resolve(baseDir, file.database.dataDir)
        : path.resolve(cwd, '.rapport');

  const resolved: ResolvedConfig = {
    ...file,
    plugins,
    database: { ...file.database, url: databaseUrl, dataDir },
    port: parsePort(flags.port ?? fromEnv('PORT') ?? file.port ?? DEFAULT_PORT, flags.port !== undefined ? '--port' : fromEnv('PORT') ? 'PORT' : 'port'),
    host: flags.host ?? fromEnv('HOST') ?? file.host ?? DEFAULT_HOST,
    configFile,
    baseDir,
    pluginPackages: configFile ? (file.plugins ?? []).filter((entry): entry is string => typeof entry === 'string') : FIRST_PARTY_PLUGINS,
  };
  // A console built beside the config (`rapport console build`) is served unless the file says where.
  const builtConsole = path.join(baseDir, DEFAULT_CONSOLE_DIR);
  if (!file.http?.console && fs.existsSync(path.join(builtConsole, 'index.html'))) resolved.http = { ...file.http, console: { dir: builtConsole } };
  else if (file.http?.console) resolved.http = { ...file.http, console: { dir: path.resolve(baseDir, file.http.console.dir) } };
  const consoleDir = fromEnv('RAPPORT_CONSOLE_DIR');
  if (consoleDir) resolved.http = { ...resolved.http, console: { dir: path.resolve(cwd, consoleDir) } };
  const bootstrapKey = fromEnv('RAPPORT_BOOTSTRAP_KEY') ?? file.bootstrapKey;
  const logLevel = flags.logLevel ?? fromEnv('LOG_LEVEL') ?? file.logLevel;
  const tenantName = fromEnv('RAPPORT_TENANT_NAME') ?? file.tenantName;
  if (bootstrapKey !== undefined) resolved.bootstrapKey = bootstrapKey;
  // Env over file, as for every other setting (the kernel alone would let the file win).
  const secretKey = fromEnv('RAPPORT_SECRET_KEY') ?? file.secretKey;
  if (secretKey !== undefined) resolved.secretKey = secretKey;
  if (logLevel !== undefined) resolved.logLevel = logLevel;
  if (tenantName !== undefined) resolved.tenantName = tenantName;
  if (!resolved.database!.url) delete resolved.database!.url;
  const replicaUrls = fromEnv('RAPPORT_REPLICA_URLS');
  if (replicaUrls !== undefined)
    resolved.database!.replicas = replicaUrls
      .split(',')
      .map((url) => url.trim())
      .filter(Boolean);
  return resolved;
}

function findConfigFile(cwd: string, explicit: string | undefined): string | null {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!fs.existsSync(file)) throw new CliError(`Config file ${file} does not exist`);
    return file;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const file = path.join(cwd, name);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

let configLoads = 0;

async function readConfigFile(file: string): Promise<RapportCliConfig> {
  let value: unknown;
  try {
    if (file.endsWith('.json')) {
      value = JSON.parse(fs.readFileSync(file, 'utf8'));
    } else if (/\.(m|c)js$/.test(file)) {
      // Unambiguous JavaScript needs no compiler: import it natively (loading jiti alone costs
      // about 0.1 s of start-up). The query makes each load read the file afresh, as jiti did.
      const module = (await import(`${pathToFileURL(file).href}?load=${++configLoads}`)) as { default?: unknown };
      value = module.default ?? module;
    } else {
      // jiti compiles TypeScript on the fly (and .js whose module kind depends on its package).
      const { createJiti } = await import('jiti');
      const jiti = createJiti(pathToFileURL(file).href, { moduleCache: false });
      value = await jiti.import(file, { default: true });
    }
  } catch (error) {
    throw new CliError(`Cannot load ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (typeof value === 'function') value = await (value as () => unknown)();
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(`${file} must export a configuration object (export default defineConfig({ ... }))`);
  }
  try {
    checkConfig(value, file, cliConfigSchema);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
  return value;
}

function parsePort(value: number | string, source: string): number {
  const port = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`${source} must be a port number (0-65535), not "${value}"`);
  return port;
}
