import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ImportSettingsConfig } from '../app/config.js';
import type { Transact } from '../hooks/unit-of-work.js';
import type { JobService } from '../jobs/jobs.js';
import type { Kernel } from '../kernel/services.js';
import { ValidationError } from '../errors.js';
import type { Importer } from './importer.js';
import { interactionsImporter } from './interactions-importer.js';
import { partiesImporter } from './parties-importer.js';

/** The importers every system has; plugins add `<plugin>.<thing>` ones with `api.importers.define`. */
export const kernelImporters = (kernel: Kernel): readonly Importer[] => [partiesImporter(kernel), interactionsImporter(kernel)];

export interface ImporterInfo extends Importer {
  owner: string;
}

/** What imports need of the system: the kernel, a connection and units of work, the plugins' importers, jobs for HTTP imports. */
export interface ImportHost extends Kernel {
  readonly knex: Knex;
  readonly logger: Logger;
  readonly transaction: Transact;
  readonly defaultTenant: { readonly id: string };
  readonly plugins: { readonly importers: ReadonlyMap<string, ImporterInfo>; isActive(owner: string): boolean };
  readonly jobs: JobService;
  readonly config: { imports?: ImportSettingsConfig };
  /** The tenants' daily quotas of imported rows and uploaded bytes. */
  readonly limits: { quota(tenantId: string, kind: 'importRowsPerDay' | 'uploadBytesPerDay', amount: number): Promise<void> };
}

/** Kernel importers and those of enabled plugins, by name. */
export function listImporters(app: ImportHost): ImporterInfo[] {
  const plugin = [...app.plugins.importers.values()].filter((i) => app.plugins.isActive(i.owner));
  return [...kernelImporters(app).map((i) => ({ ...i, owner: 'core' })), ...plugin.sort((a, b) => a.name.localeCompare(b.name))];
}

export function findImporter(app: ImportHost, name: string): ImporterInfo {
  const importers = listImporters(app);
  const importer = importers.find((i) => i.name === name);
  if (importer) return importer;
  const declared = app.plugins.importers.get(name);
  if (declared) throw new ValidationError(`Importer "${name}" belongs to plugin "${declared.owner}", which is not enabled`);
  throw new ValidationError(`Unknown importer "${name}"; available: ${importers.map((i) => i.name).join(', ')}`);
}
