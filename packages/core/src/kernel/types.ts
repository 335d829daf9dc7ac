import type { z } from 'zod';

export const PARTY_KINDS = ['person', 'organization', 'unit'] as const;
export type PartyKind = (typeof PARTY_KINDS)[number];

export const DIRECTIONS = ['inbound', 'outbound', 'internal'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export interface ContactPoint {
  kind: string;
  value: string;
}

export interface Party {
  id: string;
  kind: PartyKind;
  name: string;
  contactPoints: ContactPoint[];
  attributes: Record<string, unknown>;
  archivedAt: string | null;
  mergedIntoId: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface Relationship {
  id: string;
  type: string;
  fromPartyId: string;
  toPartyId: string;
  fromRole: string;
  toRole: string;
  status: string;
  validFrom: string | null;
  validTo: string | null;
  attributes: Record<string, unknown>;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface Participant {
  partyId: string;
  role: string;
}

export interface Interaction {
  id: string;
  type: string;
  occurredAt: string;
  channel: string | null;
  direction: Direction;
  subject: string | null;
  summary: string | null;
  attributes: Record<string, unknown>;
  relationshipId: string | null;
  participants: Participant[];
  version: number;
  createdAt: string;
}

export interface Observation {
  id: string;
  indicator: string;
  subjectType: 'party' | 'relationship';
  subjectId: string;
  value: number | null;
  label: string | null;
  text: string | null;
  observedAt: string;
  observerPartyId: string | null;
  interactionId: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}

export interface Tenant {
  id: string;
  name: string;
  selfPartyId: string;
}

/** Declared by a plugin: e.g. `crm.customer` with roles vendor → customer. */
export interface RelationshipTypeDefinition {
  key: string;
  title?: string;
  description?: string;
  /** Role of the `from` party, e.g. `vendor`. */
  fromRole: string;
  /** Role of the `to` party, e.g. `customer`. */
  toRole: string;
  /** Party kinds accepted at each end; any kind when absent. */
  fromKinds?: readonly PartyKind[];
  toKinds?: readonly PartyKind[];
  /** A symmetric type means the same whichever end a party is at (e.g. "sibling unit"). */
  symmetric?: boolean;
  /**
   * Only principals not scoped to a party create or change relationships of this type (403
   * otherwise), even ones they are an end of: for relationships that grant reach or record
   * the firm's own judgement (a reporting line, staff of an organization, a customer status).
   */
  internalOnly?: boolean;
  /** Lifecycle statuses; the first is the default. Defaults to ['active', 'ended']. */
  statuses?: readonly string[];
  /** Statuses that count as a live relationship ("all our customers"). Defaults to the first status. */
  activeStatuses?: readonly string[];
  /** Allowed status changes (from → to[]); any change when absent. */
  transitions?: Readonly<Record<string, readonly string[]>>;
  /** Validates `attributes`; unknown keys rejected when it is a strict object. */
  attributes?: z.ZodType;
}

export interface InteractionTypeDefinition {
  key: string;
  title?: string;
  description?: string;
  /** Roles participants may take; any role when absent. */
  participantRoles?: readonly string[];
  /** Channels accepted; any when absent. */
  channels?: readonly string[];
  attributes?: z.ZodType;
}

export type IndicatorDefinition = {
  key: string;
  title?: string;
  description?: string;
  subject: 'party' | 'relationship';
  /**
   * An assessment its subject must not see or write (a retention risk, an interview rating):
   * a principal scoped to the subject party never reads it through the kernel, and cannot
   * record one about itself. Party indicators only.
   */
  hiddenFromSubject?: boolean;
} & (
  | {
      kind: 'quantitative';
      unit?: string;
      /** Accepted range of values. */
      scale?: { min?: number; max?: number };
      /** How a series of observations summarizes. */
      aggregate?: 'avg' | 'sum' | 'min' | 'max' | 'last';
    }
  | {
      kind: 'qualitative';
      /** A named ordinal scale; `label` must be one of `levels` when given. */
      scale?: { name: string; levels: readonly string[] };
      /** Whether free text (comments) is accepted. Defaults to true. */
      text?: boolean;
    }
);

/** A party attribute a plugin owns, validated on every write. */
export interface PartyAttributeDefinition {
  key: string;
  description?: string;
  kinds?: readonly PartyKind[];
  schema: z.ZodType;
}

export interface PermissionDefinition {
  key: string;
  description?: string;
}
