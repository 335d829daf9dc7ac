import { z } from 'zod';
import type { KernelServices } from '../../kernel/services.js';
import { interactionCreateSchema, interactionUpdateSchema, observationCreateSchema, relationshipCreateSchema, relationshipUpdateSchema } from '../../kernel/schemas.js';
import { booleanQuery, idParams, pageOf, pageQuery } from '../pagination.js';
import type { RouteBuilder } from '../routes.js';
import type { FieldService } from '../../fields/service.js';
import { parseFieldQuery, withFieldParams } from '../../fields/list-query.js';

import { interactionSchema, observationSchema, relationshipSchema, indicatorSummarySchema } from './response-schemas.js';

export function relationshipRoutes(r: RouteBuilder, services: KernelServices, fields: FieldService): void {
  const { relationships, interactions } = services;
  const tags = ['Relationships'];

  r.get('/relationships', {
    reads: 'replica',
    summary: 'List relationships',
    description:
      'Newest first, or by a custom field with `sort=field.<key>` / `sort=-field.<key>` (records without a value last); keyset pages either way, `prevCursor` for the page before. Custom fields filter as `field.<key>=value`, `field.<key>.gte`, `field.<key>.lte`.',
    tags,
    permission: 'relationships:read',
    audience: 'any',
    query: withFieldParams({
      ...pageQuery,
      type: z.string().max(100).optional(),
      status: z.string().max(50).optional(),
      partyId: z.uuid().optional(),
      role: z.string().max(50).optional(),
      active: booleanQuery.optional(),
    }),
    response: pageOf(relationshipSchema),
    handler: async (ctx) => relationships.list(ctx, { ...ctx.query, fields: parseFieldQuery(await fields.fieldsOf(ctx, 'relationship', ctx.query.type), ctx.query) }),
  });

  r.post('/relationships', {
    summary: 'Create a relationship',
    description: 'Roles come from the type: `fromPartyId` plays its `fromRole`, `toPartyId` its `toRole`. The self party may sit at either end.',
    tags,
    permission: 'relationships:write',
    audience: 'any',
    body: relationshipCreateSchema,
    response: relationshipSchema,
    handler: (ctx) => ctx.transaction((uow) => relationships.create(uow, ctx.body)),
  });

  r.get('/relationships/:id', {
    summary: 'Get a relationship',
    tags,
    permission: 'relationships:read',
    audience: 'any',
    params: idParams,
    response: relationshipSchema,
    handler: (ctx) => relationships.get(ctx, ctx.params.id),
  });

  r.patch('/relationships/:id', {
    summary: 'Change a relationship (status, validity, attributes)',
    tags,
    permission: 'relationships:write',
    audience: 'any',
    params: idParams,
    body: relationshipUpdateSchema,
    requireIfMatch: true,
    response: relationshipSchema,
    handler: (ctx) => ctx.transaction((uow) => relationships.update(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });

  r.get('/relationships/:id/timeline', {
    reads: 'replica',
    summary: "A relationship's timeline",
    tags,
    permission: 'interactions:read',
    audience: 'any',
    params: idParams,
    query: z.strictObject({ ...pageQuery, type: z.string().max(100).optional() }),
    response: pageOf(interactionSchema),
    handler: (ctx) => interactions.relationshipTimeline(ctx, ctx.params.id, ctx.query),
  });
}

export function interactionRoutes(r: RouteBuilder, services: KernelServices, fields: FieldService): void {
  const { interactions } = services;
  const tags = ['Interactions'];

  r.get('/interactions', {
    reads: 'replica',
    summary: 'List interactions',
    description:
      'Newest first, or by a custom field with `sort=field.<key>` / `sort=-field.<key>` (records without a value last); keyset pages either way, `prevCursor` for the page before. Custom fields filter as `field.<key>=value`, `field.<key>.gte`, `field.<key>.lte`.',
    tags,
    permission: 'interactions:read',
    audience: 'any',
    query: withFieldParams({ ...pageQuery, type: z.string().max(100).optional() }),
    response: pageOf(interactionSchema),
    handler: async (ctx) => interactions.list(ctx, { ...ctx.query, fields: parseFieldQuery(await fields.fieldsOf(ctx, 'interaction', ctx.query.type), ctx.query) }),
  });

  r.post('/interactions', {
    summary: 'Record an interaction',
    tags,
    permission: 'interactions:write',
    audience: 'any',
    body: interactionCreateSchema,
    response: interactionSchema,
    handler: (ctx) => ctx.transaction((uow) => interactions.create(uow, ctx.body)),
  });

  r.get('/interactions/:id', {
    summary: 'Get an interaction',
    tags,
    permission: 'interactions:read',
    audience: 'any',
    params: idParams,
    response: interactionSchema,
    handler: (ctx) => interactions.get(ctx, ctx.params.id),
  });

  r.patch('/interactions/:id', {
    summary: 'Change an interaction',
    tags,
    permission: 'interactions:write',
    audience: 'any',
    params: idParams,
    body: interactionUpdateSchema,
    requireIfMatch: true,
    response: interactionSchema,
    handler: (ctx) => ctx.transaction((uow) => interactions.update(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });
}

export function observationRoutes(r: RouteBuilder, services: KernelServices): void {
  const { observations } = services;
  const tags = ['Indicators'];

  r.get('/observations', {
    reads: 'replica',
    summary: 'List observations',
    tags,
    permission: 'observations:read',
    audience: 'any',
    query: z.strictObject({
      ...pageQuery,
      indicator: z.string().max(100).optional(),
      subjectType: z.enum(['party', 'relationship']).optional(),
      subjectId: z.uuid().optional(),
    }),
    response: pageOf(observationSchema),
    handler: (ctx) => observations.list(ctx, ctx.query),
  });

  r.post('/observations', {
    summary: 'Record an observation of an indicator',
    description: 'Quantitative indicators take `value`; qualitative ones a `label` on their scale and/or free `text`.',
    tags,
    permission: 'observations:write',
    audience: 'any',
    body: observationCreateSchema,
    response: observationSchema,
    handler: (ctx) => ctx.transaction((uow) => observations.record(uow, ctx.body)),
  });

  r.get('/observations/:id', {
    summary: 'Get an observation',
    tags,
    permission: 'observations:read',
    audience: 'any',
    params: idParams,
    response: observationSchema,
    handler: (ctx) => observations.get(ctx, ctx.params.id),
  });

  r.get('/indicators/:key/summary', {
    reads: 'replica',
    summary: 'Summary of an indicator for one subject',
    description: 'The aggregate the indicator declares (avg, sum, min, max, last) and, for qualitative ones, the count per label.',
    tags,
    permission: 'observations:read',
    audience: 'any',
    params: z.strictObject({ key: z.string().min(1).max(100) }),
    query: z.strictObject({ subjectId: z.uuid() }),
    response: indicatorSummarySchema,
    handler: (ctx) => observations.summary(ctx, ctx.params.key, ctx.query.subjectId),
  });
}
