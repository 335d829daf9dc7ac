import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreServices, definePlugin } from '@rapport/core';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import { createPrmPlugin, prm } from '../src/index.js';
import { activePartner, expectStatus, ok, person } from './helpers.js';

/** Stands in for CRM's side of `prm.registration.conflicts`: an "open direct deal" with any customer named Direct…. */
const directSalesPlugin = definePlugin({
  name: 'direct',
  version: '1.0.0',
  deps: { tenants: coreServices.tenants },
  setup(api, { tenants }) {
    api.hooks.filter(prm.filters.registrationConflicts, async (payload, uow) => {
      // Runs inside the registration's transaction: it may read through its unit of work.
      const self = await tenants.selfPartyId(uow);
      if (!self || !payload.registration.customerName.startsWith('Direct')) return payload;
      return {
        ...payload,
        conflicts: [...payload.conflicts, { reason: 'open-direct-deal', message: `Our sales team is already working on ${payload.registration.customerName}`, recordId: 'deal-42' }],
      };
    });
  },
});

let t: TestApp;
let a: { id: string; relationshipId: string; client: TestClient };
let b: { id: string; relationshipId: string; client: TestClient };
const base = { value: 10_000, currency: 'EUR', expectedCloseDate: '2027-06-30' };
const DAY = 86_400_000;

beforeAll(async () => {
  t = await createTestApp({ plugins: [createPrmPlugin(), directSalesPlugin] });
  await ok(
    t.admin.post('/api/v1/prm/programs', {
      name: 'Resell',
      tiers: [
        { name: 'silver', criteria: { approvedRegistrations: 1 }, benefits: { marginPercent: 10 } },
        { name: 'gold', criteria: { approvedRegistrations: 2, certifiedStaff: 2 }, benefits: { marginPercent: 15, rebatePercent: 2.5 } },
        { name: 'platinum', criteria: { approvedRegistrations: 2, certifiedStaff: 5 }, benefits: { marginPercent: 20, rebatePercent: 5 } },
      ],
    }),
    201,
  );
  a = await activePartner(t, 'Alpha Partners'); // Resell / silver
  b = await activePartner(t, 'Beta Partners');
});
afterAll(() => t?.close());

async function staffOf(partnerId: string, name: string): Promise<{ id: string; relationshipId: string }> {
  const id = await person(t, name);
  const rel = await ok(t.admin.post('/api/v1/relationships', { type: 'prm.staff', fromPartyId: id, toPartyId: partnerId }), 201);
  return { id, relationshipId: rel.id };
}

describe('registration conflicts from other plugins', () => {
  it('stores what a prm.registration.conflicts filter adds and shows it to both sides', async () => {
    const reg = await ok(a.client.post('/api/v1/prm/registrations', { ...base, partnerId: a.id, customerName: 'Direct Widgets', customerDomain: 'widgets.example' }), 201);
    // Flagged for the reviewer, not rejected: first-to-file is about other partners.
    expect(reg.status).toBe('submitted');
    expect(reg.conflicts).toEqual([{ kind: 'open-direct-deal', message: 'Our sales team is already working on Direct Widgets' }]);
    const asFirm = await ok(t.admin.get(`/api/v1/prm/registrations/${reg.id}`));
    expect(asFirm.conflicts).toEqual([{ kind: 'open-direct-deal', message: 'Our sales team is already working on Direct Widgets', recordId: 'deal-42' }]);
    const plain = await ok(a.client.post('/api/v1/prm/registrations', { ...base, partnerId: a.id, customerName: 'Indirect Things' }), 201);
    expect(plain.conflicts).toEqual([]);
  });
});

