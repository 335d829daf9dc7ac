import { ConflictError, ForbiddenError, ValidationError, decodeCursor, newId, toPage, type Page, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';
import type { Knex } from 'knex';
import { PARTNER_TYPE, requireActsFor, selfPartyId } from './portal.js';
import { notFound } from './supply.js';

export const MDF_STATUSES = ['requested', 'approved', 'rejected', 'claimed', 'paid'] as const;
export type MdfStatus = (typeof MDF_STATUSES)[number];

export interface MdfBudget {
  id: string;
  program: string;
  period: string;
  currency: string;
  amount: number;
  remaining: number;
  createdAt: string;
}

export interface MdfRequest {
  id: string;
  budgetId: string;
  partnerId: string;
  relationshipId: string;
  activity: string;
  amount: number;
  status: MdfStatus;
  decisionReason: string | null;
  claimedAmount: number | null;
  proof: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Market development funds: budget per program and period → request → approval → claim → paid. */
export class MdfService {
  constructor(private readonly app: Rapport) {}

  budgets(ctx: QueryContext): Knex.QueryBuilder {
    return this.app.scopes.apply(ctx.db('prm_mdf_budgets').where('tenant_id', ctx.tenantId), ctx, 'prm.mdf-budgets', 'id');
  }

  requests(ctx: QueryContext): Knex.QueryBuilder {
    return this.app.scopes.apply(ctx.db('prm_mdf_requests').where('tenant_id', ctx.tenantId), ctx, 'prm.mdf-requests', 'id');
  }

  async createBudget(uow: UnitOfWork, input: { program: string; period: string; currency: string; amount: number }): Promise<MdfBudget> {
    firmOnly(uow, 'create MDF budgets');
    const taken = await uow.trx('prm_mdf_budgets').where({ tenant_id: uow.tenantId, program: input.program, period: input.period, currency: input.currency }).first('id');
    if (taken) throw new ConflictError(`prm: an MDF budget for ${input.program} ${input.period} ${input.currency} exists`, { budgetId: taken.id });
    const row = { tenant_id: uow.tenantId, id: newId(), ...input, remaining: input.amount, created_at: new Date() };
    await uow.trx('prm_mdf_budgets').insert(row);
    const budget = toBudget(row);
    uow.emit('prm.mdf.budget.created', { budget }, { type: 'prm.mdf-budget', id: budget.id });
    return budget;
  }

  async listBudgets(ctx: QueryContext, query: { limit: number; cursor?: string }): Promise<Page<MdfBudget>> {
    const q = this.budgets(ctx).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(query.limit + 1);
    const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
    if (after) q.whereRaw('(created_at, id) < (?, ?)', after);
    return toPage(await q, query.limit, toBudget, (r: any) => [new Date(r.created_at).toISOString(), r.id]);
  }

  async getRequest(ctx: QueryContext, id: string): Promise<MdfRequest> {
    const row = await this.requests(ctx).where('id', id).first();
    if (!row) throw notFound('MDF request', id);
    return toRequest(row);
  }

  async listRequests(ctx: QueryContext, query: { status?: MdfStatus; partnerId?: string; limit: number; cursor?: string }): Promise<Page<MdfRequest>> {
    const q = this.requests(ctx).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(query.limit + 1);
    if (query.status) q.where('status', query.status);
    if (query.partnerId) q.where('partner_id', query.partnerId);
    const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
    if (after) q.whereRaw('(created_at, id) < (?, ?)', after);
    return toPage(await q, query.limit, toRequest, (r: any) => [new Date(r.created_at).toISOString(), r.id]);
  }

  async request(uow: UnitOfWork, input: { budgetId: string; partnerId: string; activity: string; amount: number }): Promise<MdfRequest> {
    await requireActsFor(uow, input.partnerId);
    const budget = await this.budgets(uow).where('id', input.budgetId).first();
    if (!budget) throw new ValidationError(`prm: MDF budget ${input.budgetId} does not exist`, [{ path: 'budgetId', message: 'unknown budget' }]);
    const self = await selfPartyId(uow.trx, uow.tenantId);
    const rel = await uow.trx('rapport_relationships')
      .where({ tenant_id: uow.tenantId, type: PARTNER_TYPE, from_party_id: self, to_party_id: input.partnerId, status: 'active' })
      .whereRaw("attributes->>'program' = ?", [budget.program])
      .first('id');
    if (!rel) throw new ValidationError(`prm: party ${input.partnerId} is not an active partner of program ${budget.program}`, [{ path: 'partnerId', message: 'not in the program' }]);
    if (input.amount > Number(budget.amount)) throw new ValidationError('prm: the request exceeds the whole budget', [{ path: 'amount', message: 'above budget' }]);
    const now = new Date();
    const row = { tenant_id: uow.tenantId, id: newId(), budget_id: input.budgetId, partner_id: input.partnerId, relationship_id: rel.id, activity: input.activity, amount: input.amount, status: 'requested', version: 1, created_at: now, updated_at: now };
    await uow.trx('prm_mdf_requests').insert(row);
    const request = toRequest(row);
    await this.recordStep(uow, request, 'requested');
    uow.emit('prm.mdf.requested', { request }, { type: 'prm.mdf-request', id: request.id });
    return request;
  }

  /**
   * Approval spends the budget with one conditional UPDATE (`remaining >= amount`): under
   * concurrent approvals each one either takes its share or finds too little and fails with
   * 409 — the budget can never go below zero (a CHECK constraint backs this up).
   */
  async approve(uow: UnitOfWork, id: string, reason?: string): Promise<MdfRequest> {
    firmOnly(uow, 'approve MDF requests');
    const row = await this.lockRequest(uow, id, 'requested');
    const spent = await uow.trx('prm_mdf_budgets')
      .where({ tenant_id: uow.tenantId, id: row.budget_id })
      .where('remaining', '>=', row.amount)
      .update({ remaining: uow.trx.raw('remaining - ?', [row.amount]) }, ['remaining']);
    if (spent.length === 0) throw new ConflictError(`prm: MDF budget ${row.budget_id} has less than ${Number(row.amount)} left`, { code: 'mdf-budget-exhausted' });
    return this.move(uow, row, { status: 'approved', decision_reason: reason ?? null });
  }

  async reject(uow: UnitOfWork, id: string, reason: string): Promise<MdfRequest> {
    firmOnly(uow, 'reject MDF requests');
    const row = await this.lockRequest(uow, id, 'requested');
    return this.move(uow, row, { status: 'rejected', decision_reason: reason });
  }

  /** The partner claims what it spent (at most the approved amount) with proof; the unspent rest returns to the budget. */
  async claim(uow: UnitOfWork, id: string, input: { amount: number; proof: string }): Promise<MdfRequest> {
    const row = await this.lockRequest(uow, id, 'approved');
    await requireActsFor(uow, row.partner_id);
    if (input.amount > Number(row.amount)) throw new ValidationError(`prm: the claim exceeds the approved ${Number(row.amount)}`, [{ path: 'amount', message: 'above approved amount' }]);
    const unspent = Number(row.amount) - input.amount;
    if (unspent > 0) await uow.trx('prm_mdf_budgets').where({ tenant_id: uow.tenantId, id: row.budget_id }).update({ remaining: uow.trx.raw('remaining + ?', [unspent]) });
    return this.move(uow, row, { status: 'claimed', claimed_amount: input.amount, proof: input.proof });
  }

  async pay(uow: UnitOfWork, id: string): Promise<MdfRequest> {
    firmOnly(uow, 'pay MDF claims');
    const row = await this.lockRequest(uow, id, 'claimed');
    return this.move(uow, row, { status: 'paid' });
  }

  private async lockRequest(uow: UnitOfWork, id: string, expected: MdfStatus): Promise<any> {
    const row = await this.requests(uow).where('id', id).forUpdate().first();
    if (!row) throw notFound('MDF request', id);
    if (row.status !== expected) throw new ConflictError(`prm: MDF request ${id} is ${row.status}, not ${expected}`);
    return row;
  }

  private async move(uow: UnitOfWork, row: any, patch: Record<string, unknown> & { status: MdfStatus }): Promise<MdfRequest> {
    const now = new Date();
    const next = { ...patch, version: row.version + 1, updated_at: now };
    await uow.trx('prm_mdf_requests').where({ tenant_id: uow.tenantId, id: row.id }).update(next);
    const request = toRequest({ ...row, ...next });
    await this.recordStep(uow, request, patch.status, (patch.decision_reason as string | null | undefined) ?? undefined);
    uow.emit(`prm.mdf.${patch.status}`, { request }, { type: 'prm.mdf-request', id: request.id });
    return request;
  }

  private async recordStep(uow: UnitOfWork, request: MdfRequest, step: MdfStatus, reason?: string): Promise<void> {
    const self = await selfPartyId(uow.trx, uow.tenantId);
    await this.app.services.interactions.create(uow.unscoped(), {
      type: 'prm.mdf',
      direction: step === 'requested' || step === 'claimed' ? 'inbound' : 'outbound',
      subject: `MDF ${step}: ${request.activity}`,
      summary: reason ?? null,
      relationshipId: request.relationshipId,
      participants: [
        { partyId: request.partnerId, role: 'partner' },
        { partyId: self, role: 'principal' },
      ],
      attributes: { mdfRequestId: request.id, step, amount: step === 'claimed' ? (request.claimedAmount ?? request.amount) : request.amount },
    });
  }
}

function firmOnly(ctx: QueryContext, action: string): void {
  if (ctx.principal.scopePartyId) throw new ForbiddenError(`prm: a partner principal cannot ${action}`);
}

function toBudget(row: any): MdfBudget {
  return { id: row.id, program: row.program, period: row.period, currency: row.currency, amount: Number(row.amount), remaining: Number(row.remaining), createdAt: new Date(row.created_at).toISOString() };
}

function toRequest(row: any): MdfRequest {
  return {
    id: row.id,
    budgetId: row.budget_id,
    partnerId: row.partner_id,
    relationshipId: row.relationship_id,
    activity: row.activity,
    amount: Number(row.amount),
    status: row.status,
    decisionReason: row.decision_reason ?? null,
    claimedAmount: row.claimed_amount === null || row.claimed_amount === undefined ? null : Number(row.claimed_amount),
    proof: row.proof ?? null,
    version: row.version,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
