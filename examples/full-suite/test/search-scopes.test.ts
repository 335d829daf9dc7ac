import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestResponse } from '@rapport/testing';
import crm from '@rapport/plugin-crm';
import prm from '@rapport/plugin-prm';
import hrm from '@rapport/plugin-hrm';

/*
 * A principal scoped to a party searches every searchable type — the kernel's and each
 * plugin's — and gets back exactly the records within its reach: for each type there is a
 * record it may see and one it may not, both matching the same word.
 */
describe('search within reach, swept over every searchable type', () => {
  let t: TestApp;
  let inside: Map<string, string>;
  let outside: Map<string, string>;
  let me: string;
  let stranger: string;

  beforeAll(async () => {
    t = await createTestApp({ plugins: [crm, prm, hrm] });
    const party = async (kind: string, name: string) => {
      const res = await t.admin.post('/api/v1/parties', { kind, name });
      expect(res.status, res.text).toBe(201);
      return res.body.id as string;
    };
    me = await party('organization', 'Zephyrine Partner');
    stranger = await party('organization', 'Zephyrine Stranger');
    const unit = await party('unit', 'Facilities');
    inside = new Map([['party', me]]);
    outside = new Map([['party', stranger]]);

    const note = async (subject: string, partyId: string) => {
      const res = await t.admin.post('/api/v1/interactions', { type: 'note', occurredAt: new Date().toISOString(), direction: 'internal', subject, participants: [{ partyId, role: 'participant' }] });
      expect(res.status, res.text).toBe(201);
      return res.body.id as string;
    };
    inside.set('interaction', await note('Zephyrine kickoff', me));
    outside.set('interaction', await note('Zephyrine internal', stranger));

    const pipeline = await t.admin.post('/api/v1/crm/pipelines', {
      name: 'Sales',
      stages: [
        { name: 'Open', probability: 10 },
        { name: 'Won', outcome: 'won' },
      ],
    });
    expect(pipeline.status, pipeline.text).toBe(201);
    const deal = async (title: string, owner: string) => {
      const res = await t.admin.post('/api/v1/crm/deals', { title, pipelineId: pipeline.body.id, amount: 100, currency: 'EUR', accountId: owner, ownerPartyId: owner });
      expect(res.status, res.text).toBe(201);
      return res.body.id as string;
    };
    inside.set('crm.deal', await deal('Zephyrine rollout', me));
    outside.set('crm.deal', await deal('Zephyrine renewal', stranger));

    // Registrations and desk requests straight into their tables: their workflows are not under test here.
    const now = new Date();
    const registration = async (partnerId: string, name: string) => {
      const id = crypto.randomUUID();
      await t.app.knex('prm_registrations').insert({
        tenant_id: t.tenantId,
        id,
        partner_id: partnerId,
        relationship_id: crypto.randomUUID(),
        customer_name: name,
        customer_key: name.toLowerCase(),
        value: 10,
        currency: 'EUR',
        expected_close_date: '2027-12-31',
        status: 'pending',
        created_at: now,
        updated_at: now,
      });
      return id;
    };
    inside.set('prm.registration', await registration(me, 'Zephyrine Hotels'));
    outside.set('prm.registration', await registration(stranger, 'Zephyrine Resorts'));
    const request = async (requester: string, title: string) => {
      const id = crypto.randomUUID();
      await t.app.knex('hrm_requests').insert({
        tenant_id: t.tenantId,
        id,
        service_id: crypto.randomUUID(),
        provider_unit_id: unit,
        requester_party_id: requester,
        title,
        status: 'open',
        opened_at: now,
        resolution_due_at: new Date(now.getTime() + 86_400_000),
        version: 1,
      });
      return id;
    };
    inside.set('hrm.request', await request(me, 'Zephyrine badge'));
    outside.set('hrm.request', await request(stranger, 'Zephyrine parking'));
  });
  afterAll(() => t?.close());

  it('covers every searchable type there is', () => {
    const types = ['party', 'interaction', ...t.app.registries.searchSources.list().map((s) => s.key)];
    expect(types.sort()).toEqual([...inside.keys()].sort());
  });

  it('an admin finds both records of every type', async () => {
    const res = await t.admin.get('/api/v1/search?q=zephyrine&limit=50');
    expect(res.status, res.text).toBe(200);
    const found = new Set(res.body.data.map((h: { id: string }) => h.id));
    for (const [type, id] of [...inside, ...outside]) expect(found.has(id), type).toBe(true);
  });

  it('a scoped principal finds what it may see of every type and nothing else', async () => {
    const role = await t.admin.post('/api/v1/roles', { name: 'portal-search', permissions: ['parties:read', 'interactions:read', 'crm.deals:read', 'prm.registrations:read', 'hrm.desk:read'] });
    expect(role.status, role.text).toBe(201);
    const scoped = await t.clientFor({ roles: ['portal-search'], scopePartyId: me });
    const all: Array<{ type: string; id: string }> = [];
    let cursor: string | null = null;
    do {
      const res: TestResponse = await scoped.get(`/api/v1/search?q=zephyrine&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, res.text).toBe(200);
      all.push(...res.body.data);
      cursor = res.body.nextCursor;
    } while (cursor);
    for (const [type, id] of outside)
      expect(
        all.map((h) => h.id),
        `${type} outside reach`,
      ).not.toContain(id);
    for (const [type, id] of inside)
      expect(
        all.map((h) => h.id),
        `${type} within reach`,
      ).toContain(id);
    // Type by type too, so a source that ignored its scope could not hide behind another's page.
    for (const [type, id] of outside) {
      const res = await scoped.get(`/api/v1/search?q=zephyrine&types=${type}`);
      expect(res.body.data.map((h: { id: string }) => h.id)).not.toContain(id);
      expect(res.body.data.every((h: { type: string }) => h.type === type)).toBe(true);
    }
  });

  it('a sales rep without crm.deals:all finds only its own deals', async () => {
    const role = await t.admin.post('/api/v1/roles', { name: 'rep-search', permissions: ['crm.deals:read'] });
    expect(role.status, role.text).toBe(201);
    const rep = await t.clientFor({ roles: ['rep-search'], partyId: me });
    const res = await rep.get('/api/v1/search?q=zephyrine');
    expect(res.body.data.map((h: { id: string }) => h.id)).toEqual([inside.get('crm.deal')]);
  });
});
