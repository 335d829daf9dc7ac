import { z } from 'zod';
import { ValidationError, idParams, isoDate, pageOf, pageQuery, textListQuery, withFieldParams, type FieldValues, type RouteBuilder } from '@rapport/core';
import { STAGE_OUTCOMES, amountSchema, currencySchema, dealSchema, pipelineSchema, stageChangeSchema } from '@rapport/crm-contract';
import type { DealService } from '../services/deals.js';
import type { PipelineService } from '../services/pipelines.js';

const tags = ['crm'];

/** The deal list's filters; the deal export and saved views take the same. */
export const dealFilters = {
  pipelineId: z.uuid().optional(),
  stageId: z.uuid().optional(),
  status: z.enum(STAGE_OUTCOMES).optional(),
  ownerPartyId: z.uuid().optional(),
  accountId: z.uuid().optional(),
};

const titleQuery = textListQuery('title');

export function dealRoutes(r: RouteBuilder, { deals, pipelines, fields }: { deals: DealService; pipelines: PipelineService; fields: FieldValues }): void {
  r.get('/pipelines', {
    summary: 'Pipelines with their ordered stages',
    tags,
    permission: 'crm.pipelines:read',
    response: z.object({ data: z.array(pipelineSchema) }),
    handler: async (ctx) => ({ data: await pipelines.list(ctx) }),
  });

  r.post('/pipelines', {
    summary: 'Create a pipeline with ordered stages',
    tags,
    permission: 'crm.pipelines:write',
    body: z.strictObject({
      name: z.string().trim().min(1).max(200),
      stages: z
        .array(
          z.strictObject({
            name: z.string().trim().min(1).max(100),
            probability: z.number().int().min(0).max(100).optional(),
            outcome: z.enum(STAGE_OUTCOMES).optional(),
          }),
        )
        .min(1)
        .max(50),
    }),
    response: pipelineSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => pipelines.create(uow, ctx.body.name, ctx.body.stages)),
  });

  r.get('/pipelines/:id', {
    summary: 'One pipeline',
    tags,
    permission: 'crm.pipelines:read',
    params: idParams,
    response: pipelineSchema,
    handler: (ctx) => pipelines.get(ctx, ctx.params.id),
  });

  r.get('/deals', {
    summary: 'Deals the caller may see (own deals only without crm.deals:all)',
    tags,
    permission: 'crm.deals:read',
    // A customer's portal reads the deals of its account (record scope crm.deals).
    audience: 'any',
    description:
      'Newest first, or by title with `sort=title` / `sort=-title`, or by a custom field with `sort=field.<key>` / `sort=-field.<key>` (deals without a value last); `q` and `startsWith` match the title, case-insensitively. Custom fields filter as `field.<key>=value`, `field.<key>.gte`, `field.<key>.lte`.',
    query: withFieldParams({ ...pageQuery, ...dealFilters, q: titleQuery.q, startsWith: titleQuery.startsWith }),
    response: pageOf(dealSchema),
    handler: async (ctx) => {
      // `sort` is the title's (sort=title, sort=-title) or a custom field's (sort=field.<key>).
      const { sort, ...rest } = ctx.query;
      const byTitle = sort === 'title' || sort === '-title' ? sort : undefined;
      if (sort !== undefined && !byTitle && !/^-?field\./.test(sort)) {
        throw new ValidationError('sort takes title, -title, field.<key> or -field.<key>', [{ path: 'sort', message: 'unknown sort' }]);
      }
      const custom = await fields.listQuery(ctx, 'crm.deal', byTitle ? rest : ctx.query);
      return deals.list(ctx, { ...rest, sort: byTitle, fields: custom });
    },
  });

  r.post('/deals', {
    summary: 'Open a deal',
    tags,
    permission: 'crm.deals:write',
    body: z.strictObject({
      title: z.string().trim().min(1).max(300),
      pipelineId: z.uuid(),
      stageId: z.uuid().optional(),
      amount: amountSchema,
      currency: currencySchema,
      expectedClose: isoDate.nullable().optional(),
      ownerPartyId: z.uuid().nullable().optional(),
      accountId: z.uuid(),
      contactIds: z.array(z.uuid()).max(100).optional(),
      attributes: z.record(z.string(), z.unknown()).optional().describe('Custom field values (docs/custom-fields.md)'),
    }),
    response: dealSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => deals.create(uow, ctx.body)),
  });

  r.get('/deals/:id', {
    summary: 'One deal',
    tags,
    permission: 'crm.deals:read',
    audience: 'any',
    params: idParams,
    response: dealSchema,
    handler: (ctx) => deals.get(ctx, ctx.params.id),
  });

  r.patch('/deals/:id', {
    summary: 'Change a deal (not its stage: see /move)',
    tags,
    permission: 'crm.deals:write',
    params: idParams,
    requireIfMatch: true,
    body: z.strictObject({
      title: z.string().trim().min(1).max(300).optional(),
      amount: amountSchema.optional(),
      currency: currencySchema.optional(),
      expectedClose: isoDate.nullable().optional(),
      ownerPartyId: z.uuid().nullable().optional(),
      contactIds: z.array(z.uuid()).max(100).optional(),
      attributes: z.record(z.string(), z.unknown().nullable()).optional().describe('Custom field values, merged; a null removes one'),
    }),
    response: dealSchema,
    handler: (ctx) => ctx.transaction((uow) => deals.update(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });

  r.post('/deals/:id/move', {
    summary: 'Move a deal to another stage; a won or lost stage closes it',
    tags,
    permission: 'crm.deals:write',
    params: idParams,
    body: z.strictObject({ stageId: z.uuid() }),
    response: dealSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => deals.move(uow, ctx.params.id, ctx.body.stageId, ctx.ifMatch)),
  });

  r.get('/deals/:id/history', {
    summary: 'Stage history of a deal, oldest first',
    tags,
    permission: 'crm.deals:read',
    audience: 'any',
    params: idParams,
    response: z.object({ data: z.array(stageChangeSchema) }),
    handler: async (ctx) => ({ data: await deals.history(ctx, ctx.params.id) }),
  });
}
