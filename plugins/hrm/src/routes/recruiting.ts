import { z } from 'zod';
import { idParams, interactionSchema, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { FINAL_RECRUITING_STAGES, INTERVIEW_SCALE, applicationSchema, hireSchema, openingSchema } from '@rapport/hrm-contract';
import { PERMISSIONS } from '../declarations.js';
import type { ResolvedHrmOptions } from '../options.js';
import type { HrmServices } from '../services/index.js';
import { name, newPerson, hrmTimestamp } from './inputs.js';

/**
 * Recruiting. Openings, candidates, stages and hires are HR's; a scoped hiring manager reads
 * its openings, their candidacies and timelines, and gives interview feedback as itself.
 */
export function recruitingRoutes(r: RouteBuilder, { recruiting }: HrmServices, options: ResolvedHrmOptions): void {
  const openStages = options.recruitingStages;
  const allStages = [...openStages, ...FINAL_RECRUITING_STAGES] as unknown as [string, ...string[]];

  r.post('/openings', {
    summary: 'Open a position to recruit for: title, unit, position, hiring manager',
    permission: PERMISSIONS.recruitingWrite,
    body: z.strictObject({ title: name, unitId: z.uuid(), positionId: z.uuid().nullable().optional(), hiringManagerId: z.uuid().nullable().optional() }),
    response: openingSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => recruiting.createOpening(uow, ctx.body)),
  });

  r.get('/openings', {
    summary: 'List openings (scoped: those one is hiring manager of)',
    permission: PERMISSIONS.recruitingRead,
    audience: 'any',
    query: z.strictObject({ ...pageQuery, status: z.enum(['open', 'closed']).optional(), unitId: z.uuid().optional() }),
    response: pageOf(openingSchema),
    handler: (ctx) => recruiting.listOpenings(ctx, ctx.query),
  });

  r.get('/openings/:id', {
    summary: 'Get an opening',
    permission: PERMISSIONS.recruitingRead,
    audience: 'any',
    params: idParams,
    response: openingSchema,
    handler: (ctx) => recruiting.opening(ctx, ctx.params.id),
  });

  r.post('/openings/:id/close', {
    summary: 'Close an opening: no new candidates (candidacies in progress keep their stage)',
    permission: PERMISSIONS.recruitingWrite,
    params: idParams,
    response: openingSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => recruiting.closeOpening(uow, ctx.params.id)),
  });

  r.post('/openings/:id/candidates', {
    summary: `Add a candidate (an existing person, or a new one) to an opening: one hrm.recruiting relationship at stage "${openStages[0]}"`,
    permission: PERMISSIONS.recruitingWrite,
    params: idParams,
    body: z
      .strictObject({ partyId: z.uuid().optional(), person: newPerson.optional(), source: z.string().trim().min(1).max(200).optional() })
      .refine((b) => (b.partyId === undefined) !== (b.person === undefined), { message: 'give exactly one of partyId and person' }),
    response: applicationSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => recruiting.addCandidate(uow, ctx.params.id, ctx.body)),
  });

  r.get('/candidates', {
    summary: 'List candidacies (scoped: of the openings one is hiring manager of)',
    permission: PERMISSIONS.recruitingRead,
    audience: 'any',
    query: z.strictObject({ ...pageQuery, openingId: z.uuid().optional(), stage: z.enum(allStages).optional(), candidateId: z.uuid().optional() }),
    response: pageOf(applicationSchema),
    handler: (ctx) => recruiting.listCandidacies(ctx, ctx.query),
  });

  r.get('/applications/:id', {
    summary: 'Get a candidacy',
    permission: PERMISSIONS.recruitingRead,
    audience: 'any',
    params: idParams,
    response: applicationSchema,
    handler: (ctx) => recruiting.application(ctx, ctx.params.id),
  });

  r.post('/applications/:id/stage', {
    summary: `Move a candidacy to another stage (${[...openStages, 'rejected', 'withdrawn'].join(', ')}); hiring is POST …/hire. If-Match: its version (optional)`,
    permission: PERMISSIONS.recruitingWrite,
    params: idParams,
    body: z.strictObject({ stage: z.enum(allStages), reason: z.string().trim().min(1).max(2000).optional() }),
    response: applicationSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => recruiting.move(uow, ctx.params.id, ctx.body.stage, ctx.body.reason ?? null, ctx.ifMatch)),
  });

  r.post('/applications/:id/hire', {
    summary: `Hire a candidate at stage "${openStages[openStages.length - 1]}": the candidacy becomes "hired" and the same person starts an employment (unit, position and manager default to the opening's)`,
    permission: PERMISSIONS.recruitingWrite,
    params: idParams,
    body: z.strictObject({ start: hrmTimestamp, unitId: z.uuid().optional(), positionId: z.uuid().nullable().optional(), managerId: z.uuid().nullable().optional() }),
    response: hireSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => recruiting.hire(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });

  r.post('/applications/:id/feedback', {
    summary: `Interview feedback as an interaction on the candidate's timeline, rated on the ${INTERVIEW_SCALE.name} scale (${INTERVIEW_SCALE.levels.join(', ')}) and kept as an hrm.interview-rating observation`,
    permission: PERMISSIONS.recruitingWrite,
    audience: 'any',
    params: idParams,
    body: z.strictObject({
      rating: z.enum(INTERVIEW_SCALE.levels),
      summary: z.string().trim().min(1).max(20000).optional(),
      occurredAt: hrmTimestamp.optional(),
      interviewerPartyId: z.uuid().optional(),
    }),
    response: interactionSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => recruiting.feedback(uow, ctx.params.id, ctx.body)),
  });

  r.get('/candidates/:id/timeline', {
    summary: "A candidate's recruiting timeline: stage changes and interviews (scoped: of one's own openings)",
    permission: PERMISSIONS.recruitingRead,
    audience: 'any',
    params: idParams,
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(interactionSchema),
    handler: (ctx) => recruiting.timeline(ctx, ctx.params.id, ctx.query),
  });
}
