import { z } from 'zod';
import { AUTHENTICATED, ConflictError, ForbiddenError, NotFoundError, hasPermission, idParams, newId, type Principal, type RouteBuilder } from '@rapport/core';
import { CUSTOMER_STATUSES } from '../declarations.js';

const tags = ['crm'];

/** The filters a view may hold, per list it applies to: the same ones the list routes accept. */
const dealFilters = z.strictObject({
  pipelineId: z.uuid().optional(),
  stageId: z.uuid().optional(),
  status: z.enum(['open', 'won', 'lost']).optional(),
  ownerPartyId: z.uuid().optional(),
  accountId: z.uuid().optional(),
});
const accountFilters = z.strictObject({ status: z.enum(CUSTOMER_STATUSES).optional() });

const viewInput = z.discriminatedUnion('resource', [
  z.strictObject({ resource: z.literal('deals'), name: z.string().trim().min(1).max(100), filters: dealFilters }),
  z.strictObject({ resource: z.literal('customers'), name: z.string().trim().min(1).max(100), filters: accountFilters }),
  z.strictObject({ resource: z.literal('vendors'), name: z.string().trim().min(1).max(100), filters: accountFilters }),
]);
type Resource = 'deals' | 'customers' | 'vendors';
const READ: Record<Resource, string> = { deals: 'crm.deals:read', customers: 'crm.accounts:read', vendors: 'crm.accounts:read' };

const viewSchema = z.object({ id: z.uuid(), resource: z.enum(['deals', 'customers', 'vendors']), name: z.string(), filters: z.record(z.string(), z.unknown()), createdAt: z.string() });

const ownerOf = (p: Principal) => `${p.kind}:${p.id}`;

interface ViewRow {
  id: string;
  resource: Resource;
  name: string;
  filters: Record<string, unknown> | string;
  created_at: Date;
}
const toView = (r: ViewRow) => ({ id: r.id, resource: r.resource, name: r.name, filters: typeof r.filters === 'string' ? JSON.parse(r.filters) : r.filters, createdAt: new Date(r.created_at).toISOString() });

/** Saved views: named filters per user for the deal and account lists. Another user's view is a 404. */
export function viewRoutes(r: RouteBuilder): void {
  r.get('/views', {
    summary: "The caller's saved views",
    tags,
    permission: AUTHENTICATED,
    query: z.strictObject({ resource: z.enum(['deals', 'customers', 'vendors']).optional() }),
    response: z.object({ data: z.array(viewSchema) }),
    handler: async (ctx) => {
      const q = ctx.db('crm_saved_views').where({ tenant_id: ctx.tenantId, owner: ownerOf(ctx.principal) }).orderBy([{ column: 'resource' }, { column: 'name' }]);
      if (ctx.query.resource) q.where('resource', ctx.query.resource);
      const rows: ViewRow[] = await q.select('id', 'resource', 'name', 'filters', 'created_at');
      return { data: rows.filter((row) => hasPermission(ctx.principal, READ[row.resource])).map(toView) };
    },
  });

  r.post('/views', {
    summary: 'Save a named filter for the deals, customers or vendors list',
    tags,
    permission: AUTHENTICATED,
    body: viewInput,
    response: viewSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        if (!hasPermission(uow.principal, READ[ctx.body.resource])) throw new ForbiddenError(`A ${ctx.body.resource} view needs ${READ[ctx.body.resource]}`);
        const owner = ownerOf(uow.principal);
        const taken = await uow.trx('crm_saved_views').where({ tenant_id: uow.tenantId, owner, resource: ctx.body.resource, name: ctx.body.name }).first('id');
        if (taken) throw new ConflictError(`crm: you already have a ${ctx.body.resource} view named "${ctx.body.name}"`);
        const row = { id: newId(), resource: ctx.body.resource, name: ctx.body.name, filters: ctx.body.filters, created_at: new Date() };
        await uow.trx('crm_saved_views').insert({ ...row, tenant_id: uow.tenantId, owner, filters: JSON.stringify(row.filters) });
        const view = toView(row);
        uow.emit('crm.view.saved', { view }, { type: 'crm.view', id: view.id });
        return view;
      }),
  });

  r.delete('/views/:id', {
    summary: 'Delete one of the caller’s saved views',
    tags,
    permission: AUTHENTICATED,
    params: idParams,
    status: 204,
    handler: async (ctx) => {
      await ctx.transaction(async (uow) => {
        const deleted = await uow.trx('crm_saved_views').where({ tenant_id: uow.tenantId, id: ctx.params.id, owner: ownerOf(uow.principal) }).delete();
        if (!deleted) throw new NotFoundError('Saved view', ctx.params.id);
        uow.emit('crm.view.deleted', { viewId: ctx.params.id }, { type: 'crm.view', id: ctx.params.id });
      });
      return null;
    },
  });
}
