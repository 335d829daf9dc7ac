import { NotFoundError, type Interaction, type Page, type QueryContext, type Relationship, type UnitOfWork } from '@rapport/core';
import { CUSTOMER_TYPE, type Counterpart, type MirroredRelationship, type PurchaseType } from '@rapport/crm-contract';
import type { CrmDeps } from '../deps.js';

/** Which end of `crm.customer` the self party plays: vendor (our customers) or customer (our vendors). */
export type Side = 'customers' | 'vendors';

export interface PurchaseInteractionInput {
  type: PurchaseType;
  occurredAt?: string;
  subject?: string | null;
  summary?: string | null;
  amount?: number;
  currency?: string;
  reference?: string;
  buyerContactId?: string;
}

/** Offers and quotes come in; purchases and complaints go out from the buyer. */
const DIRECTION: Record<PurchaseType, 'inbound' | 'outbound'> = {
  'crm.offer-received': 'inbound',
  'crm.quote-received': 'inbound',
  'crm.purchase': 'outbound',
  'crm.complaint': 'outbound',
};

/** The self party's counterparts in `crm.customer`, on either side (role reversal). */
export class CounterpartService {
  constructor(private readonly deps: CrmDeps) {}

  /**
   * Our customers (self at the vendor end) or our vendors (self at the customer end), with
   * their parties: the kernel's keyset page of relationships, then one query for the parties.
   */
  async list(ctx: QueryContext, side: Side, query: { status?: string; limit: number; cursor?: string }): Promise<Page<Counterpart>> {
    const self = await this.deps.tenants.selfPartyId(ctx);
    const page = await this.deps.relationships.list(ctx, {
      type: CUSTOMER_TYPE,
      partyId: self,
      role: side === 'customers' ? 'vendor' : 'customer',
      status: query.status,
      limit: query.limit,
      cursor: query.cursor,
    });
    const otherEnd = (r: Relationship) => (r.fromPartyId === self ? r.toPartyId : r.fromPartyId);
    const parties = new Map((await this.deps.parties.getMany(ctx, page.data.map(otherEnd))).map((p) => [p.id, p]));
    return {
      nextCursor: page.nextCursor,
      data: page.data.flatMap((relationship) => {
        const party = parties.get(otherEnd(relationship));
        return party ? [{ relationship, party: { id: party.id, kind: party.kind, name: party.name, attributes: party.attributes } }] : [];
      }),
    };
  }

  /**
   * Records an offer, quote, purchase or complaint with a vendor: a kernel interaction on the
   * vendor's (and our) timeline, tied to the relationship in which the self party is the customer.
   */
  async recordPurchase(uow: UnitOfWork, vendorPartyId: string, input: PurchaseInteractionInput): Promise<Interaction> {
    await this.deps.parties.get(uow, vendorPartyId); // 404 outside reach
    const self = await this.deps.tenants.selfPartyId(uow);
    const relationship = await this.deps.relationships.query(uow, { type: CUSTOMER_TYPE, fromPartyId: vendorPartyId, toPartyId: self, visible: true }).orderBy('id', 'desc').first('id');
    if (!relationship) throw new NotFoundError('Vendor relationship (crm.customer with the self party as customer)', vendorPartyId);
    const participants = [
      { partyId: vendorPartyId, role: 'vendor' },
      { partyId: self, role: 'customer' },
    ];
    if (input.buyerContactId) participants.push({ partyId: input.buyerContactId, role: 'buyer-contact' });
    const attributes: Record<string, unknown> = {};
    if (input.amount !== undefined) attributes.amount = input.amount;
    if (input.currency !== undefined) attributes.currency = input.currency;
    if (input.reference !== undefined) attributes.reference = input.reference;
    return this.deps.interactions.create(uow, {
      type: input.type,
      occurredAt: input.occurredAt,
      direction: DIRECTION[input.type],
      subject: input.subject ?? null,
      summary: input.summary ?? null,
      relationshipId: relationship.id,
      participants,
      attributes,
    });
  }

  /**
   * A relationship as the other side sees it: ends and roles swapped. "Other side" is the end
   * that is not the self party (the `to` end when self is at neither end).
   */
  async mirror(ctx: QueryContext, id: string): Promise<MirroredRelationship> {
    const relationship = await this.deps.relationships.get(ctx, id);
    const self = await this.deps.tenants.selfPartyId(ctx);
    const viewer = relationship.toPartyId === self ? 'from' : 'to';
    return {
      ...relationship,
      fromPartyId: relationship.toPartyId,
      fromRole: relationship.toRole,
      toPartyId: relationship.fromPartyId,
      toRole: relationship.fromRole,
      mirrored: true,
      viewpoint:
        viewer === 'to'
          ? { partyId: relationship.toPartyId, role: relationship.toRole, counterpartId: relationship.fromPartyId, counterpartRole: relationship.fromRole }
          : { partyId: relationship.fromPartyId, role: relationship.fromRole, counterpartId: relationship.toPartyId, counterpartRole: relationship.toRole },
    };
  }
}
