import { PLUGIN_NAME_PATTERN, RESERVED_NAMES } from '@rapport/core';
import { CliError } from '../errors.js';

/** The identifiers a new plugin's files are written with. */
export interface PluginNames {
  /** `loyalty-points`: URL prefix, namespace of permissions, events and scopes. */
  name: string;
  /** `loyalty_points_items`: SQL identifiers cannot hold a hyphen unquoted. */
  table: string;
  /** `Loyalty points`, for prose. */
  title: string;
  /** `rapport-plugin-loyalty-points`. */
  packageName: string;
}

/** The same rules the plugin host applies at start, checked before a single file is written. */
export function pluginNames(name: string): PluginNames {
  if (!PLUGIN_NAME_PATTERN.test(name)) {
    throw new CliError(
      `"${name}" is not a valid plugin name: use 1 to 40 lower-case letters, digits and hyphens, starting with a letter (e.g. "loyalty" or "supplier-audits"); it becomes the URL prefix /api/v1/<name>`,
    );
  }
  if (RESERVED_NAMES.has(name)) {
    throw new CliError(`"${name}" is reserved by the kernel (its routes live at /api/v1/${name}); choose another plugin name`);
  }
  const words = name.split('-').filter(Boolean);
  return {
    name,
    table: `${words.join('_')}_items`,
    title: words.map((w, i) => (i === 0 ? w[0].toUpperCase() + w.slice(1) : w)).join(' '),
    packageName: `rapport-plugin-${name}`,
  };
}
