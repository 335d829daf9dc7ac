import type { RecordScopes } from '../access/record-scopes.js';
import type { FieldService } from '../fields/service.js';
import type { InteractionService } from './interactions.js';
import type { KernelRegistries } from './kernel.js';
import type { MergeService } from './merge.js';
import type { ObservationService } from './observations.js';
import type { PartyService } from './parties.js';
import type { RelationshipService } from './relationships.js';

export interface KernelServices {
  parties: PartyService;
  relationships: RelationshipService;
  interactions: InteractionService;
  observations: ObservationService;
  merge: MergeService;
}

/** The kernel as its own subsystems (import, the HTTP routes of records) use it. */
export interface Kernel {
  readonly registries: KernelRegistries;
  readonly scopes: RecordScopes;
  readonly services: KernelServices;
  /** Custom fields: definitions and the checks of their values (docs/custom-fields.md). */
  readonly fields: FieldService;
}
