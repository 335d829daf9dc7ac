import type { EventRef, FilterRef } from '../contract/refs.js';
import type { ApiKeyInfo, Role, User } from '../access/types.js';
import type {
  InteractionCreateInput,
  InteractionUpdateInput,
  ObservationCreateInput,
  PartyCreateInput,
  PartyUpdateInput,
  RelationshipCreateInput,
  RelationshipUpdateInput,
} from '../kernel/schemas.js';
import type { Interaction, Observation, Party, Relationship } from '../kernel/types.js';
import type { FieldDefinition } from '../fields/definitions.js';
import type { Attachment } from '../attachments/service.js';
import type { Rule } from '../automation/rules.js';

/**
 * Event names and payloads. Plugins add theirs by declaration merging:
 *
 *   declare module '@rapport/core' {
 *     interface HookMap { 'crm.deal.won': { deal: Deal } }
 *   }
 *
 * The kernel's own events are listed here; docs/hooks.md describes each.
 */
export interface HookMap {
  'party.created': { party: Party };
  'party.updated': { party: Party; previous: Party };
  'party.archived': { party: Party };
  'party.restored': { party: Party };
  /** One per merged-away party (`party` is the survivor, which also emits `party.updated`); relationships, interactions and observations it moved emit their own `*.updated`. */
  'party.merged': { party: Party; mergedId: string };
  'relationship.created': { relationship: Relationship };
  'relationship.updated': { relationship: Relationship; previous: Relationship };
  'interaction.created': { interaction: Interaction };
  /**
   * One per batch of an import run with `summaryEvents` (`rapport import --summary-events`),
   * instead of an `interaction.created` per row: the ids of the interactions written and of
   * every party that took part, in the batch's order.
   */
  'interactions.imported': { count: number; interactionIds: string[]; partyIds: string[] };
  'interaction.updated': { interaction: Interaction; previous: Interaction };
  'observation.created': { observation: Observation };
  'observation.updated': { observation: Observation; previous: Observation };
  // Attachments (docs/attachments.md): the record is `attachment.recordType` / `recordId`.
  'attachment.created': { attachment: Attachment };
  /** A scanner of `plugin` quarantined the file on upload (also announced as `attachment.created`). */
  'attachment.quarantined': { attachment: Attachment; plugin: string };
  /** Marked deleted: no longer listed or downloadable; the bytes are kept until purged. */
  'attachment.deleted': { attachment: Attachment };
  'attachment.purged': { attachment: Attachment };
  /** The record it belonged to went into another (a merged party's files move to the survivor). */
  'attachment.moved': { attachment: Attachment; previous: { recordType: string; recordId: string } };
  'automation.rule.created': { rule: Rule };
  'automation.rule.updated': { rule: Rule; previous: Rule };
  'automation.rule.deleted': { rule: Rule };
  /** Sent by a rule's `call-webhook` action (docs/automation.md). */
  'automation.webhook': { ruleId: string; ruleName: string; triggerEventId: string; triggerEventName: string; data: unknown };
  // Access (docs/access.md): never a secret, a hash or a token in a payload.
  'access.user.created': { user: User };
  'access.user.updated': { user: User; previous: User; passwordChanged: boolean };
  'access.key.created': { key: ApiKeyInfo };
  'access.key.revoked': { key: ApiKeyInfo };
  'access.role.created': { role: Role };
  'access.role.updated': { role: Role; previous: Role };
  'access.role.deleted': { role: Role };
  'access.session.started': { userId: string; expiresAt: string };
  'access.session.ended': { userId: string };
  // Custom fields (docs/custom-fields.md): definitions, per tenant and record type.
  'field.created': { field: FieldDefinition };
  'field.updated': { field: FieldDefinition; previous: FieldDefinition };
  'field.retired': { field: FieldDefinition };
  'field.restored': { field: FieldDefinition };
  'field.purged': { field: FieldDefinition; purgedRecords: number };
}

/**
 * Filter names and the payload a filter receives (and may change). Extended the same way.
 * The kernel's filters are listed here.
 */
export interface FilterMap {
  'party.create': { input: PartyCreateInput };
  'party.update': { current: Party; patch: PartyUpdateInput };
  'party.archive': { party: Party };
  'party.merge': { survivor: Party; merged: Party[] };
  'relationship.create': { input: RelationshipCreateInput };
  'relationship.update': { current: Relationship; patch: RelationshipUpdateInput };
  'interaction.create': { input: InteractionCreateInput };
  'interaction.update': { current: Interaction; patch: InteractionUpdateInput };
  'observation.create': { input: ObservationCreateInput };
}

export type EventName = keyof HookMap & string;
export type FilterName = keyof FilterMap & string;

/** An event: a kernel event's name (`party.created`) or a plugin's typed reference (`crm.events.dealWon`). */
export type EventKey = EventName | EventRef<any>;
/** A filter: a kernel filter's name (`party.archive`) or a plugin's typed reference (`prm.filters.registrationConvert`). */
export type FilterKey = FilterName | FilterRef<any>;

/** The payload of an event key; for a listener's pattern that is no one event's name (`crm.*`), unknown. */
export type EventPayload<K> = K extends EventRef<infer P> ? P : K extends keyof HookMap ? HookMap[K] : unknown;
export type FilterPayload<K> = K extends FilterRef<infer P> ? P : K extends keyof FilterMap ? FilterMap[K] : unknown;

/** The name of an event or filter key. */
export function keyName(key: string | EventRef<unknown> | FilterRef<unknown>): string {
  return typeof key === 'string' ? key : key.name;
}

export interface EventMeta {
  /** Unique per event: durable consumers de-duplicate on it. */
  id: string;
  name: string;
  tenantId: string;
  occurredAt: string;
  /** Principal that caused the write, if any. */
  actor?: { kind: string; id: string } | null;
}

export interface EventSubject {
  type: string;
  id: string;
}

export type EventHandler<K> = (payload: EventPayload<K>, meta: EventMeta) => void | Promise<void>;
