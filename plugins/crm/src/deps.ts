import { coreServices, type ResolvedDeps } from '@rapport/core';

/** What CRM uses of the kernel: its own tables, the kernel's records and views, scopes and units of work. */
export const crmDeps = {
  db: coreServices.database,
  parties: coreServices.parties,
  relationships: coreServices.relationships,
  interactions: coreServices.interactions,
  observations: coreServices.observations,
  tenants: coreServices.tenants,
  scopes: coreServices.scopes,
  unitOfWork: coreServices.unitOfWork,
  fields: coreServices.fields,
} as const;

export type CrmDeps = ResolvedDeps<typeof crmDeps>;
