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

export const mergePlanSchema = z.object({
  survivorId: z.uuid(),
  mergedIds: z.array(z.uuid()),
  dryRun: z.boolean(),
  relationships: z.number().int(),
  interactions: z.number().int(),
  observations: z.number().int(),
  contactPoints: z.number().int(),
  attachments: z.number().int(),
  conflicts: z.array(z.object({ relationshipId: z.uuid(), reason: z.string() })),
  survivor: partySchema,
});

export const indicatorSummarySchema = z.object({
  indicator: z.string(),
  subjectId: z.uuid(),
  count: z.number().int(),
  aggregate: z.string(),
  value: z.number().nullable(),
  latestLabel: z.string().nullable(),
  labels: z.record(z.string(), z.number().int()),
  lastObservedAt: z.string().nullable(),
});

/** A JSON Schema document (of a declared attribute shape). */
const jsonSchema = z.record(z.string(), z.unknown());

export const relationshipTypeSchema = z.object({
  key: z.string(),
  owner: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  fromRole: z.string(),
  toRole: z.string(),
  fromKinds: z.array(z.string()).nullable(),
  toKinds: z.array(z.string()).nullable(),
  symmetric: z.boolean(),
  internalOnly: z.boolean(),
  statuses: z.array(z.string()),
  activeStatuses: z.array(z.string()),
  transitions: z.record(z.string(), z.array(z.string())).nullable(),
  attributes: jsonSchema.nullable(),
});

export const interactionTypeSchema = z.object({
  key: z.string(),
  owner: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  participantRoles: z.array(z.string()).nullable(),
  channels: z.array(z.string()).nullable(),
  attributes: jsonSchema.nullable(),
});

export const indicatorSchema = z.object({
  key: z.string(),
  owner: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  subject: z.enum(['party', 'relationship']),
  kind: z.enum(['quantitative', 'qualitative']),
  hiddenFromSubject: z.boolean(),
  unit: z.string().nullable(),
  /** Quantitative: `{ min, max }`; qualitative: `{ name, levels }`. */
  // The named scale first: every field of the numeric one is optional, so it would match a named scale too and drop its fields.
  scale: z.union([z.object({ name: z.string(), levels: z.array(z.string()) }), z.object({ min: z.number().optional(), max: z.number().optional() })]).nullable(),
  aggregate: z.enum(['avg', 'sum', 'min', 'max', 'last']).nullable(),
  /** Qualitative: whether free text is accepted. */
  text: z.boolean().nullable(),
});

export const partyAttributeSchema = z.object({
  key: z.string(),
  owner: z.string(),
  description: z.string().nullable(),
  kinds: z.array(z.string()).nullable(),
  schema: jsonSchema,
});

export const permissionSchema = z.object({ key: z.string(), owner: z.string(), description: z.string().nullable() });

export const pluginStatusSchema = z.object({
  name: z.string(),
  version: z.string(),
  installedVersion: z.string().nullable(),
  state: z.enum(['enabled', 'disabled', 'uninstalled']),
  description: z.string().nullable(),
  requires: z.object({ core: z.string().optional(), plugins: z.record(z.string(), z.string()).optional() }),
  registrations: z.record(z.string(), z.array(z.string())),
});
