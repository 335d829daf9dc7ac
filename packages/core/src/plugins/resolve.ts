import semver from 'semver';
import { PluginError } from '../errors.js';
import { isServiceRef } from '../contract/refs.js';
import type { PluginDefinition } from './definition.js';

/**
 * The plugins `plugin` cannot run without, by name → semver range: those in `requires.plugins`
 * and the owners of the services its `deps` ask for (not optionally), at any version.
 */
export function requiredPlugins(plugin: PluginDefinition): Record<string, string> {
  const required: Record<string, string> = { ...plugin.requires?.plugins };
  for (const ref of Object.values(plugin.deps ?? {})) {
    if (isServiceRef(ref) && ref.owner !== 'core' && !(ref.owner in required)) required[ref.owner] = '*';
  }
  return required;
}

/** Names a plugin cannot take: they are kernel routes under /api/v1. */
export const RESERVED_NAMES = new Set([
  'core',
  'parties',
  'relationships',
  'interactions',
  'observations',
  'indicators',
  'meta',
  'plugins',
  'webhooks',
  'auth',
  'keys',
  'users',
  'roles',
  'audit',
  'tenant',
  'imports',
  'duplicates',
  'openapi.json',
  'docs',
]);

/**
 * Checks every plugin's requirements and returns them in dependency order (a plugin
 * after everything it requires). The first problem found fails with one message naming
 * the plugin and the conflict, Fastify-style.
 */
export function resolvePlugins(plugins: readonly PluginDefinition[], coreVersion: string): PluginDefinition[] {
  const byName = new Map<string, PluginDefinition>();
  for (const plugin of plugins) {
    if (RESERVED_NAMES.has(plugin.name)) throw new PluginError(plugin.name, 'this name is reserved by the kernel');
    if (!semver.valid(plugin.version)) throw new PluginError(plugin.name, `version "${plugin.version}" is not valid semver`);
    if (byName.has(plugin.name)) throw new PluginError(plugin.name, 'is listed twice in the configuration');
    byName.set(plugin.name, plugin);
  }
  for (const plugin of plugins) {
    const core = plugin.requires?.core;
    if (core && !satisfies(coreVersion, core, plugin.name, '@rapport/core')) {
      throw new PluginError(plugin.name, `requires @rapport/core ${core}, but this is ${coreVersion}`);
    }
    for (const [key, ref] of Object.entries(plugin.deps ?? {})) {
      const owner = isServiceRef(ref) ? ref.owner : ref.ref.owner;
      if (owner === plugin.name) throw new PluginError(plugin.name, `deps.${key} is one of its own services ("${isServiceRef(ref) ? ref.id : ref.ref.id}"); a plugin uses its own services directly`);
    }
    for (const [name, range] of Object.entries(requiredPlugins(plugin))) {
      const dependency = byName.get(name);
      if (!dependency) {
        const through = Object.values(plugin.deps ?? {}).find((ref) => isServiceRef(ref) && ref.owner === name);
        throw new PluginError(
          plugin.name,
          through && isServiceRef(through)
            ? `needs the service "${through.id}" of plugin "${name}", which is not in the configuration`
            : `requires plugin "${name}" (${range}), which is not in the configuration`,
        );
      }
      if (!satisfies(dependency.version, range, plugin.name, name)) {
        throw new PluginError(plugin.name, `requires plugin "${name}" ${range}, but ${dependency.version} is configured`);
      }
    }
  }

  const ordered: PluginDefinition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (plugin: PluginDefinition, path: string[]) => {
    const mark = state.get(plugin.name);
    if (mark === 'done') return;
    if (mark === 'visiting') {
      const cycle = [...path.slice(path.indexOf(plugin.name)), plugin.name].join(' → ');
      throw new PluginError(plugin.name, `is part of a dependency cycle: ${cycle}`);
    }
    state.set(plugin.name, 'visiting');
    for (const name of Object.keys(requiredPlugins(plugin))) visit(byName.get(name)!, [...path, plugin.name]);
    state.set(plugin.name, 'done');
    ordered.push(plugin);
  };
  for (const plugin of plugins) visit(plugin, []);
  return ordered;
}

function satisfies(version: string, range: string, plugin: string, what: string): boolean {
  if (!semver.validRange(range)) throw new PluginError(plugin, `the range "${range}" for ${what} is not a valid semver range`);
  return semver.satisfies(version, range, { includePrerelease: true });
}
