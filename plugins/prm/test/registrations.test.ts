import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import { createPrmPlugin } from '../src/index.js';
import { activePartner, expectStatus, ok, organization, person, salesPlugin, shopPlugin } from './helpers.js';

const PROTECTION_DAYS = 30;
let t: TestApp;
let a: { id: string; relationshipId: string; client: TestClient };
let b: { id: string; relationshipId: string; client: TestClient };
const base = { value: 50_000, currency: 'EUR', expectedCloseDate: '2027-03-31' };

beforeAll(async () => {
  t = await createTestApp({ plugins: [createPrmPlugin({ protectionDays: PROTECTION_DAYS }), shopPlugin, salesPlugin] });
  a = await activePartner(t, 'Alpha Resellers');
  b = await activePartner(t, 'Beta Distribution');
});
afterAll(() => t?.close());

describe('onboarding', () => {
  it('lets an applicant apply from the portal but only the firm moves it on', async () => {
    const applicant = await organization(t, 'Gamma Apps');
    const portal = await t.clientFor({ roles: ['admin'], scopePartyId: applicant });
    const application = { type: 'prm.partner', fromPartyId: t.selfPartyId, toPartyId: applicant, attributes: { kind: 'technology' } };

    expectStatus(await portal.post('/api/v1/relationships', { ...application, status: 'active' }), 403);
    expectStatus(await portal.post('/api/v1/relationships', { ...application, attributes: { kind: 'technology', tier: 'gold' } }), 403);
    // The applicant cannot see the firm's party yet: the PRM route opens the application for it.
    expectStatus(await portal.post('/api/v1/relationships', application), 400);
    expectStatus(await portal.post('/api/v1/prm/partners/applications', { partnerId: a.id, kind: 'technology' }), 404);
    const rel = await ok(portal.post('/api/v1/prm/partners/applications', { partnerId: applicant, kind: 'technology', applicationNote: 'We build integrations' }), 201);
    expect(rel).toMatchObject({ status: 'application', fromRole: 'principal', toRole: 'partner', fromPartyId: t.selfPartyId });
    expectStatus(await portal.post('/api/v1/prm/partners/applications', { partnerId: applicant, kind: 'technology' }), 409);
    const seen = await ok(portal.get(`/api/v1/relationships/${rel.id}`));
    expect(seen.attributes).toEqual({ kind: 'technology', applicationNote: 'We build integrations' });

    expectStatus(await portal.patch(`/api/v1/relationships/${rel.id}`, { status: 'active' }, { headers: { 'if-match': '1' } }), 403);
    // application → active skips review: the transition table refuses it.
    const skip = await t.admin.patch(`/api/v1/relationships/${rel.id}`, { status: 'active' }, { headers: { 'if-match': '1' } });
    expect(skip.status).toBeGreaterThanOrEqual(400);
    expect(skip.status).toBeLessThan(500);
    const review = await ok(t.admin.patch(`/api/v1/relationships/${rel.id}`, { status: 'review' }, { headers: { 'if-match': '1' } }));
    expect(review.status).toBe('review');
    const active = await ok(t.admin.patch(`/api/v1/relationships/${rel.id}`, { status: 'active', attributes: { kind: 'technology', tier: 'gold' } }, { headers: { 'if-match': '2' } }));
    expect(active).toMatchObject({ status: 'active', attributes: { tier: 'gold' } });
  });

  it('keeps the self party at the firm end', async () => {
    const x = await organization(t, 'Not Us');
    const y = await organization(t, 'Somebody');
    const res = await t.admin.post('/api/v1/relationships', { type: 'prm.partner', fromPartyId: x, toPartyId: y, attributes: { kind: 'referral' } });
    expectStatus(res, 422);
    expect(res.body.detail).toContain('self party');
  });
});

