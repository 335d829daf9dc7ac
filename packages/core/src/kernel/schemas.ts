import { z } from 'zod';
import { DIRECTIONS, PARTY_KINDS } from './types.js';

/*
 * Input shapes shared by the HTTP routes, the importers and plugin code. Objects are
 * strict: an unknown field is an error, never silently dropped (no mass assignment).
 */

const text = (max: number) => z.string().trim().min(1).max(max);
// PostgreSQL has no year 0; zod's ISO checks would let "0000-…" through to a database error (a 500).
const NO_YEAR_ZERO = 'year 0 does not exist; the first year is 0001';
/** An ISO 8601 date-time with an offset, in a year PostgreSQL can store. Use it for every time a route takes. */
export const isoTimestamp = z.iso.datetime({ offset: true }).refine((value) => !value.startsWith('0000'), NO_YEAR_ZERO);
/** An ISO 8601 date (2024-05-01), in a year PostgreSQL can store. */
export const isoDate = z.iso.date().refine((value) => !value.startsWith('0000'), NO_YEAR_ZERO);
const timestamp = isoTimestamp;

/**
 * A number a `numeric(precision, scale)` column stores exactly: at most `scale` decimals and
 * within its range. Anything else is a 400 rather than a value PostgreSQL would silently
 * round (10.005 → 10.01) or refuse with a 500 (overflow).
 */
export function decimalNumber(precision: number, scale: number) {
  const factor = 10 ** scale;
  const limit = 10 ** (precision - scale);
  return z
    .number()
    .finite()
    .gt(-limit)
    .lt(limit)
    .refine((n) => Math.round(n * factor) / factor === n, `at most ${scale} decimal${scale === 1 ? '' : 's'}`);
}
const attributes = z.record(z.string().min(1).max(100), z.unknown());

export const contactPointSchema = z.strictObject({
  kind: z.enum(['email', 'phone', 'domain', 'url', 'other']),
  value: text(320),
});

export const partyCreateSchema = z.strictObject({
  kind: z.enum(PARTY_KINDS),
  name: text(300),
  contactPoints: z.array(contactPointSchema).max(50).optional(),
  attributes: attributes.optional(),
});
export type PartyCreateInput = z.infer<typeof partyCreateSchema>;

export const partyUpdateSchema = z.strictObject({
  name: text(300).optional(),
  contactPoints: z.array(contactPointSchema).max(50).optional(),
  /** Merged into the stored attributes; a null value removes that key. */
  attributes: attributes.optional(),
});
export type PartyUpdateInput = z.infer<typeof partyUpdateSchema>;

export const relationshipCreateSchema = z.strictObject({
  type: text(100),
  fromPartyId: z.uuid(),
  toPartyId: z.uuid(),
  status: text(50).optional(),
  validFrom: timestamp.nullable().optional(),
  validTo: timestamp.nullable().optional(),
  attributes: attributes.optional(),
});
export type RelationshipCreateInput = z.infer<typeof relationshipCreateSchema>;

export const relationshipUpdateSchema = z.strictObject({
  status: text(50).optional(),
  validFrom: timestamp.nullable().optional(),
  validTo: timestamp.nullable().optional(),
  attributes: attributes.optional(),
});
export type RelationshipUpdateInput = z.infer<typeof relationshipUpdateSchema>;

export const participantSchema = z.strictObject({
  partyId: z.uuid(),
  role: text(50),
});

export const interactionCreateSchema = z.strictObject({
  type: text(100),
  occurredAt: timestamp.optional(),
  channel: text(50).nullable().optional(),
  direction: z.enum(DIRECTIONS).optional(),
  subject: z.string().max(500).nullable().optional(),
  summary: z.string().max(20000).nullable().optional(),
  attributes: attributes.optional(),
  relationshipId: z.uuid().nullable().optional(),
  participants: z.array(participantSchema).min(1).max(200),
});
export type InteractionCreateInput = z.infer<typeof interactionCreateSchema>;

export const interactionUpdateSchema = z.strictObject({
  occurredAt: timestamp.optional(),
  channel: text(50).nullable().optional(),
  subject: z.string().max(500).nullable().optional(),
  summary: z.string().max(20000).nullable().optional(),
  attributes: attributes.optional(),
});
export type InteractionUpdateInput = z.infer<typeof interactionUpdateSchema>;

export const observationCreateSchema = z.strictObject({
  indicator: text(100),
  subjectId: z.uuid(),
  value: z.number().finite().nullable().optional(),
  label: z.string().trim().min(1).max(100).nullable().optional(),
  text: z.string().max(20000).nullable().optional(),
  observedAt: timestamp.optional(),
  observerPartyId: z.uuid().nullable().optional(),
  interactionId: z.uuid().nullable().optional(),
  details: attributes.optional(),
});
export type ObservationCreateInput = z.infer<typeof observationCreateSchema>;

export const mergeSchema = z.strictObject({
  survivorId: z.uuid(),
  mergedIds: z.array(z.uuid()).min(1).max(50),
  dryRun: z.boolean().optional(),
});
export type MergeInput = z.infer<typeof mergeSchema>;
