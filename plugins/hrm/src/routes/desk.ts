import { z } from 'zod';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
  decodeCursor,
  idParams,
  isoTimestamp,
  newId,
  pageOf,
  pageQuery,
  toPage,
  type RequestContext,
  type RouteBuilder,
  type UnitOfWork,
} from '@rapport/core';
import { INDICATORS, INTERACTIONS, PERMISSIONS, SCOPES } from '../declarations.js';
import type { ResolvedHrmOptions } from '../options.js';
import type { Service } from '../types.js';
import { iso, queryContext } from '../services/context.js';
import { TRANSITIONS, toRequest, type RequestRow } from '../services/desk.js';
import { recordSlaBreaches } from '../services/sla.js';
import { activeEmployment, listUnitCatalog, loadUnits, requireUnit } from '../services/org.js';

const STATUSES = ['open', 'in-progress', 'resolved', 'closed', 'cancelled'] as const;

const serviceSchema = z.object({
  id: z.uuid(),
  unitId: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  responseTargetMinutes: z.number().nullable(),
  resolutionTargetMinutes: z.number(),
  active: z.boolean(),
  createdAt: z.string(),
});
const requestSchema = z.object({
  id: z.uuid(),
  serviceId: z.uuid(),
  providerUnitId: z.uuid(),
  requesterPartyId: z.uuid(),
  title: z.string(),
  description: z.string().nullable(),
  assigneePartyId: z.uuid().nullable(),
  status: z.enum(STATUSES),
  openedAt: z.string(),
  firstResponseAt: z.string().nullable(),
  responseDueAt: z.string().nullable(),
  resolutionDueAt: z.string(),
  resolvedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  breached: z.boolean(),
  slaBreachedAt: z.string().nullable(),
  csat: z.number().nullable(),
  csatComment: z.string().nullable(),
  interactionId: z.uuid().nullable(),
  version: z.number(),
});

