import type { Knex } from 'knex';
import {
  NotFoundError,
  PreconditionFailedError,
  ValidationError,
  applyTextList,
  hasPermission,
  keysetPage,
  newId,
  type Page,
  type QueryContext,
  type TextListFilter,
  type UnitOfWork,
  applyFieldFilters,
  fieldSortPage,
  type FieldListQuery,
} from '@rapport/core';
import { DEAL_UPDATE_TYPE, crm, type Deal, type DealChange, type DealStatus, type StageChange } from '@rapport/crm-contract';
import { DEAL_SCOPE, SEE_ALL_DEALS } from '../declarations.js';
import type { CrmDeps } from '../deps.js';
import { dealRecord, stageChangeRecord } from '../records.js';
import type { PipelineService } from './pipelines.js';

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
  /** Custom field values, checked against the tenant's fields of crm.deal. */
  attributes?: Record<string, unknown>;
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
  /** Custom field values, merged; a null removes one. */
  attributes?: Record<string, unknown>;
}

export interface DealFilter {
  pipelineId?: string;
  stageId?: string;
  status?: DealStatus;
  ownerPartyId?: string;
  accountId?: string;
}

/** The deal list's filters (its export's too) on a query of `crm_deals as d`. */
export function whereDeals(query: Knex.QueryBuilder, filter: DealFilter): Knex.QueryBuilder {
  if (filter.pipelineId) query.where('d.pipeline_id', filter.pipelineId);
  if (filter.stageId) query.where('d.stage_id', filter.stageId);
  if (filter.status) query.where('d.status', filter.status);
  if (filter.ownerPartyId) query.where('d.owner_party_id', filter.ownerPartyId);
  if (filter.accountId) query.where('d.account_id', filter.accountId);
  return query;
}

const TIMELINE_SUBJECTS: Record<DealChange, string> = { created: 'Deal opened', 'stage-changed': 'Deal moved', won: 'Deal won', lost: 'Deal lost' };

/** The event that follows `stage-changed` (or `created`) when a deal lands in a closed stage. */
export const closingEvent = (status: Exclude<DealStatus, 'open'>) => (status === 'won' ? crm.events.dealWon : crm.events.dealLost);

/** Deals, their contacts and their stage history; every read goes through `visible`. */
export class DealService {
  constructor(
    private readonly deps: CrmDeps,
    private readonly pipelines: PipelineService,
  ) {}

  /**
   * The deals the caller may see, as a query on `crm_deals as d`. Without crm.deals:all a
   * principal sees only the deals it owns (its linked party is the owner): the "own records
   * only" rule of a sales rep. A scoped principal is further limited by the `crm.deals`
   * record scope. Compiled into the WHERE, so a deal outside reach simply is not found (404).
   */
  visible(ctx: QueryContext): Knex.QueryBuilder {
    const query = this.deps.db.in(ctx)('crm_deals as d');
    if (!hasPermission(ctx.principal, SEE_ALL_DEALS)) {
      if (ctx.principal.partyId) query.where('d.owner_party_id', ctx.principal.partyId);
      else query.whereRaw('false');
    }
    return this.deps.scopes.apply(query, ctx, DEAL_SCOPE, 'd.id');
  }

  async get(ctx: QueryContext, id: string): Promise<Deal> {
    const row = await this.visible(ctx).where('d.id', id).first(dealRecord.columns('d'));
    if (!row) throw new NotFoundError('Deal', id);
    return (await this.withContacts(ctx, [row]))[0];
  }

  /** 404 unless the caller may see the deal (another rep's deal is indistinguishable from an absent one). */
  async requireVisible(ctx: QueryContext, id: string): Promise<void> {
    if (!(await this.visible(ctx).where('d.id', id).first('d.id'))) throw new NotFoundError('Deal', id);
  }

  /**
   * Newest first (keyset on id), or by title (`sort`), filtered by title prefix or substring;
   * 2 queries per page (deals, their contacts).
   */
  list(ctx: QueryContext, query: DealFilter & TextListFilter & { limit: number; cursor?: string; fields?: FieldListQuery | undefined }): Promise<Page<Deal>> {
    const q = whereDeals(this.visible(ctx).select(dealRecord.columns('d')), query);
    if (query.fields) applyFieldFilters(q, 'd', query.fields);
    const map = (rows: Array<{ id: string }>) => this.withContacts(ctx, rows);
    if (query.fields?.sort) {
      applyTextList(q, 'd.title', 'd.id', { ...query, sort: undefined }, []);
      return fieldSortPage(q, 'd', query.fields.sort, query, map);
    }
    const keys = applyTextList(q, 'd.title', 'd.id', query, [{ column: 'd.id', type: 'uuid', direction: 'desc' }]);
    return keysetPage(q, query, keys, map);
  }

