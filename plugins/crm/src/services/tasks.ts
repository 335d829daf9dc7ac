import type { Knex } from 'knex';
import { NotFoundError, PreconditionFailedError, ValidationError, hasPermission, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { crm, type Task } from '@rapport/crm-contract';
import { SEE_ALL_TASKS, TASK_SCOPE } from '../declarations.js';
import type { CrmDeps } from '../deps.js';
import { taskRecord } from '../records.js';
import type { DealService } from './deals.js';

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

const toTask = (row: { done_at: unknown }) => taskRecord.fromRow(row, { done: row.done_at !== null });

/** Tasks; like deals, a principal without crm.tasks:all sees and changes only those assigned to its party. */
export class TaskService {
  constructor(
    private readonly deps: CrmDeps,
    private readonly deals: DealService,
  ) {}

  /** The tasks the caller may see, as a query on `crm_tasks as t`. */
  visible(ctx: QueryContext): Knex.QueryBuilder {
    const query = this.deps.db.in(ctx)('crm_tasks as t');
    if (!hasPermission(ctx.principal, SEE_ALL_TASKS)) {
      if (ctx.principal.partyId) query.where('t.assignee_party_id', ctx.principal.partyId);
      else query.whereRaw('false');
    }
    return this.deps.scopes.apply(query, ctx, TASK_SCOPE, 't.id');
  }

  async get(ctx: QueryContext, id: string): Promise<Task> {
    const row = await this.visible(ctx).where('t.id', id).first(taskRecord.columns('t'));
    if (!row) throw new NotFoundError('Task', id);
    return toTask(row);
  }

  /** Newest first (keyset on id). */
  list(ctx: QueryContext, query: { assigneePartyId?: string; done?: boolean; limit: number; cursor?: string }): Promise<Page<Task>> {
    const q = this.visible(ctx).select(taskRecord.columns('t'));
    if (query.assigneePartyId) q.where('t.assignee_party_id', query.assigneePartyId);
    if (query.done === true) q.whereNotNull('t.done_at');
    else if (query.done === false) q.whereNull('t.done_at');
    return keysetPage(q, query, [{ column: 't.id', type: 'uuid', direction: 'desc' }], (rows: Array<{ done_at: unknown }>) => rows.map(toTask));
  }

  /** Open tasks due before `now`, most overdue first: keyset on (due_at, id), the partial index of open tasks. */
  overdue(ctx: QueryContext, query: { assigneePartyId?: string; limit: number; cursor?: string }, now = new Date()): Promise<Page<Task>> {
    const q = this.visible(ctx).select(taskRecord.columns('t')).whereNull('t.done_at').where('t.due_at', '<', now);
    if (query.assigneePartyId) q.where('t.assignee_party_id', query.assigneePartyId);
    return keysetPage(
      q,
      query,
      [
        { column: 't.due_at', type: 'timestamp' },
        { column: 't.id', type: 'uuid' },
      ],
      (rows: Array<{ done_at: unknown }>) => rows.map(toTask),
    );
  }

  async create(uow: UnitOfWork, input: TaskCreate): Promise<Task> {
    const assignee = input.assigneePartyId === undefined ? uow.principal.partyId : input.assigneePartyId;
    this.checkAssignee(uow, assignee);
    await this.checkLinks(uow, assignee, input.accountId ?? null, input.dealId ?? null);
    const now = new Date();
    const row = {
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
    await this.deps.db.in(uow)('crm_tasks').insert(row);
    const task = toTask(row);
    uow.emit(crm.events.taskCreated, { task }, { type: 'crm.task', id: task.id });
    return task;
  }

  async update(uow: UnitOfWork, id: string, patch: TaskPatch, expectedVersion?: number): Promise<Task> {
    const locked = await this.visible(uow).where('t.id', id).forUpdate().first('t.id', 't.version');
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
    const tables = this.deps.db.in(uow);
    await tables('crm_tasks').where('id', id).update(changes);
    const task = toTask(await tables('crm_tasks as t').where('t.id', id).first(taskRecord.columns('t')));
    const completed = task.done && !previous.done;
    uow.emit(completed ? crm.events.taskCompleted : crm.events.taskUpdated, { task, previous }, { type: 'crm.task', id });
    return task;
  }

  private checkAssignee(uow: UnitOfWork, assignee: string | null): void {
    if (hasPermission(uow.principal, SEE_ALL_TASKS)) return;
    if (!assignee || assignee !== uow.principal.partyId) {
      throw new ValidationError('assigneePartyId: without crm.tasks:all a task must be assigned to the caller', [{ path: 'assigneePartyId', message: 'not the caller' }]);
    }
  }

  private async checkLinks(uow: UnitOfWork, assignee: string | null, accountId: string | null, dealId: string | null): Promise<void> {
    if (assignee) await this.deps.parties.requireLive(uow, [assignee], 'assigneePartyId');
    if (accountId) await this.deps.parties.requireLive(uow, [accountId], 'accountId');
    if (dealId) await this.deals.requireVisible(uow, dealId);
  }
}
