import { z } from 'zod';
import { idParams, interactionSchema, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { privateRecordSchema } from '@rapport/hrm-contract';
import { PERMISSIONS } from '../declarations.js';
import type { HrmServices } from '../services/index.js';
import { hrmTimestamp } from './inputs.js';

const privateBody = z.strictObject({
  contract: z
    .strictObject({
      type: z.enum(['permanent', 'fixed-term', 'contractor', 'intern', 'other']).optional(),
      hoursPerWeek: z.number().min(0).max(80).optional(),
      start: z.string().max(40).optional(),
      end: z.string().max(40).nullable().optional(),
      reference: z.string().max(200).optional(),
    })
    .default({}),
  payBand: z.string().trim().min(1).max(50).nullable().default(null),
  privateContact: z
    .strictObject({ email: z.string().max(320).optional(), phone: z.string().max(50).optional(), address: z.string().max(500).optional(), emergencyContact: z.string().max(500).optional() })
    .default({}),
  notes: z.string().max(20000).nullable().default(null),
});

/** HR-private data, the employee timeline and kudos. */
export function peopleRoutes(r: RouteBuilder, { privateData, timeline }: HrmServices): void {
  r.get('/employees/:id/private', {
    summary: 'HR-private data of an employee (contract, pay band, private contact)',
    permission: PERMISSIONS.privateRead,
    // An employee reads its own (the scope of employees applies).
    audience: 'any',
    params: idParams,
    response: privateRecordSchema,
    handler: (ctx) => privateData.get(ctx, ctx.params.id),
  });

  r.put('/employees/:id/private', {
    summary: 'Create or replace HR-private data; If-Match (the version) is required once it exists',
    description: "HR-private data is HR's: a scoped principal (the employee, a manager) never writes it.",
    permission: PERMISSIONS.privateWrite,
    params: idParams,
    body: privateBody,
    response: privateRecordSchema,
    handler: (ctx) => ctx.transaction((uow) => privateData.put(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });

  r.post('/employees/:id/timeline', {
    summary: 'Record a one-to-one, feedback or onboarding step on the employee timeline',
    permission: PERMISSIONS.timelineWrite,
    audience: 'any',
    params: idParams,
    body: z.strictObject({
      kind: z.enum(['one-to-one', 'feedback', 'onboarding-step']),
      occurredAt: hrmTimestamp.optional(),
      subject: z.string().max(500).optional(),
      summary: z.string().max(20000).optional(),
      withPartyId: z.uuid().optional(),
      withRole: z.enum(['manager', 'colleague', 'hr']).default('manager'),
    }),
    response: interactionSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => timeline.record(uow, ctx.params.id, ctx.body)),
  });

  r.get('/employees/:id/timeline', {
    summary: "The employee's timeline (interactions the caller may see)",
    permission: PERMISSIONS.employeesRead,
    audience: 'any',
    params: idParams,
    query: z.strictObject({ ...pageQuery, type: z.string().max(100).optional() }),
    response: pageOf(interactionSchema),
    handler: (ctx) => timeline.list(ctx, ctx.params.id, ctx.query),
  });

  r.post('/kudos', {
    summary: 'Recognize a colleague; the kudos shows on both timelines',
    permission: PERMISSIONS.timelineWrite,
    audience: 'any',
    body: z.strictObject({ toPartyId: z.uuid(), message: z.string().trim().min(1).max(2000), fromPartyId: z.uuid().optional() }),
    response: interactionSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => timeline.kudos(uow, ctx.body)),
  });
}
