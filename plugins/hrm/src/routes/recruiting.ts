import { z } from 'zod';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationError,
  decodeCursor,
  idParams,
  newId,
  pageOf,
  pageQuery,
  toPage,
  type RequestContext,
  type RouteBuilder,
  type UnitOfWork,
} from '@rapport/core';
import { INDICATORS, INTERACTIONS, INTERVIEW_SCALE, PERMISSIONS, SCOPES, TYPES } from '../declarations.js';
import { FINAL_RECRUITING_STAGES, type ResolvedHrmOptions } from '../options.js';
import { queryContext } from '../services/context.js';
import { activeEmployment, requireUnit, startEmployment } from '../services/org.js';
import { applicationsQuery, hiresInProgress, toApplication, toOpening, visibleApplication, visibleOpening, type ApplicationRow, type OpeningRow } from '../services/recruiting.js';
import { employeeSchema, interactionSchema, name, timestamp } from './schemas.js';

const openingSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  unitId: z.uuid(),
  positionId: z.uuid().nullable(),
  hiringManagerId: z.uuid().nullable(),
  status: z.enum(['open', 'closed']),
  createdAt: z.string(),
});
const applicationSchema = z.object({
  id: z.uuid(),
  candidateId: z.uuid(),
  candidateName: z.string(),
  openingId: z.uuid(),
  stage: z.string(),
  source: z.string().nullable(),
  appliedAt: z.string(),
  updatedAt: z.string(),
  version: z.number(),
});
const contactPoints = z.array(z.strictObject({ kind: z.enum(['email', 'phone', 'domain', 'url', 'other']), value: z.string().trim().min(1).max(320) })).max(50);

