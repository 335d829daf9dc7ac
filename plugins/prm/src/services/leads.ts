import { ConflictError, ForbiddenError, decodeCursor, newId, toPage, type Page, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';
import type { Knex } from 'knex';
import type { PartnerKind } from '../types.js';
import { PARTNER_TYPE, selfPartyId } from './portal.js';
import { notFound } from './supply.js';

export const LEAD_STATUSES = ['open', 'offered', 'accepted', 'unassigned'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];
export const OFFER_STATUSES = ['offered', 'accepted', 'declined', 'expired'] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];

const HOUR_MS = 3_600_000;

/** A distribution rule, kept as data: which partnerships may be offered a lead, and with what weight. */
export interface LeadRule {
  id: string;
  name: string;
  /** null: any lead; else only leads of this territory, to partners covering it. */
  territory: string | null;
  /** null: any tier. */
  tiers: string[] | null;
  /** null: any partner kind. */
  kinds: PartnerKind[] | null;
  weight: number;
  active: boolean;
  createdAt: string;
}

export interface LeadOffer {
  id: string;
  leadId: string;
  partnerId: string;
  relationshipId: string;
  ruleId: string;
  status: OfferStatus;
  offeredAt: string;
  respondBy: string;
  respondedAt: string | null;
  declineReason: string | null;
}

export interface Lead {
  id: string;
  customerName: string;
  customerDomain: string | null;
  /** A partner sees the contact once it accepted the lead. */
  contactName: string | null;
  contactEmail: string | null;
  territory: string | null;
  value: number | null;
  currency: string | null;
  description: string | null;
  status: LeadStatus;
  responseHours: number;
  acceptedPartnerId: string | null;
  /** The firm sees every offer; a partner only the offers made to it. */
  offers: LeadOffer[];
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface LeadInput {
  customerName: string;
  customerDomain?: string;
  contactName?: string;
  contactEmail?: string;
  territory?: string;
  value?: number;
  currency?: string;
  description?: string;
  responseHours?: number;
}

export interface LeadRuleInput {
  name: string;
  territory?: string;
  tiers?: string[];
  kinds?: PartnerKind[];
  weight: number;
}

/** An offer together with the lead it is for, as the partner's inbox shows it. */
export interface LeadOfferWithLead extends LeadOffer {
  lead: Omit<Lead, 'offers'>;
}

/**
 * Lead distribution: a lead is offered to one eligible partner at a time, chosen by the
 * active rules; the partner accepts or declines with a reason; a declined or expired offer
 * moves the lead on to the next eligible partner, never back to one already offered it.
 */
export class LeadService {
  constructor(
    private readonly app: Rapport,
    private readonly defaultResponseHours: number,
  ) {}

  leads(ctx: QueryContext): Knex.QueryBuilder {
    return this.app.scopes.apply(ctx.db('prm_leads').where('tenant_id', ctx.tenantId), ctx, 'prm.leads', 'id');
  }

  offers(ctx: QueryContext): Knex.QueryBuilder {
    return this.app.scopes.apply(ctx.db('prm_lead_offers').where('tenant_id', ctx.tenantId), ctx, 'prm.lead-offers', 'id');
  }

  async createRule(uow: UnitOfWork, input: LeadRuleInput): Promise<LeadRule> {
    firmOnly(uow, 'define lead rules');
    const row = {
      tenant_id: uow.tenantId,
      id: newId(),
      name: input.name,
      territory: input.territory ?? null,
      tiers: input.tiers ? JSON.stringify(input.tiers) : null,
      kinds: input.kinds ? JSON.stringify(input.kinds) : null,
      weight: input.weight,
      active: true,
      created_at: new Date(),
    };
    await uow.trx('prm_lead_rules').insert(row);
    const rule = toRule({ ...row, tiers: input.tiers ?? null, kinds: input.kinds ?? null });
    uow.emit('prm.lead-rule.created', { rule }, { type: 'prm.lead-rule', id: rule.id });
    return rule;
  }