  /** Stage changes of a visible deal, oldest first. */
  async history(ctx: QueryContext, id: string): Promise<StageChange[]> {
    await this.get(ctx, id); // 404 outside reach
    const rows: object[] = await this.deps.db
      .in(ctx)('crm_deal_stage_history as h')
      .where('h.deal_id', id)
      .orderBy([{ column: 'h.changed_at' }, { column: 'h.id' }])
      .select(stageChangeRecord.columns('h'));
    return rows.map((row) => stageChangeRecord.fromRow(row));
  }

  async create(uow: UnitOfWork, input: DealCreate, options: CreateOptions = {}): Promise<Deal> {
    const stage = input.stageId ? await this.pipelines.stage(uow, input.stageId) : await this.pipelines.firstOpenStage(uow, input.pipelineId);
    if (stage.pipelineId !== input.pipelineId) {
      throw new ValidationError(`stageId: stage ${stage.id} is not in pipeline ${input.pipelineId}`, [{ path: 'stageId', message: 'stage of another pipeline' }]);
    }
    const ownerPartyId = input.ownerPartyId === undefined ? uow.principal.partyId : input.ownerPartyId;
    if (!options.workflowStep) this.checkOwner(uow, ownerPartyId);
    const contactIds = [...new Set(input.contactIds ?? [])];
    await this.checkParties(uow, input.accountId, ownerPartyId, contactIds);
    const checked = input.attributes ? await this.deps.fields.validate(uow, 'crm.deal', input.attributes) : {};
    const attributes = Object.fromEntries(Object.entries(checked).filter(([, value]) => value !== null));
    const tables = this.deps.db.in(uow);
    const now = new Date();
    const id = newId();
    await tables('crm_deals').insert({
      attributes: JSON.stringify(attributes),
      id,
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
    });
    if (contactIds.length > 0) await tables('crm_deal_contacts').insert(contactIds.map((party_id) => ({ deal_id: id, party_id })));
    await this.recordChange(uow, id, null, stage.id, now);
    const deal = options.workflowStep ? await this.getUnscoped(uow, id) : await this.get(uow, id);
    await this.onTimeline(uow, deal, 'created', null, now);
    uow.emit(crm.events.dealCreated, { deal }, { type: 'crm.deal', id });
    if (deal.status !== 'open') uow.emit(closingEvent(deal.status), { deal }, { type: 'crm.deal', id });
    return deal;
  }

  async update(uow: UnitOfWork, id: string, patch: DealPatch, expectedVersion?: number): Promise<Deal> {
    const previous = await this.lock(uow, id, expectedVersion);
    const ownerPartyId = patch.ownerPartyId === undefined ? previous.ownerPartyId : patch.ownerPartyId;
    if (patch.ownerPartyId !== undefined) this.checkOwner(uow, ownerPartyId);
    const contactIds = patch.contactIds === undefined ? undefined : [...new Set(patch.contactIds)];
    await this.checkParties(uow, null, patch.ownerPartyId === undefined ? null : ownerPartyId, contactIds ?? []);
    const tables = this.deps.db.in(uow);
    const changes: Record<string, unknown> = { version: previous.version + 1, updated_at: new Date() };
    if (patch.title !== undefined) changes.title = patch.title;
    if (patch.amount !== undefined) changes.amount = patch.amount;
    if (patch.currency !== undefined) changes.currency = patch.currency;
    if (patch.expectedClose !== undefined) changes.expected_close = patch.expectedClose;
    if (patch.ownerPartyId !== undefined) changes.owner_party_id = patch.ownerPartyId;
    if (patch.attributes !== undefined) {
      const checked = await this.deps.fields.validate(uow, 'crm.deal', patch.attributes);
      const merged: Record<string, unknown> = { ...previous.attributes };
      for (const [key, value] of Object.entries(patch.attributes)) {
        if (value === null) delete merged[key];
        else merged[key] = checked[key];
      }
      changes.attributes = JSON.stringify(merged);
    }
    await tables('crm_deals').where('id', id).update(changes);
    if (contactIds) {
      await tables('crm_deal_contacts').where('deal_id', id).delete();
      if (contactIds.length > 0) await tables('crm_deal_contacts').insert(contactIds.map((party_id) => ({ deal_id: id, party_id })));
    }
    const deal = await this.getUnscoped(uow, id);
    uow.emit(crm.events.dealUpdated, { deal, previous }, { type: 'crm.deal', id });
    return deal;
  }

