import { coreServices, type ResolvedDeps } from '@rapport/core';

/** What HRM uses of the kernel, and nothing more. */
export const hrmDeps = {
  db: coreServices.database,
  parties: coreServices.parties,
  relationships: coreServices.relationships,
  interactions: coreServices.interactions,
  observations: coreServices.observations,
  tenants: coreServices.tenants,
  scopes: coreServices.scopes,
  unitOfWork: coreServices.unitOfWork,
  // Anonymous answers and upward reviews are sealed until their survey or cycle closes.
  sealing: coreServices.sealing,
} as const;

export type HrmDeps = ResolvedDeps<typeof hrmDeps>;
