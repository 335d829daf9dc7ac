import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectPages, createRapportClient, ok, type RapportClient } from '@rapport/client';
import { createTestApp, type TestApp } from '@rapport/testing';
import crm from '@rapport/plugin-crm';
import prm from '@rapport/plugin-prm';
import hrm from '@rapport/plugin-hrm';
import { demoData, seedMarker } from '../src/demo-plugin.js';
import { LEGACY_SEED_NOTE, seedDemoData } from '../src/seed/index.js';
import { ensureDemoUsers } from '../src/seed/users.js';
import { seedOnListen } from '../src/on-listen.js';
import config from '../rapport.config.js';

describe('examples/full-suite', () => {
  let t: TestApp;
  let client: RapportClient;

  beforeAll(async () => {
    t = await createTestApp({ plugins: [crm, prm, hrm, demoData] });
    client = createRapportClient({ baseUrl: t.baseUrl, apiKey: t.adminToken });
    expect(await seedDemoData(client, seedMarker(t.app))).toEqual({ seeded: true, selfPartyId: t.selfPartyId });
    // As the start hook does after the seed: the console's demo users.
    await ensureDemoUsers(client);
  });
  afterAll(() => t?.close());

  const everything = async () => ({
    parties: (await collectPages(async (cursor) => ok(await client.GET('/api/v1/parties', { params: { query: { cursor, limit: 200 } } })))).length,
    relationships: (await collectPages(async (cursor) => ok(await client.GET('/api/v1/relationships', { params: { query: { cursor, limit: 200 } } })))).length,
    interactions: (await collectPages(async (cursor) => ok(await client.GET('/api/v1/interactions', { params: { query: { cursor, limit: 200 } } })))).length,
    deals: ok(await client.GET('/api/v1/crm/deals')).data.length,
  });

  it('serves the configured system: every first-party plugin, and the seed on listen', () => {
    expect(config.plugins).toEqual(['@rapport/plugin-crm', '@rapport/plugin-prm', '@rapport/plugin-hrm', demoData]);
    expect(config.onListen).toBe(seedOnListen);
  });

  it('CRM: customers at each lifecycle stage, contacts, deals in a pipeline, activities on the timeline', async () => {
    const customers = ok(await client.GET('/api/v1/crm/customers')).data;
    expect(Object.fromEntries(customers.map((c) => [c.party.name, c.relationship.status]))).toEqual({
      'Acme Foods': 'customer',
      'Globex Energy': 'prospect',
      'Initech Logistics': 'lead',
    });
    const acme = customers.find((c) => c.party.name === 'Acme Foods')!.party;
    expect(acme.attributes).toMatchObject({ 'crm.industry': 'Food processing' });

    const deals = ok(await client.GET('/api/v1/crm/deals')).data;
    expect(deals.map((d) => [d.title, d.status])).toEqual(
      expect.arrayContaining([
        ['Acme packaging line', 'open'],
        ['Acme spare parts 2027', 'won'],
        ['Globex turbine retrofit', 'open'],
        ['Initech conveyor pilot', 'open'],
      ]),
    );
    // The pipeline report agrees with the deals, stage by stage.
    const pipeline = ok(await client.GET('/api/v1/crm/reports/pipeline', { params: { query: { pipelineId: deals[0].pipelineId } } }));
    expect(pipeline.stages.map((s) => s.name)).toEqual(['Qualify', 'Propose', 'Negotiate', 'Won', 'Lost']);
    for (const stage of pipeline.stages) {
      const inStage = deals.filter((d) => d.stageId === stage.stageId);
      expect(stage.count, stage.name).toBe(inStage.length);
      expect(
        stage.byCurrency.reduce((sum, c) => sum + c.amount, 0),
        stage.name,
      ).toBe(inStage.reduce((sum, d) => sum + d.amount, 0));
    }

    const timeline = ok(await client.GET('/api/v1/parties/{id}/timeline', { params: { path: { id: acme.id } } })).data;
    expect(timeline.map((i) => i.type)).toEqual(expect.arrayContaining(['crm.call', 'crm.deal-update']));
    expect(
      ok(await client.GET('/api/v1/crm/tasks'))
        .data.map((task) => task.title)
        .sort(),
    ).toEqual(['Call Initech back about the conveyor pilot', 'Send the packaging line proposal to Acme']);
  });

  it('PRM: an active reseller with an approved registration and approved MDF; suppliers with an awarded RFQ, an order and a scorecard', async () => {
    const registrations = ok(await client.GET('/api/v1/prm/registrations')).data;
    expect(registrations.map((r) => [r.customerName, r.status])).toEqual([['Umbrella Pharma', 'approved']]);
    // With the CRM installed, the approved registration opened a deal.
    const deals = ok(await client.GET('/api/v1/crm/deals')).data;
    expect(deals.find((d) => d.id === registrations[0].dealId)).toMatchObject({ amount: 75_000, currency: 'EUR' });
    const mdf = ok(await client.GET('/api/v1/prm/mdf/requests')).data;
    expect(mdf.map((r) => [r.activity, r.status])).toEqual([['Booth at the regional packaging fair', 'approved']]);
    const tier = ok(await client.GET('/api/v1/prm/partners/{partnerId}/tier', { params: { path: { partnerId: registrations[0].partnerId } } }));
    expect(tier).toMatchObject({ currentTier: 'silver', qualifiedTier: 'silver' });

    const rfqs = ok(await client.GET('/api/v1/prm/rfqs')).data;
    expect(rfqs).toHaveLength(1);
    expect(rfqs[0].quotes.map((q) => q.status).sort()).toEqual(['awarded', 'lost']);
    const orders = ok(await client.GET('/api/v1/prm/purchase-orders')).data;
    expect(orders.map((o) => o.reference)).toEqual(['PO-1001']);
    const scorecard = ok(await client.GET('/api/v1/prm/suppliers/{supplierId}/scorecard', { params: { path: { supplierId: orders[0].supplierId } } }));
    expect(scorecard).toMatchObject({ quality: 99, onTimeDelivery: 100 });

    // The same supplier seen by the CRM from the buyer's side (role reversal).
    const vendors = ok(await client.GET('/api/v1/crm/vendors')).data;
    expect(vendors.map((v) => v.party.name)).toEqual(['Steelworks Ltd']);
  });

  it('HRM: units, employees with a manager, an open survey, a service request and kudos', async () => {
    const units = ok(await client.GET('/api/v1/hrm/units')).data;
    expect(units.map((u) => u.name).sort()).toEqual(['Assembly', 'IT', 'Operations', 'People & Culture', 'Sales']);
    const employees = ok(await client.GET('/api/v1/hrm/employees')).data;
    expect(employees).toHaveLength(5);
    const tom = employees.find((e) => e.name === 'Tom Berg')!;
    expect(tom.managerId).toBe(employees.find((e) => e.name === 'Maria Keller')!.id);
    const surveys = ok(await client.GET('/api/v1/hrm/surveys')).data;
    expect(surveys.map((s) => [s.title, s.status])).toEqual([['Quarterly pulse', 'open']]);
    const requests = ok(await client.GET('/api/v1/hrm/requests')).data;
    expect(requests.map((r) => [r.title, r.requesterPartyId])).toEqual([['Laptop screen flickers', tom.id]]);
    const timeline = ok(await client.GET('/api/v1/hrm/employees/{id}/timeline', { params: { path: { id: tom.id } } })).data;
    expect(timeline.map((i) => i.type)).toEqual(expect.arrayContaining(['hrm.one-to-one', 'hrm.request']));
  });

  it('is idempotent: a second seed, and the start hook with its short-lived key, add nothing', async () => {
    // An ordinary edit of the newest interaction (the marker was once a note) must not make it re-seed.
    const [newest] = ok(await client.GET('/api/v1/interactions', { params: { query: { limit: 1 } } })).data;
    expect(newest).toBeDefined();
    ok(
      await client.PATCH('/api/v1/interactions/{id}', {
        params: { path: { id: newest.id }, header: { 'If-Match': `"${newest.version}"` } },
        body: { subject: 'Edited by a user' },
      }),
    );
    const before = await everything();
    expect(await seedDemoData(client, seedMarker(t.app))).toEqual({ seeded: false, selfPartyId: t.selfPartyId });
    const logged: unknown[] = [];
    const logger = { info: (...args: unknown[]) => logged.push(args) } as never;
    await seedOnListen({ app: t.app, url: t.baseUrl, logger });
    expect(await everything()).toEqual(before);
    expect(logged).toEqual([[{ seeded: false }, 'demo data already present; nothing seeded']]);
    // The marker is no record of the API: the firm's timeline carries no seed note.
    const notes = ok(await client.GET('/api/v1/parties/{id}/timeline', { params: { path: { id: t.selfPartyId }, query: { type: 'note' } } })).data;
    expect(notes.filter((n) => n.subject === LEGACY_SEED_NOTE)).toEqual([]);

    // The hook's key is revoked once the seed is done.
    const keys = ok(await client.GET('/api/v1/keys')).data;
    const seedKey = keys.find((k) => k.name === 'demo-seed')!;
    expect(seedKey.revokedAt).not.toBeNull();
  });

  it('takes the note an earlier version left as its marker, and sets the marker in its place', async () => {
    const other = await createTestApp({ plugins: [crm, prm, hrm, demoData] });
    try {
      const api = createRapportClient({ baseUrl: other.baseUrl, apiKey: other.adminToken });
      ok(
        await api.POST('/api/v1/interactions', {
          body: { type: 'note', subject: LEGACY_SEED_NOTE, direction: 'internal', participants: [{ partyId: other.selfPartyId, role: 'subject' }] },
        }),
      );
      const marker = seedMarker(other.app);
      expect(await marker.isSet()).toBe(false);
      expect(await seedDemoData(api, marker)).toEqual({ seeded: false, selfPartyId: other.selfPartyId });
      expect(await marker.isSet()).toBe(true);
      expect(ok(await api.GET('/api/v1/crm/deals')).data).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
