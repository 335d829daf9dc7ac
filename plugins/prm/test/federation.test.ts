import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinkedSystems, eventually, type LinkedSystems } from '@rapport/testing';
import crmPlugin from '@rapport/plugin-crm';
import prmPlugin from '../src/index.js';
import { ok } from './helpers.js';

/*
 * The first document set between two systems that both run CRM and PRM: a buyer (a) and its
 * supplier (b) from RFQ to receipt, then the same two firms as vendor (a) and channel partner
 * (b) registering a deal. Each side keeps its own records; only the documents travel.
 */
let sys: LinkedSystems;
const SUPPLY_TYPES = ['prm.rfq', 'prm.quote', 'prm.purchase-order', 'prm.order-response', 'prm.despatch-advice', 'prm.receipt-advice', 'prm.message', 'prm.rating'];
const CHANNEL_TYPES = ['prm.deal-registration', 'prm.registration-decision', 'prm.registration-rejection', 'prm.message'];
const hours = (n: number) => new Date(Date.now() + n * 3_600_000).toISOString();

async function org(client: LinkedSystems['a']['admin'], name: string) {
  return (await ok(client.post('/api/v1/parties', { kind: 'organization', name }), 201)).id as string;
}

async function received(client: LinkedSystems['a']['admin'], linkId: string, type: string) {
  const res = await ok(client.get(`/api/v1/federation/links/${linkId}/messages?direction=in&limit=500`));
  return (res.data as any[]).filter((m) => m.type === type);
}

async function linkedDocuments(client: LinkedSystems['a']['admin'], partyId: string) {
  const res = await ok(client.get(`/api/v1/parties/${partyId}/timeline?limit=100`));
  return (res.data as any[]).filter((i) => i.type === 'prm.linked-document');
}

beforeAll(async () => {
  sys = await createLinkedSystems({ shared: { plugins: [crmPlugin, prmPlugin] } });
});

afterAll(async () => {
  await sys?.close();
});

