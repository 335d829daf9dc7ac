import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import prm from '@rapport/plugin-prm';
import crm, { registrationSource } from '../src/index.js';

/*
 * CRM's side of the two PRM extension points, with both plugins loaded and driven through
 * PRM's own routes: an approved registration becomes a CRM deal (`prm.registration.convert`),
 * and a registration for a customer the direct team is working is flagged
 * (`prm.registration.conflicts`, reason `open-direct-deal`).
 */
let t: TestApp;
let partner: { id: string; client: TestClient };
let other: { id: string; client: TestClient };
let pipelineId: string;
let firstStageId: string;

const ok = async (response: Promise<{ status: number; body: any; text: string }>, status = 200) => {
  const res = await response;
  expect(res.status, res.text).toBe(status);
  return res.body;
};
const organization = async (name: string, domain?: string) =>
  (await ok(t.admin.post('/api/v1/parties', { kind: 'organization', name, ...(domain ? { contactPoints: [{ kind: 'domain', value: domain }] } : {}) }), 201)).id as string;

async function activePartner(name: string) {
  const id = await organization(name);
  await ok(
    t.admin.post('/api/v1/relationships', { type: 'prm.partner', fromPartyId: t.selfPartyId, toPartyId: id, status: 'active', attributes: { kind: 'reseller', program: 'Resell', tier: 'silver' } }),
    201,
  );
  return { id, client: await t.clientFor({ roles: ['admin'], scopePartyId: id }) };
}

const register = (p: { id: string; client: TestClient }, customerName: string, customerDomain?: string, value = 42_000.5) =>
  ok(p.client.post('/api/v1/prm/registrations', { partnerId: p.id, customerName, ...(customerDomain ? { customerDomain } : {}), value, currency: 'EUR', expectedCloseDate: '2027-04-30' }), 201);

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm, prm] });
  partner = await activePartner('Alpha Resellers');
  other = await activePartner('Beta Distribution');
});

afterAll(() => t?.close());

describe('prm.registration.convert → a CRM deal', () => {
  it('refuses the approval while CRM has no pipeline, and writes nothing', async () => {
    const registration = await register(partner, 'Too Early Ltd', 'too-early.example');
    const res = await t.admin.post(`/api/v1/prm/registrations/${registration.id}/approve`, {});
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.detail ?? res.body.title).toMatch(/no pipeline/);
    expect((await ok(t.admin.get(`/api/v1/prm/registrations/${registration.id}`))).status).toBe('submitted');
    expect((await ok(t.admin.get('/api/v1/crm/deals'))).data).toEqual([]);
  });

  it('opens a deal in the first open stage of the first pipeline, with a new account for an unknown customer', async () => {
    const pipeline = await ok(
      t.admin.post('/api/v1/crm/pipelines', {
        name: 'Channel',
        stages: [
          { name: 'Registered', probability: 30 },
          { name: 'Won', outcome: 'won' },
          { name: 'Lost', outcome: 'lost' },
        ],
      }),
      201,
    );
    await ok(t.admin.post('/api/v1/crm/pipelines', { name: 'Later', stages: [{ name: 'Other' }] }), 201);
    pipelineId = pipeline.id;
    firstStageId = pipeline.stages[0].id;
    const registration = await register(partner, 'Initech', 'www.initech.example');
    const approved = await ok(t.admin.post(`/api/v1/prm/registrations/${registration.id}/approve`, {}));
    expect(approved.status).toBe('approved');
    expect(approved.dealId).toEqual(expect.any(String));
    const deal = await ok(t.admin.get(`/api/v1/crm/deals/${approved.dealId}`));
    expect(deal).toMatchObject({ pipelineId, stageId: firstStageId, status: 'open', amount: 42_000.5, currency: 'EUR', expectedClose: '2027-04-30', source: registrationSource(registration.id) });
    const account = await ok(t.admin.get(`/api/v1/parties/${deal.accountId}`));
    expect(account).toMatchObject({ kind: 'organization', name: 'Initech' });
    expect(account.contactPoints).toEqual([{ kind: 'domain', value: 'initech.example' }]);
    // The registration as stored by PRM carries the deal too.
    expect((await ok(t.admin.get(`/api/v1/prm/registrations/${registration.id}`))).dealId).toBe(deal.id);
  });

  it('attaches the deal to the existing account found by domain', async () => {
    const acme = await organization('Acme Corporation', 'acme.example');
    const registration = await register(partner, 'ACME', 'acme.example', 900);
    const approved = await ok(t.admin.post(`/api/v1/prm/registrations/${registration.id}/approve`, {}));
    expect(await ok(t.admin.get(`/api/v1/crm/deals/${approved.dealId}`))).toMatchObject({ accountId: acme, amount: 900 });
  });
});

describe('prm.registration.conflicts ← open direct deals', () => {
  it('flags a registration for a customer with an open direct deal, telling the partner why but not whose', async () => {
    const globex = await organization('Globex', 'globex.example');
    const direct = await ok(t.admin.post('/api/v1/crm/deals', { title: 'Globex expansion', pipelineId, amount: 5000, currency: 'EUR', accountId: globex, ownerPartyId: null }), 201);
    const submitted = await register(other, 'Globex Inc', 'https://globex.example/');
    const flagged = submitted.conflicts.filter((c: any) => c.kind === 'open-direct-deal');
    expect(flagged).toHaveLength(1);
    expect(flagged[0].message).toMatch(/open deal/);
    expect(flagged[0].recordId).toBeUndefined(); // the partner never sees the deal's id
    const asFirm = await ok(t.admin.get(`/api/v1/prm/registrations/${submitted.id}`));
    expect(asFirm.conflicts.find((c: any) => c.kind === 'open-direct-deal')).toMatchObject({ recordId: direct.id });
  });

  it('finds the customer by name when no domain is given, and ignores closed deals and deals opened from registrations', async () => {
    const umbrella = await organization('Umbrella  Group');
    const open = await ok(t.admin.post('/api/v1/crm/deals', { title: 'Umbrella', pipelineId, amount: 1, currency: 'EUR', accountId: umbrella, ownerPartyId: null }), 201);
    const byName = await register(partner, 'umbrella group');
    expect(byName.conflicts.filter((c: any) => c.kind === 'open-direct-deal')).toHaveLength(1);

    await ok(t.admin.post(`/api/v1/crm/deals/${open.id}/move`, { stageId: (await ok(t.admin.get(`/api/v1/crm/pipelines/${pipelineId}`))).stages.find((s: any) => s.outcome === 'won').id }));
    const afterWin = await register(other, 'Umbrella Group');
    expect(afterWin.conflicts.filter((c: any) => c.kind === 'open-direct-deal')).toEqual([]);

    // Initech's open deal came from Alpha's registration: a channel deal, not a direct one.
    const initech = await register(other, 'Initech', 'initech.example');
    expect(initech.conflicts.filter((c: any) => c.kind === 'open-direct-deal')).toEqual([]);
  });

  it('leaves a registration for an unknown customer without CRM conflicts', async () => {
    const fresh = await register(partner, 'Hooli', 'hooli.example');
    expect(fresh.conflicts).toEqual([]);
  });
});
