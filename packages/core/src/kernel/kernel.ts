import type { HookBus } from '../hooks/hook-bus.js';
import type { RecordScopes } from '../access/record-scopes.js';
import type { InteractionService } from './interactions.js';
import type { MergeService } from './merge.js';
import type { ObservationService } from './observations.js';
import type { PartyService } from './parties.js';
import type { RelationshipService } from './relationships.js';
import { Registry } from './registry.js';
import type {
  IndicatorDefinition,
  InteractionTypeDefinition,
  PartyAttributeDefinition,
  PermissionDefinition,
  RelationshipTypeDefinition,
} from './types.js';

/** The registries every kernel service consults; owned by the app, filled by plugins in setup. */
export class KernelRegistries {
  readonly relationshipTypes: Registry<RelationshipTypeDefinition>;
  readonly interactionTypes: Registry<InteractionTypeDefinition>;
  readonly indicators: Registry<IndicatorDefinition>;
  readonly partyAttributes: Registry<PartyAttributeDefinition>;
  readonly permissions: Registry<PermissionDefinition>;

  constructor(isActive: (owner: string) => boolean) {
    this.relationshipTypes = new Registry('relationship type', isActive);
    this.interactionTypes = new Registry('interaction type', isActive);
    this.indicators = new Registry('indicator', isActive);
    this.partyAttributes = new Registry('party attribute', isActive);
    this.permissions = new Registry('permission', isActive);
  }
}

export interface KernelDeps {
  readonly registries: KernelRegistries;
  readonly scopes: RecordScopes;
  readonly bus: HookBus;
}

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
}