describe('buyer ↔ supplier: RFQ to receipt between two systems', () => {
  it('each document lands where the other firm keeps it, and both timelines show the roles', async () => {
    const { a: buyer, b: supplier } = sys;
    const steelworks = await org(buyer.admin, 'Steelworks');
    const northwind = await org(supplier.admin, 'Northwind');
    const atBuyer = await ok(buyer.admin.post('/api/v1/relationships', { type: 'prm.supplier', fromPartyId: steelworks, toPartyId: buyer.selfPartyId, status: 'approved' }), 201);
    const atSupplier = await ok(supplier.admin.post('/api/v1/relationships', { type: 'crm.customer', fromPartyId: supplier.selfPartyId, toPartyId: northwind, status: 'customer' }), 201);
    await ok(supplier.admin.post('/api/v1/crm/pipelines', { name: 'Orders', stages: [{ name: 'Open' }, { name: 'Won', outcome: 'won' }, { name: 'Lost', outcome: 'lost' }] }), 201);
    const linkId = await sys.link({ aRelationshipId: atBuyer.id, bRelationshipId: atSupplier.id, aRole: 'buyer', documentTypes: SUPPLY_TYPES });

    // RFQ: another invited supplier never shows in what travels.
    const other = await org(buyer.admin, 'Other Metals');
    await ok(buyer.admin.post('/api/v1/relationships', { type: 'prm.supplier', fromPartyId: other, toPartyId: buyer.selfPartyId, status: 'approved' }), 201);
    const rfq = await ok(
      buyer.admin.post('/api/v1/prm/rfqs', { title: 'Stainless sheet 2 mm', description: 'Grade 304', quantity: 2000, unit: 'kg', respondBy: hours(48), supplierIds: [steelworks, other] }),
      201,
    );
    await sys.settled(linkId);
    const [rfqDoc] = await received(supplier.admin, linkId, 'prm.rfq');
    expect(rfqDoc.message.body).toEqual({ title: 'Stainless sheet 2 mm', description: 'Grade 304', quantity: 2000, unit: 'kg', respondBy: rfq.respondBy });
    expect(JSON.stringify(rfqDoc.message)).not.toContain(other);

    // Quote: recorded on the buyer's RFQ as Steelworks' quote.
    await ok(
      supplier.admin.post(`/api/v1/federation/links/${linkId}/documents`, {
        type: 'prm.quote',
        body: { unitPrice: 4.2, currency: 'EUR', leadTimeDays: 10 },
        inResponseTo: { type: 'prm.rfq', docId: rfqDoc.docId },
      }),
      201,
    );
    await sys.settled(linkId);
    const quoted = await ok(buyer.admin.get(`/api/v1/prm/rfqs/${rfq.id}`));
    expect(quoted.quotes).toHaveLength(1);
    expect(quoted.quotes[0]).toMatchObject({ supplierId: steelworks, unitPrice: 4.2, leadTimeDays: 10 });

    // Purchase order: at the supplier a won deal on the crm.customer relationship's account.
    const po = await ok(
      buyer.admin.post('/api/v1/prm/purchase-orders', {
        supplierId: steelworks,
        reference: 'PO-2001',
        quantity: 2000,
        unitPrice: 4.2,
        currency: 'EUR',
        promisedAt: hours(24 * 10),
        rfqId: rfq.id,
        quoteId: quoted.quotes[0].id,
      }),
      201,
    );
    await sys.settled(linkId);
    const [poDoc] = await received(supplier.admin, linkId, 'prm.purchase-order');
    expect(poDoc.status).toBe('applied');
    expect(poDoc.message.inResponseTo).toEqual({ type: 'prm.rfq', docId: rfqDoc.docId });
    expect(Object.keys(poDoc.message.body).sort()).toEqual(['currency', 'orderedAt', 'promisedAt', 'quantity', 'reference', 'unitPrice']);
    const deal = await ok(supplier.admin.get(`/api/v1/crm/deals/${poDoc.outcome.dealId}`));
    expect(deal).toMatchObject({ status: 'won', accountId: northwind, amount: 8400, currency: 'EUR' });

    // Order response and despatch advice from the supplier; the receipt from the buyer's own delivery record.
    await ok(
      supplier.admin.post(`/api/v1/federation/links/${linkId}/documents`, {
        type: 'prm.order-response',
        body: { status: 'accepted' },
        inResponseTo: { type: 'prm.purchase-order', docId: poDoc.docId },
      }),
      201,
    );
    await ok(
      supplier.admin.post(`/api/v1/federation/links/${linkId}/documents`, {
        type: 'prm.despatch-advice',
        body: { despatchedAt: hours(0), quantity: 2000, expectedAt: hours(24 * 9), carrier: 'DHL' },
        inResponseTo: { type: 'prm.purchase-order', docId: poDoc.docId },
      }),
      201,
    );
    await ok(buyer.admin.post(`/api/v1/prm/purchase-orders/${po.id}/deliveries`, { receivedAt: hours(24 * 9), quantityAccepted: 1950, quantityRejected: 50 }), 201);
    await ok(buyer.admin.post(`/api/v1/federation/links/${linkId}/documents`, { type: 'prm.rating', body: { rating: 'good', comment: 'Fast answer' } }), 201);
    await ok(supplier.admin.post(`/api/v1/federation/links/${linkId}/documents`, { type: 'prm.rating', body: { rating: 'excellent' } }), 201);
    await ok(supplier.admin.post(`/api/v1/federation/links/${linkId}/documents`, { type: 'prm.message', body: { text: 'Shipped a day early' } }), 201);
    await sys.settled(linkId);
    const [receipt] = await received(supplier.admin, linkId, 'prm.receipt-advice');
    expect(receipt.message.body).toMatchObject({ quantityAccepted: 1950, quantityRejected: 50 });
    expect(receipt.message.inResponseTo).toEqual({ type: 'prm.purchase-order', docId: poDoc.docId });

    // The buyer's scorecard moved with its delivery record: on time, 97.5 % accepted.
    const scorecard = await ok(buyer.admin.get(`/api/v1/prm/suppliers/${steelworks}/scorecard`));
    expect(scorecard).toMatchObject({ deliveries: 1, onTimeDelivery: 100, quality: 97.5 });

    // Both timelines: each document once, with this firm and the other in their link roles.
    const buyerSide = await linkedDocuments(buyer.admin, steelworks);
    const supplierSide = await linkedDocuments(supplier.admin, northwind);
    const types = (entries: any[]) => entries.map((e) => e.attributes.documentType).sort();
    const expected = ['prm.despatch-advice', 'prm.message', 'prm.order-response', 'prm.purchase-order', 'prm.quote', 'prm.rating', 'prm.rating', 'prm.receipt-advice', 'prm.rfq'].sort();
    expect(types(buyerSide)).toEqual(expected);
    expect(types(supplierSide)).toEqual(expected);
    for (const entry of buyerSide) {
      const roles = Object.fromEntries(entry.participants.map((p: any) => [p.partyId, p.role]));
      expect(roles).toEqual({ [buyer.selfPartyId]: 'buyer', [steelworks]: 'supplier' });
    }
    for (const entry of supplierSide) {
      const roles = Object.fromEntries(entry.participants.map((p: any) => [p.partyId, p.role]));
      expect(roles).toEqual({ [supplier.selfPartyId]: 'supplier', [northwind]: 'buyer' });
    }
  });
});

