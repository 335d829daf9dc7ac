import { z } from 'zod';
import { isoTimestamp } from '@rapport/core';

export const timestamp = isoTimestamp;
export const name = z.string().trim().min(1).max(300);
export const unitSchema = z.object({ id: z.uuid(), name: z.string(), parentId: z.uuid().nullable() });
export const employmentSchema = z.object({
  relationshipId: z.uuid(),
  status: z.string(),
  unitId: z.uuid(),
  positionId: z.uuid().nullable(),
  start: z.string().nullable(),
  end: z.string().nullable(),
  endReason: z.string().nullable(),
});
export const employeeSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  employment: employmentSchema.nullable(),
  managerId: z.uuid().nullable(),
  reportIds: z.array(z.uuid()),
});
export const positionSchema = z.object({ id: z.uuid(), title: z.string(), unitId: z.uuid().nullable(), grade: z.string().nullable(), createdAt: z.string() });
export const interactionSchema = z.object({
  id: z.uuid(),
  type: z.string(),
  occurredAt: z.string(),
  channel: z.string().nullable(),
  direction: z.string(),
  subject: z.string().nullable(),
  summary: z.string().nullable(),
  attributes: z.record(z.string(), z.unknown()),
  relationshipId: z.uuid().nullable(),
  participants: z.array(z.object({ partyId: z.uuid(), role: z.string() })),
  version: z.number(),
  createdAt: z.string(),
});
