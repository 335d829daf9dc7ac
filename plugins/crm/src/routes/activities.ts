import { z } from 'zod';
import { interactionSchema, isoTimestamp, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { ACTIVITY_TYPES } from '@rapport/crm-contract';
import type { ActivityService } from '../services/activities.js';

const tags = ['crm'];

export function activityRoutes(r: RouteBuilder, activities: ActivityService): void {
  r.post('/activities', {
    summary: 'Record a call, e-mail, meeting or note (owner defaults to the caller)',
    tags,
    permission: 'crm.activities:write',
    body: z.strictObject({
      type: z.enum(ACTIVITY_TYPES),
      ownerPartyId: z.uuid().nullable().optional(),
      accountId: z.uuid().optional(),
      contactIds: z.array(z.uuid()).max(100).optional(),
      attendeeIds: z.array(z.uuid()).max(100).optional(),
      occurredAt: isoTimestamp.optional(),
      channel: z.string().trim().min(1).max(50).nullable().optional(),
      direction: z.enum(['inbound', 'outbound', 'internal']).optional(),
      subject: z.string().max(500).nullable().optional(),
      summary: z.string().max(20000).nullable().optional(),
      relationshipId: z.uuid().nullable().optional(),
    }),
    response: interactionSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => activities.record(uow, ctx.body)),
  });

  r.get('/activities', {
    summary: 'Calls, e-mails, meetings and notes, newest first (own activities only without crm.activities:all)',
    tags,
    permission: 'crm.activities:read',
    // Within the kernel's interactions scope: a portal sees the activities it took part in.
    audience: 'any',
    query: z.strictObject({ ...pageQuery, type: z.enum(ACTIVITY_TYPES).optional(), accountId: z.uuid().optional() }),
    response: pageOf(interactionSchema),
    handler: (ctx) => activities.list(ctx, ctx.query),
  });
}
