import type { Knex } from 'knex';
import {
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
  decodeCursor,
  hasPermission,
  newId,
  toPage,
  type Page,
  type QueryContext,
  type Rapport,
  type UnitOfWork,
} from '@rapport/core';
import { DEAL_UPDATE_TYPE } from '../declarations.js';
import type { Deal, DealStatus, StageChange } from '../types.js';
import { getStage } from './pipelines.js';

export const SEE_ALL_DEALS = 'crm.deals:all';

export interface DealCreate {
  title: string;
  pipelineId: string;
  stageId?: string;
  amount: number;
  currency: string;
  expectedClose?: string | null;
  ownerPartyId?: string | null;
  accountId: string;
  contactIds?: string[];
  /** Another plugin's record the deal comes from (`prm.registration:<id>`). */
  source?: string | null;
}

/**
 * A deal opened as a step of a workflow the caller was already authorized for (another
 * plugin's approval): the rep-only-owns-its-deals rule does not apply and the deal is read
 * back whoever may see it.
 */
export interface CreateOptions {
  workflowStep?: boolean;
}

export interface DealPatch {
  title?: string;
  amount?: number;
  currency?: string;
  expectedClose?: string | null;
  ownerPartyId?: string | null;
  contactIds?: string[];
}

export interface DealListQuery {
  pipelineId?: string;
  stageId?: string;
  status?: DealStatus;
  ownerPartyId?: string;
  accountId?: string;
  limit: number;
  cursor?: string;
}

