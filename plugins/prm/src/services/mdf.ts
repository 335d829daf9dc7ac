import type { Knex } from 'knex';
import { ConflictError, ValidationError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { prm, type MdfBudget, type MdfRequest, type MdfStatus } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import { mdfBudgetRecord, mdfRequestRecord } from '../records.js';
import { notFound } from './errors.js';
import { newestFirst } from './pages.js';
import type { Partnerships } from './partnerships.js';
import type { PortalParties } from './portal.js';

const BUDGETS = 'prm_mdf_budgets';
const REQUESTS = 'prm_mdf_requests';

/** The event of each step after the request. */
const STEP_EVENTS = {
  approved: prm.events.mdfApproved,
  rejected: prm.events.mdfRejected,
  claimed: prm.events.mdfClaimed,
  paid: prm.events.mdfPaid,
} as const;

type BudgetRow = { id: string; program: string } & Record<string, unknown>;
type RequestRow = { id: string; budget_id: string; partner_id: string; amount: string | number; status: MdfStatus; version: number };

/** Market development funds: budget per program and period → request → approval → claim → paid. */
export class MdfService {
  constructor(
    private readonly deps: PrmDeps,
    private readonly portal: PortalParties,
    private readonly partnerships: Partnerships,
  ) {}

  async createBudget(uow: UnitOfWork, input: { program: string; period: string; currency: string; amount: number }): Promise<MdfBudget> {
    const tables = this.deps.db.in(uow);
    const taken = await tables(BUDGETS).where({ program: input.program, period: input.period, currency: input.currency }).first('id');
    if (taken) throw new ConflictError(`prm: an MDF budget for ${input.program} ${input.period} ${input.currency} exists`, { budgetId: taken.id });
    const [row] = await tables(BUDGETS)
      .insert({ id: newId(), ...input, remaining: input.amount, created_at: new Date() })
      .returning(mdfBudgetRecord.columns());
    const budget = mdfBudgetRecord.fromRow(row, { own: null });
    uow.emit(prm.events.mdfBudgetCreated, { budget }, { type: 'prm.mdf-budget', id: budget.id });
    return budget;
  }

  listBudgets(ctx: QueryContext, query: { limit: number; cursor?: string }): Promise<Page<MdfBudget>> {
    const q = this.budgets(ctx).select(mdfBudgetRecord.columns());
    return keysetPage(q, query, newestFirst(), (rows: BudgetRow[]) => this.asSeenBy(ctx, rows));
  }

  /**
   * The firm sees every figure. A partner sees its own figures on each budget and the remaining
   * budget only where the program shares it (`mdfVisibility: 'shared'`): with the remaining
   * budget and its own figures, one partner could work out what the others spent.
   */
  private async asSeenBy(ctx: QueryContext, rows: BudgetRow[]): Promise<MdfBudget[]> {
    const own = this.portal.ofCaller(ctx);
    if (!own) return rows.map((r) => mdfBudgetRecord.fromRow(r, { own: null }));
    if (rows.length === 0) return [];
    const tables = this.deps.db.in(ctx);
    const { raw } = tables;
    const [shared, figures] = await Promise.all([
      tables('prm_programs')
        .whereIn('name', [...new Set(rows.map((r) => r.program))])
        .where('mdf_visibility', 'shared')
        .pluck('name'),
      tables(REQUESTS)
        .whereIn(
          'budget_id',
          rows.map((r) => r.id),
        )
        .whereIn('partner_id', own)
        .groupBy('budget_id')
        .select(
          'budget_id',
          raw("coalesce(sum(amount) filter (where status = 'requested'), 0)::float8 as requested"),
          raw("coalesce(sum(amount) filter (where status in ('approved', 'claimed', 'paid')), 0)::float8 as approved"),
          raw("coalesce(sum(claimed_amount) filter (where status in ('claimed', 'paid')), 0)::float8 as claimed"),
        ) as Promise<Array<{ budget_id: string; requested: number; approved: number; claimed: number }>>,
    ]);
    const byBudget = new Map(figures.map((f) => [f.budget_id, { requested: f.requested, approved: f.approved, claimed: f.claimed }]));
    const sharing = new Set<string>(shared);
    return rows.map((r) => {
      const budget = mdfBudgetRecord.fromRow(r, { own: byBudget.get(r.id) ?? { requested: 0, approved: 0, claimed: 0 } });
      return sharing.has(r.program) ? budget : { ...budget, remaining: null };
    });
  }

  async getRequest(ctx: QueryContext, id: string): Promise<MdfRequest> {
    const row = await this.requests(ctx).where('id', id).first(mdfRequestRecord.columns());
    if (!row) throw notFound('MDF request', id);
    return mdfRequestRecord.fromRow(row);
  }

  listRequests(ctx: QueryContext, query: { status?: MdfStatus; partnerId?: string; limit: number; cursor?: string }): Promise<Page<MdfRequest>> {
    const q = this.requests(ctx).select(mdfRequestRecord.columns());
    if (query.status) q.where('status', query.status);
    if (query.partnerId) q.where('partner_id', query.partnerId);
    return keysetPage(q, query, newestFirst(), (rows: object[]) => rows.map((r) => mdfRequestRecord.fromRow(r)));
  }

  async request(uow: UnitOfWork, input: { budgetId: string; partnerId: string; activity: string; amount: number }): Promise<MdfRequest> {
    await this.portal.requireActsFor(uow, input.partnerId);
    const budget = await this.budgets(uow).where('id', input.budgetId).first('program', 'amount');
    if (!budget) throw new ValidationError(`prm: MDF budget ${input.budgetId} does not exist`, [{ path: 'budgetId', message: 'unknown budget' }]);
    const partnership = await this.partnerships.active(uow, input.partnerId, budget.program);
    if (!partnership) throw new ValidationError(`prm: party ${input.partnerId} is not an active partner of program ${budget.program}`, [{ path: 'partnerId', message: 'not in the program' }]);
    if (input.amount > Number(budget.amount)) throw new ValidationError('prm: the request exceeds the whole budget', [{ path: 'amount', message: 'above budget' }]);
    const now = new Date();
    const [row] = await this.deps.db
      .in(uow)(REQUESTS)
      .insert({
        id: newId(),
        budget_id: input.budgetId,
        partner_id: input.partnerId,
        relationship_id: partnership.id,
        activity: input.activity,
        amount: input.amount,
        status: 'requested',
        version: 1,
        created_at: now,
        updated_at: now,
      })
      .returning(mdfRequestRecord.columns());
    const request = mdfRequestRecord.fromRow(row);
    await this.recordStep(uow, request, 'requested');
    uow.emit(prm.events.mdfRequested, { request }, { type: 'prm.mdf-request', id: request.id });
    return request;
  }

  /**
   * Approval spends the budget with one conditional UPDATE (`remaining >= amount`): under
   * concurrent approvals each one either takes its share or finds too little and fails with
   * 409 — the budget can never go below zero (a CHECK constraint backs this up).
   */
  async approve(uow: UnitOfWork, id: string, reason?: string): Promise<MdfRequest> {
    const row = await this.lockRequest(uow, id, 'requested');
    const tables = this.deps.db.in(uow);
    const spent = await tables(BUDGETS)
      .where('id', row.budget_id)
      .where('remaining', '>=', row.amount)
      .update({ remaining: tables.raw('remaining - ?', [row.amount]) }, ['remaining']);
    if (spent.length === 0) throw new ConflictError(`prm: MDF budget ${row.budget_id} has less than ${Number(row.amount)} left`, { code: 'mdf-budget-exhausted' });
    return this.move(uow, row, { status: 'approved', decision_reason: reason ?? null });
  }

  async reject(uow: UnitOfWork, id: string, reason: string): Promise<MdfRequest> {
    const row = await this.lockRequest(uow, id, 'requested');
    return this.move(uow, row, { status: 'rejected', decision_reason: reason });
  }

  /** The partner claims what it spent (at most the approved amount) with proof; the unspent rest returns to the budget. */
  async claim(uow: UnitOfWork, id: string, input: { amount: number; proof: string }): Promise<MdfRequest> {
    const row = await this.lockRequest(uow, id, 'approved');
    await this.portal.requireActsFor(uow, row.partner_id);
    if (input.amount > Number(row.amount)) throw new ValidationError(`prm: the claim exceeds the approved ${Number(row.amount)}`, [{ path: 'amount', message: 'above approved amount' }]);
    const unspent = Number(row.amount) - input.amount;
    const tables = this.deps.db.in(uow);
    if (unspent > 0)
      await tables(BUDGETS)
        .where('id', row.budget_id)
        .update({ remaining: tables.raw('remaining + ?', [unspent]) });
    return this.move(uow, row, { status: 'claimed', claimed_amount: input.amount, proof: input.proof });
  }

  async pay(uow: UnitOfWork, id: string): Promise<MdfRequest> {
    const row = await this.lockRequest(uow, id, 'claimed');
    return this.move(uow, row, { status: 'paid' });
  }

  private budgets(ctx: QueryContext): Knex.QueryBuilder {
    return this.deps.scopes.apply(this.deps.db.in(ctx)(BUDGETS), ctx, 'prm.mdf-budgets', 'id');
  }

  private requests(ctx: QueryContext): Knex.QueryBuilder {
    return this.deps.scopes.apply(this.deps.db.in(ctx)(REQUESTS), ctx, 'prm.mdf-requests', 'id');
  }

  private async lockRequest(uow: UnitOfWork, id: string, expected: MdfStatus): Promise<RequestRow> {
    const row = await this.requests(uow).where('id', id).forUpdate().first(mdfRequestRecord.columns());
    if (!row) throw notFound('MDF request', id);
    if (row.status !== expected) throw new ConflictError(`prm: MDF request ${id} is ${row.status}, not ${expected}`);
    return row;
  }

  private async move(uow: UnitOfWork, row: RequestRow, patch: { status: keyof typeof STEP_EVENTS; decision_reason?: string | null; claimed_amount?: number; proof?: string }): Promise<MdfRequest> {
    const [moved] = await this.deps.db
      .in(uow)(REQUESTS)
      .where('id', row.id)
      .update({ ...patch, version: row.version + 1, updated_at: new Date() })
      .returning(mdfRequestRecord.columns());
    const request = mdfRequestRecord.fromRow(moved);
    await this.recordStep(uow, request, patch.status, patch.decision_reason ?? undefined);
    uow.emit(STEP_EVENTS[patch.status], { request }, { type: 'prm.mdf-request', id: request.id });
    return request;
  }

  /** One interaction per step, on the partner's and the firm's timelines. */
  private async recordStep(uow: UnitOfWork, request: MdfRequest, step: MdfStatus, reason?: string): Promise<void> {
    // The partner's portal cannot see the firm's party: the step is PRM's, already authorized.
    await this.deps.interactions.create(uow.unscoped(), {
      type: 'prm.mdf',
      direction: step === 'requested' || step === 'claimed' ? 'inbound' : 'outbound',
      subject: `MDF ${step}: ${request.activity}`,
      summary: reason ?? null,
      relationshipId: request.relationshipId,
      participants: [
        { partyId: request.partnerId, role: 'partner' },
        { partyId: await this.deps.tenants.selfPartyId(uow), role: 'principal' },
      ],
      attributes: { mdfRequestId: request.id, step, amount: step === 'claimed' ? (request.claimedAmount ?? request.amount) : request.amount },
    });
  }
}
