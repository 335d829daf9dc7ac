import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import { samplePlugin } from './fixtures/test-plugin.js';

/*
 * The must-show of issue 2, over HTTP only: one organization that is at once our customer
 * and our vendor (the self party at the customer end of one relationship and at the vendor
 * end of another, same type), and an interaction read back from both timelines.
 */
const BOOTSTRAP_KEY = 'rpk_bootstrap-for-the-role-reversal-test';

describe('role reversal over HTTP', () => {
  let t: TestApp;
  // As an operator would: the admin key set with RAPPORT_BOOTSTRAP_KEY at first start.
  let api: TestClient;
  let selfId: string;
  let orgId: string;
  let weBuy: { id: string };
  let weSell: { id: string };

  beforeAll(async () => {
    t = await createTestApp({ plugins: [samplePlugin().plugin], config: { bootstrapKey: BOOTSTRAP_KEY } });
    api = t.anonymous.as(BOOTSTRAP_KEY);
  });
  afterAll(() => t?.close());

  it('reads the self party from /tenant', async () => {
    const tenant = await api.get('/api/v1/tenant');
    expect(tenant.status).toBe(200);
    expect(tenant.body).toEqual({ id: t.tenantId, name: 'Test Company', selfPartyId: expect.any(String) });
    selfId = tenant.body.selfPartyId;
    const self = await api.get(`/api/v1/parties/${selfId}`);
    expect(self.body).toMatchObject({ id: selfId, kind: 'organization', name: 'Test Company' });
  });

  it('relates an organization to the self party at either end of one type', async () => {
    const org = await api.post('/api/v1/parties', { kind: 'organization', name: 'Globex', contactPoints: [{ kind: 'domain', value: 'globex.example' }] });
    expect(org.status).toBe(201);
    orgId = org.body.id;

    // Globex sells to us: the self party is the CUSTOMER.
    const buy = await api.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: orgId, toPartyId: selfId, status: 'active' });
    expect(buy.status).toBe(201);
    expect(buy.body).toMatchObject({ type: 'sample.supply', fromPartyId: orgId, toPartyId: selfId, fromRole: 'vendor', toRole: 'customer', status: 'active', version: 1 });
    weBuy = buy.body;

    // We sell to Globex: the self party is the VENDOR.
    const sell = await api.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: selfId, toPartyId: orgId });
    expect(sell.status).toBe(201);
    expect(sell.body).toMatchObject({ fromPartyId: selfId, toPartyId: orgId, fromRole: 'vendor', toRole: 'customer', status: 'prospect' });
    weSell = sell.body;
  });

  it('lists the self party’s relationships by the role it plays', async () => {
    const asCustomer = await api.get(`/api/v1/parties/${selfId}/relationships?role=customer`);
    expect(asCustomer.status).toBe(200);
    expect(asCustomer.body.data.map((r: { id: string }) => r.id)).toEqual([weBuy.id]);
    expect(asCustomer.body.nextCursor).toBeNull();

    const asVendor = await api.get(`/api/v1/parties/${selfId}/relationships?role=vendor`);
    expect(asVendor.body.data.map((r: { id: string }) => r.id)).toEqual([weSell.id]);

    // And the mirror image from the organization's side.
    const orgAsVendor = await api.get(`/api/v1/parties/${orgId}/relationships?role=vendor`);
    expect(orgAsVendor.body.data.map((r: { id: string }) => r.id)).toEqual([weBuy.id]);
    const orgAsCustomer = await api.get(`/api/v1/parties/${orgId}/relationships?role=customer`);
    expect(orgAsCustomer.body.data.map((r: { id: string }) => r.id)).toEqual([weSell.id]);

    const all = await api.get(`/api/v1/parties/${orgId}/relationships`);
    expect(all.body.data.map((r: { id: string }) => r.id).sort()).toEqual([weBuy.id, weSell.id].sort());

    // Only the active one is live ("our current suppliers").
    const live = await api.get(`/api/v1/parties/${selfId}/relationships?active=true`);
    expect(live.status).toBe(200);
    expect(live.body.data.map((r: { id: string }) => r.id)).toEqual([weBuy.id]);
  });

  it('records an interaction and reads it from both timelines', async () => {
    const call = await api.post('/api/v1/interactions', {
      type: 'sample.call',
      channel: 'phone',
      direction: 'outbound',
      subject: 'Renewal',
      relationshipId: weBuy.id,
      participants: [
        { partyId: selfId, role: 'caller' },
        { partyId: orgId, role: 'callee' },
      ],
    });
    expect(call.status).toBe(201);
    expect(call.body).toMatchObject({ type: 'sample.call', channel: 'phone', direction: 'outbound', subject: 'Renewal', relationshipId: weBuy.id });
    expect(call.body.participants).toHaveLength(2);

    const orgTimeline = await api.get(`/api/v1/parties/${orgId}/timeline`);
    expect(orgTimeline.status).toBe(200);
    expect(orgTimeline.body.data).toHaveLength(1);
    expect(orgTimeline.body.data[0]).toMatchObject({ id: call.body.id, relationshipId: weBuy.id });
    expect(orgTimeline.body.data[0].participants).toEqual(
      expect.arrayContaining([
        { partyId: selfId, role: 'caller' },
        { partyId: orgId, role: 'callee' },
      ]),
    );

    const relTimeline = await api.get(`/api/v1/relationships/${weBuy.id}/timeline`);
    expect(relTimeline.status).toBe(200);
    expect(relTimeline.body.data.map((i: { id: string }) => i.id)).toEqual([call.body.id]);

    const otherRelTimeline = await api.get(`/api/v1/relationships/${weSell.id}/timeline`);
    expect(otherRelTimeline.body.data).toEqual([]);

    const selfTimeline = await api.get(`/api/v1/parties/${selfId}/timeline`);
    expect(selfTimeline.body.data.map((i: { id: string }) => i.id)).toEqual([call.body.id]);
  });
});