interface DealRow {
  id: string;
  pipeline_id: string;
  stage_id: string;
  title: string;
  amount: string | number;
  currency: string;
  expected_close: string | null;
  owner_party_id: string | null;
  account_id: string;
  status: DealStatus;
  closed_at: Date | string | null;
  source: string | null;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

/**
 * The deals the caller may see, as a query on `crm_deals as d`. Without crm.deals:all a
 * principal sees only the deals it owns (its linked party is the owner): the "own records
 * only" rule of a sales rep. An external principal is further limited by the `crm.deals`
 * record scope. Compiled into the WHERE, so a deal outside reach simply is not found (404).
 */
export function visibleDeals(app: Rapport, ctx: QueryContext): Knex.QueryBuilder {
  const query = ctx.db('crm_deals as d').where('d.tenant_id', ctx.tenantId);
  if (!hasPermission(ctx.principal, SEE_ALL_DEALS)) {
    if (ctx.principal.partyId) query.where('d.owner_party_id', ctx.principal.partyId);
    else query.whereRaw('false');
  }
  return app.scopes.apply(query, ctx, 'crm.deals', 'd.id');
}

function dealColumns(db: Knex): Array<string | Knex.Raw> {
  return [
    'd.id',
    'd.pipeline_id',
    'd.stage_id',
    'd.title',
    'd.amount',
    'd.currency',
    // A DATE read through node-pg becomes a local-midnight Date; text keeps the calendar day.
    db.raw(`to_char(d.expected_close, 'YYYY-MM-DD') as expected_close`),
    'd.owner_party_id',
    'd.account_id',
    'd.status',
    'd.closed_at',
    'd.source',
    'd.version',
    'd.created_at',
    'd.updated_at',
  ];
}

const iso = (value: Date | string) => new Date(value).toISOString();

function toDeal(row: DealRow, contactIds: string[]): Deal {
  return {
    id: row.id,
    pipelineId: row.pipeline_id,
    stageId: row.stage_id,
    title: row.title,
    amount: Number(row.amount),
    currency: row.currency,
    expectedClose: row.expected_close,
    ownerPartyId: row.owner_party_id,
    accountId: row.account_id,
    contactIds,
    status: row.status,
    closedAt: row.closed_at ? iso(row.closed_at) : null,
    source: row.source ?? null,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** Rows to deals with their contacts: one query for the contacts of the whole page. */
async function withContacts(ctx: QueryContext, rows: DealRow[]): Promise<Deal[]> {
  if (rows.length === 0) return [];
  const links: Array<{ deal_id: string; party_id: string }> = await ctx
    .db('crm_deal_contacts')
    .where('tenant_id', ctx.tenantId)
    .whereIn('deal_id', rows.map((r) => r.id))
    .orderBy('party_id')
    .select('deal_id', 'party_id');
  const byDeal = new Map<string, string[]>();
  for (const link of links) byDeal.set(link.deal_id, [...(byDeal.get(link.deal_id) ?? []), link.party_id]);
  return rows.map((r) => toDeal(r, byDeal.get(r.id) ?? []));
}

export class DealService {
  constructor(private readonly app: Rapport) {}

  async get(ctx: QueryContext, id: string): Promise<Deal> {
    const row: DealRow | undefined = await visibleDeals(this.app, ctx).where('d.id', id).first(dealColumns(ctx.db));
    if (!row) throw new NotFoundError('Deal', id);
    return (await withContacts(ctx, [row]))[0];
  }

  async list(ctx: QueryContext, query: DealListQuery): Promise<Page<Deal>> {
    const after = decodeCursor(query.cursor, ['uuid']);
    const q = visibleDeals(this.app, ctx).select(dealColumns(ctx.db)).orderBy('d.id', 'desc').limit(query.limit + 1);
    if (query.pipelineId) q.where('d.pipeline_id', query.pipelineId);
    if (query.stageId) q.where('d.stage_id', query.stageId);
    if (query.status) q.where('d.status', query.status);
    if (query.ownerPartyId) q.where('d.owner_party_id', query.ownerPartyId);
    if (query.accountId) q.where('d.account_id', query.accountId);
    if (after) q.where('d.id', '<', after[0]);
    const rows: DealRow[] = await q;
    const page = toPage(rows, query.limit, (r) => r, (r) => [r.id]);
    return { data: await withContacts(ctx, page.data), nextCursor: page.nextCursor };
  }

  async history(ctx: QueryContext, id: string): Promise<StageChange[]> {
    await this.get(ctx, id); // 404 outside reach
    const rows: Array<{ id: string; deal_id: string; from_stage_id: string | null; to_stage_id: string; changed_at: Date; changed_by_party_id: string | null }> = await ctx
      .db('crm_deal_stage_history')
      .where({ tenant_id: ctx.tenantId, deal_id: id })
      .orderBy([{ column: 'changed_at' }, { column: 'id' }])
      .select('id', 'deal_id', 'from_stage_id', 'to_stage_id', 'changed_at', 'changed_by_party_id');
    return rows.map((r) => ({ id: r.id, dealId: r.deal_id, fromStageId: r.from_stage_id, toStageId: r.to_stage_id, changedAt: iso(r.changed_at), changedByPartyId: r.changed_by_party_id }));
  }

  async create(uow: UnitOfWork, input: DealCreate, options: CreateOptions = {}): Promise<Deal> {
    const stage = input.stageId ? await getStage(uow, input.stageId) : await this.firstOpenStage(uow, input.pipelineId);
    if (stage.pipelineId !== input.pipelineId) {
      throw new ValidationError(`stageId: stage ${stage.id} is not in pipeline ${input.pipelineId}`, [{ path: 'stageId', message: 'stage of another pipeline' }]);
    }
    const ownerPartyId = input.ownerPartyId === undefined ? uow.principal.partyId : input.ownerPartyId;
    if (!options.workflowStep) this.checkOwner(uow, ownerPartyId);
    const contactIds = [...new Set(input.contactIds ?? [])];
    await this.checkParties(uow, input.accountId, ownerPartyId, contactIds);
    const now = new Date();
    const row = {
      tenant_id: uow.tenantId,
      id: newId(),
      pipeline_id: input.pipelineId,
      stage_id: stage.id,
      title: input.title,
      amount: input.amount,
      currency: input.currency,
      expected_close: input.expectedClose ?? null,
      owner_party_id: ownerPartyId,
      account_id: input.accountId,
      status: stage.outcome,
      closed_at: stage.outcome === 'open' ? null : now,
      source: input.source ?? null,
      version: 1,
      created_at: now,
      updated_at: now,
    };
    await uow.trx('crm_deals').insert(row);
    if (contactIds.length > 0) await uow.trx('crm_deal_contacts').insert(contactIds.map((party_id) => ({ tenant_id: uow.tenantId, deal_id: row.id, party_id })));
    await this.recordChange(uow, row.id, null, stage.id, now);
    const deal = options.workflowStep ? await this.getUnscoped(uow, row.id) : await this.get(uow, row.id);
    await this.onTimeline(uow, deal, 'created', null, now);
    uow.emit('crm.deal.created', { deal }, { type: 'crm.deal', id: deal.id });
    if (deal.status !== 'open') uow.emit(`crm.deal.${deal.status}`, { deal }, { type: 'crm.deal', id: deal.id });
    return deal;
  }

  async update(uow: UnitOfWork, id: string, patch: DealPatch, expectedVersion?: number): Promise<Deal> {
    const previous = await this.lock(uow, id, expectedVersion);
    const ownerPartyId = patch.ownerPartyId === undefined ? previous.ownerPartyId : patch.ownerPartyId;
    if (patch.ownerPartyId !== undefined) this.checkOwner(uow, ownerPartyId);
    const contactIds = patch.contactIds === undefined ? undefined : [...new Set(patch.contactIds)];
    await this.checkParties(uow, null, patch.ownerPartyId === undefined ? null : ownerPartyId, contactIds ?? []);
    const changes: Record<string, unknown> = { version: previous.version + 1, updated_at: new Date() };
    if (patch.title !== undefined) changes.title = patch.title;
    if (patch.amount !== undefined) changes.amount = patch.amount;
    if (patch.currency !== undefined) changes.currency = patch.currency;
    if (patch.expectedClose !== undefined) changes.expected_close = patch.expectedClose;
    if (patch.ownerPartyId !== undefined) changes.owner_party_id = patch.ownerPartyId;
    await uow.trx('crm_deals').where({ tenant_id: uow.tenantId, id }).update(changes);
    if (contactIds) {
      await uow.trx('crm_deal_contacts').where({ tenant_id: uow.tenantId, deal_id: id }).delete();
      if (contactIds.length > 0) await uow.trx('crm_deal_contacts').insert(contactIds.map((party_id) => ({ tenant_id: uow.tenantId, deal_id: id, party_id })));
    }
    const deal = await this.getUnscoped(uow, id);
    uow.emit('crm.deal.updated', { deal, previous }, { type: 'crm.deal', id });
    return deal;
  }

  /** Moves a deal to another stage of its pipeline; a won or lost stage closes it. */
  async move(uow: UnitOfWork, id: string, stageId: string, expectedVersion?: number): Promise<Deal> {
    const previous = await this.lock(uow, id, expectedVersion);
    const stage = await getStage(uow, stageId);
    if (stage.pipelineId !== previous.pipelineId) {
      throw new ValidationError(`stageId: stage ${stageId} is not in the deal's pipeline ${previous.pipelineId}`, [{ path: 'stageId', message: 'stage of another pipeline' }]);
    }
    if (stage.id === previous.stageId) {
      throw new ValidationError(`stageId: deal ${id} is already in stage ${stageId}`, [{ path: 'stageId', message: 'same stage' }]);
    }
    const now = new Date();
    await uow
      .trx('crm_deals')
      .where({ tenant_id: uow.tenantId, id })
      .update({ stage_id: stage.id, status: stage.outcome, closed_at: stage.outcome === 'open' ? null : now, version: previous.version + 1, updated_at: now });
    await this.recordChange(uow, id, previous.stageId, stage.id, now);
    const deal = await this.getUnscoped(uow, id);
    const change = stage.outcome === 'open' ? 'stage-changed' : stage.outcome;
    await this.onTimeline(uow, deal, change, previous.stageId, now);
    uow.emit('crm.deal.stage-changed', { deal, fromStageId: previous.stageId, toStageId: stage.id }, { type: 'crm.deal', id });
    if (stage.outcome !== 'open') uow.emit(`crm.deal.${stage.outcome}`, { deal }, { type: 'crm.deal', id });
    return deal;
  }

  private async firstOpenStage(uow: UnitOfWork, pipelineId: string) {
    const row = await uow.trx('crm_stages').where({ tenant_id: uow.tenantId, pipeline_id: pipelineId, outcome: 'open' }).orderBy('position').first('id');
    if (!row) throw new ValidationError(`pipelineId: pipeline ${pipelineId} does not exist`, [{ path: 'pipelineId', message: 'unknown pipeline' }]);
    return getStage(uow, row.id);
  }

  /** Locks the visible deal row (404 outside reach) and checks If-Match. */
  private async lock(uow: UnitOfWork, id: string, expectedVersion?: number): Promise<Deal> {
    const row = await visibleDeals(this.app, uow).where('d.id', id).forUpdate().first('d.id', 'd.version');
    if (!row) throw new NotFoundError('Deal', id);
    if (expectedVersion !== undefined && row.version !== expectedVersion) {
      throw new PreconditionFailedError(`Deal ${id} is at version ${row.version}, not ${expectedVersion}`, { currentVersion: row.version });
    }
    return this.get(uow, id);
  }

  /** After a write the caller may have handed the deal to someone else: read it back unscoped. */
  private async getUnscoped(uow: UnitOfWork, id: string): Promise<Deal> {
    const row: DealRow = await uow.trx('crm_deals as d').where({ 'd.tenant_id': uow.tenantId, 'd.id': id }).first(dealColumns(uow.trx));
    return (await withContacts(uow, [row]))[0];
  }

  /** A rep without crm.deals:all may only own its deals, or it would create deals it cannot see. */
  private checkOwner(uow: UnitOfWork, ownerPartyId: string | null): void {
    if (hasPermission(uow.principal, SEE_ALL_DEALS)) return;
    if (!ownerPartyId || ownerPartyId !== uow.principal.partyId) {
      throw new ValidationError('ownerPartyId: without crm.deals:all a deal must be owned by the caller', [{ path: 'ownerPartyId', message: 'not the caller' }]);
    }
  }

  private async checkParties(uow: UnitOfWork, accountId: string | null, ownerPartyId: string | null, contactIds: string[]): Promise<void> {
    const parties = this.app.services.parties;
    if (accountId) {
      const account = (await parties.requireLive(uow, [accountId], 'accountId')).get(accountId)!;
      if (account.kind === 'unit') throw new ValidationError('accountId: an account is a person or an organization', [{ path: 'accountId', message: 'unit' }]);
    }
    if (ownerPartyId) await parties.requireLive(uow, [ownerPartyId], 'ownerPartyId');
    if (contactIds.length > 0) {
      const contacts = await parties.requireLive(uow, contactIds, 'contactIds');
      for (const c of contacts.values()) {
        if (c.kind !== 'person') throw new ValidationError(`contactIds: party ${c.id} is not a person`, [{ path: 'contactIds', message: 'not a person' }]);
      }
    }
  }

  private async recordChange(uow: UnitOfWork, dealId: string, from: string | null, to: string, at: Date): Promise<void> {
    await uow.trx('crm_deal_stage_history').insert({
      tenant_id: uow.tenantId,
      id: newId(),
      deal_id: dealId,
      from_stage_id: from,
      to_stage_id: to,
      changed_at: at,
      changed_by_party_id: uow.principal.partyId,
    });
  }

  /** Each change of a deal also appears on the account's timeline, as a kernel interaction. */
  private async onTimeline(uow: UnitOfWork, deal: Deal, change: 'created' | 'stage-changed' | 'won' | 'lost', fromStageId: string | null, at: Date): Promise<void> {
    const participants = [{ partyId: deal.accountId, role: 'account' }];
    if (deal.ownerPartyId && deal.ownerPartyId !== deal.accountId) participants.push({ partyId: deal.ownerPartyId, role: 'owner' });
    const subjects = { created: 'Deal opened', 'stage-changed': 'Deal moved', won: 'Deal won', lost: 'Deal lost' };
    await this.app.services.interactions.create(uow, {
      type: DEAL_UPDATE_TYPE,
      occurredAt: at.toISOString(),
      direction: 'internal',
      subject: `${subjects[change]}: ${deal.title}`,
      participants,
      attributes: { dealId: deal.id, change, fromStageId, toStageId: deal.stageId },
    });
  }
}
