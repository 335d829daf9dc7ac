import { ConflictError, ForbiddenError, NotFoundError, hasPermission, newId, type Principal, type QueryContext, type UnitOfWork } from '@rapport/core';
import { crm, type SavedView, type ViewResource } from '@rapport/crm-contract';
import type { CrmDeps } from '../deps.js';
import { savedViewRecord } from '../records.js';

/** The permission to read the list a view applies to: needed to save such a view, and to see it. */
const READ: Record<ViewResource, string> = { deals: 'crm.deals:read', customers: 'crm.accounts:read', vendors: 'crm.accounts:read' };

/** Views are personal: they belong to the principal (user or API key) that saved them. */
const ownerOf = (p: Principal) => `${p.kind}:${p.id}`;

/** Saved views: named filters per principal for the deal and account lists. Another principal's view is a 404. */
export class SavedViewService {
  constructor(private readonly deps: CrmDeps) {}

  /** The caller's views of the lists it may read, by list and name. */
  async list(ctx: QueryContext, resource?: ViewResource): Promise<SavedView[]> {
    const q = this.deps.db
      .in(ctx)('crm_saved_views as v')
      .where('v.owner', ownerOf(ctx.principal))
      .orderBy([{ column: 'v.resource' }, { column: 'v.name' }])
      .select(savedViewRecord.columns('v'));
    if (resource) q.where('v.resource', resource);
    const views = ((await q) as object[]).map((row) => savedViewRecord.fromRow(row));
    return views.filter((view) => hasPermission(ctx.principal, READ[view.resource]));
  }

  async save(uow: UnitOfWork, input: { resource: ViewResource; name: string; filters: Record<string, unknown> }): Promise<SavedView> {
    if (!hasPermission(uow.principal, READ[input.resource])) throw new ForbiddenError(`crm: a ${input.resource} view needs ${READ[input.resource]}`);
    const tables = this.deps.db.in(uow);
    const owner = ownerOf(uow.principal);
    if (await tables('crm_saved_views').where({ owner, resource: input.resource, name: input.name }).first('id')) {
      throw new ConflictError(`crm: you already have a ${input.resource} view named "${input.name}"`);
    }
    const now = new Date();
    const view: SavedView = { id: newId(), resource: input.resource, name: input.name, filters: input.filters, createdAt: now.toISOString() };
    await tables('crm_saved_views').insert({ id: view.id, owner, resource: view.resource, name: view.name, filters: JSON.stringify(view.filters), created_at: now });
    uow.emit(crm.events.viewSaved, { view }, { type: 'crm.view', id: view.id });
    return view;
  }

  async delete(uow: UnitOfWork, id: string): Promise<void> {
    const deleted = await this.deps.db
      .in(uow)('crm_saved_views')
      .where({ id, owner: ownerOf(uow.principal) })
      .delete();
    if (!deleted) throw new NotFoundError('Saved view', id);
    uow.emit(crm.events.viewDeleted, { viewId: id }, { type: 'crm.view', id });
  }
}
