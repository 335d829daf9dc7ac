import { NotFoundError, PreconditionFailedError, RapportError, ValidationError, decodeCursor, newId, toPage, type Page, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';
import type { Knex } from 'knex';
import { PARTNER_TYPE, requireActsFor, selfPartyId } from './portal.js';

export const PLAN_STATUSES = ['draft', 'active', 'closed'] as const;
export const PLAN_ITEM_KINDS = ['goal', 'milestone'] as const;
export const PLAN_ITEM_STATUSES = ['open', 'done', 'dropped'] as const;

export interface PlanEdit {
  id: string;
  itemId: string | null;
  action: 'plan-created' | 'plan-updated' | 'item-added' | 'item-updated';
  changes: Record<string, unknown>;
  /** Who made it: the principal, the party it acts for, and which side of the partnership. */
  principalKind: string;
  principalId: string;
  partyId: string | null;
  side: 'firm' | 'partner';
  at: string;
}

export interface PlanItem {
  id: string;
  kind: (typeof PLAN_ITEM_KINDS)[number];
  title: string;
  target: number | null;
  actual: number | null;
  unit: string | null;
  dueDate: string | null;
  status: (typeof PLAN_ITEM_STATUSES)[number];
  version: number;
  updatedAt: string;
}

export interface Plan {
  id: string;
  partnerId: string;
  relationshipId: string;
  title: string;
  period: string;
  status: (typeof PLAN_STATUSES)[number];
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface PlanDetail extends Plan {
  items: PlanItem[];
  edits: PlanEdit[];
}

export interface PlanItemInput {
  kind: PlanItem['kind'];
  title: string;
  target?: number | null;
  actual?: number | null;
  unit?: string | null;
  dueDate?: string | null;
  status?: PlanItem['status'];
}

/**
 * Joint business plans: goals and milestones the firm and the partner both edit. Every edit
 * needs the version it was based on (If-Match), so neither side overwrites the other
 * unknowingly, and is recorded with who made it.
 */
export class PlanService {
  constructor(private readonly app: Rapport) {}

  plans(ctx: QueryContext): Knex.QueryBuilder {
    return this.app.scopes.apply(ctx.db('prm_plans').where('tenant_id', ctx.tenantId), ctx, 'prm.plans', 'id');
  }

  async create(uow: UnitOfWork, input: { partnerId: string; title: string; period: string }): Promise<PlanDetail> {
    await requireActsFor(uow, input.partnerId);
    const self = await selfPartyId(uow.trx, uow.tenantId);
    const rel = await uow.trx('rapport_relationships').where({ tenant_id: uow.tenantId, type: PARTNER_TYPE, from_party_id: self, to_party_id: input.partnerId, status: 'active' }).first('id');
    if (!rel) throw new ValidationError(`prm: party ${input.partnerId} is not an active partner`, [{ path: 'partnerId', message: 'not an active partner' }]);
    const now = new Date();
    const row = { tenant_id: uow.tenantId, id: newId(), partner_id: input.partnerId, relationship_id: rel.id, title: input.title, period: input.period, status: 'draft', version: 1, created_at: now, updated_at: now };
    await uow.trx('prm_plans').insert(row);
    await this.recordEdit(uow, row.id, null, 'plan-created', { title: input.title, period: input.period }, now);
    uow.emit('prm.plan.created', { plan: toPlan(row) }, { type: 'prm.plan', id: row.id });
    return this.get(uow, row.id);
  }

  async get(ctx: QueryContext, id: string): Promise<PlanDetail> {
    const row = await this.plans(ctx).where('id', id).first();
    if (!row) throw new NotFoundError('prm plan', id);
    const items = await ctx.db('prm_plan_items').where({ tenant_id: ctx.tenantId, plan_id: id }).orderBy([{ column: 'created_at' }, { column: 'id' }]);
    const edits = await ctx.db('prm_plan_edits').where({ tenant_id: ctx.tenantId, plan_id: id }).orderBy([{ column: 'at' }, { column: 'id' }]);
    return { ...toPlan(row), items: items.map(toItem), edits: edits.map(toEdit) };
  }

  async list(ctx: QueryContext, query: { partnerId?: string; limit: number; cursor?: string }): Promise<Page<Plan>> {
    const q = this.plans(ctx).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(query.limit + 1);
    if (query.partnerId) q.where('partner_id', query.partnerId);
    const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
    if (after) q.whereRaw('(created_at, id) < (?, ?)', after);
    return toPage(await q, query.limit, toPlan, (r: any) => [new Date(r.created_at).toISOString(), r.id]);
  }

  async update(uow: UnitOfWork, id: string, patch: { title?: string; period?: string; status?: Plan['status'] }, expectedVersion: number | undefined): Promise<PlanDetail> {
    const row = await this.plans(uow).where('id', id).forUpdate().first();
    if (!row) throw new NotFoundError('prm plan', id);
    checkVersion(`prm plan ${id}`, row.version, expectedVersion);
    const now = new Date();
    const changes = definedOnly({ title: patch.title, period: patch.period, status: patch.status });
    await uow.trx('prm_plans').where({ tenant_id: uow.tenantId, id }).update({ ...changes, version: row.version + 1, updated_at: now });
    await this.recordEdit(uow, id, null, 'plan-updated', changes, now);
    uow.emit('prm.plan.updated', { plan: toPlan({ ...row, ...changes, version: row.version + 1, updated_at: now }) }, { type: 'prm.plan', id });
    return this.get(uow, id);
  }

  /** Adding an item changes the plan: it needs the plan's version too. */
  async addItem(uow: UnitOfWork, planId: string, input: PlanItemInput, expectedVersion: number | undefined): Promise<PlanDetail> {
    const plan = await this.plans(uow).where('id', planId).forUpdate().first();
    if (!plan) throw new NotFoundError('prm plan', planId);
    checkVersion(`prm plan ${planId}`, plan.version, expectedVersion);
    const now = new Date();
    const row = {
      tenant_id: uow.tenantId,
      id: newId(),
      plan_id: planId,
      kind: input.kind,
      title: input.title,
      target: input.target ?? null,
      actual: input.actual ?? null,
      unit: input.unit ?? null,
      due_date: input.dueDate ?? null,
      status: input.status ?? 'open',
      version: 1,
      created_at: now,
      updated_at: now,
    };
    await uow.trx('prm_plan_items').insert(row);
    await uow.trx('prm_plans').where({ tenant_id: uow.tenantId, id: planId }).update({ version: plan.version + 1, updated_at: now });
    await this.recordEdit(uow, planId, row.id, 'item-added', definedOnly({ ...input }), now);
    uow.emit('prm.plan.updated', { plan: toPlan({ ...plan, version: plan.version + 1, updated_at: now }) }, { type: 'prm.plan', id: planId });
    return this.get(uow, planId);
  }

  async updateItem(uow: UnitOfWork, planId: string, itemId: string, patch: Partial<PlanItemInput>, expectedVersion: number | undefined): Promise<PlanDetail> {
    const plan = await this.plans(uow).where('id', planId).first('id', 'version');
    if (!plan) throw new NotFoundError('prm plan', planId);
    const item = await uow.trx('prm_plan_items').where({ tenant_id: uow.tenantId, plan_id: planId, id: itemId }).forUpdate().first();
    if (!item) throw new NotFoundError('prm plan item', itemId);
    checkVersion(`prm plan item ${itemId}`, item.version, expectedVersion);
    const now = new Date();
    const changes = definedOnly({ kind: patch.kind, title: patch.title, target: patch.target, actual: patch.actual, unit: patch.unit, status: patch.status });
    if (patch.dueDate !== undefined) changes.due_date = patch.dueDate;
    await uow.trx('prm_plan_items').where({ tenant_id: uow.tenantId, id: itemId }).update({ ...changes, version: item.version + 1, updated_at: now });
    await this.recordEdit(uow, planId, itemId, 'item-updated', definedOnly({ ...patch }), now);
    uow.emit('prm.plan.item-updated', { planId, itemId }, { type: 'prm.plan', id: planId });
    return this.get(uow, planId);
  }

  private async recordEdit(uow: UnitOfWork, planId: string, itemId: string | null, action: PlanEdit['action'], changes: Record<string, unknown>, at: Date): Promise<void> {
    const p = uow.principal;
    await uow.trx('prm_plan_edits').insert({
      tenant_id: uow.tenantId,
      id: newId(),
      plan_id: planId,
      item_id: itemId,
      action,
      changes: JSON.stringify(changes),
      principal_kind: p.kind,
      principal_id: p.id,
      party_id: p.scopePartyId ?? p.partyId ?? null,
      side: p.scopePartyId ? 'partner' : 'firm',
      at,
    });
  }
}

/** Both sides edit the same plan: an edit must say which version it was based on. */
function checkVersion(what: string, current: number, expected: number | undefined): void {
  if (expected === undefined) throw new RapportError(428, 'precondition-required', `${what}: send If-Match with the version you edited (now ${current})`, { currentVersion: current });
  if (expected !== current) throw new PreconditionFailedError(`${what} is at version ${current}, not ${expected}: someone else edited it first`, { currentVersion: current });
}

function definedOnly(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function toPlan(row: any): Plan {
  return {
    id: row.id,
    partnerId: row.partner_id,
    relationshipId: row.relationship_id,
    title: row.title,
    period: row.period,
    status: row.status,
    version: row.version,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function toItem(row: any): PlanItem {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return { id: row.id, kind: row.kind, title: row.title, target: num(row.target), actual: num(row.actual), unit: row.unit ?? null, dueDate: row.due_date ?? null, status: row.status, version: row.version, updatedAt: new Date(row.updated_at).toISOString() };
}

function toEdit(row: any): PlanEdit {
  return {
    id: row.id,
    itemId: row.item_id ?? null,
    action: row.action,
    changes: typeof row.changes === 'string' ? JSON.parse(row.changes) : row.changes,
    principalKind: row.principal_kind,
    principalId: row.principal_id,
    partyId: row.party_id ?? null,
    side: row.side,
    at: new Date(row.at).toISOString(),
  };
}