export function recruitingRoutes(r: RouteBuilder, options: ResolvedHrmOptions): void {
  const openStages = options.recruitingStages;
  const allStages = [...openStages, ...FINAL_RECRUITING_STAGES] as unknown as [string, ...string[]];

  r.post('/openings', {
    summary: 'Open a position to recruit for: title, unit, position, hiring manager',
    permission: PERMISSIONS.recruitingWrite,
    body: z.strictObject({ title: name, unitId: z.uuid(), positionId: z.uuid().nullable().optional(), hiringManagerId: z.uuid().nullable().optional() }),
    response: openingSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        refuseScoped(ctx, 'open positions');
        await requireUnit(uow.trx, uow.tenantId, ctx.body.unitId);
        if (ctx.body.positionId && !(await uow.trx('hrm_positions').where({ tenant_id: uow.tenantId, id: ctx.body.positionId }).first('id'))) {
          throw new ValidationError(`positionId: position ${ctx.body.positionId} does not exist`, [{ path: 'positionId', message: 'unknown position' }]);
        }
        if (ctx.body.hiringManagerId && !(await activeEmployment(uow.trx, uow.tenantId, ctx.body.hiringManagerId))) {
          throw new ValidationError(`hiringManagerId: ${ctx.body.hiringManagerId} is not a current employee`, [{ path: 'hiringManagerId', message: 'not employed' }]);
        }
        const row: OpeningRow = {
          id: newId(),
          title: ctx.body.title,
          unit_id: ctx.body.unitId,
          position_id: ctx.body.positionId ?? null,
          hiring_manager_id: ctx.body.hiringManagerId ?? null,
          status: 'open',
          created_at: options.now(),
        };
        await uow.trx('hrm_openings').insert({ ...row, tenant_id: uow.tenantId });
        const opening = toOpening(row);
        uow.emit('hrm.opening.created', { opening }, { type: 'hrm.opening', id: opening.id });
        return opening;
      }),
  });

  r.get('/openings', {
    summary: 'List openings (scoped: those one is hiring manager of)',
    permission: PERMISSIONS.recruitingRead,
    query: z.strictObject({ ...pageQuery, status: z.enum(['open', 'closed']).optional(), unitId: z.uuid().optional() }),
    response: pageOf(openingSchema),
    handler: async (ctx) => {
      const after = decodeCursor(ctx.query.cursor, ['uuid']);
      const q = ctx.db('hrm_openings').where({ tenant_id: ctx.tenantId });
      ctx.app.scopes.apply(q, queryContext(ctx), SCOPES.openings, 'id');
      if (ctx.query.status) q.where('status', ctx.query.status);
      if (ctx.query.unitId) q.where('unit_id', ctx.query.unitId);
      if (after) q.where('id', '>', after[0]);
      const rows: OpeningRow[] = await q.orderBy('id').limit(ctx.query.limit + 1);
      return toPage(rows, ctx.query.limit, toOpening, (row) => [row.id]);
    },
  });

  r.get('/openings/:id', {
    summary: 'Get an opening',
    permission: PERMISSIONS.recruitingRead,
    params: idParams,
    response: openingSchema,
    handler: async (ctx) => toOpening(await visibleOpening(ctx.app, queryContext(ctx), ctx.params.id)),
  });

  r.post('/openings/:id/close', {
    summary: 'Close an opening: no new candidates (candidacies in progress keep their stage)',
    permission: PERMISSIONS.recruitingWrite,
    params: idParams,
    response: openingSchema,
    status: 200,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        refuseScoped(ctx, 'close openings');
        const row = await visibleOpening(ctx.app, uow, ctx.params.id);
        if (row.status === 'closed') throw new ConflictError(`hrm: opening ${row.id} is already closed`);
        await uow.trx('hrm_openings').where({ tenant_id: uow.tenantId, id: row.id }).update({ status: 'closed' });
        const opening = toOpening({ ...row, status: 'closed' });
        uow.emit('hrm.opening.closed', { opening }, { type: 'hrm.opening', id: opening.id });
        return opening;
      }),
  });

  r.post('/openings/:id/candidates', {
    summary: `Add a candidate (an existing person, or a new one) to an opening: one hrm.recruiting relationship at stage "${openStages[0]}"`,
    permission: PERMISSIONS.recruitingWrite,
    params: idParams,
    body: z
      .strictObject({ partyId: z.uuid().optional(), person: z.strictObject({ name, contactPoints: contactPoints.optional() }).optional(), source: z.string().trim().min(1).max(200).optional() })
      .refine((b) => (b.partyId === undefined) !== (b.person === undefined), { message: 'give exactly one of partyId and person' }),
    response: applicationSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        refuseScoped(ctx, 'add candidates');
        const opening = await visibleOpening(ctx.app, uow, ctx.params.id);
        if (opening.status !== 'open') throw new ConflictError(`hrm: opening ${opening.id} is closed`);
        let candidateId: string;
        if (ctx.body.partyId) {
          const party = await ctx.app.services.parties.get(uow, ctx.body.partyId);
          if (party.kind !== 'person') throw new ValidationError('partyId: a candidate is a person', [{ path: 'partyId', message: `kind is ${party.kind}` }]);
          candidateId = party.id;
          const existing = await uow.trx('rapport_relationships')
            .where({ tenant_id: uow.tenantId, type: TYPES.recruiting, to_party_id: candidateId })
            .whereRaw("attributes->>'openingId' = ?", [opening.id])
            .first('id');
          if (existing) throw new ConflictError(`hrm: person ${candidateId} is already a candidate for opening ${opening.id} (application ${existing.id})`);
        } else {
          candidateId = (await ctx.app.services.parties.create(uow, { kind: 'person', name: ctx.body.person!.name, contactPoints: ctx.body.person!.contactPoints })).id;
        }
        const tenant = await uow.trx('rapport_tenants').where({ id: uow.tenantId }).first('self_party_id');
        const relationship = await ctx.app.services.relationships.create(uow, {
          type: TYPES.recruiting,
          fromPartyId: tenant.self_party_id,
          toPartyId: candidateId,
          validFrom: options.now().toISOString(),
          attributes: { openingId: opening.id, source: ctx.body.source ?? null },
        });
        await recordStage(ctx, uow, relationship.id, candidateId, opening.id, null, relationship.status, null);
        const application = toApplication(await visibleApplication(ctx.app, uow, relationship.id));
        uow.emit('hrm.candidate.applied', { application }, { type: 'hrm.application', id: application.id });
        return application;
      }),
  });

  r.get('/candidates', {
    summary: 'List candidacies (scoped: of the openings one is hiring manager of)',
    permission: PERMISSIONS.recruitingRead,
    query: z.strictObject({ ...pageQuery, openingId: z.uuid().optional(), stage: z.enum(allStages).optional(), candidateId: z.uuid().optional() }),
    response: pageOf(applicationSchema),
    handler: async (ctx) => {
      const after = decodeCursor(ctx.query.cursor, ['uuid']);
      const q = applicationsQuery(ctx.db, ctx.tenantId);
      ctx.app.scopes.apply(q, queryContext(ctx), SCOPES.openings, 'o.id');
      if (ctx.query.openingId) q.where('o.id', ctx.query.openingId);
      if (ctx.query.stage) q.where('a.status', ctx.query.stage);
      if (ctx.query.candidateId) q.where('a.to_party_id', ctx.query.candidateId);
      if (after) q.where('a.id', '>', after[0]);
      const rows: ApplicationRow[] = await q.orderBy('a.id').limit(ctx.query.limit + 1);
      return toPage(rows, ctx.query.limit, toApplication, (row) => [row.id]);
    },
  });

  r.get('/applications/:id', {
    summary: 'Get a candidacy',
    permission: PERMISSIONS.recruitingRead,
    params: idParams,
    response: applicationSchema,
    handler: async (ctx) => toApplication(await visibleApplication(ctx.app, queryContext(ctx), ctx.params.id)),
  });

  r.post('/applications/:id/stage', {
    summary: `Move a candidacy to another stage (${[...openStages, 'rejected', 'withdrawn'].join(', ')}); hiring is POST …/hire. If-Match: its version (optional)`,
    permission: PERMISSIONS.recruitingWrite,
    params: idParams,
    body: z.strictObject({ stage: z.enum(allStages), reason: z.string().trim().min(1).max(2000).optional() }),
    response: applicationSchema,
    status: 200,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        refuseScoped(ctx, 'move candidates');
        const row = await visibleApplication(ctx.app, uow, ctx.params.id, true);
        if (ctx.body.stage === 'hired') throw new ConflictError(`hrm: hire candidate ${row.to_party_id} with POST /applications/${row.id}/hire, which starts the employment`);
        if (ctx.body.stage === row.status) throw new ConflictError(`hrm: application ${row.id} is already at stage ${row.status}`);
        if ((FINAL_RECRUITING_STAGES as readonly string[]).includes(row.status)) throw new ConflictError(`hrm: application ${row.id} is ${row.status}; it cannot move any more`);
        await ctx.app.services.relationships.update(uow, row.id, { status: ctx.body.stage }, ctx.ifMatch);
        await recordStage(ctx, uow, row.id, row.to_party_id, row.attributes.openingId, row.status, ctx.body.stage, ctx.body.reason ?? null);
        const application = toApplication(await visibleApplication(ctx.app, uow, row.id));
        uow.emit('hrm.candidate.moved', { application, previousStage: row.status }, { type: 'hrm.application', id: row.id });
        return application;
      }),
  });

  r.post('/applications/:id/hire', {
    summary: `Hire a candidate at stage "${openStages[openStages.length - 1]}": the candidacy becomes "hired" and the same person starts an employment (unit, position and manager default to the opening's)`,
    permission: PERMISSIONS.recruitingWrite,
    params: idParams,
    body: z.strictObject({ start: timestamp, unitId: z.uuid().optional(), positionId: z.uuid().nullable().optional(), managerId: z.uuid().nullable().optional() }),
    response: z.object({ application: applicationSchema, employee: employeeSchema }),
    status: 200,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        refuseScoped(ctx, 'hire');
        const row = await visibleApplication(ctx.app, uow, ctx.params.id, true);
        const last = openStages[openStages.length - 1];
        if (row.status !== last) throw new ConflictError(`hrm: application ${row.id} is at stage ${row.status}; a candidate is hired from stage ${last}`);
        const opening = await visibleOpening(ctx.app, uow, row.attributes.openingId);
        hiresInProgress.add(uow);
        await ctx.app.services.relationships.update(uow, row.id, { status: 'hired' }, ctx.ifMatch);
        await recordStage(ctx, uow, row.id, row.to_party_id, opening.id, row.status, 'hired', null);
        const employee = await startEmployment(ctx.app, uow, {
          partyId: row.to_party_id,
          unitId: ctx.body.unitId ?? opening.unit_id,
          positionId: ctx.body.positionId !== undefined ? ctx.body.positionId : opening.position_id,
          managerId: ctx.body.managerId !== undefined ? ctx.body.managerId : opening.hiring_manager_id,
          start: ctx.body.start,
        });
        const application = toApplication(await visibleApplication(ctx.app, uow, row.id));
        uow.emit('hrm.candidate.hired', { application, employee }, { type: 'hrm.application', id: row.id });
        return { application, employee };
      }),
  });

  r.post('/applications/:id/feedback', {
    summary: `Interview feedback as an interaction on the candidate's timeline, rated on the ${INTERVIEW_SCALE.name} scale (${INTERVIEW_SCALE.levels.join(', ')}) and kept as an hrm.interview-rating observation`,
    permission: PERMISSIONS.recruitingWrite,
    params: idParams,
    body: z.strictObject({
      rating: z.enum(INTERVIEW_SCALE.levels),
      summary: z.string().trim().min(1).max(20000).optional(),
      occurredAt: timestamp.optional(),
      interviewerPartyId: z.uuid().optional(),
    }),
    response: interactionSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        // A scoped hiring manager gives feedback as itself on its own openings' candidates.
        const row = await visibleApplication(ctx.app, uow, ctx.params.id);
        const self = ctx.principal.scopePartyId ?? ctx.principal.partyId;
        const interviewer = ctx.body.interviewerPartyId && !ctx.principal.scopePartyId ? ctx.body.interviewerPartyId : self;
        if (!interviewer) throw new ValidationError('interviewerPartyId: the caller is not linked to a person; name the interviewer', [{ path: 'interviewerPartyId', message: 'required' }]);
        if (!(await activeEmployment(uow.trx, uow.tenantId, interviewer))) {
          throw new ValidationError(`interviewerPartyId: ${interviewer} is not a current employee`, [{ path: 'interviewerPartyId', message: 'not employed' }]);
        }
        if ((FINAL_RECRUITING_STAGES as readonly string[]).includes(row.status)) throw new ConflictError(`hrm: application ${row.id} is ${row.status}; feedback is for candidacies in progress`);
        // Authorized above: the candidate is outside a scoped hiring manager's kernel scope.
        const write = uow.unscoped();
        const interaction = await ctx.app.services.interactions.create(write, {
          type: INTERACTIONS.interview,
          occurredAt: ctx.body.occurredAt ?? options.now().toISOString(),
          direction: 'internal',
          subject: 'Interview',
          summary: ctx.body.summary ?? null,
          relationshipId: row.id,
          attributes: { openingId: row.attributes.openingId, rating: ctx.body.rating },
          participants: [
            { partyId: row.to_party_id, role: 'candidate' },
            { partyId: interviewer, role: 'interviewer' },
          ],
        });
        await ctx.app.services.observations.record(write, {
          indicator: INDICATORS.interviewRating,
          subjectId: row.to_party_id,
          label: ctx.body.rating,
          text: ctx.body.summary ?? null,
          observedAt: interaction.occurredAt,
          observerPartyId: interviewer,
          interactionId: interaction.id,
          details: { applicationId: row.id, openingId: row.attributes.openingId },
        });
        uow.emit('hrm.interview.recorded', { applicationId: row.id, candidateId: row.to_party_id, interactionId: interaction.id }, { type: 'hrm.application', id: row.id });
        return interaction;
      }),
  });

  r.get('/candidates/:id/timeline', {
    summary: "A candidate's recruiting timeline: stage changes and interviews (scoped: of one's own openings)",
    permission: PERMISSIONS.recruitingRead,
    params: idParams,
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(interactionSchema),
    handler: async (ctx) => {
      const qctx = queryContext(ctx);
      const after = decodeCursor(ctx.query.cursor, ['uuid']);
      const q = ctx
        .db('rapport_interactions as i')
        .join('rapport_relationships as a', function () {
          this.on('a.tenant_id', 'i.tenant_id').andOn('a.id', 'i.relationship_id');
        })
        .join('hrm_openings as o', 'o.tenant_id', 'a.tenant_id')
        .whereRaw("o.id = (a.attributes->>'openingId')::uuid")
        .where({ 'i.tenant_id': ctx.tenantId, 'a.type': TYPES.recruiting, 'a.to_party_id': ctx.params.id })
        .whereIn('i.type', [INTERACTIONS.recruitingStage, INTERACTIONS.interview])
        .select('i.*');
      ctx.app.scopes.apply(q, qctx, SCOPES.openings, 'o.id');
      if (after) q.where('i.id', '<', after[0]);
      const rows: any[] = await q.orderBy('i.id', 'desc').limit(ctx.query.limit + 1);
      if (rows.length === 0 && !after) {
        // Nothing visible: a candidate outside the caller's reach answers 404, like one that does not exist.
        const visible = applicationsQuery(ctx.db, ctx.tenantId).where('a.to_party_id', ctx.params.id);
        ctx.app.scopes.apply(visible, qctx, SCOPES.openings, 'o.id');
        if (!(await visible.first())) throw new NotFoundError('Candidate', ctx.params.id);
      }
      const page = toPage(rows, ctx.query.limit, (row) => row, (row) => [row.id]);
      // The candidate's recruiting entries were authorized above; participants are read tenant-wide.
      const all = { ...qctx, principal: { ...qctx.principal, scopePartyId: null } };
      return { data: await ctx.app.services.interactions.withParticipants(all, page.data), nextCursor: page.nextCursor };
    },
  });
}

function refuseScoped(ctx: RequestContext<any, any, any>, what: string): void {
  if (ctx.principal.scopePartyId) throw new ForbiddenError(`hrm: only HR (unscoped principals) may ${what}`);
}

/** Each stage change is an interaction on the candidate's timeline, so the history reads like a customer's. */
async function recordStage(ctx: RequestContext<any, any, any>, uow: UnitOfWork, applicationId: string, candidateId: string, openingId: string, from: string | null, to: string, reason: string | null) {
  await ctx.app.services.interactions.create(uow, {
    type: INTERACTIONS.recruitingStage,
    direction: 'internal',
    subject: from ? `${from} → ${to}` : to,
    summary: reason,
    relationshipId: applicationId,
    attributes: { openingId, from, to, reason },
    participants: [{ partyId: candidateId, role: 'candidate' }],
  });
}
