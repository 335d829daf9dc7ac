import { z } from 'zod';
import { AUTHENTICATED, idParams, type RouteBuilder } from '@rapport/core';
import { CUSTOMER_STATUSES, VIEW_RESOURCES, savedViewSchema } from '@rapport/crm-contract';
import type { SavedViewService } from '../services/saved-views.js';
import { dealFilters } from './deals.js';

const tags = ['crm'];

/** The filters a view may hold, per list it applies to: the same ones the list routes accept. */
const accountFilters = z.strictObject({ status: z.enum(CUSTOMER_STATUSES).optional() });
const name = z.string().trim().min(1).max(100);
const viewInput = z.discriminatedUnion('resource', [
  z.strictObject({ resource: z.literal('deals'), name, filters: z.strictObject(dealFilters) }),
  z.strictObject({ resource: z.literal('customers'), name, filters: accountFilters }),
  z.strictObject({ resource: z.literal('vendors'), name, filters: accountFilters }),
]);

/*
 * Views belong to the principal that saved them, so any principal may keep its own,
 * a scoped one too (the lists they apply to are open to it).
 */
export function savedViewRoutes(r: RouteBuilder, views: SavedViewService): void {
  r.get('/views', {
    summary: "The caller's saved views",
    tags,
    permission: AUTHENTICATED,
    audience: 'any',
    query: z.strictObject({ resource: z.enum(VIEW_RESOURCES).optional() }),
    response: z.object({ data: z.array(savedViewSchema) }),
    handler: async (ctx) => ({ data: await views.list(ctx, ctx.query.resource) }),
  });

  r.post('/views', {
    summary: 'Save a named filter for the deals, customers or vendors list',
    tags,
    permission: AUTHENTICATED,
    audience: 'any',
    body: viewInput,
    response: savedViewSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => views.save(uow, ctx.body)),
  });

  r.delete('/views/:id', {
    summary: 'Delete one of the caller’s saved views',
    tags,
    permission: AUTHENTICATED,
    audience: 'any',
    params: idParams,
    status: 204,
    handler: (ctx) => ctx.transaction((uow) => views.delete(uow, ctx.params.id)),
  });
}