describe('deal registration', () => {
  it('detects a conflict and lets the first to file win', async () => {
    const first = await ok(a.client.post('/api/v1/prm/registrations', { ...base, partnerId: a.id, customerName: 'Initech', customerDomain: 'initech.com' }), 201);
    expect(first).toMatchObject({ status: 'submitted', conflicts: [], partnerId: a.id, relationshipId: a.relationshipId });

    // Same customer, spelled differently, by another partner.
    const second = await ok(b.client.post('/api/v1/prm/registrations', { ...base, partnerId: b.id, customerName: 'INITECH, Inc', customerDomain: 'https://www.initech.com/about' }), 201);
    expect(second.status).toBe('rejected');
    expect(second.decisionReason).toMatch(/First to file/);
    // B learns there is a conflict, not whose registration it is.
    expect(second.conflicts).toEqual([{ kind: 'registration' }]);
    const asAdmin = await ok(t.admin.get(`/api/v1/prm/registrations/${second.id}`));
    expect(asAdmin.conflicts).toEqual([{ kind: 'registration', registrationId: first.id, filedAt: first.createdAt }]);

    // Each step is on both timelines.
    const steps = await ok(t.admin.get(`/api/v1/parties/${b.id}/timeline`));
    const mine = steps.data
      .filter((i: any) => i.attributes.registrationId === second.id)
      .map((i: any) => i.attributes.step)
      .sort();
    expect(mine).toEqual(['rejected', 'submitted']);
    const firm = await ok(t.admin.get(`/api/v1/parties/${t.selfPartyId}/timeline?limit=200`));
    expect(firm.data.filter((i: any) => i.attributes.registrationId === second.id)).toHaveLength(2);

    // Approval starts the protection period; the partner sees it.
    const approved = await ok(t.admin.post(`/api/v1/prm/registrations/${first.id}/approve`, { reason: 'Welcome' }));
    expect(approved.status).toBe('approved');
    const until = Date.parse(approved.protectedUntil) - Date.parse(approved.decidedAt);
    expect(until).toBe(PROTECTION_DAYS * 86_400_000);
    const seen = await ok(a.client.get(`/api/v1/prm/registrations/${first.id}`));
    expect(seen).toMatchObject({ status: 'approved', decisionReason: 'Welcome' });
    expectStatus(await t.admin.post(`/api/v1/prm/registrations/${first.id}/reject`, { reason: 'too late' }), 409);
  });

  it('converts an approved registration into a deal through prm.registration.convert', async () => {
    const reg = await ok(a.client.post('/api/v1/prm/registrations', { ...base, partnerId: a.id, customerName: 'Umbrella' }), 201);
    const approved = await ok(t.admin.post(`/api/v1/prm/registrations/${reg.id}/approve`));
    expect(approved.dealId).toBe(`deal-${reg.id}`);
    expect((await ok(a.client.get(`/api/v1/prm/registrations/${reg.id}`))).dealId).toBe(`deal-${reg.id}`);
    // A veto from the sales side refuses the approval and writes nothing.
    const vetoed = await ok(a.client.post('/api/v1/prm/registrations', { ...base, partnerId: a.id, customerName: 'Veto Corp' }), 201);
    const res = await t.admin.post(`/api/v1/prm/registrations/${vetoed.id}/approve`);
    expectStatus(res, 422);
    expect(res.body.detail).toContain('sales:');
    expect(await ok(t.admin.get(`/api/v1/prm/registrations/${vetoed.id}`))).toMatchObject({ status: 'submitted', dealId: null, version: 1 });
  });

  it('rejects with a reason the partner reads', async () => {
    const reg = await ok(b.client.post('/api/v1/prm/registrations', { ...base, partnerId: b.id, customerName: 'Vandelay Industries' }), 201);
    expectStatus(await t.admin.post(`/api/v1/prm/registrations/${reg.id}/reject`, {}), 400);
    await ok(t.admin.post(`/api/v1/prm/registrations/${reg.id}/reject`, { reason: 'We already sell to them directly' }));
    const seen = await ok(b.client.get(`/api/v1/prm/registrations/${reg.id}`));
    expect(seen).toMatchObject({ status: 'rejected', decisionReason: 'We already sell to them directly' });
  });

  it('flags an existing customer without CRM', async () => {
    const globex = await organization(t, 'Globex Corporation', 'globex.example');
    await ok(t.admin.post('/api/v1/relationships', { type: 'shop.customer', fromPartyId: t.selfPartyId, toPartyId: globex }), 201);
    const reg = await ok(a.client.post('/api/v1/prm/registrations', { ...base, partnerId: a.id, customerName: 'Globex EU', customerDomain: 'globex.example' }), 201);
    expect(reg.status).toBe('submitted');
    expect(reg.conflicts).toEqual([{ kind: 'existing-customer' }]);
    const asAdmin = await ok(t.admin.get(`/api/v1/prm/registrations/${reg.id}`));
    expect(asAdmin.conflicts).toEqual([{ kind: 'existing-customer', partyId: globex }]);
  });

  it('lets protection expire, after which another partner may register', async () => {
    const reg = await ok(a.client.post('/api/v1/prm/registrations', { ...base, partnerId: a.id, customerName: 'Hooli', customerDomain: 'hooli.example' }), 201);
    await ok(t.admin.post(`/api/v1/prm/registrations/${reg.id}/approve`));
    // While protected, B's registration is refused by first-to-file.
    const blocked = await ok(b.client.post('/api/v1/prm/registrations', { ...base, partnerId: b.id, customerName: 'Hooli' }), 201);
    expect(blocked.status).toBe('rejected');
    // Time passes: the protection ends by itself.
    await t.app
      .knex('prm_registrations')
      .where({ id: reg.id })
      .update({ protected_until: new Date(Date.now() - 1000) });
    expect((await ok(a.client.get(`/api/v1/prm/registrations/${reg.id}`))).status).toBe('expired');
    const listed = await ok(a.client.get('/api/v1/prm/registrations?status=expired'));
    expect(listed.data.map((r: any) => r.id)).toEqual([reg.id]);

    const swept = await ok(t.admin.post('/api/v1/prm/registrations/expire'));
    expect(swept.expired.map((r: any) => r.id)).toEqual([reg.id]);
    const steps = await ok(t.admin.get(`/api/v1/relationships/${a.relationshipId}/timeline?limit=200`));
    expect(steps.data.some((i: any) => i.attributes.registrationId === reg.id && i.attributes.step === 'expired')).toBe(true);

    const again = await ok(b.client.post('/api/v1/prm/registrations', { ...base, partnerId: b.id, customerName: 'Hooli' }), 201);
    expect(again).toMatchObject({ status: 'submitted', conflicts: [] });
  });

  it('decides the race between two partners filing at once', async () => {
    const [x, y] = await Promise.all([
      a.client.post('/api/v1/prm/registrations', { ...base, partnerId: a.id, customerName: 'Massive Dynamic' }),
      b.client.post('/api/v1/prm/registrations', { ...base, partnerId: b.id, customerName: 'massive dynamic' }),
    ]);
    expect([x.status, y.status]).toEqual([201, 201]);
    expect([x.body.status, y.body.status].sort()).toEqual(['rejected', 'submitted']);
  });

  it('lets a staff member of the partner act for it, and records who submitted', async () => {
    const staff = await person(t, 'Ada Alpha');
    await ok(t.admin.post('/api/v1/relationships', { type: 'prm.staff', fromPartyId: staff, toPartyId: a.id }), 201);
    const portal = await t.clientFor({ roles: ['admin'], scopePartyId: staff });
    const reg = await ok(portal.post('/api/v1/prm/registrations', { ...base, partnerId: a.id, customerName: 'Soylent' }), 201);
    const list = await ok(portal.get('/api/v1/prm/registrations?limit=200'));
    expect(list.data.every((r: any) => r.partnerId === a.id)).toBe(true);
    expect(list.data.map((r: any) => r.id)).toContain(reg.id);
    expectStatus(await portal.post('/api/v1/prm/registrations', { ...base, partnerId: b.id, customerName: 'Soylent' }), 404);
    const timeline = await ok(portal.get(`/api/v1/parties/${staff}/timeline`));
    expect(timeline.data[0]).toMatchObject({ type: 'prm.deal-registration', attributes: { registrationId: reg.id, step: 'submitted' } });
    expect(timeline.data[0].participants).toContainEqual({ partyId: staff, role: 'submitter' });
  });

  it('refuses bad input with 4xx and writes nothing', async () => {
    const count = async () => Number((await t.app.knex('prm_registrations').count('* as n').first())!.n);
    const before = await count();
    const bad = [
      { ...base, partnerId: a.id, customerName: 'X', customerDomain: 'not a domain' },
      { ...base, partnerId: a.id, customerName: '!!!' },
      { ...base, partnerId: a.id, customerName: 'X', currency: 'euro' },
      { ...base, partnerId: a.id, customerName: 'X', expectedCloseDate: '2027-02-30' },
      { ...base, partnerId: a.id, customerName: 'X', value: -1 },
      // numeric(18,2) would round it to 10.01 silently.
      { ...base, partnerId: a.id, customerName: 'X', value: 10.005 },
      { ...base, partnerId: a.id, customerName: 'X', expectedCloseDate: '0000-01-01' },
      { ...base, partnerId: a.id, customerName: 'X', extra: true },
      { ...base, partnerId: await organization(t, 'Not A Partner'), customerName: 'X' },
    ];
    for (const body of bad) {
      const res = await t.admin.post('/api/v1/prm/registrations', body);
      expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect(await count()).toBe(before);
    expectStatus(await t.admin.get('/api/v1/prm/registrations?cursor=garbage'), 400);
  });
});

describe('portal isolation', () => {
  it('answers 404 to partner A on every PRM route with partner B ids', async () => {
    const bReg = await ok(b.client.post('/api/v1/prm/registrations', { ...base, partnerId: b.id, customerName: 'Private B Customer' }), 201);
    const list = await ok(a.client.get('/api/v1/prm/registrations?limit=200'));
    expect(list.data.length).toBeGreaterThan(0);
    expect(list.data.every((r: any) => r.partnerId === a.id)).toBe(true);
    expect((await ok(a.client.get(`/api/v1/prm/registrations?partnerId=${b.id}`))).data).toEqual([]);

    const byPath: Record<string, () => Promise<{ status: number; text: string }>> = {
      'GET /api/v1/prm/registrations/:id': () => a.client.get(`/api/v1/prm/registrations/${bReg.id}`),
      'POST /api/v1/prm/registrations/:id/approve': () => a.client.post(`/api/v1/prm/registrations/${bReg.id}/approve`, {}),
      'POST /api/v1/prm/registrations/:id/reject': () => a.client.post(`/api/v1/prm/registrations/${bReg.id}/reject`, { reason: 'mine' }),
      'GET /api/v1/prm/partners/:partnerId/tier': () => a.client.get(`/api/v1/prm/partners/${b.id}/tier`),
    };
    // A guard: a new PRM route with an id fails here until it is walked above.
    // (supply.test.ts walks the buy side; isolation.test.ts walks every PRM route.)
    const withIds = t.app.http
      .routes()
      .filter((r) => r.owner === 'prm' && r.fullPath.includes('/:') && /^\/api\/v1\/prm\/(registrations\/|partners\/:partnerId\/tier$)/.test(r.fullPath))
      .map((r) => `${r.method.toUpperCase()} ${r.fullPath}`);
    expect(withIds.sort()).toEqual(Object.keys(byPath).sort());
    for (const [route, call] of Object.entries(byPath)) {
      const res = await call();
      // Deciding is refused to every portal principal (403) before any lookup; reads are 404.
      expect([404, 403], `${route}: ${res.text}`).toContain(res.status);
      if (route.startsWith('GET')) expect(res.status).toBe(404);
    }
    expectStatus(await a.client.post('/api/v1/prm/registrations', { ...base, partnerId: b.id, customerName: 'Sneaky' }), 404);
    expectStatus(await a.client.get(`/api/v1/prm/partners/${b.id}/tier`), 404);
    expectStatus(await a.client.post('/api/v1/prm/registrations/expire'), 403);
    expect((await ok(t.admin.get(`/api/v1/prm/registrations/${bReg.id}`))).status).toBe('submitted');
  });

  it('shows every PRM route in the OpenAPI document', async () => {
    const doc = await ok(t.admin.get('/api/v1/openapi.json'));
    const prm = t.app.http.routes().filter((r) => r.owner === 'prm');
    for (const r of prm) {
      const path = r.fullPath.replace(/:(\w+)/g, '{$1}');
      expect(doc.paths[path]?.[r.method], `${r.method} ${path}`).toBeDefined();
    }
  });
});

describe('programs and tiers', () => {
  it('shows the partner its tier, the criteria and its gap to the next tier', async () => {
    const program = await ok(
      t.admin.post('/api/v1/prm/programs', {
        name: 'Resell',
        tiers: [
          { name: 'silver', criteria: { approvedRegistrations: 1 } },
          { name: 'gold', criteria: { partnerSourcedRevenue: 500_000, approvedRegistrations: 5, registrationApprovalRate: 80 } },
        ],
      }),
      201,
    );
    expectStatus(await a.client.post('/api/v1/prm/programs', { name: 'Mine', tiers: [{ name: 'x', criteria: {} }] }), 403);
    expectStatus(await t.admin.post('/api/v1/prm/programs', { name: 'Bad', tiers: [{ name: 'x', criteria: { karma: 1 } }] }), 400);
    expect((await ok(a.client.get('/api/v1/prm/programs'))).data.map((p: any) => p.id)).toEqual([program.id]);

    // Independent computation from A's registrations as the firm lists them.
    const regs = (await ok(t.admin.get(`/api/v1/prm/registrations?partnerId=${a.id}&limit=200`))).data;
    const won = regs.filter((r: any) => r.status === 'approved' || r.status === 'expired');
    const decided = regs.filter((r: any) => r.status !== 'submitted');
    const revenue = won.reduce((s: number, r: any) => s + r.value, 0);
    const rate = Math.round((10000 * won.length) / decided.length) / 100;
    expect(won.length).toBeGreaterThan(0);

    const standing = await ok(a.client.get(`/api/v1/prm/partners/${a.id}/tier`));
    expect(standing).toEqual({
      partnerId: a.id,
      relationshipId: a.relationshipId,
      program: 'Resell',
      currentTier: 'silver',
      qualifiedTier: 'silver',
      metrics: { partnerSourcedRevenue: revenue, approvedRegistrations: won.length, registrationApprovalRate: rate, certifiedStaff: 0 },
      nextTier: 'gold',
      gap: { partnerSourcedRevenue: Math.max(0, 500_000 - revenue), approvedRegistrations: Math.max(0, 5 - won.length), registrationApprovalRate: Math.max(0, 80 - rate) },
    });
    expectStatus(await a.client.get(`/api/v1/prm/partners/${b.id}/tier`), 404);
  });
});
