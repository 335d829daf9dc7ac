import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createPrmPlugin, prm, SWEEP_TASK, type PrmExpiry } from '../src/index.js';
import { activePartner, ok } from './helpers.js';

const options = { protectionDays: 10, leadResponseHours: 4 };
let t: TestApp;
let a: Awaited<ReturnType<typeof activePartner>>;
let b: Awaited<ReturnType<typeof activePartner>>;
const DAY = 86_400_000;

beforeAll(async () => {
  t = await createTestApp({ plugins: [createPrmPlugin(options)] });
  a = await activePartner(t, 'Sweep A');
  b = await activePartner(t, 'Sweep B');
  await ok(t.admin.post('/api/v1/prm/lead-rules', { name: 'Everyone', weight: 1 }), 201);
});
afterAll(() => t?.close());

async function approvedRegistration(name: string) {
  const reg = await ok(a.client.post('/api/v1/prm/registrations', { partnerId: a.id, customerName: name, value: 1, currency: 'EUR', expectedCloseDate: '2027-01-31' }), 201);
  return ok(t.admin.post(`/api/v1/prm/registrations/${reg.id}/approve`));
}

describe('expiry sweep', () => {
  it('expires protection periods and lead offers as of the clock it is given', async () => {
    const reg = await approvedRegistration('Sweep Customer');
    const lead = await ok(t.admin.post('/api/v1/prm/leads', { customerName: 'Sweep Lead' }), 201);
    const offer = lead.offers[0];
    const expiry = t.app.plugins.service<PrmExpiry>(prm.services.expiry.id)!;
    const stored = async () => (await t.app.knex('prm_registrations').where({ id: reg.id }).first('status')).status;

    // Five hours on: the offer (4 h) is due, the protection (10 days) is not.
    const soon = new Date(Date.parse(offer.offeredAt) + 5 * 3_600_000);
    const first = await expiry.run(soon);
    expect(first).toEqual([{ tenantId: t.tenantId, expiredRegistrations: 0, expiredLeadOffers: 1 }]);
    expect(await stored()).toBe('approved');
    const moved = (await t.app.knex('prm_lead_offers').where({ lead_id: lead.id }).orderBy('offered_at').select('partner_id', 'status')).map((o: any) => [o.partner_id, o.status]);
    expect(moved).toEqual([
      [offer.partnerId, 'expired'],
      [offer.partnerId === a.id ? b.id : a.id, 'offered'],
    ]);

    // Eleven days on: the protection has run out; the second offer too, and nobody is left.
    const later = new Date(Date.parse(reg.protectedUntil) + DAY);
    const second = await expiry.run(later);
    expect(second).toEqual([{ tenantId: t.tenantId, expiredRegistrations: 1, expiredLeadOffers: 1 }]);
    expect(await stored()).toBe('expired');
    expect((await t.app.knex('prm_leads').where({ id: lead.id }).first('status')).status).toBe('unassigned');
    const steps = await ok(t.admin.get(`/api/v1/relationships/${a.relationshipId}/timeline?limit=200`));
    expect(
      steps.data
        .filter((i: any) => i.attributes.registrationId === reg.id)
        .map((i: any) => i.attributes.step)
        .sort(),
    ).toEqual(['approved', 'expired', 'submitted']);
    // Idempotent: nothing left to expire.
    expect(await expiry.run(later)).toEqual([{ tenantId: t.tenantId, expiredRegistrations: 0, expiredLeadOffers: 0 }]);
  });

  it('runs as the scheduled task prm.sweep-expired', async () => {
    const reg = await approvedRegistration('Scheduled Customer');
    await t.app
      .knex('prm_registrations')
      .where({ id: reg.id })
      .update({ protected_until: new Date(Date.now() - 1000) });
    expect(await t.app.scheduler.runNow(SWEEP_TASK)).toEqual({ status: 'succeeded' });
    expect((await t.app.knex('prm_registrations').where({ id: reg.id }).first('status')).status).toBe('expired');
  });
});
