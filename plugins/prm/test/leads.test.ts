import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import { createPrmPlugin, prm, type PrmLeads } from '../src/index.js';
import { expectStatus, ok, organization } from './helpers.js';

let t: TestApp;
type Partner = { id: string; relationshipId: string; client: TestClient };
let north: Partner; // gold, covers north
let northSilver: Partner; // silver, covers north
let south: Partner; // gold, covers south only

async function partner(name: string, attributes: Record<string, unknown>): Promise<Partner> {
  const id = await organization(t, name);
  const rel = await ok(
    t.admin.post('/api/v1/relationships', { type: 'prm.partner', fromPartyId: t.selfPartyId, toPartyId: id, status: 'active', attributes: { kind: 'reseller', ...attributes } }),
    201,
  );
  return { id, relationshipId: rel.id, client: await t.clientFor({ roles: ['admin'], scopePartyId: id }) };
}

beforeAll(async () => {
  t = await createTestApp({ plugins: [createPrmPlugin({ leadResponseHours: 24 })] });
  north = await partner('North Gold', { tier: 'gold', territories: ['north'] });
  northSilver = await partner('North Silver', { tier: 'silver', territories: ['north'] });
  south = await partner('South Gold', { tier: 'gold', territories: ['south'] });
  await ok(t.admin.post('/api/v1/prm/lead-rules', { name: 'North gold first', territory: 'north', tiers: ['gold'], weight: 3 }), 201);
  await ok(t.admin.post('/api/v1/prm/lead-rules', { name: 'North anyone', territory: 'north', weight: 1 }), 201);
});
afterAll(() => t?.close());

const lead = (customerName: string, extra: Record<string, unknown> = {}) =>
  ok(t.admin.post('/api/v1/prm/leads', { customerName, territory: 'north', contactName: 'Pat Buyer', contactEmail: 'pat@example.com', value: 10_000, currency: 'EUR', ...extra }), 201);

