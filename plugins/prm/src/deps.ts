import { coreServices, type ResolvedDeps } from '@rapport/core';

/** What PRM uses of the kernel, and nothing more. */
export const prmDeps = {
  db: coreServices.database,
  parties: coreServices.parties,
  relationships: coreServices.relationships,
  interactions: coreServices.interactions,
  observations: coreServices.observations,
  tenants: coreServices.tenants,
  scopes: coreServices.scopes,
  unitOfWork: coreServices.unitOfWork,
} as const;

export type PrmDeps = ResolvedDeps<typeof prmDeps>;
