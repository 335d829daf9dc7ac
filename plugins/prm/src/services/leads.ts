import type { Knex } from 'knex';
import { ConflictError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { prm, type Lead, type LeadOffer, type LeadOfferWithLead, type LeadRule, type LeadStatus, type OfferStatus, type PartnerKind, type PrmLeads } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import { leadOfferRecord, leadRecord, leadRuleRecord } from '../records.js';
import { notFound } from './errors.js';
import { newestFirst } from './pages.js';
import { PARTNER_TYPE } from './portal.js';

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

const LEADS = 'prm_leads';
const OFFERS = 'prm_lead_offers';
const RULES = 'prm_lead_rules';
const HOUR_MS = 3_600_000;

/** An offer row as PRM reads it to answer, expire or record it. */
interface OfferRow {
  id: string;
  lead_id: string;
  partner_id: string;
  relationship_id: string;
  status: string;
}

/**
 * Lead distribution: a lead is offered to one eligible partner at a time, chosen by the
 * active rules; the partner accepts or declines with a reason; a declined or expired offer
 * moves the lead on to the next eligible partner, never back to one already offered it.
 */
export class LeadService implements PrmLeads {
  constructor(
    private readonly deps: PrmDeps,
    private readonly defaultResponseHours: number,
  ) {}

  async createRule(uow: UnitOfWork, input: LeadRuleInput): Promise<LeadRule> {
    const [row] = await this.deps.db
      .in(uow)(RULES)
      .insert({
        id: newId(),
        name: input.name,
        territory: input.territory ?? null,
        tiers: input.tiers ? JSON.stringify(input.tiers) : null,
        kinds: input.kinds ? JSON.stringify(input.kinds) : null,
        weight: input.weight,
        active: true,
        created_at: new Date(),
      })
      .returning(leadRuleRecord.columns());
    const rule = leadRuleRecord.fromRow(row);
    uow.emit(prm.events.leadRuleCreated, { rule }, { type: 'prm.lead-rule', id: rule.id });
    return rule;
  }

  async setRuleActive(uow: UnitOfWork, id: string, active: boolean): Promise<LeadRule> {
    const [row] = await this.deps.db.in(uow)(RULES).where('id', id).update({ active }).returning(leadRuleRecord.columns());
    if (!row) throw notFound('lead rule', id);
    return leadRuleRecord.fromRow(row);
  }

  /** Every rule, oldest first: the partner may read the rules it is offered leads by (they are the program's terms). */
  listRules(ctx: QueryContext, page: { limit: number; cursor?: string }): Promise<Page<LeadRule>> {
    const q = this.deps.db.in(ctx)(RULES).select(leadRuleRecord.columns());
    return keysetPage(
      q,
      page,
      [
        { column: 'created_at', type: 'timestamp' },
        { column: 'id', type: 'uuid' },
      ],
      (rows: object[]) => rows.map((r) => leadRuleRecord.fromRow(r)),
    );
  }

  async create(uow: UnitOfWork, input: LeadInput, now = new Date()): Promise<Lead> {
    const [row] = await this.deps.db
      .in(uow)(LEADS)
      .insert({
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
      })
      .returning(leadRecord.columns());
    uow.emit(prm.events.leadCreated, { lead: toLead(row, [], false, now) }, { type: 'prm.lead', id: row.id });
    await this.distribute(uow, row.id, now);
    return this.get(uow, row.id, now);
  }

  /** Offers an open or unassigned lead again (after new rules or partners). */
  async redistribute(uow: UnitOfWork, id: string, now = new Date()): Promise<Lead> {
    const lead = await this.deps.db.in(uow)(LEADS).where('id', id).forUpdate().first('status');
    if (!lead) throw notFound('lead', id);
    if (lead.status !== 'open' && lead.status !== 'unassigned') throw new ConflictError(`prm: lead ${id} is ${lead.status}; only an open or unassigned lead is distributed`);
    await this.distribute(uow, id, now);
    return this.get(uow, id, now);
  }

  async get(ctx: QueryContext, id: string, now = new Date()): Promise<Lead> {
    const row = await this.leads(ctx).where('id', id).first(leadRecord.columns());
    if (!row) throw notFound('lead', id);
    const [lead] = await this.present(ctx, [row], now);
    return lead;
  }

  list(ctx: QueryContext, query: { status?: LeadStatus; limit: number; cursor?: string }, now = new Date()): Promise<Page<Lead>> {
    const q = this.leads(ctx).select(leadRecord.columns());
    if (query.status) q.where('status', query.status);
    return keysetPage(q, query, newestFirst(), (rows: object[]) => this.present(ctx, rows, now));
  }

  async getOffer(ctx: QueryContext, id: string, now = new Date()): Promise<LeadOfferWithLead> {
    const row = await this.offers(ctx).where('id', id).first(leadOfferRecord.columns());
    if (!row) throw notFound('lead offer', id);
    return (await this.withLeads(ctx, [row], now))[0];
  }

  listOffers(ctx: QueryContext, query: { status?: OfferStatus; partnerId?: string; limit: number; cursor?: string }, now = new Date()): Promise<Page<LeadOfferWithLead>> {
    const q = this.offers(ctx).select(leadOfferRecord.columns());
    if (query.partnerId) q.where('partner_id', query.partnerId);
    if (query.status === 'offered') q.where('status', 'offered').where('respond_by', '>', now);
    else if (query.status === 'expired') q.where((w) => w.where('status', 'expired').orWhere((o) => o.where('status', 'offered').where('respond_by', '<=', now)));
    else if (query.status) q.where('status', query.status);
    return keysetPage(q, query, newestFirst('offered_at'), (rows: OfferRow[]) => this.withLeads(ctx, rows, now));
  }

  /** The partner takes the lead (the firm may record it on the partner's behalf). */
  async accept(uow: UnitOfWork, offerId: string, now = new Date()): Promise<LeadOfferWithLead> {
    const offer = await this.openOffer(uow, offerId, now);
    const tables = this.deps.db.in(uow);
    await tables(OFFERS).where('id', offerId).update({ status: 'accepted', responded_at: now });
    await tables(LEADS)
      .where('id', offer.lead_id)
      .update({ status: 'accepted', accepted_partner_id: offer.partner_id, updated_at: now, version: tables.raw('version + 1') });
    await this.recordStep(uow, offer, 'accepted', now);
    const result = await this.getOffer(uow, offerId, now);
    uow.emit(prm.events.leadAccepted, { offer: result }, { type: 'prm.lead-offer', id: offerId });
    return result;
  }

  /** The partner declines with a reason; the lead moves on and is never offered to it again. */
  async decline(uow: UnitOfWork, offerId: string, reason: string, now = new Date()): Promise<LeadOfferWithLead> {
    const offer = await this.openOffer(uow, offerId, now);
    await this.deps.db.in(uow)(OFFERS).where('id', offerId).update({ status: 'declined', responded_at: now, decline_reason: reason });
    await this.recordStep(uow, offer, 'declined', now, reason);
    const result = await this.getOffer(uow, offerId, now);
    uow.emit(prm.events.leadDeclined, { offer: result }, { type: 'prm.lead-offer', id: offerId });
    await this.distribute(uow, offer.lead_id, now);
    return this.getOffer(uow, offerId, now);
  }

  /**
   * Expires every offer whose response deadline has passed and moves each lead on to its next
   * eligible partner. Called by the scheduled sweep; `now` is the sweep's clock.
   */
  async expireDue(uow: UnitOfWork, now = new Date()): Promise<LeadOffer[]> {
    const rows: OfferRow[] = await this.deps.db
      .in(uow)(OFFERS)
      .where('status', 'offered')
      .where('respond_by', '<=', now)
      .update({ status: 'expired', responded_at: now })
      .returning(leadOfferRecord.columns());
    const expired = rows.map((row) => toOffer(row, now));
    for (const [i, row] of rows.entries()) {
      await this.recordStep(uow, row, 'expired', now);
      uow.emit(prm.events.leadOfferExpired, { offer: expired[i] }, { type: 'prm.lead-offer', id: row.id });
    }
    for (const leadId of new Set(rows.map((r) => r.lead_id))) await this.distribute(uow, leadId, now);
    return expired;
  }

  private leads(ctx: QueryContext): Knex.QueryBuilder {
    return this.deps.scopes.apply(this.deps.db.in(ctx)(LEADS), ctx, 'prm.leads', 'id');
  }

  private offers(ctx: QueryContext): Knex.QueryBuilder {
    return this.deps.scopes.apply(this.deps.db.in(ctx)(OFFERS), ctx, 'prm.lead-offers', 'id');
  }

  /**
   * Offers the lead to the next eligible partner. Eligible: an active partnership matched by
   * an active rule (territory, tier, kind) and never offered this lead before. Among them the
   * weights share the leads out: the partner with the fewest offers received per unit of
   * weight goes first (ties: higher weight, then party id), so over time each partner gets
   * offers in proportion to its weight, and the choice is reproducible.
   */
  private async distribute(uow: UnitOfWork, leadId: string, now: Date): Promise<void> {
    const tables = this.deps.db.in(uow);
    const lead = await tables(LEADS).where('id', leadId).forUpdate().first('status', 'territory', 'response_hours', 'version');
    if (!lead || lead.status === 'accepted') return;
    const pending = await tables(OFFERS).where({ lead_id: leadId, status: 'offered' }).where('respond_by', '>', now).first('id');
    if (pending) return;
    const candidates = await this.candidates(uow, leadId, lead.territory);
    const next = candidates.sort((a, b) => a.received / a.weight - b.received / b.weight || b.weight - a.weight || (a.partner_id < b.partner_id ? -1 : 1))[0];
    if (!next) {
      await tables(LEADS)
        .where('id', leadId)
        .update({ status: 'unassigned', updated_at: now, version: lead.version + 1 });
      uow.emit(prm.events.leadUnassigned, { leadId }, { type: 'prm.lead', id: leadId });
      return;
    }
    const [offer] = await tables(OFFERS)
      .insert({
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
      })
      .returning(leadOfferRecord.columns());
    await tables(LEADS)
      .where('id', leadId)
      .update({ status: 'offered', updated_at: now, version: lead.version + 1 });
    await this.recordStep(uow, offer, 'offered', now);
    uow.emit(prm.events.leadOffered, { offer: toOffer(offer, now) }, { type: 'prm.lead-offer', id: offer.id });
  }

  /** The partnerships the active rules match for a lead, never offered it, each with its best rule and the offers it received so far. */
  private async candidates(
    uow: UnitOfWork,
    leadId: string,
    territory: string | null,
  ): Promise<Array<{ relationship_id: string; partner_id: string; weight: number; rule_id: string; received: number }>> {
    const tables = this.deps.db.in(uow);
    const { raw } = tables;
    const partnerships = this.deps.relationships.query(uow, { type: PARTNER_TYPE, status: 'active', fromPartyId: await this.deps.tenants.selfPartyId(uow) }).as('r');
    const matched: Array<{ relationship_id: string; partner_id: string; weight: number; rule_id: string }> = await tables(`${RULES} as l`)
      .join(partnerships, (on: Knex.JoinClause) =>
        on
          .on(raw("(l.territory is null or (l.territory = ? and jsonb_exists(coalesce(r.attributes->'territories', '[]'::jsonb), l.territory)))", [territory ?? '']))
          .andOn(raw("(l.tiers is null or jsonb_exists(l.tiers, coalesce(r.attributes->>'tier', '')))"))
          .andOn(raw("(l.kinds is null or jsonb_exists(l.kinds, coalesce(r.attributes->>'kind', '')))")),
      )
      .where('l.active', true)
      .whereNotIn('r.to_party_id', tables(OFFERS).select('partner_id').where('lead_id', leadId))
      .groupBy('r.id', 'r.to_party_id')
      .select('r.id as relationship_id', 'r.to_party_id as partner_id', raw('max(l.weight)::int as weight'), raw('(array_agg(l.id order by l.weight desc, l.id))[1] as rule_id'));
    if (matched.length === 0) return [];
    const received: Array<{ partner_id: string; n: number }> = await tables(OFFERS)
      .whereIn(
        'partner_id',
        matched.map((m) => m.partner_id),
      )
      .groupBy('partner_id')
      .select('partner_id', raw('count(*)::int as n'));
    return matched.map((m) => ({ ...m, received: received.find((r) => r.partner_id === m.partner_id)?.n ?? 0 }));
  }

  /** The caller's offer, locked, still open (not answered and not past its deadline), of a partner still active. */
  private async openOffer(uow: UnitOfWork, offerId: string, now: Date): Promise<OfferRow> {
    const offer: OfferRow | undefined = await this.offers(uow).where('id', offerId).forUpdate().first(leadOfferRecord.columns());
    if (!offer) throw notFound('lead offer', offerId);
    const status = toOffer(offer, now).status;
    if (status !== 'offered') throw new ConflictError(`prm: lead offer ${offerId} is ${status}; only an open offer can be answered`, { code: `offer-${status}` });
    await this.deps.db.in(uow)(LEADS).where('id', offer.lead_id).forUpdate().first('id');
    const partnership = await this.deps.relationships.query(uow, { ids: [offer.relationship_id] }).first('status');
    if (partnership?.status !== 'active') throw new ConflictError(`prm: the partnership of lead offer ${offerId} is ${partnership?.status ?? 'gone'}; only an active partner answers offers`);
    return offer;
  }

  private async present(ctx: QueryContext, rows: object[], now: Date): Promise<Lead[]> {
    if (rows.length === 0) return [];
    const offers: OfferRow[] = await this.offers(ctx)
      .whereIn(
        'lead_id',
        rows.map((r) => (r as { id: string }).id),
      )
      .orderBy([{ column: 'offered_at' }, { column: 'id' }])
      .select(leadOfferRecord.columns());
    const scoped = Boolean(ctx.principal.scopePartyId);
    return rows.map((r) =>
      toLead(
        r,
        offers.filter((o) => o.lead_id === (r as { id: string }).id),
        scoped,
        now,
      ),
    );
  }

  private async withLeads(ctx: QueryContext, offerRows: OfferRow[], now: Date): Promise<LeadOfferWithLead[]> {
    if (offerRows.length === 0) return [];
    // The offer is in the caller's scope, so its lead may be shown (read without the lead scope).
    const leads: Array<{ id: string }> = await this.deps.db
      .in(ctx)(LEADS)
      .whereIn('id', [...new Set(offerRows.map((o) => o.lead_id))])
      .select(leadRecord.columns());
    const scoped = Boolean(ctx.principal.scopePartyId);
    return offerRows.map((o) => {
      const { offers: _own, ...lead } = toLead(
        leads.find((l) => l.id === o.lead_id)!,
        [o],
        scoped,
        now,
      );
      return { ...toOffer(o, now), lead };
    });
  }

  /** One interaction per step, on the partner's and the firm's timelines. */
  private async recordStep(uow: UnitOfWork, offer: OfferRow, step: 'offered' | 'accepted' | 'declined' | 'expired', now: Date, reason?: string): Promise<void> {
    const lead = await this.deps.db.in(uow)(LEADS).where('id', offer.lead_id).first('customer_name');
    // The partner's portal cannot see the firm's party: the step is PRM's, already authorized.
    await this.deps.interactions.create(uow.unscoped(), {
      type: 'prm.lead',
      direction: step === 'offered' ? 'outbound' : 'inbound',
      subject: `Lead ${step}: ${lead.customer_name}`,
      summary: reason ?? null,
      occurredAt: now.toISOString(),
      relationshipId: offer.relationship_id,
      participants: [
        { partyId: offer.partner_id, role: 'partner' },
        { partyId: await this.deps.tenants.selfPartyId(uow), role: 'principal' },
      ],
      attributes: { leadId: offer.lead_id, offerId: offer.id, step, ...(reason ? { reason } : {}) },
    });
  }
}

/** An open offer past its deadline reads as expired even before the sweep has run. */
function toOffer(row: object, now: Date): LeadOffer {
  const offer = leadOfferRecord.fromRow(row);
  return offer.status === 'offered' && Date.parse(offer.respondBy) <= now.getTime() ? { ...offer, status: 'expired' } : offer;
}

/** A partner sees who to call, and that the lead is taken, only once the lead is its own. */
function toLead(row: object, offers: OfferRow[], scoped: boolean, now: Date): Lead {
  const lead = leadRecord.fromRow(row, { offers: offers.map((o) => toOffer(o, now)) });
  if (!scoped || offers.some((o) => o.status === 'accepted')) return lead;
  return { ...lead, contactName: null, contactEmail: null, acceptedPartnerId: null };
}