describe('vendor ↔ partner: a deal registered from the partner’s own system', () => {
  it('the vendor’s PRM decides, and the partner hears approval or a conflict without the other partner’s identity', async () => {
    const { a: vendor, b: partner } = sys;
    const resellers = await org(vendor.admin, 'Resellers Ltd');
    const acme = await org(partner.admin, 'Acme Vendor');
    const partnership = await ok(
      vendor.admin.post('/api/v1/relationships', {
        type: 'prm.partner',
        fromPartyId: vendor.selfPartyId,
        toPartyId: resellers,
        status: 'active',
        attributes: { kind: 'reseller', program: 'Resell', tier: 'silver' },
      }),
      201,
    );
    const atPartner = await ok(partner.admin.post('/api/v1/relationships', { type: 'prm.supplier', fromPartyId: acme, toPartyId: partner.selfPartyId, status: 'approved' }), 201);
    const linkId = await sys.link({ aRelationshipId: partnership.id, bRelationshipId: atPartner.id, aRole: 'vendor', documentTypes: CHANNEL_TYPES });
    // With CRM, an approved registration opens a deal: the vendor needs a pipeline.
    await ok(vendor.admin.post('/api/v1/crm/pipelines', { name: 'Channel', stages: [{ name: 'Open' }, { name: 'Won', outcome: 'won' }] }), 201);

    const base = { value: 50000, currency: 'EUR', expectedCloseDate: '2027-06-30' };
    const filed = await ok(
      partner.admin.post(`/api/v1/federation/links/${linkId}/documents`, { type: 'prm.deal-registration', body: { ...base, customerName: 'Initech', customerDomain: 'initech.com' } }),
      201,
    );
    await sys.settled(linkId);
    const [arrived] = await received(vendor.admin, linkId, 'prm.deal-registration');
    const registration = await ok(vendor.admin.get(`/api/v1/prm/registrations/${arrived.outcome.localRecordId}`));
    expect(registration).toMatchObject({ partnerId: resellers, customerName: 'Initech', value: 50000, status: 'submitted' });
    await ok(vendor.admin.post(`/api/v1/prm/registrations/${registration.id}/approve`, {}));
    await sys.settled(linkId);
    const [approval] = await received(partner.admin, linkId, 'prm.registration-decision');
    expect(approval.message.body.decision).toBe('approved');
    expect(approval.message.inResponseTo).toEqual({ type: 'prm.deal-registration', docId: filed.docId });

    // Another partner registered Hooli directly at the vendor first: the linked partner hears "conflict", never who.
    const rival = await org(vendor.admin, 'Rival Partners');
    await ok(
      vendor.admin.post('/api/v1/relationships', {
        type: 'prm.partner',
        fromPartyId: vendor.selfPartyId,
        toPartyId: rival,
        status: 'active',
        attributes: { kind: 'reseller', program: 'Resell', tier: 'gold' },
      }),
      201,
    );
    const rivalClient = await vendor.clientFor({ roles: ['admin'], scopePartyId: rival });
    const rivalRegistration = await ok(rivalClient.post('/api/v1/prm/registrations', { ...base, partnerId: rival, customerName: 'Hooli' }), 201);
    await ok(partner.admin.post(`/api/v1/federation/links/${linkId}/documents`, { type: 'prm.deal-registration', body: { ...base, customerName: 'Hooli' } }), 201);
    await sys.settled(linkId);
    const second = (await received(vendor.admin, linkId, 'prm.deal-registration')).at(-1);
    const conflicted = await ok(vendor.admin.get(`/api/v1/prm/registrations/${second.outcome.localRecordId}`));
    expect(conflicted.conflicts.some((c: any) => c.kind === 'registration')).toBe(true);
    if (conflicted.status !== 'rejected') await ok(vendor.admin.post(`/api/v1/prm/registrations/${conflicted.id}/reject`, { reason: 'Already registered by another partner' }));
    const refusal = await eventually(async () => (await received(partner.admin, linkId, 'prm.registration-rejection'))[0], { what: 'the rejection at the partner' });
    expect(refusal.message.body.decision).toBe('conflict');
    const text = JSON.stringify(refusal.message);
    expect(text).not.toContain(rival);
    expect(text).not.toContain('Rival');
    expect(text).not.toContain(rivalRegistration.id);
  });
});

