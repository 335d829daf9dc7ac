import { z } from 'zod';

/* Response shapes, for the OpenAPI document. */

export const partySchema = z.object({
  id: z.uuid(),
  kind: z.enum(['person', 'organization', 'unit']),
  name: z.string(),
  contactPoints: z.array(z.object({ kind: z.string(), value: z.string() })),
  attributes: z.record(z.string(), z.unknown()),
  archivedAt: z.string().nullable(),
  mergedIntoId: z.uuid().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const relationshipSchema = z.object({
  id: z.uuid(),
  type: z.string(),
  fromPartyId: z.uuid(),
  toPartyId: z.uuid(),
  fromRole: z.string(),
  toRole: z.string(),
  status: z.string(),
  validFrom: z.string().nullable(),
  validTo: z.string().nullable(),
  attributes: z.record(z.string(), z.unknown()),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const interactionSchema = z.object({
  id: z.uuid(),
  type: z.string(),
  occurredAt: z.string(),
  channel: z.string().nullable(),
  direction: z.enum(['inbound', 'outbound', 'internal']),
  subject: z.string().nullable(),
  summary: z.string().nullable(),
  attributes: z.record(z.string(), z.unknown()),
  relationshipId: z.uuid().nullable(),
  participants: z.array(z.object({ partyId: z.uuid(), role: z.string() })),
  version: z.number().int(),
  createdAt: z.string(),
});

export const observationSchema = z.object({
  id: z.uuid(),
  indicator: z.string(),
  subjectType: z.enum(['party', 'relationship']),
  subjectId: z.uuid(),
  value: z.number().nullable(),
  label: z.string().nullable(),
  text: z.string().nullable(),
  observedAt: z.string(),
  observerPartyId: z.uuid().nullable(),
  interactionId: z.uuid().nullable(),
  details: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
