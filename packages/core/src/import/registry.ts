import type { Rapport } from '../app/rapport.js';
import type { Kernel } from '../kernel/kernel.js';
import { ValidationError } from '../errors.js';
import type { Importer } from './importer.js';
import { interactionsImporter } from './interactions-importer.js';
import { partiesImporter } from './parties-importer.js';

/** The importers every system has; plugins add `<plugin>.<thing>` ones with `api.importers.define`. */
export const kernelImporters = (kernel: Kernel): readonly Importer[] => [partiesImporter(kernel), interactionsImporter(kernel)];

export interface ImporterInfo extends Importer {
  owner: string;
}

/** Kernel importers and those of enabled plugins, by name. */
export function listImporters(app: Rapport): ImporterInfo[] {
  const plugin = [...app.plugins.importers.values()].filter((i) => app.plugins.isActive(i.owner));
  return [...kernelImporters(app).map((i) => ({ ...i, owner: 'core' })), ...plugin.sort((a, b) => a.name.localeCompare(b.name))];
}

export function findImporter(app: Rapport, name: string): ImporterInfo {
  const importers = listImporters(app);
  const importer = importers.find((i) => i.name === name);
  if (importer) return importer;
  const declared = app.plugins.importers.get(name);
  if (declared) throw new ValidationError(`Importer "${name}" belongs to plugin "${declared.owner}", which is not enabled`);
  throw new ValidationError(`Unknown importer "${name}"; available: ${importers.map((i) => i.name).join(', ')}`);
}
