import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import prm from '../src/index.js';
import { expectStatus, ok, organization } from './helpers.js';

let t: TestApp;
type Partner = { id: string; relationshipId: string; client: TestClient };
let gold: Partner;
let silver: Partner;
let other: Partner; // another program

async function partner(name: string, program: string, tier: string): Promise<Partner> {
  const id = await organization(t, name);
  const rel = await ok(
    t.admin.post('/api/v1/relationships', { type: 'prm.partner', fromPartyId: t.selfPartyId, toPartyId: id, status: 'active', attributes: { kind: 'reseller', program, tier } }),
    201,
  );
  return { id, relationshipId: rel.id, client: await t.clientFor({ roles: ['admin'], scopePartyId: id }) };
}
const ifMatch = (v: number) => ({ headers: { 'if-match': String(v) } });

beforeAll(async () => {
  t = await createTestApp({ plugins: [prm] });
  gold = await partner('Gold Co', 'Resell', 'gold');
  silver = await partner('Silver Co', 'Resell', 'silver');
  other = await partner('Other Co', 'Refer', 'gold');
});
afterAll(() => t?.close());

describe('joint business plans', () => {
  it('lets both sides edit, refuses stale edits and records who made each one', async () => {
    const plan = await ok(gold.client.post('/api/v1/prm/plans', { partnerId: gold.id, title: 'FY27 growth', period: '2027' }), 201);
    expect(plan).toMatchObject({ status: 'draft', version: 1, partnerId: gold.id, relationshipId: gold.relationshipId });
    expectStatus(await gold.client.post('/api/v1/prm/plans', { partnerId: silver.id, title: 'Theirs', period: '2027' }), 404);

    // The firm adds a goal; the partner adds a milestone based on the version it saw.
    expectStatus(await t.admin.post(`/api/v1/prm/plans/${plan.id}/items`, { kind: 'goal', title: 'Revenue', target: 500_000, unit: 'EUR' }), 428);
    const withGoal = await ok(t.admin.post(`/api/v1/prm/plans/${plan.id}/items`, { kind: 'goal', title: 'Revenue', target: 500_000, unit: 'EUR' }, ifMatch(1)), 201);
    expect(withGoal.version).toBe(2);
    // The partner still holds version 1: refused, nothing written.
    const stale = await gold.client.post(`/api/v1/prm/plans/${plan.id}/items`, { kind: 'milestone', title: 'Joint webinar', dueDate: '2027-03-15' }, ifMatch(1));
    expectStatus(stale, 412);
    expect(stale.body.currentVersion).toBe(2);
    const both = await ok(gold.client.post(`/api/v1/prm/plans/${plan.id}/items`, { kind: 'milestone', title: 'Joint webinar', dueDate: '2027-03-15' }, ifMatch(2)), 201);
    expect(both.items.map((i: any) => i.kind)).toEqual(['goal', 'milestone']);

    // Progress on the goal, by the partner; the firm's concurrent edit of the same version loses.
    const goal = both.items[0];
    const progressed = await ok(gold.client.patch(`/api/v1/prm/plans/${plan.id}/items/${goal.id}`, { actual: 120_000 }, ifMatch(goal.version)));
    expect(progressed.items[0]).toMatchObject({ actual: 120_000, target: 500_000, version: 2 });
    expectStatus(await t.admin.patch(`/api/v1/prm/plans/${plan.id}/items/${goal.id}`, { target: 400_000 }, ifMatch(goal.version)), 412);
    const activated = await ok(t.admin.patch(`/api/v1/prm/plans/${plan.id}`, { status: 'active' }, ifMatch(3)));
    expect(activated.status).toBe('active');

    const seen = await ok(gold.client.get(`/api/v1/prm/plans/${plan.id}`));
    expect(seen.edits.map((e: any) => [e.action, e.side])).toEqual([
      ['plan-created', 'partner'],
      ['item-added', 'firm'],
      ['item-added', 'partner'],
      ['item-updated', 'partner'],
      ['plan-updated', 'firm'],
    ]);
    expect(seen.edits[0].partyId).toBe(gold.id);
    expect(seen.edits[3]).toMatchObject({ itemId: goal.id, changes: { actual: 120_000 } });
    expect(new Set(seen.edits.map((e: any) => e.principalId)).size).toBe(2);

    expectStatus(await silver.client.get(`/api/v1/prm/plans/${plan.id}`), 404);
    expect((await ok(silver.client.get('/api/v1/prm/plans'))).data).toEqual([]);
    expectStatus(await t.admin.patch(`/api/v1/prm/plans/${plan.id}`, { status: 'finished' }, ifMatch(4)), 400);
  });
});