describe('training and certification', () => {
  it('counts staff with a valid certification toward the tier, and shows the gap', async () => {
    const course = await ok(t.admin.post('/api/v1/prm/courses', { title: 'Product basics', validityDays: 365 }), 201);
    const forever = await ok(t.admin.post('/api/v1/prm/courses', { title: 'Company values' }), 201);
    expectStatus(await a.client.post('/api/v1/prm/courses', { title: 'Self-made' }), 403);
    expect((await ok(a.client.get('/api/v1/prm/courses'))).data.map((c: any) => c.title)).toEqual(['Company values', 'Product basics']);

    const [ann, bob, cid, dee] = [await staffOf(a.id, 'Ann'), await staffOf(a.id, 'Bob'), await staffOf(a.id, 'Cid'), await staffOf(a.id, 'Dee')];
    const other = await staffOf(b.id, 'Eve');
    const certify = (personId: string, courseId: string, completedAt?: string, partnerId = a.id) =>
      t.admin.post('/api/v1/prm/certifications', { courseId, personId, partnerId, ...(completedAt ? { completedAt } : {}) });
    const annCert = await ok(certify(ann.id, course.id), 201);
    expect(Date.parse(annCert.expiresAt) - Date.parse(annCert.completedAt)).toBe(365 * DAY);
    await ok(certify(bob.id, course.id, new Date(Date.now() - 400 * DAY).toISOString()), 201); // expired
    await ok(certify(cid.id, course.id), 201);
    await ok(certify(cid.id, forever.id), 201); // two certifications, one person
    await ok(certify(dee.id, forever.id), 201);
    await ok(certify(other.id, forever.id, undefined, b.id), 201);
    // Dee leaves Alpha: her certification no longer counts for it.
    await ok(t.admin.patch(`/api/v1/relationships/${dee.relationshipId}`, { status: 'ended' }, { headers: { 'if-match': '1' } }));

    // Refused: not staff of that partner, unknown course, in the future, from the portal.
    expectStatus(await certify(other.id, course.id), 400);
    expectStatus(await certify(ann.id, '00000000-0000-4000-8000-000000000000'), 400);
    expectStatus(await certify(ann.id, course.id, new Date(Date.now() + DAY).toISOString()), 400);
    expectStatus(await a.client.post('/api/v1/prm/certifications', { courseId: course.id, personId: ann.id, partnerId: a.id }), 403);

    const mine = await ok(a.client.get('/api/v1/prm/certifications?limit=100'));
    expect(mine.data).toHaveLength(5);
    expect(mine.data.every((c: any) => c.partnerId === a.id)).toBe(true);
    expect(mine.data.filter((c: any) => !c.valid).map((c: any) => c.personId)).toEqual([bob.id]);
    expect((await ok(a.client.get('/api/v1/prm/certifications?valid=false'))).data.map((c: any) => c.personId)).toEqual([bob.id]);

    // Two approved registrations: the registration criteria of gold are met; certified staff = Ann and Cid.
    for (const name of ['Tier One', 'Tier Two']) {
      const reg = await ok(a.client.post('/api/v1/prm/registrations', { ...base, partnerId: a.id, customerName: name }), 201);
      await ok(t.admin.post(`/api/v1/prm/registrations/${reg.id}/approve`));
    }
    const standing = await ok(a.client.get(`/api/v1/prm/partners/${a.id}/tier`));
    expect(standing.metrics.certifiedStaff).toBe(2);
    expect(standing.qualifiedTier).toBe('gold');
    expect(standing.nextTier).toBe('platinum');
    expect(standing.gap).toEqual({ approvedRegistrations: 0, certifiedStaff: 3 });

    // The evaluation is recorded as an observation both sides can read.
    expectStatus(await a.client.post(`/api/v1/prm/partners/${a.id}/tier/evaluations`), 403);
    const evaluation = await ok(t.admin.post(`/api/v1/prm/partners/${a.id}/tier/evaluations`), 201);
    expect(evaluation.observation).toMatchObject({
      indicator: 'prm.tier-standing',
      subjectId: a.relationshipId,
      value: 2,
      details: { qualifiedTier: 'gold', currentTier: 'silver', gap: { certifiedStaff: 3 } },
    });
    const seen = await ok(a.client.get(`/api/v1/observations?indicator=prm.tier-standing&subjectId=${a.relationshipId}`));
    expect(seen.data.map((o: any) => o.id)).toEqual([evaluation.observation.id]);
    const annPortal = await t.clientFor({ roles: ['admin'], scopePartyId: ann.id });
    expect((await ok(annPortal.get(`/api/v1/observations?subjectId=${a.relationshipId}`))).data.map((o: any) => o.id)).toContain(evaluation.observation.id);
    expect((await ok(b.client.get(`/api/v1/observations?subjectId=${a.relationshipId}`))).data).toEqual([]);
  });
});

