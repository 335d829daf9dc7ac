/**
 * @rapport/cli — the `rapport` command, and what a `rapport.config.ts` imports.
 *
 *   import { defineConfig } from '@rapport/cli';
 *   export default defineConfig({ plugins: ['@rapport/plugin-crm'], port: 4000 });
 */
export { run } from './run.js';
export {
  defineConfig,
  loadConfig,
  CONFIG_FILE_NAMES,
  DEFAULT_PORT,
  DEFAULT_HOST,
  type RapportCliConfig,
  type ResolvedConfig,
  type LoadConfigOptions,
  type ConfigOverrides,
  type ListeningContext,
} from './config.js';
export { FIRST_PARTY_PLUGINS } from './plugin-loader.js';
export { CliError } from './errors.js';
export { scaffoldPlugin, type ScaffoldResult } from './scaffold/create-plugin.js';
export type { CliIO, OutputStream } from './io.js';
