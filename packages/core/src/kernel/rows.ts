import { iso, isoRequired } from '../util/time.js';
import type { ContactPoint, Interaction, Observation, Participant, Party, PartyKind, Relationship, Direction } from './types.js';

/* Row → API object. Columns are snake_case in SQL, camelCase in JSON. */

export interface PartyRow {
  id: string;
  kind: string;
  name: string;
  attributes: Record<string, unknown>;
  archived_at: Date | null;
  merged_into_id: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const PARTY_COLUMNS = ['id', 'kind', 'name', 'attributes', 'archived_at', 'merged_into_id', 'version', 'created_at', 'updated_at'];

export function toParty(row: PartyRow, contactPoints: ContactPoint[]): Party {
  return {
    id: row.id,
    kind: row.kind as PartyKind,
    name: row.name,
    contactPoints,
    attributes: row.attributes ?? {},
    archivedAt: iso(row.archived_at),
    mergedIntoId: row.merged_into_id,
    version: row.version,
    createdAt: isoRequired(row.created_at),
    updatedAt: isoRequired(row.updated_at),
  };
}

export interface RelationshipRow {
  id: string;
  type: string;
  from_party_id: string;
  to_party_id: string;
  from_role: string;
  to_role: string;
  status: string;
  valid_from: Date | null;
  valid_to: Date | null;
  attributes: Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const RELATIONSHIP_COLUMNS = ['id', 'type', 'from_party_id', 'to_party_id', 'from_role', 'to_role', 'status', 'valid_from', 'valid_to', 'attributes', 'version', 'created_at', 'updated_at'];

export function toRelationship(row: RelationshipRow): Relationship {
  return {
    id: row.id,
    type: row.type,
    fromPartyId: row.from_party_id,
    toPartyId: row.to_party_id,
    fromRole: row.from_role,
    toRole: row.to_role,
    status: row.status,
    validFrom: iso(row.valid_from),
    validTo: iso(row.valid_to),
    attributes: row.attributes ?? {},
    version: row.version,
    createdAt: isoRequired(row.created_at),
    updatedAt: isoRequired(row.updated_at),
  };
}

export interface InteractionRow {
  id: string;
  type: string;
  occurred_at: Date;
  channel: string | null;
  direction: string;
  subject: string | null;
  summary: string | null;
  attributes: Record<string, unknown>;
  relationship_id: string | null;
  version: number;
  created_at: Date;
}

export const INTERACTION_COLUMNS = ['id', 'type', 'occurred_at', 'channel', 'direction', 'subject', 'summary', 'attributes', 'relationship_id', 'version', 'created_at'];

export function toInteraction(row: InteractionRow, participants: Participant[]): Interaction {
  return {
    id: row.id,
    type: row.type,
    occurredAt: isoRequired(row.occurred_at),
    channel: row.channel,
    direction: row.direction as Direction,
    subject: row.subject,
    summary: row.summary,
    attributes: row.attributes ?? {},
    relationshipId: row.relationship_id,
    participants,
    version: row.version,
    createdAt: isoRequired(row.created_at),
  };
}

export interface ObservationRow {
  id: string;
  indicator: string;
  subject_type: string;
  subject_id: string;
  value: number | null;
  label: string | null;
  text: string | null;
  observed_at: Date;
  observer_party_id: string | null;
  interaction_id: string | null;
  details: Record<string, unknown>;
  created_at: Date;
}

export const OBSERVATION_COLUMNS = ['id', 'indicator', 'subject_type', 'subject_id', 'value', 'label', 'text', 'observed_at', 'observer_party_id', 'interaction_id', 'details', 'created_at'];

export function toObservation(row: ObservationRow): Observation {
  return {
    id: row.id,
    indicator: row.indicator,
    subjectType: row.subject_type as Observation['subjectType'],
    subjectId: row.subject_id,
    value: row.value === null ? null : Number(row.value),
    label: row.label,
    text: row.text,
    observedAt: isoRequired(row.observed_at),
    observerPartyId: row.observer_party_id,
    interactionId: row.interaction_id,
    details: row.details ?? {},
    createdAt: isoRequired(row.created_at),
  };
}
