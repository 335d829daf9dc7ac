import type { Knex } from 'knex';
import { PreconditionFailedError, RapportError, ValidationError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { prm, type Plan, type PlanDetail, type PlanEditAction, type PlanItem, type PlanStatus } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import { planEditRecord, planItemRecord, planRecord } from '../records.js';
import { notFound } from './errors.js';
import { newestFirst } from './pages.js';
import type { Partnerships } from './partnerships.js';
import type { PortalParties } from './portal.js';

export interface PlanItemInput {
  kind: PlanItem['kind'];
  title: string;
  target?: number | null;
  actual?: number | null;
  unit?: string | null;
  dueDate?: string | null;
  status?: PlanItem['status'];
}

const PLANS = 'prm_plans';
const ITEMS = 'prm_plan_items';
const EDITS = 'prm_plan_edits';

/**
 * Joint business plans: goals and milestones the firm and the partner both edit. Every edit
 * needs the version it was based on (If-Match), so neither side overwrites the other
 * unknowingly, and is recorded with who made it.
 */
export class PlanService {
  constructor(
    private readonly deps: PrmDeps,
    private readonly portal: PortalParties,
    private readonly partnerships: Partnerships,
  ) {}

  async create(uow: UnitOfWork, input: { partnerId: string; title: string; period: string }): Promise<PlanDetail> {
    await this.portal.requireActsFor(uow, input.partnerId);
    const partnership = await this.partnerships.active(uow, input.partnerId);
    if (!partnership) throw new ValidationError(`prm: party ${input.partnerId} is not an active partner`, [{ path: 'partnerId', message: 'not an active partner' }]);
    const now = new Date();
    const [row] = await this.deps.db
      .in(uow)(PLANS)
      .insert({ id: newId(), partner_id: input.partnerId, relationship_id: partnership.id, title: input.title, period: input.period, status: 'draft', version: 1, created_at: now, updated_at: now })
      .returning(planRecord.columns());
    await this.recordEdit(uow, row.id, null, 'plan-created', { title: input.title, period: input.period }, now);
    uow.emit(prm.events.planCreated, { plan: planRecord.fromRow(row) }, { type: 'prm.plan', id: row.id });
    return this.get(uow, row.id);
  }

  async get(ctx: QueryContext, id: string): Promise<PlanDetail> {
    const row = await this.plans(ctx).where('id', id).first(planRecord.columns());
    if (!row) throw notFound('plan', id);
    const tables = this.deps.db.in(ctx);
    const items = await tables(ITEMS)
      .where('plan_id', id)
      .orderBy([{ column: 'created_at' }, { column: 'id' }])
      .select(planItemRecord.columns());
    const edits = await tables(EDITS)
      .where('plan_id', id)
      .orderBy([{ column: 'at' }, { column: 'id' }])
      .select(planEditRecord.columns());
    return { ...planRecord.fromRow(row), items: items.map((i: object) => planItemRecord.fromRow(i)), edits: edits.map((e: object) => planEditRecord.fromRow(e)) };
  }

  list(ctx: QueryContext, query: { partnerId?: string; limit: number; cursor?: string }): Promise<Page<Plan>> {
    const q = this.plans(ctx).select(planRecord.columns());
    if (query.partnerId) q.where('partner_id', query.partnerId);
    return keysetPage(q, query, newestFirst(), (rows: object[]) => rows.map((r) => planRecord.fromRow(r)));
  }

  async update(uow: UnitOfWork, id: string, patch: { title?: string; period?: string; status?: PlanStatus }, expectedVersion: number | undefined): Promise<PlanDetail> {
    const row = await this.plans(uow).where('id', id).forUpdate().first('version');
    if (!row) throw notFound('plan', id);
    checkVersion(`prm plan ${id}`, row.version, expectedVersion);
    const now = new Date();
    const changes = definedOnly({ title: patch.title, period: patch.period, status: patch.status });
    const [updated] = await this.deps.db
      .in(uow)(PLANS)
      .where('id', id)
      .update({ ...changes, version: row.version + 1, updated_at: now })
      .returning(planRecord.columns());
    await this.recordEdit(uow, id, null, 'plan-updated', changes, now);
    uow.emit(prm.events.planUpdated, { plan: planRecord.fromRow(updated) }, { type: 'prm.plan', id });
    return this.get(uow, id);
  }

  /** Adding an item changes the plan: it needs the plan's version too. */
  async addItem(uow: UnitOfWork, planId: string, input: PlanItemInput, expectedVersion: number | undefined): Promise<PlanDetail> {
    const plan = await this.plans(uow).where('id', planId).forUpdate().first('version');
    if (!plan) throw notFound('plan', planId);
    checkVersion(`prm plan ${planId}`, plan.version, expectedVersion);
    const now = new Date();
    const tables = this.deps.db.in(uow);
    const itemId = newId();
    await tables(ITEMS).insert({
      id: itemId,
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
    });
    const [updated] = await tables(PLANS)
      .where('id', planId)
      .update({ version: plan.version + 1, updated_at: now })
      .returning(planRecord.columns());
    await this.recordEdit(uow, planId, itemId, 'item-added', definedOnly({ ...input }), now);
    uow.emit(prm.events.planUpdated, { plan: planRecord.fromRow(updated) }, { type: 'prm.plan', id: planId });
    return this.get(uow, planId);
  }

  async updateItem(uow: UnitOfWork, planId: string, itemId: string, patch: Partial<PlanItemInput>, expectedVersion: number | undefined): Promise<PlanDetail> {
    const plan = await this.plans(uow).where('id', planId).first('id');
    if (!plan) throw notFound('plan', planId);
    const tables = this.deps.db.in(uow);
    const item = await tables(ITEMS).where({ plan_id: planId, id: itemId }).forUpdate().first('version');
    if (!item) throw notFound('plan item', itemId);
    checkVersion(`prm plan item ${itemId}`, item.version, expectedVersion);
    const now = new Date();
    const changes = definedOnly({ kind: patch.kind, title: patch.title, target: patch.target, actual: patch.actual, unit: patch.unit, due_date: patch.dueDate, status: patch.status });
    await tables(ITEMS)
      .where('id', itemId)
      .update({ ...changes, version: item.version + 1, updated_at: now });
    await this.recordEdit(uow, planId, itemId, 'item-updated', definedOnly({ ...patch }), now);
    uow.emit(prm.events.planItemUpdated, { planId, itemId }, { type: 'prm.plan', id: planId });
    return this.get(uow, planId);
  }

  private plans(ctx: QueryContext): Knex.QueryBuilder {
    return this.deps.scopes.apply(this.deps.db.in(ctx)(PLANS), ctx, 'prm.plans', 'id');
  }

  /** Who made the edit: the principal, the party it acts for, and which side of the partnership. */
  private async recordEdit(uow: UnitOfWork, planId: string, itemId: string | null, action: PlanEditAction, changes: Record<string, unknown>, at: Date): Promise<void> {
    const p = uow.principal;
    await this.deps.db
      .in(uow)(EDITS)
      .insert({
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