describe('shared information base', () => {
  it('shows partners what their program and tier allow, and their contributions as they chose', async () => {
    const forAll = await ok(t.admin.post('/api/v1/prm/documents', { title: 'Brand guide', url: 'https://files.example/brand.pdf' }), 201);
    const goldOnly = await ok(t.admin.post('/api/v1/prm/documents', { title: 'Price list (gold)', url: 'https://files.example/gold.pdf', program: 'Resell', tiers: ['gold'] }), 201);
    const referOnly = await ok(t.admin.post('/api/v1/prm/documents', { title: 'Referral terms', content: 'Pay on close', program: 'Refer' }), 201);
    expectStatus(await t.admin.post('/api/v1/prm/documents', { title: 'Nothing' }), 400);
    expectStatus(await t.admin.post('/api/v1/prm/documents', { title: 'Bad', url: 'javascript:alert(1)' }), 400);

    // Partners contribute: one keeps it between itself and the firm, one shares it.
    expectStatus(await silver.client.post('/api/v1/prm/documents', { title: 'Mine', content: 'x' }), 400);
    expectStatus(await silver.client.post('/api/v1/prm/documents', { title: 'Mine', content: 'x', contributorId: silver.id, tiers: ['gold'] }), 400);
    expectStatus(await silver.client.post('/api/v1/prm/documents', { title: 'Theirs', content: 'x', contributorId: gold.id }), 404);
    const privateNote = await ok(silver.client.post('/api/v1/prm/documents', { title: 'Our integration notes', content: 'Notes', contributorId: silver.id }), 201);
    const sharedCase = await ok(gold.client.post('/api/v1/prm/documents', { title: 'Case study', url: 'https://gold.example/case', contributorId: gold.id, sharedWithPartners: true }), 201);

    const titles = async (c: TestClient) => (await ok(c.get('/api/v1/prm/documents?limit=100'))).data.map((d: any) => d.id).sort();
    expect(await titles(gold.client)).toEqual([forAll.id, goldOnly.id, sharedCase.id].sort());
    expect(await titles(silver.client)).toEqual([forAll.id, privateNote.id, sharedCase.id].sort());
    expect(await titles(other.client)).toEqual([forAll.id, referOnly.id, sharedCase.id].sort());
    expect(await titles(t.admin)).toEqual([forAll.id, goldOnly.id, referOnly.id, privateNote.id, sharedCase.id].sort());
    expectStatus(await silver.client.get(`/api/v1/prm/documents/${goldOnly.id}`), 404);
    expectStatus(await gold.client.get(`/api/v1/prm/documents/${privateNote.id}`), 404);

    // Promotion to gold opens the gold documents.
    await t.app
      .knex('rapport_relationships')
      .where({ id: silver.relationshipId })
      .update({ attributes: { kind: 'reseller', program: 'Resell', tier: 'gold' } });
    expect(await titles(silver.client)).toContain(goldOnly.id);

    // A partner withdraws its own contribution, never another's or the firm's.
    expectStatus(await silver.client.post(`/api/v1/prm/documents/${sharedCase.id}/archive`), 404);
    expectStatus(await silver.client.post(`/api/v1/prm/documents/${forAll.id}/archive`), 404);
    expect((await ok(gold.client.post(`/api/v1/prm/documents/${sharedCase.id}/archive`))).archivedAt).not.toBeNull();
    expect(await titles(silver.client)).not.toContain(sharedCase.id);
  });
});
