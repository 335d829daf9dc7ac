/**
 * create-rapport — what `npm create rapport@latest my-system` runs, and what `rapport init`
 * (in @rapport/cli) calls: one implementation that writes a Rapport system directory.
 */
export { initSystem, runStarter, type InitOptions, type StarterIO, type Output } from './create.js';
export { terminalAsk } from './terminal.js';
export {
  FIRST_PARTY_PLUGINS,
  PLUGIN_KEYS,
  STARTER_VERSION,
  StarterError,
  packageNameFor,
  parsePlugins,
  systemFiles,
  writeSystem,
  type CreatedSystem,
  type FirstPartyPlugin,
  type SystemOptions,
} from './system.js';
