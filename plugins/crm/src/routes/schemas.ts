import { z } from 'zod';
import { interactionSchema, relationshipSchema } from '@rapport/core';

export { interactionSchema, relationshipSchema };

export const isoDate = z.iso.date();
export const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR');
/** Money with at most two decimals, below 10^16 (numeric(18,2)). */
export const amount = z
  .number()
  .finite()
  .nonnegative()
  .max(9_999_999_999_999_999)
  .refine((n) => Math.round(n * 100) / 100 === n, 'at most two decimals');

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

const timestamp = z.iso.datetime({ offset: true });
export const occurredAt = timestamp.refine((v) => !v.startsWith('0000'), 'year 0 does not exist');

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