  async setRuleActive(uow: UnitOfWork, id: string, active: boolean): Promise<LeadRule> {
    firmOnly(uow, 'change lead rules');
    const [row] = await uow.trx('prm_lead_rules').where({ tenant_id: uow.tenantId, id }).update({ active }).returning('*');
    if (!row) throw notFound('lead rule', id);
    return toRule(row);
  }

  /** Every rule: the partner may read the rules it is offered leads by (they are the program's terms). */
  async listRules(ctx: QueryContext): Promise<LeadRule[]> {
    return (await ctx.db('prm_lead_rules').where('tenant_id', ctx.tenantId).orderBy([{ column: 'created_at' }, { column: 'id' }])).map(toRule);
  }

  async create(uow: UnitOfWork, input: LeadInput, now = new Date()): Promise<Lead> {
    firmOnly(uow, 'create leads');
    const row = {
      tenant_id: uow.tenantId,
      id: newId(),
      customer_name: input.customerName,
      customer_domain: input.customerDomain ?? null,
      contact_name: input.contactName ?? null,
      contact_email: input.contactEmail ?? null,
      territory: input.territory ?? null,
      value: input.value ?? null,
      currency: input.currency ?? null,
      description: input.description ?? null,
      status: 'open',
      response_hours: input.responseHours ?? this.defaultResponseHours,
      accepted_partner_id: null,
      version: 1,
      created_at: now,
      updated_at: now,
    };
    await uow.trx('prm_leads').insert(row);
    uow.emit('prm.lead.created', { lead: toLead(row, [], false, now) }, { type: 'prm.lead', id: row.id });
    await this.distribute(uow, row.id, now);
    return this.get(uow, row.id, now);
  }

  /** Offers an open or unassigned lead again (after new rules or partners), firm only. */
  async redistribute(uow: UnitOfWork, id: string, now = new Date()): Promise<Lead> {
    firmOnly(uow, 'distribute leads');
    const lead = await uow.trx('prm_leads').where({ tenant_id: uow.tenantId, id }).forUpdate().first('status');
    if (!lead) throw notFound('lead', id);
    if (lead.status !== 'open' && lead.status !== 'unassigned') throw new ConflictError(`prm: lead ${id} is ${lead.status}; only an open or unassigned lead is distributed`);
    await this.distribute(uow, id, now);
    return this.get(uow, id, now);
  }

  async get(ctx: QueryContext, id: string, now = new Date()): Promise<Lead> {
    const row = await this.leads(ctx).where('id', id).first();
    if (!row) throw notFound('lead', id);
    const [lead] = await this.present(ctx, [row], now);
    return lead;
  }

  async list(ctx: QueryContext, query: { status?: LeadStatus; limit: number; cursor?: string }, now = new Date()): Promise<Page<Lead>> {
    const q = this.leads(ctx).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(query.limit + 1);
    if (query.status) q.where('status', query.status);
    const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
    if (after) q.whereRaw('(created_at, id) < (?, ?)', after);
    const rows = await q;
    const shown = await this.present(ctx, rows.slice(0, query.limit), now);
    const page = toPage(rows, query.limit, (r: any) => r, (r: any) => [new Date(r.created_at).toISOString(), r.id]);
    return { ...page, data: shown };
  }

  async getOffer(ctx: QueryContext, id: string, now = new Date()): Promise<LeadOfferWithLead> {
    const row = await this.offers(ctx).where('id', id).first();
    if (!row) throw notFound('lead offer', id);
    return (await this.withLeads(ctx, [row], now))[0];
  }