export function deskRoutes(r: RouteBuilder, options: ResolvedHrmOptions): void {
  r.post('/services', {
    summary: 'Publish a service of a unit with its SLA targets',
    permission: PERMISSIONS.deskManage,
    body: z.strictObject({
      unitId: z.uuid(),
      name: z.string().trim().min(1).max(200),
      description: z.string().max(5000).nullable().optional(),
      responseTargetMinutes: z.number().int().min(1).max(525_600).nullable().optional(),
      resolutionTargetMinutes: z.number().int().min(1).max(525_600),
    }),
    response: serviceSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        if (ctx.principal.scopePartyId) throw new ForbiddenError('hrm: the service catalog is managed by unscoped principals');
        await requireUnit(uow.trx, uow.tenantId, ctx.body.unitId);
        const row = {
          tenant_id: uow.tenantId,
          id: newId(),
          unit_id: ctx.body.unitId,
          name: ctx.body.name,
          description: ctx.body.description ?? null,
          response_target_minutes: ctx.body.responseTargetMinutes ?? null,
          resolution_target_minutes: ctx.body.resolutionTargetMinutes,
          active: true,
          created_at: options.now(),
        };
        await uow.trx('hrm_services').insert(row);
        const service = toService(row);
        uow.emit('hrm.service.created', { service }, { type: 'hrm.service', id: service.id });
        return service;
      }),
  });

  r.get('/services', {
    summary: 'The internal service catalog',
    permission: PERMISSIONS.deskRead,
    query: z.strictObject({ ...pageQuery, unitId: z.uuid().optional() }),
    response: pageOf(serviceSchema),
    handler: (ctx) => listUnitCatalog(queryContext(ctx), ctx.query, 'hrm_services', { active: true }, toService),
  });

  r.post('/requests', {
    summary: 'Raise a request to a service as an internal customer (an employee, or a unit)',
    permission: PERMISSIONS.deskWrite,
    body: z.strictObject({
      serviceId: z.uuid(),
      title: z.string().trim().min(1).max(300),
      description: z.string().max(20000).nullable().optional(),
      requesterPartyId: z.uuid().optional(),
    }),
    response: requestSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const self = ctx.principal.scopePartyId ?? ctx.principal.partyId;
        // Raising a request for someone else (or for a unit) is for unscoped callers.
        const requester = ctx.body.requesterPartyId && !ctx.principal.scopePartyId ? ctx.body.requesterPartyId : self;
        if (!requester) throw new ValidationError('requesterPartyId: the caller is not linked to a person; name the requester', [{ path: 'requesterPartyId', message: 'required' }]);
        const isUnit = (await loadUnits(uow.trx, uow.tenantId, [requester])).length === 1;
        if (!isUnit && !(await activeEmployment(uow.trx, uow.tenantId, requester))) {
          throw new ValidationError(`requesterPartyId: ${requester} is neither a current employee nor a unit`, [{ path: 'requesterPartyId', message: 'not an internal customer' }]);
        }
        const service = await uow.trx('hrm_services').where({ tenant_id: uow.tenantId, id: ctx.body.serviceId, active: true }).first();
        if (!service) throw new ValidationError(`serviceId: service ${ctx.body.serviceId} does not exist`, [{ path: 'serviceId', message: 'unknown service' }]);
        const now = options.now();
        const interaction = await ctx.app.services.interactions.create(uow, {
          type: INTERACTIONS.request,
          occurredAt: now.toISOString(),
          direction: 'internal',
          subject: ctx.body.title,
          summary: ctx.body.description ?? null,
          participants: [
            { partyId: requester, role: 'requester' },
            { partyId: service.unit_id, role: 'provider' },
          ],
        });
        const row: RequestRow = {
          id: newId(),
          service_id: service.id,
          provider_unit_id: service.unit_id,
          requester_party_id: requester,
          title: ctx.body.title,
          description: ctx.body.description ?? null,
          assignee_party_id: null,
          status: 'open',
          opened_at: now,
          first_response_at: null,
          response_due_at: service.response_target_minutes ? new Date(now.getTime() + service.response_target_minutes * 60_000) : null,
          resolution_due_at: new Date(now.getTime() + service.resolution_target_minutes * 60_000),
          resolved_at: null,
          closed_at: null,
          csat: null,
          csat_comment: null,
          interaction_id: interaction.id,
          version: 1,
        };
        await uow.trx('hrm_requests').insert({ ...row, tenant_id: uow.tenantId });
        const request = toRequest(row, now);
        uow.emit('hrm.request.opened', { request }, { type: 'hrm.request', id: request.id });
        return request;
      }),
  });

  r.get('/requests', {
    summary: 'List requests (a scoped principal: those it raised or is assigned); breached=true lists SLA breaches as of the plugin clock',
    permission: PERMISSIONS.deskRead,
    query: z.strictObject({
      ...pageQuery,
      status: z.enum(STATUSES).optional(),
      serviceId: z.uuid().optional(),
      unitId: z.uuid().optional(),
      requesterPartyId: z.uuid().optional(),
      breached: z.enum(['true', 'false']).optional(),
    }),
    response: pageOf(requestSchema),
    handler: async (ctx) => {
      const now = options.now();
      const after = decodeCursor(ctx.query.cursor, ['uuid']);
      const q = ctx.db('hrm_requests').where({ tenant_id: ctx.tenantId });
      ctx.app.scopes.apply(q, queryContext(ctx), SCOPES.requests, 'id');
      if (ctx.query.status) q.where('status', ctx.query.status);
      if (ctx.query.serviceId) q.where('service_id', ctx.query.serviceId);
      if (ctx.query.unitId) q.where('provider_unit_id', ctx.query.unitId);
      if (ctx.query.requesterPartyId) q.where('requester_party_id', ctx.query.requesterPartyId);
      if (ctx.query.breached) {
        const breach = "status <> 'cancelled' and coalesce(resolved_at, ?::timestamptz) > resolution_due_at";
        if (ctx.query.breached === 'true') q.whereRaw(breach, [now]);
        else q.whereRaw(`not (${breach})`, [now]);
      }
      if (after) q.where('id', '>', after[0]);
      const rows: RequestRow[] = await q.orderBy('id').limit(ctx.query.limit + 1);
      return toPage(rows, ctx.query.limit, (row) => toRequest(row, now), (row) => [row.id]);
    },
  });

  r.get('/requests/:id', {
    summary: 'Get a request',
    permission: PERMISSIONS.deskRead,
    params: idParams,
    response: requestSchema,
    handler: async (ctx) => toRequest(await visibleRequest(ctx, ctx.db, ctx.params.id), options.now()),
  });

  r.patch('/requests/:id', {
    summary: 'Assign and progress a request (If-Match: its version)',
    permission: PERMISSIONS.deskManage,
    params: idParams,
    body: z.strictObject({ assigneePartyId: z.uuid().nullable().optional(), status: z.enum(STATUSES).optional() }),
    requireIfMatch: true,
    response: requestSchema,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const row = await visibleRequest(ctx, uow.trx, ctx.params.id, true);
        if (ctx.ifMatch !== row.version) throw new PreconditionFailedError(`hrm: request ${row.id} is at version ${row.version}`, { currentVersion: row.version });
        const now = options.now();
        const patch: Partial<RequestRow> = {};
        if (ctx.body.assigneePartyId !== undefined) {
          if (ctx.body.assigneePartyId && !(await activeEmployment(uow.trx, uow.tenantId, ctx.body.assigneePartyId))) {
            throw new ValidationError(`assigneePartyId: ${ctx.body.assigneePartyId} is not a current employee`, [{ path: 'assigneePartyId', message: 'not employed' }]);
          }
          patch.assignee_party_id = ctx.body.assigneePartyId;
        }
        if (ctx.body.status && ctx.body.status !== row.status) {
          if (!TRANSITIONS[row.status].includes(ctx.body.status)) throw new ConflictError(`hrm: request ${row.id} cannot go from ${row.status} to ${ctx.body.status}`);
          patch.status = ctx.body.status;
          if (ctx.body.status === 'resolved') patch.resolved_at = now;
          if (ctx.body.status === 'in-progress' || ctx.body.status === 'open') patch.resolved_at = null;
          if (ctx.body.status === 'closed') patch.closed_at = now;
        }
        if (!row.first_response_at && (patch.assignee_party_id || (patch.status && patch.status !== 'open'))) patch.first_response_at = now;
        const updated = await updateRequest(uow, row, patch);
        uow.emit('hrm.request.updated', { request: toRequest(updated, now), previous: toRequest(row, now) }, { type: 'hrm.request', id: row.id });
        return toRequest(updated, now);
      }),
  });

  r.post('/requests/:id/rating', {
    summary: 'Rate a resolved request (internal CSAT, 1–5) as its requester; closes it',
    permission: PERMISSIONS.deskWrite,
    params: idParams,
    body: z.strictObject({ score: z.number().int().min(1).max(5), comment: z.string().trim().min(1).max(5000).optional() }),
    response: requestSchema,
    status: 200,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const row = await visibleRequest(ctx, uow.trx, ctx.params.id, true);
        const self = ctx.principal.scopePartyId ?? ctx.principal.partyId;
        const isUnitRequest = (await loadUnits(uow.trx, uow.tenantId, [row.requester_party_id])).length === 1;
        // The internal customer rates; a unit's request may be rated by an unscoped caller on its behalf.
        if (self !== row.requester_party_id && !(isUnitRequest && !ctx.principal.scopePartyId)) {
          throw new ForbiddenError(`hrm: only the requester rates request ${row.id}`);
        }
        if (row.csat !== null) throw new ConflictError(`hrm: request ${row.id} is already rated`);
        if (row.status !== 'resolved' && row.status !== 'closed') throw new ConflictError(`hrm: request ${row.id} is ${row.status}; rate it once resolved`);
        const now = options.now();
        const updated = await updateRequest(uow, row, { csat: ctx.body.score, csat_comment: ctx.body.comment ?? null, status: 'closed', closed_at: row.closed_at ?? now });
        await ctx.app.services.observations.record(uow, {
          indicator: INDICATORS.csat,
          subjectId: row.provider_unit_id,
          value: ctx.body.score,
          text: ctx.body.comment ?? null,
          observedAt: now.toISOString(),
          details: { requestId: row.id, serviceId: row.service_id },
        });
        const request = toRequest(updated, now);
        uow.emit('hrm.request.rated', { request }, { type: 'hrm.request', id: row.id });
        return request;
      }),
  });

  r.post('/requests/sla-sweep', {
    summary: 'Record SLA breaches of the tenant now (what the scheduled sweep does): each request past its target is marked once and emits hrm.request.sla-breached',
    permission: PERMISSIONS.deskManage,
    response: z.object({ asOf: z.string(), breached: z.array(z.uuid()) }),
    status: 200,
    handler: async (ctx) => {
      if (ctx.principal.scopePartyId) throw new ForbiddenError('hrm: the SLA sweep is tenant-wide');
      const now = options.now();
      return { asOf: now.toISOString(), breached: await recordSlaBreaches(ctx.app, ctx.tenantId, now, ctx.principal) };
    },
  });

  r.get('/units/:id/scorecard', {
    summary: "A unit's service scorecard: requests, SLA breaches, resolution time and CSAT per service",
    permission: PERMISSIONS.deskManage,
    params: idParams,
    query: z.strictObject({ from: isoTimestamp.optional(), to: isoTimestamp.optional() }),
    response: z.object({
      unitId: z.uuid(),
      asOf: z.string(),
      services: z.array(
        z.object({
          serviceId: z.uuid(),
          name: z.string(),
          requests: z.number(),
          open: z.number(),
          resolved: z.number(),
          breached: z.number(),
          breachRate: z.number().nullable(),
          avgResolutionMinutes: z.number().nullable(),
          csatResponses: z.number(),
          csat: z.number().nullable(),
        }),
      ),
    }),
    handler: async (ctx) => {
      if (ctx.principal.scopePartyId) throw new ForbiddenError('hrm: scorecards are tenant-wide');
      if (!(await loadUnits(ctx.db, ctx.tenantId, [ctx.params.id])).length) throw new NotFoundError('Unit', ctx.params.id);
      const now = options.now();
      const join = ctx.db('hrm_requests as q').select('q.*').where({ 'q.tenant_id': ctx.tenantId, 'q.provider_unit_id': ctx.params.id });
      if (ctx.query.from) join.where('q.opened_at', '>=', ctx.query.from);
      if (ctx.query.to) join.where('q.opened_at', '<', ctx.query.to);
      const rows: Array<Record<string, string | number | null> & { id: string; name: string }> = await ctx
        .db('hrm_services as s')
        .leftJoin(join.as('q'), 'q.service_id', 's.id')
        .where({ 's.tenant_id': ctx.tenantId, 's.unit_id': ctx.params.id })
        .groupBy('s.id', 's.name')
        .orderBy('s.name')
        .select('s.id', 's.name')
        .select(ctx.db.raw('count(q.id)::int as requests'))
        .select(ctx.db.raw("count(q.id) filter (where q.status in ('open','in-progress'))::int as open"))
        .select(ctx.db.raw("count(q.id) filter (where q.resolved_at is not null)::int as resolved"))
        .select(ctx.db.raw("count(q.id) filter (where q.status <> 'cancelled' and coalesce(q.resolved_at, ?::timestamptz) > q.resolution_due_at)::int as breached", [now]))
        .select(ctx.db.raw("count(q.id) filter (where q.status <> 'cancelled')::int as countable"))
        .select(ctx.db.raw('avg(extract(epoch from (q.resolved_at - q.opened_at)) / 60)::float8 as avg_resolution'))
        .select(ctx.db.raw('count(q.csat)::int as csat_responses'))
        .select(ctx.db.raw('avg(q.csat)::float8 as csat'));
      const round = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);
      return {
        unitId: ctx.params.id,
        asOf: now.toISOString(),
        services: rows.map((s) => ({
          serviceId: s.id,
          name: s.name,
          requests: Number(s.requests),
          open: Number(s.open),
          resolved: Number(s.resolved),
          breached: Number(s.breached),
          breachRate: Number(s.countable) ? round(Number(s.breached) / Number(s.countable)) : null,
          avgResolutionMinutes: s.avg_resolution === null ? null : round(Number(s.avg_resolution)),
          csatResponses: Number(s.csat_responses),
          csat: s.csat === null ? null : round(Number(s.csat)),
        })),
      };
    },
  });
}

