import type { KernelModule } from '../../app/module.js';
import type { Kernel } from '../../kernel/services.js';
import type { PermissionDefinition } from '../../kernel/types.js';
import { metaRoutes } from './meta.js';
import { partyRoutes } from './parties.js';
import { interactionRoutes, observationRoutes, relationshipRoutes } from './records.js';

export const RECORD_PERMISSIONS: readonly PermissionDefinition[] = [
  { key: 'parties:read', description: 'Read parties, their timelines and duplicate candidates' },
  { key: 'parties:write', description: 'Create, change, archive and merge parties' },
  { key: 'relationships:read', description: 'Read relationships' },
  { key: 'relationships:write', description: 'Create and change relationships' },
  { key: 'interactions:read', description: 'Read interactions and timelines' },
  { key: 'interactions:write', description: 'Record and change interactions' },
  { key: 'observations:read', description: 'Read indicator observations' },
  { key: 'observations:write', description: 'Record indicator observations' },
  { key: 'meta:read', description: 'Read type registries and the tenant' },
];

/** The kernel's records over HTTP: parties, relationships, interactions, observations, and what is declared about them. */
export function recordsModule(kernel: Kernel): KernelModule {
  return {
    name: 'records',
    permissions: RECORD_PERMISSIONS,
    routes(r) {
      partyRoutes(r, kernel.services, kernel.fields);
      relationshipRoutes(r, kernel.services, kernel.fields);
      interactionRoutes(r, kernel.services, kernel.fields);
      observationRoutes(r, kernel.services);
      metaRoutes(r, kernel.registries);
    },
  };
}
