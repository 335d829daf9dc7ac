import type { HookBus } from '../hooks/hook-bus.js';
import type { RecordScopes } from '../access/record-scopes.js';
import { Registry } from './registry.js';
import type { FieldRecordTypeDefinition, FieldService } from '../fields/service.js';
import type { SearchSourceDefinition } from '../search/sources.js';
import type { IndicatorDefinition, InteractionTypeDefinition, PartyAttributeDefinition, PermissionDefinition, RelationshipTypeDefinition } from './types.js';

/** The registries every kernel service consults; owned by the app, filled by plugins in setup. */
export class KernelRegistries {
  readonly relationshipTypes: Registry<RelationshipTypeDefinition>;
  readonly interactionTypes: Registry<InteractionTypeDefinition>;
  readonly indicators: Registry<IndicatorDefinition>;
  readonly partyAttributes: Registry<PartyAttributeDefinition>;
  readonly permissions: Registry<PermissionDefinition>;
  /** Plugin record types that take custom fields (`api.customFields.allow`). */
  readonly fieldRecordTypes: Registry<FieldRecordTypeDefinition>;
  /** Plugin record types found by search (`api.search.define`). */
  readonly searchSources: Registry<SearchSourceDefinition>;

  constructor(isActive: (owner: string) => boolean) {
    this.relationshipTypes = new Registry('relationship type', isActive);
    this.interactionTypes = new Registry('interaction type', isActive);
    this.indicators = new Registry('indicator', isActive);
    this.partyAttributes = new Registry('party attribute', isActive);
    this.permissions = new Registry('permission', isActive);
    this.fieldRecordTypes = new Registry('custom field record type', isActive);
    this.searchSources = new Registry('search source', isActive);
  }
}

export interface KernelDeps {
  readonly registries: KernelRegistries;
  readonly scopes: RecordScopes;
  readonly bus: HookBus;
  readonly fields: FieldService;
}