async function visibleRequest(ctx: RequestContext<any, any, any>, db: RequestContext['db'], id: string, forUpdate = false): Promise<RequestRow> {
  const q = db('hrm_requests').where({ tenant_id: ctx.tenantId, id });
  ctx.app.scopes.apply(q, { db, tenantId: ctx.tenantId, principal: ctx.principal }, SCOPES.requests, 'id');
  if (forUpdate) q.forUpdate();
  const row: RequestRow | undefined = await q.first();
  if (!row) throw new NotFoundError('Request', id);
  return row;
}

async function updateRequest(uow: UnitOfWork, row: RequestRow, patch: Partial<RequestRow>): Promise<RequestRow> {
  const next = { ...row, ...patch, version: row.version + 1 };
  await uow.trx('hrm_requests').where({ tenant_id: uow.tenantId, id: row.id, version: row.version }).update({ ...patch, version: next.version });
  return next;
}

function toService(row: { id: string; unit_id: string; name: string; description: string | null; response_target_minutes: number | null; resolution_target_minutes: number; active: boolean; created_at: Date }): Service {
  return {
    id: row.id,
    unitId: row.unit_id,
    name: row.name,
    description: row.description,
    responseTargetMinutes: row.response_target_minutes,
    resolutionTargetMinutes: row.resolution_target_minutes,
    active: row.active,
    createdAt: iso(row.created_at)!,
  };
}

