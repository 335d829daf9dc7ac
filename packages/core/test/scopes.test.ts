import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreServices, createTenant, definePlugin, type Tenant } from '@rapport/core';
import { createTestApp, type TestApp, type TestClient, type TestResponse } from '@rapport/testing';
import { TENANT_WIDE_PERMISSIONS } from '../src/access/principal.js';
import { samplePlugin } from './fixtures/test-plugin.js';

/*
 * The must-show: a principal scoped to party A — even holding every permission —
 * gets 404 for party B and for B's relationships, interactions, observations and timeline
 * on every kernel route, and never finds B's records in a list; and a principal of another
 * tenant sees nothing of this one.
 */

/** A plugin widening the kernel's party scope: "Shared …" parties are visible to every scoped principal. */
const widening = definePlugin({
  name: 'widen',
  version: '1.0.0',
  requires: { core: '^0.1.0' },
  deps: { parties: coreServices.parties },
  setup(api, { parties }) {
    // Through the kernel's parties view: the widening rule reads no kernel table by name.
    api.recordScopes.extend('parties', ({ ctx }) => parties.query(ctx).select('id').where('name', 'like', 'Shared %'));
  },
});

interface Ids {
  party: string;
  relationship: string;
  interaction: string;
  partyObservation: string;
  relationshipObservation: string;
  ticket: string;
  /** A background job (an import) started by the admin, not by the scoped caller. */
  job: string;
  /** A custom field key of parties defined by the admin. */
  field: string;
  /** A file attached to the party, and its entry on the party's timeline. */
  attachment: string;
  attachmentEntry: string;
}

function expectNotFound(res: TestResponse, what: string) {
  expect(res.status, `${what}: ${res.text}`).toBe(404);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body.type).toBe('https://rapport.dev/problems/not-found');
}

const ifMatch = { headers: { 'if-match': '"1"' } };

/**
 * One check per kernel route that takes an id in its path: the caller must not reach the
 * records in `ids`. The guard test below fails when a kernel route is added without a check.
 */
const routeChecks: Record<string, (c: TestClient, ids: Ids) => Promise<void>> = {
  'get /api/v1/parties/:id': async (c, ids) => expectNotFound(await c.get(`/api/v1/parties/${ids.party}`), 'get party'),
  'patch /api/v1/parties/:id': async (c, ids) => expectNotFound(await c.patch(`/api/v1/parties/${ids.party}`, { name: 'Hacked' }, ifMatch), 'patch party'),
  'post /api/v1/parties/:id/archive': async (c, ids) => expectNotFound(await c.post(`/api/v1/parties/${ids.party}/archive`), 'archive'),
  'post /api/v1/parties/:id/restore': async (c, ids) => expectNotFound(await c.post(`/api/v1/parties/${ids.party}/restore`), 'restore'),
  'get /api/v1/parties/:id/timeline': async (c, ids) => expectNotFound(await c.get(`/api/v1/parties/${ids.party}/timeline`), 'party timeline'),
  'get /api/v1/parties/:id/relationships': async (c, ids) => expectNotFound(await c.get(`/api/v1/parties/${ids.party}/relationships`), 'party relationships'),
  'get /api/v1/parties/:id/duplicates': async (c, ids) => expectNotFound(await c.get(`/api/v1/parties/${ids.party}/duplicates`), 'duplicates'),
  'get /api/v1/relationships/:id': async (c, ids) => expectNotFound(await c.get(`/api/v1/relationships/${ids.relationship}`), 'get relationship'),
  'patch /api/v1/relationships/:id': async (c, ids) => expectNotFound(await c.patch(`/api/v1/relationships/${ids.relationship}`, { status: 'ended' }, ifMatch), 'patch relationship'),
  'get /api/v1/relationships/:id/timeline': async (c, ids) => expectNotFound(await c.get(`/api/v1/relationships/${ids.relationship}/timeline`), 'relationship timeline'),
  'get /api/v1/attachments/:id': async (c, ids) => expectNotFound(await c.get(`/api/v1/attachments/${ids.attachment}`), 'get attachment'),
  'get /api/v1/attachments/:id/content': async (c, ids) => expectNotFound(await c.get(`/api/v1/attachments/${ids.attachment}/content`), 'download attachment'),
  'delete /api/v1/attachments/:id': async (c, ids) => expectNotFound(await c.delete(`/api/v1/attachments/${ids.attachment}`), 'delete attachment'),
  'get /api/v1/interactions/:id': async (c, ids) => expectNotFound(await c.get(`/api/v1/interactions/${ids.interaction}`), 'get interaction'),
  'patch /api/v1/interactions/:id': async (c, ids) => expectNotFound(await c.patch(`/api/v1/interactions/${ids.interaction}`, { summary: 'Hacked' }, ifMatch), 'patch interaction'),
  'get /api/v1/observations/:id': async (c, ids) => {
    expectNotFound(await c.get(`/api/v1/observations/${ids.partyObservation}`), 'party observation');
    expectNotFound(await c.get(`/api/v1/observations/${ids.relationshipObservation}`), 'relationship observation');
  },
  'get /api/v1/indicators/:key/summary': async (c, ids) => {
    // The subject itself is out of reach: no summary, not even an empty one.
    expectNotFound(await c.get(`/api/v1/indicators/sample.nps/summary?subjectId=${ids.party}`), 'party summary');
    expectNotFound(await c.get(`/api/v1/indicators/sample.mood/summary?subjectId=${ids.relationship}`), 'relationship summary');
  },
  'get /api/v1/sample/tickets/:id': async (c, ids) => expectNotFound(await c.get(`/api/v1/sample/tickets/${ids.ticket}`), 'ticket'),
  // Field definitions are the tenant's, on internal routes: a scoped principal is refused (403) before any lookup, another tenant finds none (404).
  'get /api/v1/fields/:recordType/:key': async (c, ids) => expect([403, 404]).toContain((await c.get(`/api/v1/fields/party/${ids.field}`)).status),
  'get /api/v1/jobs/:id': async (c, ids) => expectNotFound(await c.get(`/api/v1/jobs/${ids.job}`), 'job'),
  'post /api/v1/jobs/:id/cancel': async (c, ids) => expectNotFound(await c.post(`/api/v1/jobs/${ids.job}/cancel`), 'cancel job'),
  'get /api/v1/imports/:id/rejected': async (c, ids) => expectNotFound(await c.get(`/api/v1/imports/${ids.job}/rejected`), 'import report'),
  'get /api/v1/imports/:id/rejected.csv': async (c, ids) => expectNotFound(await c.get(`/api/v1/imports/${ids.job}/rejected.csv`), 'import report csv'),
};