  async listOffers(ctx: QueryContext, query: { status?: OfferStatus; partnerId?: string; limit: number; cursor?: string }, now = new Date()): Promise<Page<LeadOfferWithLead>> {
    const q = this.offers(ctx).orderBy([{ column: 'offered_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(query.limit + 1);
    if (query.partnerId) q.where('partner_id', query.partnerId);
    if (query.status === 'offered') q.where('status', 'offered').where('respond_by', '>', now);
    else if (query.status === 'expired') q.where((w) => w.where('status', 'expired').orWhere((o) => o.where('status', 'offered').where('respond_by', '<=', now)));
    else if (query.status) q.where('status', query.status);
    const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
    if (after) q.whereRaw('(offered_at, id) < (?, ?)', after);
    const rows = await q;
    const shown = await this.withLeads(ctx, rows.slice(0, query.limit), now);
    const page = toPage(rows, query.limit, (r: any) => r, (r: any) => [new Date(r.offered_at).toISOString(), r.id]);
    return { ...page, data: shown };
  }

  /** The partner takes the lead (the firm may record it on the partner's behalf). */
  async accept(uow: UnitOfWork, offerId: string, now = new Date()): Promise<LeadOfferWithLead> {
    const offer = await this.openOffer(uow, offerId, now);
    await uow.trx('prm_lead_offers').where({ tenant_id: uow.tenantId, id: offerId }).update({ status: 'accepted', responded_at: now });
    await uow.trx('prm_leads')
      .where({ tenant_id: uow.tenantId, id: offer.lead_id })
      .update({ status: 'accepted', accepted_partner_id: offer.partner_id, updated_at: now, version: uow.trx.raw('version + 1') });
    await this.recordStep(uow, offer, 'accepted', now);
    const result = await this.getOffer(uow, offerId, now);
    uow.emit('prm.lead.accepted', { offer: result }, { type: 'prm.lead-offer', id: offerId });
    return result;
  }

  /** The partner declines with a reason; the lead moves on and is never offered to it again. */
  async decline(uow: UnitOfWork, offerId: string, reason: string, now = new Date()): Promise<LeadOfferWithLead> {
    const offer = await this.openOffer(uow, offerId, now);
    await uow.trx('prm_lead_offers').where({ tenant_id: uow.tenantId, id: offerId }).update({ status: 'declined', responded_at: now, decline_reason: reason });
    await this.recordStep(uow, offer, 'declined', now, reason);
    const result = await this.getOffer(uow, offerId, now);
    uow.emit('prm.lead.declined', { offer: result }, { type: 'prm.lead-offer', id: offerId });
    await this.distribute(uow, offer.lead_id, now);
    return this.getOffer(uow, offerId, now);
  }

  /**
   * Expires every offer whose response deadline has passed and moves each lead on to its next
   * eligible partner. Called by the scheduled sweep; `now` is the sweep's clock.
   */
  async expireDue(uow: UnitOfWork, now = new Date()): Promise<LeadOffer[]> {
    firmOnly(uow, 'expire lead offers');
    const rows: any[] = await uow.trx('prm_lead_offers')
      .where({ tenant_id: uow.tenantId, status: 'offered' })
      .where('respond_by', '<=', now)
      .update({ status: 'expired', responded_at: now })
      .returning('*');
    const expired = rows.map((r) => toOffer(r, now));
    for (const row of rows) {
      await this.recordStep(uow, row, 'expired', now);
      uow.emit('prm.lead.offer-expired', { offer: toOffer(row, now) }, { type: 'prm.lead-offer', id: row.id });
    }
    for (const leadId of new Set(rows.map((r) => r.lead_id as string))) await this.distribute(uow, leadId, now);
    return expired;
  }

  /**
   * Offers the lead to the next eligible partner. Eligible: an active partnership matched by
   * an active rule (territory, tier, kind) and never offered this lead before. Among them the
   * weights share the leads out: the partner with the fewest offers received per unit of
   * weight goes first (ties: higher weight, then party id), so over time each partner gets
   * offers in proportion to its weight, and the choice is reproducible.
   */
  private async distribute(uow: UnitOfWork, leadId: string, now: Date): Promise<void> {
    const lead = await uow.trx('prm_leads').where({ tenant_id: uow.tenantId, id: leadId }).forUpdate().first();
    if (!lead || lead.status === 'accepted') return;
    const pending = await uow.trx('prm_lead_offers').where({ tenant_id: uow.tenantId, lead_id: leadId, status: 'offered' }).where('respond_by', '>', now).first('id');
    if (pending) return;
    const self = await selfPartyId(uow.trx, uow.tenantId);
    const candidates: Array<{ relationship_id: string; partner_id: string; weight: number; rule_id: string; received: number }> = (
      await uow.trx.raw(
        `select r.id as relationship_id, r.to_party_id as partner_id, max(l.weight)::int as weight,
                (array_agg(l.id order by l.weight desc, l.id))[1] as rule_id,
                (select count(*) from prm_lead_offers o2 where o2.tenant_id = r.tenant_id and o2.partner_id = r.to_party_id)::int as received
           from rapport_relationships r
           join prm_lead_rules l on l.tenant_id = r.tenant_id and l.active
            and (l.territory is null or (l.territory = ? and jsonb_exists(coalesce(r.attributes->'territories', '[]'::jsonb), l.territory)))
            and (l.tiers is null or jsonb_exists(l.tiers, coalesce(r.attributes->>'tier', '')))
            and (l.kinds is null or jsonb_exists(l.kinds, coalesce(r.attributes->>'kind', '')))
          where r.tenant_id = ? and r.type = ? and r.status = 'active' and r.from_party_id = ?
            and not exists (select 1 from prm_lead_offers o where o.tenant_id = r.tenant_id and o.lead_id = ? and o.partner_id = r.to_party_id)
          group by r.tenant_id, r.id, r.to_party_id`,
        [lead.territory ?? '', uow.tenantId, PARTNER_TYPE, self, leadId],
      )
    ).rows;
    candidates.sort((a, b) => a.received / a.weight - b.received / b.weight || b.weight - a.weight || (a.partner_id < b.partner_id ? -1 : 1));
    const next = candidates[0];
    if (!next) {
      await uow.trx('prm_leads').where({ tenant_id: uow.tenantId, id: leadId }).update({ status: 'unassigned', updated_at: now, version: lead.version + 1 });
      uow.emit('prm.lead.unassigned', { leadId }, { type: 'prm.lead', id: leadId });
      return;
    }
    const offer = {
      tenant_id: uow.tenantId,
      id: newId(),
      lead_id: leadId,
      partner_id: next.partner_id,
      relationship_id: next.relationship_id,
      rule_id: next.rule_id,
      status: 'offered',
      offered_at: now,
      respond_by: new Date(now.getTime() + lead.response_hours * HOUR_MS),
      responded_at: null,
      decline_reason: null,
    };
    await uow.trx('prm_lead_offers').insert(offer);
    await uow.trx('prm_leads').where({ tenant_id: uow.tenantId, id: leadId }).update({ status: 'offered', updated_at: now, version: lead.version + 1 });
    await this.recordStep(uow, { ...offer, customer_name: lead.customer_name }, 'offered', now);
    uow.emit('prm.lead.offered', { offer: toOffer(offer, now) }, { type: 'prm.lead-offer', id: offer.id });
  }

  /** The caller's offer, locked, still open (not answered and not past its deadline). */
  private async openOffer(uow: UnitOfWork, offerId: string, now: Date): Promise<any> {
    const offer = await this.offers(uow).where('id', offerId).forUpdate().first();
    if (!offer) throw notFound('lead offer', offerId);
    const status = toOffer(offer, now).status;
    if (status !== 'offered') throw new ConflictError(`prm: lead offer ${offerId} is ${status}; only an open offer can be answered`, { code: `offer-${status}` });
    await uow.trx('prm_leads').where({ tenant_id: uow.tenantId, id: offer.lead_id }).forUpdate().first('id');
    const partnership = await uow.trx('rapport_relationships').where({ tenant_id: uow.tenantId, id: offer.relationship_id }).first('status');
    if (partnership?.status !== 'active') throw new ConflictError(`prm: the partnership of lead offer ${offerId} is ${partnership?.status ?? 'gone'}; only an active partner answers offers`);
    return offer;
  }

  private async present(ctx: QueryContext, rows: any[], now: Date): Promise<Lead[]> {
    if (rows.length === 0) return [];
    const offers = await this.offers(ctx).whereIn('lead_id', rows.map((r) => r.id)).orderBy([{ column: 'offered_at' }, { column: 'id' }]);
    const scoped = ctx.principal.scopePartyId !== null && ctx.principal.scopePartyId !== undefined;
    return rows.map((r) => toLead(r, offers.filter((o: any) => o.lead_id === r.id), scoped, now));
  }

  private async withLeads(ctx: QueryContext, offerRows: any[], now: Date): Promise<LeadOfferWithLead[]> {
    if (offerRows.length === 0) return [];
    // The offer is in the caller's scope, so its lead may be shown (read without the lead scope).
    const leads = await ctx.db('prm_leads').where('tenant_id', ctx.tenantId).whereIn('id', [...new Set(offerRows.map((o) => o.lead_id))]);
    const scoped = Boolean(ctx.principal.scopePartyId);
    return offerRows.map((o) => {
      const leadRow = leads.find((l: any) => l.id === o.lead_id);
      const { offers: _omit, ...lead } = toLead(leadRow, [o], scoped, now);
      return { ...toOffer(o, now), lead };
    });
  }

  private async recordStep(uow: UnitOfWork, offer: any, step: 'offered' | 'accepted' | 'declined' | 'expired', now: Date, reason?: string): Promise<void> {
    const self = await selfPartyId(uow.trx, uow.tenantId);
    const name = offer.customer_name ?? (await uow.trx('prm_leads').where({ tenant_id: uow.tenantId, id: offer.lead_id }).first('customer_name')).customer_name;
    await this.app.services.interactions.create(uow.unscoped(), {
      type: 'prm.lead',
      direction: step === 'offered' ? 'outbound' : 'inbound',
      subject: `Lead ${step}: ${name}`,
      summary: reason ?? null,
      occurredAt: now.toISOString(),
      relationshipId: offer.relationship_id,
      participants: [
        { partyId: offer.partner_id, role: 'partner' },
        { partyId: self, role: 'principal' },
      ],
      attributes: { leadId: offer.lead_id, offerId: offer.id, step, ...(reason ? { reason } : {}) },
    });
  }
}

function firmOnly(ctx: QueryContext, action: string): void {
  if (ctx.principal.scopePartyId) throw new ForbiddenError(`prm: a partner principal cannot ${action}`);
}

function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function toRule(row: any): LeadRule {
  return {
    id: row.id,
    name: row.name,
    territory: row.territory ?? null,
    tiers: row.tiers ? json<string[]>(row.tiers) : null,
    kinds: row.kinds ? json<PartnerKind[]>(row.kinds) : null,
    weight: Number(row.weight),
    active: Boolean(row.active),
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** An open offer past its deadline reads as expired even before the sweep has run. */
export function toOffer(row: any, now: Date): LeadOffer {
  const respondBy = new Date(row.respond_by);
  const status: OfferStatus = row.status === 'offered' && respondBy <= now ? 'expired' : row.status;
  return {
    id: row.id,
    leadId: row.lead_id,
    partnerId: row.partner_id,
    relationshipId: row.relationship_id,
    ruleId: row.rule_id,
    status,
    offeredAt: new Date(row.offered_at).toISOString(),
    respondBy: respondBy.toISOString(),
    respondedAt: row.responded_at ? new Date(row.responded_at).toISOString() : null,
    declineReason: row.decline_reason ?? null,
  };
}

function toLead(row: any, offers: any[], scoped: boolean, now: Date): Lead {
  // A partner sees who to call only once the lead is its own.
  const contactVisible = !scoped || offers.some((o) => o.status === 'accepted');
  return {
    id: row.id,
    customerName: row.customer_name,
    customerDomain: row.customer_domain ?? null,
    contactName: contactVisible ? (row.contact_name ?? null) : null,
    contactEmail: contactVisible ? (row.contact_email ?? null) : null,
    territory: row.territory ?? null,
    value: row.value === null || row.value === undefined ? null : Number(row.value),
    currency: row.currency ?? null,
    description: row.description ?? null,
    status: row.status,
    responseHours: Number(row.response_hours),
    acceptedPartnerId: scoped && !offers.some((o) => o.status === 'accepted') ? null : (row.accepted_partner_id ?? null),
    offers: offers.map((o) => toOffer(o, now)),
    version: row.version,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

