import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import crm from '../src/index.js';

/* Role reversal end to end: the self party is the customer of a vendor. */
let t: TestApp;
let vendor: string;
let otherCustomer: string;
let buyerRel: string;
let sellerRel: string;
let otherRel: string;

const party = async (kind: string, name: string) => (await t.admin.post('/api/v1/parties', { kind, name })).body.id as string;

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm] });
  vendor = await party('organization', 'Steelworks GmbH');
  otherCustomer = await party('organization', 'Umbrella plc');
  // Steelworks sells to us…
  buyerRel = (await t.admin.post('/api/v1/relationships', { type: 'crm.customer', fromPartyId: vendor, toPartyId: t.selfPartyId, status: 'customer' })).body.id;
  // …and is also our own lead: one counterpart, both roles.
  sellerRel = (await t.admin.post('/api/v1/relationships', { type: 'crm.customer', fromPartyId: t.selfPartyId, toPartyId: vendor })).body.id;
  otherRel = (await t.admin.post('/api/v1/relationships', { type: 'crm.customer', fromPartyId: t.selfPartyId, toPartyId: otherCustomer, status: 'customer' })).body.id;
});

afterAll(() => t?.close());

describe('buyer side', () => {
  it('lists our vendors and our customers from the same relationship type', async () => {
    const vendors = await t.admin.get('/api/v1/crm/vendors');
    expect(vendors.status).toBe(200);
    expect(vendors.body.data.map((c: any) => [c.party.name, c.relationship.id, c.relationship.toRole])).toEqual([['Steelworks GmbH', buyerRel, 'customer']]);
    const customers = await t.admin.get('/api/v1/crm/customers');
    expect(customers.body.data.map((c: any) => c.party.name).sort()).toEqual(['Steelworks GmbH', 'Umbrella plc']);
    const leads = await t.admin.get('/api/v1/crm/customers?status=lead');
    expect(leads.body.data.map((c: any) => c.relationship.id)).toEqual([sellerRel]);
  });

  it("records offers, quotes, purchases and complaints on the vendor's timeline", async () => {
    const events = t.recordEvents('interaction.created');
    const bodies = [
      { type: 'crm.offer-received', subject: 'Steel offer', amount: 5000, currency: 'EUR', occurredAt: '2026-01-01T10:00:00Z' },
      { type: 'crm.quote-received', subject: 'Formal quote', amount: 4800, currency: 'EUR', reference: 'Q-17', occurredAt: '2026-01-02T10:00:00Z' },
      { type: 'crm.purchase', subject: 'PO 1001', amount: 4800, currency: 'EUR', reference: 'PO-1001', occurredAt: '2026-01-03T10:00:00Z' },
      { type: 'crm.complaint', subject: 'Late delivery', occurredAt: '2026-01-04T10:00:00Z' },
    ];
    for (const body of bodies) {
      const res = await t.admin.post(`/api/v1/crm/vendors/${vendor}/interactions`, body);
      expect(res.status).toBe(201);
      expect(res.body.relationshipId).toBe(buyerRel);
    }
    await t.app.settled();
    expect(events).toHaveLength(4);
    const timeline = await t.admin.get(`/api/v1/parties/${vendor}/timeline`);
    expect(timeline.body.data.map((i: any) => [i.type, i.direction])).toEqual([
      ['crm.complaint', 'outbound'],
      ['crm.purchase', 'outbound'],
      ['crm.quote-received', 'inbound'],
      ['crm.offer-received', 'inbound'],
    ]);
    const purchase = timeline.body.data[1];
    expect(purchase.attributes).toEqual({ amount: 4800, currency: 'EUR', reference: 'PO-1001' });
    expect(purchase.participants).toEqual(
      expect.arrayContaining([
        { partyId: vendor, role: 'vendor' },
        { partyId: t.selfPartyId, role: 'customer' },
      ]),
    );
    // The relationship's own timeline holds the same four.
    expect((await t.admin.get(`/api/v1/relationships/${buyerRel}/timeline`)).body.data).toHaveLength(4);
  });

  it('refuses purchase-side records without a vendor relationship or with bad input, writing nothing', async () => {
    expect((await t.admin.post(`/api/v1/crm/vendors/${otherCustomer}/interactions`, { type: 'crm.purchase' })).status).toBe(404);
    expect((await t.admin.post(`/api/v1/crm/vendors/${crypto.randomUUID()}/interactions`, { type: 'crm.purchase' })).status).toBe(404);
    expect((await t.admin.post(`/api/v1/crm/vendors/${vendor}/interactions`, { type: 'crm.call' })).status).toBe(400);
    expect((await t.admin.post(`/api/v1/crm/vendors/${vendor}/interactions`, { type: 'crm.purchase', currency: 'eur' })).status).toBe(400);
    expect((await t.admin.get(`/api/v1/parties/${otherCustomer}/timeline`)).body.data).toHaveLength(0);
    expect((await t.admin.get(`/api/v1/parties/${vendor}/timeline`)).body.data).toHaveLength(4);
  });

  it('shows any relationship as the other side sees it', async () => {
    const mirrored = await t.admin.get(`/api/v1/crm/relationships/${buyerRel}/other-side`);
    expect(mirrored.status).toBe(200);
    expect(mirrored.body).toMatchObject({
      id: buyerRel,
      type: 'crm.customer',
      fromPartyId: t.selfPartyId,
      fromRole: 'customer',
      toPartyId: vendor,
      toRole: 'vendor',
      mirrored: true,
      viewpoint: { partyId: vendor, role: 'vendor', counterpartId: t.selfPartyId, counterpartRole: 'customer' },
    });
    const seller = await t.admin.get(`/api/v1/crm/relationships/${sellerRel}/other-side`);
    expect(seller.body.viewpoint).toEqual({ partyId: vendor, role: 'customer', counterpartId: t.selfPartyId, counterpartRole: 'vendor' });
    expect((await t.admin.get(`/api/v1/crm/relationships/${crypto.randomUUID()}/other-side`)).status).toBe(404);
  });

  it("gives the vendor's own portal key its side only, 404 for anything else", async () => {
    const role = await t.admin.post('/api/v1/roles', { name: 'vendor-portal', permissions: ['crm.accounts:read', 'interactions:read', 'parties:read'] });
    expect(role.status).toBe(201);
    const portal = await t.clientFor({ roles: ['vendor-portal'], scopePartyId: vendor });
    expect((await portal.get(`/api/v1/crm/relationships/${buyerRel}/other-side`)).status).toBe(200);
    expect((await portal.get(`/api/v1/crm/relationships/${otherRel}/other-side`)).status).toBe(404);
    const timeline = await portal.get(`/api/v1/parties/${vendor}/timeline`);
    expect(timeline.body.data).toHaveLength(4);
    const vendors = await portal.get('/api/v1/crm/customers');
    expect(vendors.body.data.map((c: any) => c.relationship.id)).toEqual([sellerRel]);
  });

  it('keeps CRM relationships the firm’s: a portal principal cannot create or change one, even its own', async () => {
    const role = await t.admin.post('/api/v1/roles', { name: 'vendor-writer', permissions: ['relationships:read', 'relationships:write', 'parties:read'] });
    expect(role.status).toBe(201);
    const portal = await t.clientFor({ roles: ['vendor-writer'], scopePartyId: vendor });
    const before = await t.app.knex('rapport_relationships').where({ id: sellerRel }).first('status', 'version');
    const changed = await portal.patch(`/api/v1/relationships/${sellerRel}`, { attributes: { source: 'self-made' } }, { headers: { 'if-match': String(before.version) } });
    expect(changed.status, changed.text).toBe(403);
    expect(changed.body.detail).toContain('crm.customer');
    const contact = await portal.post('/api/v1/relationships', {
      type: 'crm.contact',
      fromPartyId: (await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Vendor Staff' })).body.id,
      toPartyId: vendor,
    });
    expect(contact.status, contact.text).toBe(403);
    expect(await t.app.knex('rapport_relationships').where({ id: sellerRel }).first('status', 'version')).toEqual(before);
  });
});