const idsOf = (res: TestResponse) => (res.body.data as Array<{ id: string }>).map((r) => r.id);

describe('record scopes and tenants', () => {
  let t: TestApp;
  let self: string;
  let a: Ids;
  let b: Ids;
  let charlie: string;
  let shared: string;
  let relAC: string;
  let selfWithCharlie: string;
  let scoped: TestClient;

  async function seed(name: string, email: string): Promise<Ids> {
    const party = await t.admin.post('/api/v1/parties', { kind: 'organization', name, contactPoints: [{ kind: 'email', value: email }] });
    const relationship = await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: self, toPartyId: party.body.id, status: 'active' });
    const interaction = await t.admin.post('/api/v1/interactions', {
      type: 'sample.call',
      channel: 'phone',
      relationshipId: relationship.body.id,
      participants: [
        { partyId: party.body.id, role: 'caller' },
        { partyId: self, role: 'callee' },
      ],
    });
    const partyObservation = await t.admin.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: party.body.id, value: name === 'Alpha' ? 9 : 3, interactionId: interaction.body.id });
    const relationshipObservation = await t.admin.post('/api/v1/observations', { indicator: 'sample.mood', subjectId: relationship.body.id, label: 'good' });
    const ticket = await t.admin.post('/api/v1/sample/tickets', { partyId: party.body.id, title: `${name} ticket` });
    for (const res of [party, relationship, interaction, partyObservation, relationshipObservation, ticket]) expect(res.status, res.text).toBe(201);
    const job = await t.admin.request('POST', '/api/v1/imports/parties', { rawBody: `kind,name\norganization,${name} import\n`, headers: { 'content-type': 'text/csv' } });
    expect(job.status, job.text).toBe(202);
    const attachment = await t.admin.request('POST', `/api/v1/attachments?recordType=party&recordId=${party.body.id}`, {
      rawBody: `${name} contract`,
      headers: { 'content-type': 'text/plain', 'content-disposition': 'attachment; filename="contract.txt"' },
    });
    expect(attachment.status, attachment.text).toBe(201);
    const field = await t.admin.post('/api/v1/fields', { recordType: 'party', key: `${name.toLowerCase()}Size`, kind: 'number', label: `${name} size` });
    expect(field.status, field.text).toBe(201);
    return {
      field: field.body.key,
      attachment: attachment.body.id,
      attachmentEntry: attachment.body.interactionId,
      party: party.body.id,
      relationship: relationship.body.id,
      interaction: interaction.body.id,
      partyObservation: partyObservation.body.id,
      relationshipObservation: relationshipObservation.body.id,
      ticket: ticket.body.id,
      job: job.body.id,
    };
  }

  /** Row counts per table for one tenant: a refused write must leave them all unchanged. */
  async function counts(tenantId: string) {
    const tables = [
      'rapport_parties',
      'rapport_relationships',
      'rapport_interactions',
      'rapport_interaction_participants',
      'rapport_observations',
      'sample_tickets',
      'rapport_users',
      'rapport_api_keys',
      'rapport_roles',
    ];
    const out: Record<string, number> = {};
    for (const table of tables) out[table] = Number((await t.app.knex(table).where('tenant_id', tenantId).count({ n: '*' }).first())!.n);
    out.archived = Number((await t.app.knex('rapport_parties').where('tenant_id', tenantId).whereNotNull('archived_at').count({ n: '*' }).first())!.n);
    out.versions = Number((await t.app.knex('rapport_parties').where('tenant_id', tenantId).sum({ n: 'version' }).first())!.n);
    return out;
  }

  beforeAll(async () => {
    t = await createTestApp({ plugins: [samplePlugin().plugin, widening] });
    self = t.selfPartyId;
    a = await seed('Alpha', 'shared@dup.example');
    b = await seed('Bravo', 'shared@dup.example');
    await t.app.jobs.settled(); // the seeded imports finish before any count is taken
    charlie = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Charlie' })).body.id;
    shared = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Shared Desk' })).body.id;
    relAC = (await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: a.party, toPartyId: charlie })).body.id;
    selfWithCharlie = (
      await t.admin.post('/api/v1/interactions', {
        type: 'note',
        participants: [
          { partyId: self, role: 'author' },
          { partyId: charlie, role: 'subject' },
        ],
      })
    ).body.id;
    scoped = await t.clientFor({ roles: ['admin'], scopePartyId: a.party });
  });
  afterAll(() => t?.close());

  describe('a principal scoped to party A', () => {
    it('is an admin held inside A’s reach', async () => {
      const me = await scoped.get('/api/v1/auth/me');
      expect(me.body).toMatchObject({ roles: ['admin'], permissions: ['*'], partyId: a.party, scopePartyId: a.party });
    });

    it('has a check for every kernel route that takes an id', () => {
      // Public routes (a linked system's, authenticated by its signature) have no principal to scope.
      const routes = t.app.http.routes().filter((r) => r.fullPath.includes('/:') && r.permission !== null);
      const unchecked = routes
        .filter((r) => !TENANT_WIDE_PERMISSIONS.has(r.permission ?? ''))
        .map((r) => `${r.method} ${r.fullPath}`)
        .filter((key) => !routeChecks[key]);
      expect(unchecked).toEqual([]);
    });

    it('gets 404 for B and B’s records on every route that takes an id', async () => {
      for (const [route, check] of Object.entries(routeChecks)) {
        try {
          await check(scoped, b);
        } catch (error) {
          throw new Error(`${route}: ${(error as Error).message}`);
        }
      }
    });

    it('gets 403 on every tenant-wide route that takes an id', async () => {
      const tenantWide = t.app.http.routes().filter((r) => r.fullPath.includes('/:') && TENANT_WIDE_PERMISSIONS.has(r.permission ?? ''));
      expect(tenantWide.length).toBeGreaterThan(0);
      for (const route of tenantWide) {
        const path = route.fullPath.replace(/:(\w+)/g, (_m, name: string) => (name === 'id' ? b.party : 'sample'));
        const res = await scoped.request(route.method.toUpperCase(), path);
        expect(res.status, `${route.method} ${route.fullPath}`).toBe(403);
      }
    });

    it('cannot merge B in either direction, not even as a dry run', async () => {
      for (const body of [
        { survivorId: a.party, mergedIds: [b.party] },
        { survivorId: b.party, mergedIds: [a.party] },
        { survivorId: a.party, mergedIds: [b.party], dryRun: true },
        { survivorId: charlie, mergedIds: [b.party], dryRun: true },
      ]) {
        expectNotFound(await scoped.post('/api/v1/parties/merge', body), `merge ${JSON.stringify(body)}`);
      }
    });

    it('never finds B’s records in a list', async () => {
      expect(new Set(idsOf(await scoped.get('/api/v1/parties')))).toEqual(new Set([a.party, charlie, self, shared]));
      expect(idsOf(await scoped.get('/api/v1/parties?q=Bravo'))).toEqual([]);
      expect(idsOf(await scoped.get('/api/v1/parties?q=a'))).not.toContain(b.party);
      expect(idsOf(await scoped.get('/api/v1/parties?email=shared@dup.example'))).toEqual([a.party]);
      expect(idsOf(await scoped.get('/api/v1/parties?archived=true'))).toEqual([]);
      expect(idsOf(await scoped.get('/api/v1/duplicates?kind=email&value=shared@dup.example'))).toEqual([a.party]);
      expect((await scoped.get(`/api/v1/parties/${a.party}/duplicates`)).body.data).toEqual([]);

      expect(new Set(idsOf(await scoped.get('/api/v1/relationships')))).toEqual(new Set([a.relationship, relAC]));
      expect(idsOf(await scoped.get(`/api/v1/relationships?partyId=${b.party}`))).toEqual([]);
      expect(idsOf(await scoped.get(`/api/v1/parties/${self}/relationships`))).toEqual([a.relationship]);

      // Newest first: the attachment's timeline entry came after the call.
      expect(idsOf(await scoped.get('/api/v1/interactions'))).toEqual([a.attachmentEntry, a.interaction]);
      expect(idsOf(await scoped.get(`/api/v1/parties/${self}/timeline`))).toEqual([a.interaction]);
      expect(idsOf(await scoped.get(`/api/v1/parties/${charlie}/timeline`))).toEqual([]);

      expect(new Set(idsOf(await scoped.get('/api/v1/observations')))).toEqual(new Set([a.partyObservation, a.relationshipObservation]));
      expect(idsOf(await scoped.get(`/api/v1/observations?subjectId=${b.party}`))).toEqual([]);
      expect(idsOf(await scoped.get(`/api/v1/observations?subjectId=${b.relationship}`))).toEqual([]);
    });

    it('sees A’s own records, and what its relationships and plugins let it see', async () => {
      for (const path of [
        `/api/v1/parties/${a.party}`,
        `/api/v1/parties/${charlie}`,
        `/api/v1/parties/${self}`,
        `/api/v1/parties/${shared}`,
        `/api/v1/relationships/${a.relationship}`,
        `/api/v1/relationships/${relAC}`,
        `/api/v1/interactions/${a.interaction}`,
        `/api/v1/observations/${a.partyObservation}`,
        `/api/v1/observations/${a.relationshipObservation}`,
        `/api/v1/sample/tickets/${a.ticket}`,
      ]) {
        expect((await scoped.get(path)).status, path).toBe(200);
      }
      expect(idsOf(await scoped.get(`/api/v1/parties/${a.party}/timeline`))).toEqual([a.attachmentEntry, a.interaction]);
      expect(idsOf(await scoped.get(`/api/v1/relationships/${a.relationship}/timeline`))).toEqual([a.interaction]);
      expect(new Set(idsOf(await scoped.get(`/api/v1/parties/${a.party}/relationships`)))).toEqual(new Set([a.relationship, relAC]));
      expect((await scoped.get(`/api/v1/indicators/sample.nps/summary?subjectId=${a.party}`)).body).toMatchObject({ count: 1, value: 9 });
      // An interaction between others is out of reach even with a visible party.
      expectNotFound(await scoped.get(`/api/v1/interactions/${selfWithCharlie}`), 'interaction between others');
    });

    it('refuses writes that reach B with 4xx and writes nothing', async () => {
      const before = await counts(t.tenantId);
      const refused: Array<[string, Promise<TestResponse>]> = [
        ['relationship to B', scoped.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: a.party, toPartyId: b.party })],
        [
          'interaction with B',
          scoped.post('/api/v1/interactions', {
            type: 'sample.call',
            participants: [
              { partyId: a.party, role: 'caller' },
              { partyId: b.party, role: 'callee' },
            ],
          }),
        ],
        ['interaction on B’s relationship', scoped.post('/api/v1/interactions', { type: 'sample.call', relationshipId: b.relationship, participants: [{ partyId: a.party, role: 'caller' }] })],
        ['observation of B', scoped.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: b.party, value: 1 })],
        ['observation of B’s relationship', scoped.post('/api/v1/observations', { indicator: 'sample.mood', subjectId: b.relationship, label: 'poor' })],
        ['observation citing B’s interaction', scoped.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: a.party, value: 1, interactionId: b.interaction })],
        ['observation observed by B', scoped.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: a.party, value: 1, observerPartyId: b.party })],
        ['ticket for B', scoped.post('/api/v1/sample/tickets', { partyId: b.party, title: 'Sneaky' })],
      ];
      for (const [what, pending] of refused) {
        const res = await pending;
        expect(res.status, `${what}: ${res.text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, what).toBeLessThan(500);
        expect(res.text, what).not.toContain('Bravo');
      }
      expect(await counts(t.tenantId)).toEqual(before);
    });

    it('left every record of B as it was', async () => {
      const party = await t.admin.get(`/api/v1/parties/${b.party}`);
      expect(party.body).toMatchObject({ name: 'Bravo', version: 1, archivedAt: null, mergedIntoId: null });
      expect((await t.admin.get(`/api/v1/relationships/${b.relationship}`)).body).toMatchObject({ status: 'active', version: 1 });
      expect((await t.admin.get(`/api/v1/interactions/${b.interaction}`)).body).toMatchObject({ summary: null, version: 1 });
      expect((await t.admin.get(`/api/v1/indicators/sample.nps/summary?subjectId=${b.party}`)).body).toMatchObject({ count: 1, value: 3 });
      // The unscoped admin does see what the scoped principal could not.
      expect(idsOf(await t.admin.get('/api/v1/duplicates?kind=email&value=shared@dup.example'))).toEqual(expect.arrayContaining([a.party, b.party]));
    });

    it('stops widening the scope when the plugin that extended it is disabled', async () => {
      expect((await t.admin.post('/api/v1/plugins/widen/disable')).status).toBe(200);
      try {
        expectNotFound(await scoped.get(`/api/v1/parties/${shared}`), 'shared party after disable');
        expect((await scoped.get(`/api/v1/parties/${a.party}`)).status).toBe(200);
      } finally {
        expect((await t.admin.post('/api/v1/plugins/widen/enable')).status).toBe(200);
      }
      expect((await scoped.get(`/api/v1/parties/${shared}`)).status).toBe(200);
    });
  });

  describe('another tenant', () => {
    let other: Tenant;
    let outsider: TestClient;
    let userId: string;
    let keyId: string;
    let keyToken: string;

    beforeAll(async () => {
      other = await createTenant(t.app.knex, 'Other');
      outsider = await t.clientFor({ roles: ['admin'], tenantId: other.id });
      userId = (await t.admin.post('/api/v1/users', { email: 'one@tenant.example', password: 'a long enough password', roles: ['viewer'] })).body.id;
      const key = await t.admin.post('/api/v1/keys', { name: 'tenant one', roles: ['viewer'] });
      keyId = key.body.id;
      keyToken = key.body.token;
      expect((await t.admin.post('/api/v1/roles', { name: 'tenant-one-only', permissions: ['parties:read'] })).status).toBe(201);
    });

    it('is its own tenant with its own self party', async () => {
      expect((await outsider.get('/api/v1/tenant')).body).toEqual({ id: other.id, name: 'Other', selfPartyId: other.selfPartyId });
      expect((await outsider.get('/api/v1/auth/me')).body).toMatchObject({ tenantId: other.id, scopePartyId: null });
    });

    it('gets 404 for every id of the first tenant on every route that takes one', async () => {
      for (const ids of [a, b]) {
        for (const [route, check] of Object.entries(routeChecks)) {
          try {
            await check(outsider, ids);
          } catch (error) {
            throw new Error(`${route}: ${(error as Error).message}`);
          }
        }
      }
      expectNotFound(await outsider.get(`/api/v1/parties/${self}`), 'self party of tenant one');
      expectNotFound(await outsider.get(`/api/v1/users/${userId}`), 'user');
      expectNotFound(await outsider.patch(`/api/v1/users/${userId}`, { disabled: true }), 'patch user');
      expectNotFound(await outsider.get(`/api/v1/keys/${keyId}`), 'key');
      expectNotFound(await outsider.delete(`/api/v1/keys/${keyId}`), 'revoke key');
      expectNotFound(await outsider.get('/api/v1/roles/tenant-one-only'), 'role');
      expectNotFound(await outsider.patch('/api/v1/roles/tenant-one-only', { permissions: ['*'] }), 'patch role');
      expectNotFound(await outsider.delete('/api/v1/roles/tenant-one-only'), 'delete role');
      expect((await t.anonymous.get('/api/v1/parties', { token: keyToken })).status).toBe(200);
    });

    it('finds nothing of the first tenant in its lists', async () => {
      expect(idsOf(await outsider.get('/api/v1/parties'))).toEqual([other.selfPartyId]);
      expect(idsOf(await outsider.get('/api/v1/parties?q=Alpha'))).toEqual([]);
      expect(idsOf(await outsider.get('/api/v1/duplicates?kind=email&value=shared@dup.example'))).toEqual([]);
      for (const path of ['/api/v1/relationships', '/api/v1/interactions', '/api/v1/observations', '/api/v1/users', `/api/v1/observations?subjectId=${a.party}`]) {
        expect(idsOf(await outsider.get(path)), path).toEqual([]);
      }
      expect((await outsider.get('/api/v1/keys')).body.data.map((k: any) => k.name)).toEqual(['test-admin']);
      expect((await outsider.get('/api/v1/roles')).body.data.map((r: any) => r.name).sort()).toEqual(['admin', 'viewer']);
      expect((await outsider.get('/api/v1/audit')).body.data).toEqual([]);
    });

    it('refuses writes that reference the first tenant with 4xx and writes nothing', async () => {
      const mine = await counts(t.tenantId);
      const theirs = await counts(other.id);
      const refused: Array<[string, Promise<TestResponse>]> = [
        ['relationship', outsider.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: other.selfPartyId, toPartyId: a.party })],
        [
          'interaction',
          outsider.post('/api/v1/interactions', {
            type: 'note',
            participants: [
              { partyId: other.selfPartyId, role: 'author' },
              { partyId: a.party, role: 'subject' },
            ],
          }),
        ],
        ['interaction on relationship', outsider.post('/api/v1/interactions', { type: 'note', relationshipId: a.relationship, participants: [{ partyId: other.selfPartyId, role: 'author' }] })],
        ['observation', outsider.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: a.party, value: 1 })],
        ['relationship observation', outsider.post('/api/v1/observations', { indicator: 'sample.mood', subjectId: a.relationship, label: 'fair' })],
        ['cited interaction', outsider.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: other.selfPartyId, value: 1, interactionId: a.interaction })],
        ['merge into theirs', outsider.post('/api/v1/parties/merge', { survivorId: other.selfPartyId, mergedIds: [a.party] })],
        ['merge into mine', outsider.post('/api/v1/parties/merge', { survivorId: a.party, mergedIds: [b.party] })],
        ['scoped user', outsider.post('/api/v1/users', { email: 'spy@other.example', password: 'a long enough password', scoped: true, partyId: a.party })],
        ['linked key', outsider.post('/api/v1/keys', { name: 'spy', partyId: a.party })],
        ['role of tenant one', outsider.post('/api/v1/keys', { name: 'spy', roles: ['tenant-one-only'] })],
        ['ticket', outsider.post('/api/v1/sample/tickets', { partyId: a.party, title: 'Sneaky' })],
      ];
      for (const [what, pending] of refused) {
        const res = await pending;
        expect(res.status, `${what}: ${res.text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, what).toBeLessThan(500);
      }
      expect(await counts(t.tenantId)).toEqual(mine);
      expect(await counts(other.id)).toEqual(theirs);
      expect(await t.app.knex('rapport_audit').where('tenant_id', other.id).first()).toBeUndefined();
    });

    it('logs its own users into its own tenant', async () => {
      const created = await outsider.post('/api/v1/users', { email: 'two@tenant.example', password: 'a long enough password', roles: ['admin'] });
      expect(created.status).toBe(201);
      const login = await t.anonymous.post('/api/v1/auth/login', { email: 'two@tenant.example', password: 'a long enough password' });
      const me = await t.anonymous.get('/api/v1/auth/me', { token: login.body.token });
      expect(me.body).toMatchObject({ kind: 'user', tenantId: other.id });
      expectNotFound(await t.anonymous.get(`/api/v1/parties/${a.party}`, { token: login.body.token }), 'party via session');
      const audit = await outsider.get(`/api/v1/audit?recordId=${created.body.id}`);
      expect(audit.body.data.map((e: any) => e.action).sort()).toEqual(['access.session.started', 'access.user.created']);
      expect(idsOf(await t.admin.get(`/api/v1/audit?recordId=${created.body.id}`))).toEqual([]);
    });
  });
});
