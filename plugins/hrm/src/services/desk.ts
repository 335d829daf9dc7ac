import { ConflictError, ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { hrm, type RequestStatus, type Scorecard, type Service, type ServiceRequest } from '@rapport/hrm-contract';
import { callerPartyId, emptyPage } from '../caller.js';
import { INDICATORS, INTERACTIONS, SCOPES } from '../declarations.js';
import type { HrmDeps } from '../deps.js';
import { BREACHED_SQL, TRANSITIONS, isBreached } from '../domain/request-sla.js';
import type { ResolvedHrmOptions } from '../options.js';
import { requestRecord, serviceRecord } from '../records.js';
import type { StaffDirectory } from './staff.js';
import type { UnitService } from './units.js';

/** A row of `hrm_requests`, as read with `requestRecord.columns()`. */
export interface RequestRow {
  id: string;
  service_id: string;
  provider_unit_id: string;
  requester_party_id: string;
  status: RequestStatus;
  opened_at: Date;
  first_response_at: Date | null;
  resolution_due_at: Date;
  resolved_at: Date | null;
  closed_at: Date | null;
  csat: number | null;
  version: number;
  [column: string]: unknown;
}

export interface RequestListQuery {
  limit: number;
  cursor?: string;
  status?: RequestStatus;
  serviceId?: string;
  unitId?: string;
  requesterPartyId?: string;
  breached?: 'true' | 'false';
}

const round = (n: number | null) => (n === null ? null : Math.round(n * 100) / 100);

/** The internal service desk: units publish services with SLA targets, internal customers raise and rate requests. */
export class DeskService {
  constructor(
    private readonly deps: HrmDeps,
    private readonly staff: StaffDirectory,
    private readonly units: UnitService,
    private readonly options: ResolvedHrmOptions,
  ) {}

  /** The request as the API shows it, `breached` as of the plugin clock. */
  toRequest(row: object, now: Date): ServiceRequest {
    return requestRecord.fromRow(row, { breached: isBreached(row as RequestRow, now) });
  }

  async publishService(
    uow: UnitOfWork,
    input: { unitId: string; name: string; description?: string | null; responseTargetMinutes?: number | null; resolutionTargetMinutes: number },
  ): Promise<Service> {
    await this.units.require(uow, input.unitId);
    const row = {
      id: newId(),
      unit_id: input.unitId,
      name: input.name,
      description: input.description ?? null,
      response_target_minutes: input.responseTargetMinutes ?? null,
      resolution_target_minutes: input.resolutionTargetMinutes,
      active: true,
      created_at: this.options.now(),
    };
    await this.deps.db.in(uow)('hrm_services').insert(row);
    const service = serviceRecord.fromRow(row);
    uow.emit(hrm.events.serviceCreated, { service }, { type: 'hrm.service', id: service.id });
    return service;
  }

  /** The active services, oldest first; for the firm's staff (a scoped caller without a current employment sees none). */
  async services(ctx: QueryContext, query: { limit: number; cursor?: string; unitId?: string }): Promise<Page<Service>> {
    if (!(await this.staff.callerIsStaff(ctx))) return emptyPage();
    const q = this.deps.db.in(ctx)('hrm_services').where({ active: true }).select(serviceRecord.columns());
    if (query.unitId) q.where('unit_id', query.unitId);
    return keysetPage(q, query, [{ column: 'id', type: 'uuid' }], (rows: object[]) => rows.map((row) => serviceRecord.fromRow(row)));
  }

  /** A request of an internal customer: a current employee (oneself), or a unit (raised by an unscoped caller). */
  async raise(uow: UnitOfWork, input: { serviceId: string; title: string; description?: string | null; requesterPartyId?: string }): Promise<ServiceRequest> {
    // Raising a request for someone else (or for a unit) is for unscoped callers.
    const requester = input.requesterPartyId && !uow.principal.scopePartyId ? input.requesterPartyId : callerPartyId(uow.principal);
    if (!requester) throw new ValidationError('requesterPartyId: the caller is not linked to a person; name the requester', [{ path: 'requesterPartyId', message: 'required' }]);
    if (!(await this.units.isUnit(uow, requester)) && !(await this.staff.isEmployed(uow, requester))) {
      throw new ValidationError(`requesterPartyId: ${requester} is neither a current employee nor a unit`, [{ path: 'requesterPartyId', message: 'not an internal customer' }]);
    }
    const tables = this.deps.db.in(uow);
    const service = await tables('hrm_services').where({ id: input.serviceId, active: true }).first('id', 'unit_id', 'response_target_minutes', 'resolution_target_minutes');
    if (!service) throw new ValidationError(`serviceId: service ${input.serviceId} does not exist`, [{ path: 'serviceId', message: 'unknown service' }]);
    const now = this.options.now();
    const interaction = await this.deps.interactions.create(uow, {
      type: INTERACTIONS.request,
      occurredAt: now.toISOString(),
      direction: 'internal',
      subject: input.title,
      summary: input.description ?? null,
      participants: [
        { partyId: requester, role: 'requester' },
        { partyId: service.unit_id, role: 'provider' },
      ],
    });
    const row = {
      id: newId(),
      service_id: service.id,
      provider_unit_id: service.unit_id,
      requester_party_id: requester,
      title: input.title,
      description: input.description ?? null,
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
    await tables('hrm_requests').insert(row);
    const request = this.toRequest({ ...row, sla_breached_at: null }, now);
    uow.emit(hrm.events.requestOpened, { request }, { type: 'hrm.request', id: request.id });
    return request;
  }

  /** By id; a scoped caller sees those it raised or is assigned; `breached` as of the plugin clock. */
  list(ctx: QueryContext, query: RequestListQuery): Promise<Page<ServiceRequest>> {
    const now = this.options.now();
    const q = this.deps.db.in(ctx)('hrm_requests').select(requestRecord.columns());
    this.deps.scopes.apply(q, ctx, SCOPES.requests, 'id');
    if (query.status) q.where('status', query.status);
    if (query.serviceId) q.where('service_id', query.serviceId);
    if (query.unitId) q.where('provider_unit_id', query.unitId);
    if (query.requesterPartyId) q.where('requester_party_id', query.requesterPartyId);
    if (query.breached === 'true') q.whereRaw(BREACHED_SQL, [now]);
    if (query.breached === 'false') q.whereRaw(`not (${BREACHED_SQL})`, [now]);
    return keysetPage(q, query, [{ column: 'id', type: 'uuid' }], (rows: object[]) => rows.map((row) => this.toRequest(row, now)));
  }

  async get(ctx: QueryContext, id: string): Promise<ServiceRequest> {
    return this.toRequest(await this.visible(ctx, id), this.options.now());
  }

  /** Assigns and progresses a request at `expectedVersion` (If-Match). */
  async progress(uow: UnitOfWork, id: string, change: { assigneePartyId?: string | null; status?: RequestStatus }, expectedVersion: number | undefined): Promise<ServiceRequest> {
    const row = await this.visible(uow, id, true);
    if (expectedVersion !== row.version) throw new PreconditionFailedError(`hrm: request ${row.id} is at version ${row.version}`, { currentVersion: row.version });
    const now = this.options.now();
    const patch: Record<string, unknown> = {};
    if (change.assigneePartyId !== undefined) {
      if (change.assigneePartyId) await this.staff.requireEmployed(uow, change.assigneePartyId, 'assigneePartyId');
      patch.assignee_party_id = change.assigneePartyId;
    }
    if (change.status && change.status !== row.status) {
      if (!TRANSITIONS[row.status].includes(change.status)) throw new ConflictError(`hrm: request ${row.id} cannot go from ${row.status} to ${change.status}`);
      patch.status = change.status;
      if (change.status === 'resolved') patch.resolved_at = now;
      if (change.status === 'in-progress' || change.status === 'open') patch.resolved_at = null;
      if (change.status === 'closed') patch.closed_at = now;
    }
    if (!row.first_response_at && (patch.assignee_party_id || (patch.status && patch.status !== 'open'))) patch.first_response_at = now;
    const updated = await this.update(uow, row, patch);
    const request = this.toRequest(updated, now);
    uow.emit(hrm.events.requestUpdated, { request, previous: this.toRequest(row, now) }, { type: 'hrm.request', id: row.id });
    return request;
  }

  /** The requester's internal CSAT (1–5) of a resolved request; closes it and records an hrm.csat observation about the providing unit. */
  async rate(uow: UnitOfWork, id: string, rating: { score: number; comment?: string }): Promise<ServiceRequest> {
    const row = await this.visible(uow, id, true);
    const self = callerPartyId(uow.principal);
    // The internal customer rates; a unit's request may be rated by an unscoped caller on its behalf.
    const forUnit = !uow.principal.scopePartyId && (await this.units.isUnit(uow, row.requester_party_id));
    if (self !== row.requester_party_id && !forUnit) throw new ForbiddenError(`hrm: only the requester rates request ${row.id}`);
    if (row.csat !== null) throw new ConflictError(`hrm: request ${row.id} is already rated`);
    if (row.status !== 'resolved' && row.status !== 'closed') throw new ConflictError(`hrm: request ${row.id} is ${row.status}; rate it once resolved`);
    const now = this.options.now();
    const updated = await this.update(uow, row, { csat: rating.score, csat_comment: rating.comment ?? null, status: 'closed', closed_at: row.closed_at ?? now });
    await this.deps.observations.record(uow, {
      indicator: INDICATORS.csat,
      subjectId: row.provider_unit_id,
      value: rating.score,
      text: rating.comment ?? null,
      observedAt: now.toISOString(),
      details: { requestId: row.id, serviceId: row.service_id },
    });
    const request = this.toRequest(updated, now);
    uow.emit(hrm.events.requestRated, { request }, { type: 'hrm.request', id: row.id });
    return request;
  }

  /** A unit's scorecard per service: requests, SLA breaches (as of the plugin clock), resolution time and CSAT. */
  async scorecard(ctx: QueryContext, unitId: string, period: { from?: string; to?: string }): Promise<Scorecard> {
    if (!(await this.units.isUnit(ctx, unitId))) throw new NotFoundError('Unit', unitId);
    const now = this.options.now();
    const tables = this.deps.db.in(ctx);
    const requests = tables('hrm_requests as q').select('q.*').where('q.provider_unit_id', unitId);
    if (period.from) requests.where('q.opened_at', '>=', period.from);
    if (period.to) requests.where('q.opened_at', '<', period.to);
    const rows: Array<Record<string, string | number | null> & { id: string; name: string }> = await tables('hrm_services as s')
      .leftJoin(requests.as('q'), 'q.service_id', 's.id')
      .where('s.unit_id', unitId)
      .groupBy('s.id', 's.name')
      .orderBy('s.name')
      .select('s.id', 's.name')
      .select(tables.raw('count(q.id)::int as requests'))
      .select(tables.raw("count(q.id) filter (where q.status in ('open','in-progress'))::int as open"))
      .select(tables.raw('count(q.id) filter (where q.resolved_at is not null)::int as resolved'))
      .select(tables.raw("count(q.id) filter (where q.status <> 'cancelled' and coalesce(q.resolved_at, ?::timestamptz) > q.resolution_due_at)::int as breached", [now]))
      .select(tables.raw("count(q.id) filter (where q.status <> 'cancelled')::int as countable"))
      .select(tables.raw('avg(extract(epoch from (q.resolved_at - q.opened_at)) / 60)::float8 as avg_resolution'))
      .select(tables.raw('count(q.csat)::int as csat_responses'))
      .select(tables.raw('avg(q.csat)::float8 as csat'));
    return {
      unitId,
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
  }

  /** Requests the person raised that are still unresolved past their target (a retention signal). */
  async overdueRequestsOf(ctx: QueryContext, requesterId: string, now: Date): Promise<number> {
    const [{ n }] = await this.deps.db
      .in(ctx)('hrm_requests')
      .where({ requester_party_id: requesterId })
      .whereIn('status', ['open', 'in-progress'])
      .where('resolution_due_at', '<', now)
      .count<{ n: string }[]>('* as n');
    return Number(n);
  }

  private async visible(ctx: QueryContext, id: string, forUpdate = false): Promise<RequestRow> {
    const q = this.deps.db.in(ctx)('hrm_requests').where({ id }).select(requestRecord.columns());
    this.deps.scopes.apply(q, ctx, SCOPES.requests, 'id');
    if (forUpdate) q.forUpdate();
    const row: RequestRow | undefined = await q.first();
    if (!row) throw new NotFoundError('Request', id);
    return row;
  }

  private async update(uow: UnitOfWork, row: RequestRow, patch: Record<string, unknown>): Promise<RequestRow> {
    const next = { ...row, ...patch, version: row.version + 1 };
    await this.deps.db
      .in(uow)('hrm_requests')
      .where({ id: row.id, version: row.version })
      .update({ ...patch, version: next.version });
    return next;
  }
}
