import { z } from 'zod';
import { decimalNumber, interactionSchema, isoDate, isoTimestamp, relationshipSchema } from '@rapport/core';

export { interactionSchema, relationshipSchema };

export { isoDate };
export const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR');
/** Money with at most two decimals, below 10^16 (numeric(18,2)). */
export const amount = decimalNumber(18, 2).nonnegative();

export const stageSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  position: z.number().int(),
  probability: z.number(),
  outcome: z.enum(['open', 'won', 'lost']),
});

export const pipelineSchema = z.object({ id: z.uuid(), name: z.string(), stages: z.array(stageSchema), createdAt: z.string() });

export const dealSchema = z.object({
  id: z.uuid(),
  pipelineId: z.uuid(),
  stageId: z.uuid(),
  title: z.string(),
  amount: z.number(),
  currency: z.string(),
  expectedClose: z.string().nullable(),
  ownerPartyId: z.uuid().nullable(),
  accountId: z.uuid(),
  contactIds: z.array(z.uuid()),
  status: z.enum(['open', 'won', 'lost']),
  closedAt: z.string().nullable(),
  source: z.string().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const stageChangeSchema = z.object({
  id: z.uuid(),
  dealId: z.uuid(),
  fromStageId: z.uuid().nullable(),
  toStageId: z.uuid(),
  changedAt: z.string(),
  changedByPartyId: z.uuid().nullable(),
});

/* Kernel records (relationshipSchema, interactionSchema) come from @rapport/core. */
export const counterpartSchema = z.object({
  relationship: relationshipSchema,
  party: z.object({ id: z.uuid(), kind: z.string(), name: z.string(), attributes: z.record(z.string(), z.unknown()) }),
});

export const mirroredRelationshipSchema = relationshipSchema.extend({
  mirrored: z.literal(true),
  viewpoint: z.object({ partyId: z.uuid(), role: z.string(), counterpartId: z.uuid(), counterpartRole: z.string() }),
});

export const occurredAt = isoTimestamp;

export const taskSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  dueAt: z.string(),
  assigneePartyId: z.uuid().nullable(),
  accountId: z.uuid().nullable(),
  dealId: z.uuid().nullable(),
  done: z.boolean(),
  doneAt: z.string().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
