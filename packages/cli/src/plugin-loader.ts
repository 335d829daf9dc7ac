import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PluginDefinition } from '@rapport/core';
import { CliError } from './errors.js';

/** Loaded when there is no config file, each only if it is installed. */
export const FIRST_PARTY_PLUGINS = ['@rapport/plugin-crm', '@rapport/plugin-prm', '@rapport/plugin-hrm'];

/**
 * A plugin given in the config: an object as is, or a package name / path whose default
 * export is the plugin. Packages resolve from the config file's directory with ESM
 * conditions and load through Node's own `import`, so the plugin shares the single
 * @rapport/core instance the CLI uses (two copies would break `instanceof` on errors).
 */
export async function loadPlugin(entry: PluginDefinition | string, baseDir: string, where: string): Promise<PluginDefinition> {
  if (typeof entry !== 'string') return checkPlugin(entry, where);
  const url = await resolveSpecifier(entry, baseDir);
  if (!url) throw new CliError(`Plugin package "${entry}" (${where}) is not installed: cannot resolve it from ${baseDir}`);
  return checkPlugin(await importPlugin(url, entry), `package "${entry}"`);
}

/** Every first-party plugin that resolves from `cwd` or from the CLI's own install; missing ones are skipped. */
export async function loadFirstPartyPlugins(cwd: string): Promise<PluginDefinition[]> {
  const plugins: PluginDefinition[] = [];
  for (const name of FIRST_PARTY_PLUGINS) {
    const url = (await resolveSpecifier(name, cwd)) ?? (await resolveSpecifier(name, cliDir()));
    if (url) plugins.push(checkPlugin(await importPlugin(url, name), `package "${name}"`));
  }
  return plugins;
}

async function resolveSpecifier(specifier: string, baseDir: string): Promise<string | undefined> {
  if (specifier.startsWith('file:')) return specifier;
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) return pathToFileURL(path.resolve(baseDir, specifier)).href;
  // Loaded only when needed: importing jiti costs about 0.1 s of start-up.
  const { createJiti } = await import('jiti');
  const jiti = createJiti(pathToFileURL(path.join(baseDir, 'rapport.config.js')).href);
  return jiti.esmResolve(specifier, { parentURL: pathToFileURL(path.join(baseDir, '/')).href, try: true }) ?? undefined;
}

async function importPlugin(url: string, name: string): Promise<unknown> {
  try {
    if (/\.(c|m)?ts$/.test(url)) {
      const { createJiti } = await import('jiti');
      const jiti = createJiti(url);
      return await jiti.import(fileURLToPath(url), { default: true });
    }
    const module = (await import(url)) as { default?: unknown };
    const exported = module.default ?? module;
    // A CommonJS or transpiled build seen through ESM interop nests the plugin one `default` deeper.
    if (exported && typeof exported === 'object' && !('name' in exported) && 'default' in exported) return exported.default;
    return exported;
  } catch (error) {
    throw new CliError(`Plugin "${name}" failed to load: ${(error as Error).message}`, { cause: error });
  }
}

function checkPlugin(value: unknown, where: string): PluginDefinition {
  const plugin = value as Partial<PluginDefinition> | null;
  if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string' || typeof plugin.version !== 'string') {
    throw new CliError(`${where} is not a Rapport plugin: expected an object with a name and a version (export default definePlugin({ ... }))`);
  }
  return plugin as PluginDefinition;
}

function cliDir(): string {
  return path.dirname(fileURLToPath(import.meta.url));
}
