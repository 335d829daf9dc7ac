import type { Knex } from 'knex';
import { NotFoundError, PreconditionFailedError, ValidationError, decodeCursor, hasPermission, newId, toPage, type Page, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';
import type { Task } from '../types.js';
import { visibleDeals } from './deals.js';

export const SEE_ALL_TASKS = 'crm.tasks:all';

export interface TaskCreate {
  title: string;
  dueAt: string;
  assigneePartyId?: string | null;
  accountId?: string | null;
  dealId?: string | null;
}

export interface TaskPatch {
  title?: string;
  dueAt?: string;
  assigneePartyId?: string | null;
  done?: boolean;
}

interface TaskRow {
  id: string;
  title: string;
  due_at: Date | string;
  assignee_party_id: string | null;
  account_id: string | null;
  deal_id: string | null;
  done_at: Date | string | null;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

const COLUMNS = ['t.id', 't.title', 't.due_at', 't.assignee_party_id', 't.account_id', 't.deal_id', 't.done_at', 't.version', 't.created_at', 't.updated_at'];
const iso = (v: Date | string) => new Date(v).toISOString();

function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    title: row.title,
    dueAt: iso(row.due_at),
    assigneePartyId: row.assignee_party_id,
    accountId: row.account_id,
    dealId: row.deal_id,
    done: row.done_at !== null,
    doneAt: row.done_at ? iso(row.done_at) : null,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** Like deals: without crm.tasks:all a principal sees the tasks assigned to its party only. */
export function visibleTasks(app: Rapport, ctx: QueryContext): Knex.QueryBuilder {
  const query = ctx.db('crm_tasks as t').where('t.tenant_id', ctx.tenantId);
  if (!hasPermission(ctx.principal, SEE_ALL_TASKS)) {
    if (ctx.principal.partyId) query.where('t.assignee_party_id', ctx.principal.partyId);
    else query.whereRaw('false');
  }
  return app.scopes.apply(query, ctx, 'crm.tasks', 't.id');
}

export class TaskService {
  constructor(private readonly app: Rapport) {}

  async get(ctx: QueryContext, id: string): Promise<Task> {
    const row: TaskRow | undefined = await visibleTasks(this.app, ctx).where('t.id', id).first(COLUMNS);
    if (!row) throw new NotFoundError('Task', id);
    return toTask(row);
  }

  async list(ctx: QueryContext, query: { assigneePartyId?: string; done?: boolean; limit: number; cursor?: string }): Promise<Page<Task>> {
    const after = decodeCursor(query.cursor, ['uuid']);
    const q = visibleTasks(this.app, ctx).select(COLUMNS).orderBy('t.id', 'desc').limit(query.limit + 1);
    if (query.assigneePartyId) q.where('t.assignee_party_id', query.assigneePartyId);
    if (query.done !== undefined) {
      if (query.done) q.whereNotNull('t.done_at');
      else q.whereNull('t.done_at');
    }
    if (after) q.where('t.id', '<', after[0]);
    return toPage(await q, query.limit, toTask, (r: TaskRow) => [r.id]);
  }

  /** Open tasks due before now, most overdue first; keyset on (due_at, id). */
  async overdue(ctx: QueryContext, query: { assigneePartyId?: string; limit: number; cursor?: string }, now = new Date()): Promise<Page<Task>> {
    const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
    const q = visibleTasks(this.app, ctx)
      .select(COLUMNS)
      .whereNull('t.done_at')
      .where('t.due_at', '<', now)
      .orderBy([{ column: 't.due_at' }, { column: 't.id' }])
      .limit(query.limit + 1);
    if (query.assigneePartyId) q.where('t.assignee_party_id', query.assigneePartyId);
    if (after) q.whereRaw('(t.due_at, t.id) > (?::timestamptz, ?::uuid)', [after[0], after[1]]);
    return toPage(await q, query.limit, toTask, (r: TaskRow) => [iso(r.due_at), r.id]);
  }

  async create(uow: UnitOfWork, input: TaskCreate): Promise<Task> {
    const assignee = input.assigneePartyId === undefined ? uow.principal.partyId : input.assigneePartyId;
    this.checkAssignee(uow, assignee);
    await this.checkLinks(uow, assignee, input.accountId ?? null, input.dealId ?? null);
    const now = new Date();
    const row = {
      tenant_id: uow.tenantId,
      id: newId(),
      title: input.title,
      due_at: new Date(input.dueAt),
      assignee_party_id: assignee,
      account_id: input.accountId ?? null,
      deal_id: input.dealId ?? null,
      done_at: null,
      version: 1,
      created_at: now,
      updated_at: now,
    };
    await uow.trx('crm_tasks').insert(row);
    const task = toTask(row);
    uow.emit('crm.task.created', { task }, { type: 'crm.task', id: task.id });
    return task;
  }

  async update(uow: UnitOfWork, id: string, patch: TaskPatch, expectedVersion?: number): Promise<Task> {
    const locked = await visibleTasks(this.app, uow).where('t.id', id).forUpdate().first('t.id', 't.version');
    if (!locked) throw new NotFoundError('Task', id);
    if (expectedVersion !== undefined && locked.version !== expectedVersion) {
      throw new PreconditionFailedError(`Task ${id} is at version ${locked.version}, not ${expectedVersion}`, { currentVersion: locked.version });
    }
    const previous = await this.get(uow, id);
    if (patch.assigneePartyId !== undefined) {
      this.checkAssignee(uow, patch.assigneePartyId);
      await this.checkLinks(uow, patch.assigneePartyId, null, null);
    }
    const now = new Date();
    const changes: Record<string, unknown> = { version: previous.version + 1, updated_at: now };
    if (patch.title !== undefined) changes.title = patch.title;
    if (patch.dueAt !== undefined) changes.due_at = new Date(patch.dueAt);
    if (patch.assigneePartyId !== undefined) changes.assignee_party_id = patch.assigneePartyId;
    if (patch.done !== undefined && patch.done !== previous.done) changes.done_at = patch.done ? now : null;
    await uow.trx('crm_tasks').where({ tenant_id: uow.tenantId, id }).update(changes);
    const row: TaskRow = await uow.trx('crm_tasks as t').where({ 't.tenant_id': uow.tenantId, 't.id': id }).first(COLUMNS);
    const task = toTask(row);
    uow.emit(task.done && !previous.done ? 'crm.task.completed' : 'crm.task.updated', { task, previous }, { type: 'crm.task', id });
    return task;
  }

  private checkAssignee(uow: UnitOfWork, assignee: string | null): void {
    if (hasPermission(uow.principal, SEE_ALL_TASKS)) return;
    if (!assignee || assignee !== uow.principal.partyId) {
      throw new ValidationError('assigneePartyId: without crm.tasks:all a task must be assigned to the caller', [{ path: 'assigneePartyId', message: 'not the caller' }]);
    }
  }

  private async checkLinks(uow: UnitOfWork, assignee: string | null, accountId: string | null, dealId: string | null): Promise<void> {
    if (assignee) await this.app.services.parties.requireLive(uow, [assignee], 'assigneePartyId');
    if (accountId) await this.app.services.parties.requireLive(uow, [accountId], 'accountId');
    if (dealId) {
      const deal = await visibleDeals(this.app, uow).where('d.id', dealId).first('d.id');
      // Outside reach (another rep's deal) is indistinguishable from absent: 404, like every deal route.
      if (!deal) throw new NotFoundError('Deal', dealId);
    }
  }
}