describe('vendor ↔ partner: leads offered over the link, answered from the partner’s own system', () => {
  it('the partner accepts one lead and declines another; the vendor sees each answer; a revoked link carries no offer', async () => {
    const { a: vendor, b: partner } = sys;
    const nordic = await org(vendor.admin, 'Nordic Resellers');
    const acme = await org(partner.admin, 'Acme Vendor (leads)');
    const partnership = await ok(
      vendor.admin.post('/api/v1/relationships', {
        type: 'prm.partner',
        fromPartyId: vendor.selfPartyId,
        toPartyId: nordic,
        status: 'active',
        attributes: { kind: 'reseller', program: 'Resell', tier: 'gold', territories: ['Nordics'] },
      }),
      201,
    );
    const atPartner = await ok(partner.admin.post('/api/v1/relationships', { type: 'prm.supplier', fromPartyId: acme, toPartyId: partner.selfPartyId, status: 'approved' }), 201);
    const linkId = await sys.link({ aRelationshipId: partnership.id, bRelationshipId: atPartner.id, aRole: 'vendor', documentTypes: [...CHANNEL_TYPES, 'prm.lead-offer', 'prm.lead-answer'] });
    // Only partners in the Nordics are offered these leads: the other tests' partners are not.
    await ok(vendor.admin.post('/api/v1/prm/lead-rules', { name: 'Nordics', territory: 'Nordics', weight: 10 }), 201);

    const offerFor = async (leadId: string) => {
      const lead = await ok(vendor.admin.get(`/api/v1/prm/leads/${leadId}`));
      const offers = await ok(vendor.admin.get(`/api/v1/prm/lead-offers?partnerId=${nordic}&limit=100`));
      return { lead, offer: (offers.data as any[]).find((o) => o.leadId === leadId) };
    };

    // Offered: the contact stays at the vendor until the partner accepts.
    const globex = await ok(
      vendor.admin.post('/api/v1/prm/leads', {
        customerName: 'Globex',
        contactName: 'Hank Scorpio',
        contactEmail: 'hank@globex.example',
        territory: 'Nordics',
        value: 120000,
        currency: 'EUR',
        description: 'Wants 40 seats',
        responseHours: 48,
      }),
      201,
    );
    const offered = await offerFor(globex.id);
    expect(offered.offer.status).toBe('offered');
    await sys.settled(linkId);
    const [offerDoc] = await received(partner.admin, linkId, 'prm.lead-offer');
    expect(offerDoc.docId).toBe(offered.offer.id);
    expect(offerDoc.message.body).toEqual({ customerName: 'Globex', territory: 'Nordics', value: 120000, currency: 'EUR', description: 'Wants 40 seats', respondBy: offered.offer.respondBy });
    expect(JSON.stringify(offerDoc.message)).not.toContain('Scorpio');
    expect(JSON.stringify(offerDoc.message)).not.toContain('hank@');
    expect((await linkedDocuments(partner.admin, acme)).some((i) => i.attributes.documentType === 'prm.lead-offer' && i.direction === 'inbound')).toBe(true);

    // Accepted from the partner's side: at the vendor the lead is the partner's.
    await ok(
      partner.admin.post(`/api/v1/federation/links/${linkId}/documents`, { type: 'prm.lead-answer', body: { decision: 'accepted' }, inResponseTo: { type: 'prm.lead-offer', docId: offerDoc.docId } }),
      201,
    );
    await sys.settled(linkId);
    const accepted = await offerFor(globex.id);
    expect(accepted.offer.status).toBe('accepted');
    expect(accepted.lead).toMatchObject({ status: 'accepted', acceptedPartnerId: nordic });
    const [answer] = await received(vendor.admin, linkId, 'prm.lead-answer');
    expect(answer.status).toBe('applied');

    // Declined with a reason: the vendor's offer records it and the lead moves on (no other Nordic partner: unassigned).
    const initech = await ok(vendor.admin.post('/api/v1/prm/leads', { customerName: 'Initech', territory: 'Nordics', responseHours: 48 }), 201);
    await sys.settled(linkId);
    const second = (await received(partner.admin, linkId, 'prm.lead-offer')).find((m) => m.message.body.customerName === 'Initech');
    expect(second).toBeDefined();
    await ok(
      partner.admin.post(`/api/v1/federation/links/${linkId}/documents`, {
        type: 'prm.lead-answer',
        body: { decision: 'declined', reason: 'No capacity this quarter' },
        inResponseTo: { type: 'prm.lead-offer', docId: second.docId },
      }),
      201,
    );
    await sys.settled(linkId);
    const declined = await offerFor(initech.id);
    expect(declined.offer).toMatchObject({ status: 'declined', declineReason: 'No capacity this quarter' });
    expect(declined.lead.status).toBe('unassigned');

    // A second answer to the declined offer is a final, recorded refusal the partner sees; nothing changes at the vendor.
    await ok(
      partner.admin.post(`/api/v1/federation/links/${linkId}/documents`, { type: 'prm.lead-answer', body: { decision: 'accepted' }, inResponseTo: { type: 'prm.lead-offer', docId: second.docId } }),
      201,
    );
    await sys.settled(linkId);
    const outbound = await ok(partner.admin.get(`/api/v1/federation/links/${linkId}/messages?direction=out&limit=500`));
    expect((outbound.data as any[]).filter((m) => m.type === 'prm.lead-answer').map((m) => m.status)).toEqual(['applied', 'applied', 'rejected']);
    expect((await offerFor(initech.id)).offer.status).toBe('declined');

    // Revoked: the vendor still offers its lead locally, but nothing travels on the link, either way.
    await ok(partner.admin.post(`/api/v1/federation/links/${linkId}/revoke`));
    expect((await ok(vendor.admin.get(`/api/v1/federation/links/${linkId}`))).state).toBe('revoked');
    const sentBefore = (await ok(vendor.admin.get(`/api/v1/federation/links/${linkId}/messages?direction=out&limit=500`))).data.length;
    const hooli = await ok(vendor.admin.post('/api/v1/prm/leads', { customerName: 'Hooli', territory: 'Nordics', responseHours: 48 }), 201);
    expect((await offerFor(hooli.id)).offer.status).toBe('offered');
    expect((await ok(vendor.admin.get(`/api/v1/federation/links/${linkId}/messages?direction=out&limit=500`))).data.length).toBe(sentBefore);
    expect((await received(partner.admin, linkId, 'prm.lead-offer')).some((m) => m.message.body.customerName === 'Hooli')).toBe(false);
    const late = await partner.admin.post(`/api/v1/federation/links/${linkId}/documents`, {
      type: 'prm.lead-answer',
      body: { decision: 'accepted' },
      inResponseTo: { type: 'prm.lead-offer', docId: offerDoc.docId },
    });
    expect(late.status).toBe(409);
  });
});