describe('mutual-benefit scorecard', () => {
  it('equals an independent computation from the records, and both sides read the same figures', async () => {
    // Give the firm's decisions a duration: backdate the submissions.
    const submitted = [];
    for (const [name, days] of [
      ['Score A', 2],
      ['Score B', 5],
      ['Score C', 1],
    ] as const) {
      const reg = await ok(a.client.post('/api/v1/prm/registrations', { ...base, value: 1000 * days, partnerId: a.id, customerName: name }), 201);
      await t.app
        .knex('prm_registrations')
        .where({ id: reg.id })
        .update({ created_at: new Date(Date.now() - days * DAY) });
      submitted.push(reg);
    }
    await ok(t.admin.post(`/api/v1/prm/registrations/${submitted[0].id}/approve`));
    await ok(t.admin.post(`/api/v1/prm/registrations/${submitted[1].id}/reject`, { reason: 'Direct account' }));
    // MDF: one claimed, one only approved.
    const budget = await ok(t.admin.post('/api/v1/prm/mdf/budgets', { program: 'Resell', period: '2027', currency: 'EUR', amount: 5000 }), 201);
    const m1 = await ok(a.client.post('/api/v1/prm/mdf/requests', { budgetId: budget.id, partnerId: a.id, activity: 'Webinar', amount: 800 }), 201);
    await ok(t.admin.post(`/api/v1/prm/mdf/requests/${m1.id}/approve`));
    await ok(a.client.post(`/api/v1/prm/mdf/requests/${m1.id}/claim`, { amount: 650, proof: 'invoice-1.pdf' }));
    const m2 = await ok(a.client.post('/api/v1/prm/mdf/requests', { budgetId: budget.id, partnerId: a.id, activity: 'Fair', amount: 300 }), 201);
    await ok(t.admin.post(`/api/v1/prm/mdf/requests/${m2.id}/approve`));
    // Leads: A is the only partner of the rule; it accepts one and declines one, one stays open.
    await ok(t.admin.post('/api/v1/prm/lead-rules', { name: 'Alpha only', tiers: ['silver'], weight: 1 }), 201);
    await t.app
      .knex('rapport_relationships')
      .where({ id: b.relationshipId })
      .update({ attributes: { kind: 'reseller', program: 'Resell', tier: 'bronze' } });
    const offers = [];
    for (const name of ['Lead 1', 'Lead 2', 'Lead 3']) offers.push((await ok(t.admin.post('/api/v1/prm/leads', { customerName: name }), 201)).offers[0]);
    expect(offers.every((o: any) => o.partnerId === a.id)).toBe(true);
    await ok(a.client.post(`/api/v1/prm/lead-offers/${offers[0].id}/accept`));
    await ok(a.client.post(`/api/v1/prm/lead-offers/${offers[1].id}/decline`, { reason: 'Too small' }));

    // The independent computation, from what the firm lists.
    const regs = (await ok(t.admin.get(`/api/v1/prm/registrations?partnerId=${a.id}&limit=200`))).data;
    const won = regs.filter((r: any) => r.status === 'approved' || r.status === 'expired');
    const revenue = won.reduce((s: number, r: any) => s + r.value, 0);
    const reviewed = regs.filter((r: any) => r.decidedAt && Date.parse(r.decidedAt) > Date.parse(r.createdAt));
    const reviewedApproved = reviewed.filter((r: any) => r.status !== 'rejected');
    const meanDays = reviewed.reduce((s: number, r: any) => s + (Date.parse(r.decidedAt) - Date.parse(r.createdAt)), 0) / reviewed.length / DAY;
    const mdfRequests = (await ok(t.admin.get(`/api/v1/prm/mdf/requests?partnerId=${a.id}`))).data;
    const mdfUsed = mdfRequests.filter((r: any) => r.status === 'claimed' || r.status === 'paid').reduce((s: number, r: any) => s + r.claimedAmount, 0);
    const leadOffers = (await ok(t.admin.get(`/api/v1/prm/lead-offers?partnerId=${a.id}&limit=200`))).data;
    const ended = leadOffers.filter((o: any) => o.status !== 'offered');
    const accepted = leadOffers.filter((o: any) => o.status === 'accepted');
    const r2 = (n: number) => Math.round(n * 100) / 100;

    const card = await ok(t.admin.get(`/api/v1/prm/partners/${a.id}/scorecard`));
    expect(card).toMatchObject({
      partnerId: a.id,
      relationshipId: a.relationshipId,
      partnerSourcedRevenue: revenue,
      marginEarned: r2(revenue * 0.1), // silver: 10 % margin, no rebate
      rebatesEarned: null,
      mdfUsed,
      registrationApprovalRate: r2((100 * reviewedApproved.length) / reviewed.length),
      registrationsDecided: reviewed.length,
      leadAcceptanceRate: r2((100 * accepted.length) / ended.length),
      leadsOffered: leadOffers.length,
      leadsAccepted: accepted.length,
    });
    expect(card.meanDaysToDecision).toBeCloseTo(meanDays, 2);
    // Sanity of the fixture itself, so the comparison above is not vacuous.
    expect([mdfUsed, accepted.length, ended.length]).toEqual([650, 1, 2]);
    expect(reviewed.length).toBeGreaterThanOrEqual(3);
    expect(card.meanDaysToDecision).toBeGreaterThan(0.5);

    // The partner reads the same figures; the other partner cannot.
    const { periodStart: _s, periodEnd: _e, ...figures } = card;
    expect(await ok(a.client.get(`/api/v1/prm/partners/${a.id}/scorecard`))).toMatchObject(figures);
    expectStatus(await b.client.get(`/api/v1/prm/partners/${a.id}/scorecard`), 404);

    // A snapshot records them as indicators on the partnership, visible to the partner.
    expectStatus(await a.client.post(`/api/v1/prm/partners/${a.id}/scorecard/snapshots`), 403);
    const snap = await ok(t.admin.post(`/api/v1/prm/partners/${a.id}/scorecard/snapshots`), 201);
    const byIndicator = Object.fromEntries(snap.observations.map((o: any) => [o.indicator, o.value]));
    expect(byIndicator).toEqual({
      'prm.partner-sourced-revenue': revenue,
      'prm.partner-earnings': r2(revenue * 0.1),
      'prm.mdf-used': 650,
      'prm.registration-approval-rate': card.registrationApprovalRate,
      'prm.registration-decision-days': snap.scorecard.meanDaysToDecision,
      'prm.lead-acceptance-rate': 50,
    });
    const visible = await ok(a.client.get(`/api/v1/observations?subjectId=${a.relationshipId}&limit=100`));
    expect(visible.data.filter((o: any) => o.indicator.startsWith('prm.')).length).toBeGreaterThanOrEqual(6);
    const summary = await ok(a.client.get(`/api/v1/indicators/prm.lead-acceptance-rate/summary?subjectId=${a.relationshipId}`));
    expect(summary.value).toBe(50);
  });
});
