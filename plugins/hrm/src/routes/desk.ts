import { z } from 'zod';
import { idParams, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { REQUEST_STATUSES, scorecardSchema, serviceRequestSchema, serviceSchema, slaSweepSchema } from '@rapport/hrm-contract';
import { PERMISSIONS } from '../declarations.js';
import type { HrmServices } from '../services/index.js';
import { hrmTimestamp } from './inputs.js';

const minutes = z.number().int().min(1).max(525_600);

/**
 * The internal service desk. Employees (scoped principals) read the catalog, raise and rate
 * their requests, and progress those assigned to them; the catalog, the sweep and the
 * scorecards are the firm's.
 */
export function deskRoutes(r: RouteBuilder, { desk, sla }: HrmServices): void {
  r.post('/services', {
    summary: 'Publish a service of a unit with its SLA targets',
    permission: PERMISSIONS.deskManage,
    body: z.strictObject({
      unitId: z.uuid(),
      name: z.string().trim().min(1).max(200),
      description: z.string().max(5000).nullable().optional(),
      responseTargetMinutes: minutes.nullable().optional(),
      resolutionTargetMinutes: minutes,
    }),
    response: serviceSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => desk.publishService(uow, ctx.body)),
  });

  r.get('/services', {
    summary: 'The internal service catalog',
    permission: PERMISSIONS.deskRead,
    audience: 'any',
    query: z.strictObject({ ...pageQuery, unitId: z.uuid().optional() }),
    response: pageOf(serviceSchema),
    handler: (ctx) => desk.services(ctx, ctx.query),
  });

  r.post('/requests', {
    summary: 'Raise a request to a service as an internal customer (an employee, or a unit)',
    permission: PERMISSIONS.deskWrite,
    audience: 'any',
    body: z.strictObject({
      serviceId: z.uuid(),
      title: z.string().trim().min(1).max(300),
      description: z.string().max(20000).nullable().optional(),
      requesterPartyId: z.uuid().optional(),
    }),
    response: serviceRequestSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => desk.raise(uow, ctx.body)),
  });

  r.get('/requests', {
    summary: 'List requests (a scoped principal: those it raised or is assigned); breached=true lists SLA breaches as of the plugin clock',
    permission: PERMISSIONS.deskRead,
    audience: 'any',
    query: z.strictObject({
      ...pageQuery,
      status: z.enum(REQUEST_STATUSES).optional(),
      serviceId: z.uuid().optional(),
      unitId: z.uuid().optional(),
      requesterPartyId: z.uuid().optional(),
      breached: z.enum(['true', 'false']).optional(),
    }),
    response: pageOf(serviceRequestSchema),
    handler: (ctx) => desk.list(ctx, ctx.query),
  });

  r.get('/requests/:id', {
    summary: 'Get a request',
    permission: PERMISSIONS.deskRead,
    audience: 'any',
    params: idParams,
    response: serviceRequestSchema,
    handler: (ctx) => desk.get(ctx, ctx.params.id),
  });

  r.patch('/requests/:id', {
    summary: 'Assign and progress a request (If-Match: its version)',
    description: 'A scoped principal progresses only the requests it raised or is assigned.',
    permission: PERMISSIONS.deskManage,
    audience: 'any',
    params: idParams,
    body: z.strictObject({ assigneePartyId: z.uuid().nullable().optional(), status: z.enum(REQUEST_STATUSES).optional() }),
    requireIfMatch: true,
    response: serviceRequestSchema,
    handler: (ctx) => ctx.transaction((uow) => desk.progress(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });

  r.post('/requests/:id/rating', {
    summary: 'Rate a resolved request (internal CSAT, 1–5) as its requester; closes it',
    permission: PERMISSIONS.deskWrite,
    audience: 'any',
    params: idParams,
    body: z.strictObject({ score: z.number().int().min(1).max(5), comment: z.string().trim().min(1).max(5000).optional() }),
    response: serviceRequestSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => desk.rate(uow, ctx.params.id, ctx.body)),
  });

  r.post('/requests/sla-sweep', {
    summary: 'Record SLA breaches of the tenant now (what the scheduled sweep does): each request past its target is marked once and emits hrm.request.sla-breached',
    permission: PERMISSIONS.deskManage,
    response: slaSweepSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => sla.recordNow(uow)),
  });

  r.get('/units/:id/scorecard', {
    summary: "A unit's service scorecard: requests, SLA breaches, resolution time and CSAT per service",
    permission: PERMISSIONS.deskManage,
    params: idParams,
    query: z.strictObject({ from: hrmTimestamp.optional(), to: hrmTimestamp.optional() }),
    response: scorecardSchema,
    handler: (ctx) => desk.scorecard(ctx, ctx.params.id, ctx.query),
  });
}