  /** Moves a deal to another stage of its pipeline; a won or lost stage closes it. */
  async move(uow: UnitOfWork, id: string, stageId: string, expectedVersion?: number): Promise<Deal> {
    const previous = await this.lock(uow, id, expectedVersion);
    const stage = await this.pipelines.stage(uow, stageId);
    if (stage.pipelineId !== previous.pipelineId) {
      throw new ValidationError(`stageId: stage ${stageId} is not in the deal's pipeline ${previous.pipelineId}`, [{ path: 'stageId', message: 'stage of another pipeline' }]);
    }
    if (stage.id === previous.stageId) {
      throw new ValidationError(`stageId: deal ${id} is already in stage ${stageId}`, [{ path: 'stageId', message: 'same stage' }]);
    }
    const now = new Date();
    await this.deps.db
      .in(uow)('crm_deals')
      .where('id', id)
      .update({ stage_id: stage.id, status: stage.outcome, closed_at: stage.outcome === 'open' ? null : now, version: previous.version + 1, updated_at: now });
    await this.recordChange(uow, id, previous.stageId, stage.id, now);
    const deal = await this.getUnscoped(uow, id);
    await this.onTimeline(uow, deal, stage.outcome === 'open' ? 'stage-changed' : stage.outcome, previous.stageId, now);
    uow.emit(crm.events.dealStageChanged, { deal, fromStageId: previous.stageId, toStageId: stage.id }, { type: 'crm.deal', id });
    if (stage.outcome !== 'open') uow.emit(closingEvent(stage.outcome), { deal }, { type: 'crm.deal', id });
    return deal;
  }

  /** Rows of `crm_deals` to deals with their contacts: one query for the contacts of them all. */
  private async withContacts(ctx: QueryContext, rows: Array<{ id: string }>): Promise<Deal[]> {
    if (rows.length === 0) return [];
    const links: Array<{ deal_id: string; party_id: string }> = await this.deps.db
      .in(ctx)('crm_deal_contacts as c')
      .whereIn(
        'c.deal_id',
        rows.map((r) => r.id),
      )
      .orderBy('c.party_id')
      .select('c.deal_id', 'c.party_id');
    const byDeal = new Map<string, string[]>();
    for (const link of links) byDeal.set(link.deal_id, [...(byDeal.get(link.deal_id) ?? []), link.party_id]);
    return rows.map((row) => dealRecord.fromRow(row, { contactIds: byDeal.get(row.id) ?? [] }));
  }

  /** Locks the visible deal row (404 outside reach) and checks If-Match. */
  private async lock(uow: UnitOfWork, id: string, expectedVersion?: number): Promise<Deal> {
    const row = await this.visible(uow).where('d.id', id).forUpdate().first('d.id', 'd.version');
    if (!row) throw new NotFoundError('Deal', id);
    if (expectedVersion !== undefined && row.version !== expectedVersion) {
      throw new PreconditionFailedError(`Deal ${id} is at version ${row.version}, not ${expectedVersion}`, { currentVersion: row.version });
    }
    return this.get(uow, id);
  }

  /** After a write the caller may have handed the deal to someone else: read it back unscoped. */
  private async getUnscoped(uow: UnitOfWork, id: string): Promise<Deal> {
    const row = await this.deps.db.in(uow)('crm_deals as d').where('d.id', id).first(dealRecord.columns('d'));
    return (await this.withContacts(uow, [row]))[0];
  }

  /** A rep without crm.deals:all may only own its deals, or it would create deals it cannot see. */
  private checkOwner(uow: UnitOfWork, ownerPartyId: string | null): void {
    if (hasPermission(uow.principal, SEE_ALL_DEALS)) return;
    if (!ownerPartyId || ownerPartyId !== uow.principal.partyId) {
      throw new ValidationError('ownerPartyId: without crm.deals:all a deal must be owned by the caller', [{ path: 'ownerPartyId', message: 'not the caller' }]);
    }
  }

  private async checkParties(uow: UnitOfWork, accountId: string | null, ownerPartyId: string | null, contactIds: string[]): Promise<void> {
    const { parties } = this.deps;
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
    await this.deps.db.in(uow)('crm_deal_stage_history').insert({
      id: newId(),
      deal_id: dealId,
      from_stage_id: from,
      to_stage_id: to,
      changed_at: at,
      changed_by_party_id: uow.principal.partyId,
    });
  }

  /** Each change of a deal also appears on the account's timeline, as a kernel interaction. */
  private async onTimeline(uow: UnitOfWork, deal: Deal, change: DealChange, fromStageId: string | null, at: Date): Promise<void> {
    await this.deps.interactions.create(uow, {
      type: DEAL_UPDATE_TYPE,
      occurredAt: at.toISOString(),
      direction: 'internal',
      subject: `${TIMELINE_SUBJECTS[change]}: ${deal.title}`,
      participants: timelineParticipants(deal),
      attributes: { dealId: deal.id, change, fromStageId, toStageId: deal.stageId },
    });
  }
}

/** Who a deal's timeline entry is about: the account, and the owner when it is someone else. */
export function timelineParticipants(deal: Pick<Deal, 'accountId' | 'ownerPartyId'>): Array<{ partyId: string; role: string }> {
  const participants = [{ partyId: deal.accountId, role: 'account' }];
  if (deal.ownerPartyId && deal.ownerPartyId !== deal.accountId) participants.push({ partyId: deal.ownerPartyId, role: 'owner' });
  return participants;
}