describe('vendor ↔ partner: tier standing and the mutual-benefit scorecard on both sides', () => {
  it('each recorded evaluation and snapshot reaches the partner’s system as a new version, with the vendor’s own figures', async () => {
    const { a: vendor, b: partner } = sys;
    const tiered = await org(vendor.admin, 'Tiered Partners');
    const acme = await org(partner.admin, 'Acme Vendor (programs)');
    await ok(
      vendor.admin.post('/api/v1/prm/programs', {
        name: 'Linked Resell',
        tiers: [
          { name: 'silver', criteria: {}, benefits: { marginPercent: 10 } },
          { name: 'gold', criteria: { approvedRegistrations: 5 }, benefits: { marginPercent: 20 } },
        ],
      }),
      201,
    );
    const partnership = await ok(
      vendor.admin.post('/api/v1/relationships', {
        type: 'prm.partner',
        fromPartyId: vendor.selfPartyId,
        toPartyId: tiered,
        status: 'active',
        attributes: { kind: 'reseller', program: 'Linked Resell', tier: 'silver' },
      }),
      201,
    );
    const atPartner = await ok(partner.admin.post('/api/v1/relationships', { type: 'prm.supplier', fromPartyId: acme, toPartyId: partner.selfPartyId, status: 'approved' }), 201);
    const linkId = await sys.link({ aRelationshipId: partnership.id, bRelationshipId: atPartner.id, aRole: 'vendor', documentTypes: [...CHANNEL_TYPES, 'prm.tier-standing', 'prm.partner-scorecard'] });

    const evaluation = await ok(vendor.admin.post(`/api/v1/prm/partners/${tiered}/tier/evaluations`, {}), 201);
    const card = await ok(vendor.admin.post(`/api/v1/prm/partners/${tiered}/scorecard/snapshots`, {}), 201);
    await sys.settled(linkId);
    const [standing] = await received(partner.admin, linkId, 'prm.tier-standing');
    expect(standing.status).toBe('applied');
    expect(standing.message.body).toEqual({
      program: 'Linked Resell',
      currentTier: 'silver',
      qualifiedTier: 'silver',
      nextTier: 'gold',
      metrics: evaluation.standing.metrics,
      gap: { approvedRegistrations: 5 },
      evaluatedAt: evaluation.observation.observedAt,
    });
    const [scorecard] = await received(partner.admin, linkId, 'prm.partner-scorecard');
    const { partnerId, relationshipId, ...figures } = card.scorecard;
    expect(scorecard.message.body).toEqual(figures);
    // The vendor's ids for the partner stay at the vendor.
    expect(JSON.stringify([standing.message.body, scorecard.message.body])).not.toContain(partnerId);
    expect(relationshipId).toBe(partnership.id);

    // Both timelines show both documents with the roles each firm played.
    for (const [client, party, direction] of [
      [vendor.admin, tiered, 'outbound'],
      [partner.admin, acme, 'inbound'],
    ] as const) {
      const docs = await linkedDocuments(client, party);
      for (const type of ['prm.tier-standing', 'prm.partner-scorecard'])
        expect(
          docs.some((i) => i.attributes.documentType === type && i.direction === direction),
          `${type} ${direction}`,
        ).toBe(true);
    }

    // A later evaluation is the next version of the same document.
    await ok(vendor.admin.post(`/api/v1/prm/partners/${tiered}/tier/evaluations`, {}), 201);
    await sys.settled(linkId);
    const versions = (await received(partner.admin, linkId, 'prm.tier-standing')).map((m) => [m.docId, m.message.docVersion]);
    expect(versions).toEqual([
      [standing.docId, 1],
      [standing.docId, 2],
    ]);
  });
});