describe('lead distribution', () => {
  it('offers by the rules, moves on after a decline and never offers a decliner again', async () => {
    const created = await lead('Acme Rockets');
    // Both north partners are eligible; the heavier rule (gold, weight 3) goes first. South is not eligible.
    expect(created.status).toBe('offered');
    expect(created.offers).toHaveLength(1);
    expect(created.offers[0]).toMatchObject({ partnerId: north.id, status: 'offered' });
    expect(Date.parse(created.offers[0].respondBy) - Date.parse(created.offers[0].offeredAt)).toBe(24 * 3_600_000);

    // The partner sees the offer, not the contact until it accepts.
    const inbox = await ok(north.client.get('/api/v1/prm/lead-offers'));
    expect(inbox.data.map((o: any) => o.id)).toEqual([created.offers[0].id]);
    expect(inbox.data[0].lead).toMatchObject({ customerName: 'Acme Rockets', contactName: null, contactEmail: null });
    expect((await ok(northSilver.client.get('/api/v1/prm/lead-offers'))).data).toEqual([]);
    expectStatus(await northSilver.client.get(`/api/v1/prm/leads/${created.id}`), 404);

    expectStatus(await north.client.post(`/api/v1/prm/lead-offers/${created.offers[0].id}/decline`, {}), 400);
    const declined = await ok(north.client.post(`/api/v1/prm/lead-offers/${created.offers[0].id}/decline`, { reason: 'No capacity this quarter' }));
    expect(declined).toMatchObject({ status: 'declined', declineReason: 'No capacity this quarter' });
    expectStatus(await north.client.post(`/api/v1/prm/lead-offers/${created.offers[0].id}/accept`), 409);

    const moved = await ok(t.admin.get(`/api/v1/prm/leads/${created.id}`));
    expect(moved.offers.map((o: any) => [o.partnerId, o.status])).toEqual([
      [north.id, 'declined'],
      [northSilver.id, 'offered'],
    ]);
    // Each side sees only its own offer in the lead.
    expect((await ok(north.client.get(`/api/v1/prm/leads/${created.id}`))).offers.map((o: any) => o.partnerId)).toEqual([north.id]);
    expect((await ok(northSilver.client.get(`/api/v1/prm/leads/${created.id}`))).offers.map((o: any) => o.partnerId)).toEqual([northSilver.id]);

    // The second declines too: nobody eligible is left, and redistributing never returns to a decliner.
    await ok(northSilver.client.post(`/api/v1/prm/lead-offers/${moved.offers[1].id}/decline`, { reason: 'Not our segment' }));
    expect((await ok(t.admin.get(`/api/v1/prm/leads/${created.id}`))).status).toBe('unassigned');
    const again = await ok(t.admin.post(`/api/v1/prm/leads/${created.id}/distribute`));
    expect(again.status).toBe('unassigned');
    expect(again.offers).toHaveLength(2);

    // A new eligible partner joins the territory: the lead goes to it.
    const late = await partner('North Newcomer', { tier: 'silver', territories: ['north'] });
    const third = await ok(t.admin.post(`/api/v1/prm/leads/${created.id}/distribute`));
    expect(third.offers.map((o: any) => o.partnerId)).toEqual([north.id, northSilver.id, late.id]);

    // Each step is on the partner's timeline.
    const steps = await ok(north.client.get(`/api/v1/relationships/${north.relationshipId}/timeline`));
    expect(
      steps.data
        .filter((i: any) => i.type === 'prm.lead' && i.attributes.leadId === created.id)
        .map((i: any) => i.attributes.step)
        .sort(),
    ).toEqual(['declined', 'offered']);
  });

  it('hands the lead, with its contact, to the partner that accepts', async () => {
    const created = await lead('Bluth Company', { territory: 'south', responseHours: 2 });
    // No rule covers the south: nobody is offered it.
    expect(created.status).toBe('unassigned');
    await ok(t.admin.post('/api/v1/prm/lead-rules', { name: 'South', territory: 'south', kinds: ['reseller'], weight: 1 }), 201);
    const offered = await ok(t.admin.post(`/api/v1/prm/leads/${created.id}/distribute`));
    expect(offered.offers.map((o: any) => o.partnerId)).toEqual([south.id]);
    const accepted = await ok(south.client.post(`/api/v1/prm/lead-offers/${offered.offers[0].id}/accept`));
    expect(accepted).toMatchObject({ status: 'accepted', lead: { status: 'accepted', acceptedPartnerId: south.id, contactName: 'Pat Buyer', contactEmail: 'pat@example.com' } });
    expectStatus(await t.admin.post(`/api/v1/prm/leads/${created.id}/distribute`), 409);
  });

  it('expires unanswered offers and moves the lead to the next eligible partner', async () => {
    const created = await lead('Dunder Mifflin', { responseHours: 1 });
    const first = created.offers[0];
    const service = t.app.plugins.service<PrmLeads>(prm.services.leads.id)!;
    // Before the deadline the sweep leaves the offer alone.
    const early = await t.app.transaction((uow) => service.expireDue(uow, new Date(Date.parse(first.respondBy) - 1000)));
    expect(early).toEqual([]);
    const later = new Date(Date.parse(first.respondBy) + 1000);
    const expired = await t.app.transaction((uow) => service.expireDue(uow, later));
    expect(expired.map((o) => o.id)).toEqual([first.id]);
    const after = await t.app.transaction((uow) => service.get(uow, created.id, later));
    expect(after.offers.map((o) => o.status)).toEqual(['expired', 'offered']);
    expect(after.offers[1].partnerId).not.toBe(first.partnerId);
    expect(Date.parse(after.offers[1].respondBy)).toBe(later.getTime() + 3_600_000);

    // An offer past its deadline reads as expired and cannot be accepted, even before a sweep.
    const other = await lead('Wernham Hogg');
    const offer = other.offers[0];
    await t.app
      .knex('prm_lead_offers')
      .where({ id: offer.id })
      .update({ respond_by: new Date(Date.now() - 1000) });
    const owner = [north, northSilver].find((p) => p.id === offer.partnerId)!;
    expect((await ok(owner.client.get(`/api/v1/prm/lead-offers/${offer.id}`))).status).toBe('expired');
    const res = await owner.client.post(`/api/v1/prm/lead-offers/${offer.id}/accept`);
    expectStatus(res, 409);
    expect(res.body.detail).toContain('expired');
  });

  it('shares leads out in proportion to the weights', async () => {
    const heavy = await partner('East Platinum', { tier: 'platinum', territories: ['east'] });
    const light = await partner('East Silver', { tier: 'silver', territories: ['east'] });
    await ok(t.admin.post('/api/v1/prm/lead-rules', { name: 'East platinum', territory: 'east', tiers: ['platinum'], weight: 3 }), 201);
    await ok(t.admin.post('/api/v1/prm/lead-rules', { name: 'East', territory: 'east', weight: 1 }), 201);
    const got: string[] = [];
    for (let i = 0; i < 8; i++) got.push((await lead(`East customer ${i}`, { territory: 'east' })).offers[0].partnerId);
    expect(got.filter((id) => id === heavy.id)).toHaveLength(6);
    expect(got.filter((id) => id === light.id)).toHaveLength(2);
  });

  it('keeps rules and leads the firm’s, and refuses bad input writing nothing', async () => {
    expectStatus(await north.client.post('/api/v1/prm/leads', { customerName: 'Mine' }), 403);
    expectStatus(await north.client.post('/api/v1/prm/lead-rules', { name: 'Me first', weight: 1000 }), 403);
    // The rules are the terms partners play by: they can read them.
    expect((await ok(north.client.get('/api/v1/prm/lead-rules'))).data.length).toBeGreaterThan(0);
    const count = async () => Number((await t.app.knex('prm_leads').count('* as n').first())!.n) + Number((await t.app.knex('prm_lead_rules').count('* as n').first())!.n);
    const before = await count();
    for (const body of [
      { name: 'x', weight: 0 },
      { name: 'x', weight: 1, kinds: ['spy'] },
      { name: 'x', weight: 1, extra: 1 },
    ]) {
      expectStatus(await t.admin.post('/api/v1/prm/lead-rules', body), 400);
    }
    for (const body of [{ customerName: '' }, { customerName: 'X', contactEmail: 'nope' }, { customerName: 'X', responseHours: 0 }, { customerName: 'X', currency: 'euro' }]) {
      expectStatus(await t.admin.post('/api/v1/prm/leads', body), 400);
    }
    expect(await count()).toBe(before);
    const rule = (await ok(t.admin.get('/api/v1/prm/lead-rules'))).data[0];
    expect((await ok(t.admin.post(`/api/v1/prm/lead-rules/${rule.id}/active`, { active: false }))).active).toBe(false);

    // A partner suspended after the offer cannot take the lead any more.
    const late = await lead('Initrode');
    const offer = late.offers[0];
    const holder = await t.clientFor({ roles: ['admin'], scopePartyId: offer.partnerId });
    await t.app.knex('rapport_relationships').where({ id: offer.relationshipId }).update({ status: 'suspended' });
    const refused = await holder.post(`/api/v1/prm/lead-offers/${offer.id}/accept`);
    expectStatus(refused, 409);
    expect(refused.body.detail).toContain('suspended');
    await t.app.knex('rapport_relationships').where({ id: offer.relationshipId }).update({ status: 'active' });
  });
});
