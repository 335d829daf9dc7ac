import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestApp, type TestApp } from '@rapport/testing';
import { definePlugin, type InteractionCreateInput } from '@rapport/core';
import { samplePlugin } from './fixtures/test-plugin.js';

type Party = {
  id: string;
  kind: string;
  name: string;
  version: number;
  archivedAt: string | null;
  mergedIntoId: string | null;
  contactPoints: Array<{ kind: string; value: string }>;
  attributes: Record<string, unknown>;
};

// A second plugin whose attribute disappears when it is disabled.
const extra = definePlugin({
  name: 'extra',
  version: '1.0.0',
  setup(api) {
    api.partyAttributes.define({ key: 'extra.size', schema: z.number().int().positive() });
    for (const aggregate of ['sum', 'min', 'max', 'last'] as const) {
      api.indicators.define({ key: `extra.${aggregate}`, subject: 'party', kind: 'quantitative', aggregate });
    }
  },
});

describe('kernel behaviour over HTTP', () => {
  let t: TestApp;
  const ids = (page: { data: Array<{ id: string }> }) => page.data.map((x) => x.id);
  const party = async (body: object): Promise<Party> => {
    const res = await t.admin.post('/api/v1/parties', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const count = async (table: string) => Number((await t.app.knex(table).count({ n: '*' }).first())!.n);

  beforeAll(async () => {
    t = await createTestApp({ plugins: [samplePlugin().plugin, extra] });
  });
  afterAll(() => t?.close());

  describe('parties', () => {
    it('creates each kind and refuses others', async () => {
      for (const kind of ['person', 'organization', 'unit']) expect((await party({ kind, name: `A ${kind}` })).kind).toBe(kind);
      expect((await t.admin.post('/api/v1/parties', { kind: 'robot', name: 'R2' })).status).toBe(400);
    });

    it('normalizes contact points for lookups and keeps what was typed', async () => {
      const john = await party({
        kind: 'person',
        name: 'John',
        contactPoints: [
          { kind: 'email', value: 'John@Example.COM' },
          { kind: 'phone', value: '+1 (555) 010-4477' },
          { kind: 'domain', value: 'https://www.John-Site.example/about' },
        ],
      });
      expect(john.contactPoints[0]).toEqual({ kind: 'email', value: 'John@Example.COM' });
      expect(ids((await t.admin.get('/api/v1/parties?email=john@example.com')).body)).toEqual([john.id]);
      expect(ids((await t.admin.get('/api/v1/parties?email=JOHN@EXAMPLE.com')).body)).toEqual([john.id]);
      expect(ids((await t.admin.get(`/api/v1/parties?phone=${encodeURIComponent('+15550104477')}`)).body)).toEqual([john.id]);
      expect(ids((await t.admin.get('/api/v1/parties?domain=john-site.example')).body)).toEqual([john.id]);
      expect(ids((await t.admin.get('/api/v1/duplicates?kind=email&value=JOHN@example.com')).body)).toEqual([john.id]);
      expect((await t.admin.get('/api/v1/parties?email=nobody@example.com')).body.data).toEqual([]);
      expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Bad', contactPoints: [{ kind: 'email', value: 'not-an-email' }] })).status).toBe(400);
    });

    it('answers each write with the party as a later read finds it', async () => {
      const created = await party({ kind: 'person', name: 'Written Once', contactPoints: [{ kind: 'email', value: 'w1@example.com' }] });
      const read = async () => (await t.admin.get(`/api/v1/parties/${created.id}`)).body as Party;
      const write = async (path: string, method: 'patch' | 'post', version: number, body?: unknown) => {
        const res =
          method === 'patch' ? await t.admin.patch(path, body, { headers: { 'if-match': `"${version}"` } }) : await t.admin.post(path, body ?? {}, { headers: { 'if-match': `"${version}"` } });
        expect(res.status, res.text).toBe(200);
        return res.body as Party;
      };
      // The contact points kept, then replaced in the order given (duplicates dropped), then the archive and restore.
      let answer = await write(`/api/v1/parties/${created.id}`, 'patch', created.version, { name: '  Written Twice ' });
      expect(answer.name).toBe('Written Twice');
      expect(answer).toEqual(await read());
      answer = await write(`/api/v1/parties/${created.id}`, 'patch', answer.version, {
        contactPoints: [
          { kind: 'phone', value: '+1 555 010 9999' },
          { kind: 'email', value: 'w2@example.com' },
          { kind: 'email', value: 'W2@example.com' },
        ],
      });
      expect(answer.contactPoints).toEqual([
        { kind: 'phone', value: '+1 555 010 9999' },
        { kind: 'email', value: 'w2@example.com' },
      ]);
      expect(answer).toEqual(await read());
      answer = await write(`/api/v1/parties/${created.id}/archive`, 'post', answer.version);
      expect(answer.archivedAt).not.toBeNull();
      expect(answer).toEqual(await read());
      answer = await write(`/api/v1/parties/${created.id}/restore`, 'post', answer.version);
      expect(answer.archivedAt).toBeNull();
      expect(answer).toEqual(await read());
    });

    it('filters the list by kind and name', async () => {
      await party({ kind: 'unit', name: 'Finance Team' });
      const units = (await t.admin.get('/api/v1/parties?kind=unit&limit=200')).body;
      expect(units.data.length).toBeGreaterThan(0);
      expect(units.data.every((p: Party) => p.kind === 'unit')).toBe(true);
      const byName = (await t.admin.get('/api/v1/parties?q=finance%20t')).body;
      expect(byName.data.map((p: Party) => p.name)).toEqual(['Finance Team']);
      // LIKE wildcards in q are literal.
      expect((await t.admin.get('/api/v1/parties?q=%25')).body.data).toEqual([]);
    });

    it('validates attributes against the schemas plugins register', async () => {
      const org = await party({ kind: 'organization', name: 'Attr Org', attributes: { 'sample.industry': 'retail', 'extra.size': 12 } });
      expect(org.attributes).toEqual({ 'sample.industry': 'retail', 'extra.size': 12 });

      const unknown = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'X', attributes: { 'nobody.field': 1 } });
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors).toEqual([{ path: 'attributes.nobody.field', message: expect.stringContaining('unknown attribute') }]);
      expect((await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'X', attributes: { 'sample.industry': 42 } })).status).toBe(400);
      expect((await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'X', attributes: { 'extra.size': -1 } })).status).toBe(400);
      // sample.industry applies to organizations only.
      expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: 'X', attributes: { 'sample.industry': 'retail' } })).status).toBe(400);

      // PATCH merges attributes; null removes one.
      const patched = await t.admin.patch(`/api/v1/parties/${org.id}`, { attributes: { 'extra.size': null, 'sample.industry': 'banking' } }, { headers: { 'if-match': `"${org.version}"` } });
      expect(patched.status).toBe(200);
      expect(patched.body.attributes).toEqual({ 'sample.industry': 'banking' });
      expect((await t.admin.patch(`/api/v1/parties/${org.id}`, { attributes: { 'sample.industry': 1 } }, { headers: { 'if-match': '"2"' } })).status).toBe(400);

      // An attribute of a disabled plugin is refused; stored values still render.
      expect((await t.admin.post('/api/v1/plugins/extra/disable')).status).toBe(200);
      try {
        expect((await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'X', attributes: { 'extra.size': 3 } })).status).toBe(400);
      } finally {
        expect((await t.admin.post('/api/v1/plugins/extra/enable')).status).toBe(200);
      }
      expect((await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Sized', attributes: { 'extra.size': 3 } })).status).toBe(201);
    });

    it('archives and restores; archived parties leave the default list', async () => {
      const p = await party({ kind: 'organization', name: 'Archivable' });
      const archived = await t.admin.post(`/api/v1/parties/${p.id}/archive`);
      expect(archived.status).toBe(200);
      expect(archived.body.archivedAt).toEqual(expect.any(String));
      expect(archived.body.version).toBe(p.version + 1);
      expect((await t.admin.get('/api/v1/parties?q=archivable')).body.data).toEqual([]);
      expect(ids((await t.admin.get('/api/v1/parties?q=archivable&archived=true')).body)).toEqual([p.id]);
      // Archived parties cannot take part in new records.
      const rel = await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: p.id, toPartyId: t.selfPartyId });
      expect(rel.status).toBe(400);

      const restored = await t.admin.post(`/api/v1/parties/${p.id}/restore`);
      expect(restored.status).toBe(200);
      expect(restored.body.archivedAt).toBeNull();
      expect(ids((await t.admin.get('/api/v1/parties?q=archivable')).body)).toEqual([p.id]);
    });

    it('never archives the self party', async () => {
      const refused = await t.admin.post(`/api/v1/parties/${t.selfPartyId}/archive`);
      expect(refused.status).toBe(409);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect((await t.admin.get(`/api/v1/parties/${t.selfPartyId}`)).body.archivedAt).toBeNull();
    });
  });

  describe('relationships', () => {
    let vendor: Party;
    let person: Party;

    beforeAll(async () => {
      vendor = await party({ kind: 'organization', name: 'Rel Vendor' });
      person = await party({ kind: 'person', name: 'Rel Person' });
    });

    it('checks party kinds per end', async () => {
      // sample.supply accepts only organizations at the vendor (from) end; any kind at the customer end.
      const wrong = await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: person.id, toPartyId: vendor.id });
      expect(wrong.status).toBe(400);
      expect(wrong.body.errors[0].path).toBe('fromPartyId');
      expect((await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: vendor.id, toPartyId: person.id })).status).toBe(201);
      expect((await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: vendor.id, toPartyId: vendor.id })).status).toBe(400);
      expect((await t.admin.post('/api/v1/relationships', { type: 'nobody.knows', fromPartyId: vendor.id, toPartyId: person.id })).status).toBe(400);
    });

    it('follows the type’s statuses and transitions', async () => {
      const rel = (await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: vendor.id, toPartyId: t.selfPartyId })).body;
      expect(rel.status).toBe('prospect');
      expect((await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: vendor.id, toPartyId: t.selfPartyId, status: 'dreaming' })).status).toBe(400);

      const patch = (body: object, version: number) => t.admin.patch(`/api/v1/relationships/${rel.id}`, body, { headers: { 'if-match': `"${version}"` } });
      const active = await patch({ status: 'active' }, 1);
      expect(active.status).toBe(200);
      expect(active.body).toMatchObject({ status: 'active', version: 2 });
      const back = await patch({ status: 'prospect' }, 2);
      expect(back.status).toBe(400);
      expect(back.body.errors[0]).toEqual({ path: 'status', message: 'allowed from "active": ended' });
      expect((await patch({ status: 'ended' }, 2)).body.status).toBe('ended');
      expect((await patch({ status: 'active' }, 3)).status).toBe(400);
    });

    it('checks the validity window and filters live relationships', async () => {
      const org = await party({ kind: 'organization', name: 'Window Org' });
      const create = (body: object) => t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: org.id, toPartyId: t.selfPartyId, status: 'active', ...body });
      const inverted = await create({ validFrom: '2024-06-01T00:00:00Z', validTo: '2024-01-01T00:00:00Z' });
      expect(inverted.status).toBe(400);
      const current = (await create({ validFrom: '2020-01-01T00:00:00Z' })).body;
      const expired = (await create({ validFrom: '2020-01-01T00:00:00Z', validTo: '2021-01-01T00:00:00Z' })).body;
      const future = (await create({ validFrom: '2999-01-01T00:00:00+02:00' })).body;
      const prospect = (await create({ status: 'prospect' })).body;
      expect(future.validFrom).toBe('2998-12-31T22:00:00.000Z');

      const live = await t.admin.get(`/api/v1/parties/${org.id}/relationships?active=true`);
      expect(live.status).toBe(200);
      expect(ids(live.body)).toEqual([current.id]);
      const notLive = await t.admin.get(`/api/v1/parties/${org.id}/relationships?active=false`);
      expect(ids(notLive.body).sort()).toEqual([expired.id, future.id, prospect.id].sort());
      const everything = await t.admin.get(`/api/v1/relationships?partyId=${org.id}&type=sample.supply`);
      expect(everything.body.data).toHaveLength(4);
      expect(ids((await t.admin.get(`/api/v1/relationships?partyId=${org.id}&status=prospect`)).body)).toEqual([prospect.id]);

      // Changing the window through PATCH is checked the same way.
      const widened = await t.admin.patch(`/api/v1/relationships/${expired.id}`, { validTo: null }, { headers: { 'if-match': '"1"' } });
      expect(widened.status).toBe(200);
      expect(widened.body.validTo).toBeNull();
      const bad = await t.admin.patch(`/api/v1/relationships/${current.id}`, { validTo: '2019-01-01T00:00:00Z' }, { headers: { 'if-match': '"1"' } });
      expect(bad.status).toBe(400);
      expect(ids((await t.admin.get(`/api/v1/parties/${org.id}/relationships?active=true`)).body).sort()).toEqual([current.id, expired.id].sort());
    });

    it('validates attributes against the type’s schema', async () => {
      const ok = await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: vendor.id, toPartyId: t.selfPartyId, attributes: { tier: 'gold' } });
      expect(ok.status).toBe(201);
      expect(ok.body.attributes).toEqual({ tier: 'gold' });
      expect((await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: vendor.id, toPartyId: t.selfPartyId, attributes: { tier: 'bronze' } })).status).toBe(400);
      expect((await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: vendor.id, toPartyId: t.selfPartyId, attributes: { colour: 'red' } })).status).toBe(400);
      const patched = await t.admin.patch(`/api/v1/relationships/${ok.body.id}`, { attributes: { since: '2020' } }, { headers: { 'if-match': '"1"' } });
      expect(patched.body.attributes).toEqual({ tier: 'gold', since: '2020' });
      expect((await t.admin.patch(`/api/v1/relationships/${ok.body.id}`, { attributes: { tier: 'tin' } }, { headers: { 'if-match': '"2"' } })).status).toBe(400);
    });
  });

  describe('interactions', () => {
    let a: Party;
    let b: Party;

    beforeAll(async () => {
      a = await party({ kind: 'person', name: 'Int A' });
      b = await party({ kind: 'person', name: 'Int B' });
    });

    it('checks participants, roles, channels, types and relationships', async () => {
      const post = (body: object) => t.admin.post('/api/v1/interactions', { type: 'sample.call', channel: 'phone', ...body });
      const ok = await post({
        participants: [
          { partyId: a.id, role: 'caller' },
          { partyId: b.id, role: 'callee' },
        ],
      });
      expect(ok.status).toBe(201);
      expect(ok.body).toMatchObject({ direction: 'internal', channel: 'phone', relationshipId: null, version: 1 });

      const cases: Array<[string, object, string]> = [
        ['unknown party', { participants: [{ partyId: '01890000-0000-7000-8000-000000000000', role: 'caller' }] }, 'participants.0.partyId'],
        [
          'duplicate participant',
          {
            participants: [
              { partyId: a.id, role: 'caller' },
              { partyId: a.id, role: 'callee' },
            ],
          },
          'participants.1.partyId',
        ],
        ['wrong role', { participants: [{ partyId: a.id, role: 'listener' }] }, 'participants.0.role'],
        ['wrong channel', { channel: 'pigeon', participants: [{ partyId: a.id, role: 'caller' }] }, 'channel'],
        ['unknown type', { type: 'sample.telepathy', participants: [{ partyId: a.id, role: 'caller' }] }, 'type'],
        ['unknown relationship', { relationshipId: '01890000-0000-7000-8000-000000000000', participants: [{ partyId: a.id, role: 'caller' }] }, 'relationshipId'],
        ['no participants', { participants: [] }, 'body.participants'],
      ];
      const before = await count('rapport_interactions');
      for (const [name, body, path] of cases) {
        const res = await post(body);
        expect(res.status, name).toBe(400);
        expect(
          res.body.errors.map((e: { path: string }) => e.path),
          name,
        ).toContain(path);
      }
      expect(await count('rapport_interactions')).toBe(before);
    });

    it('answers a timeline only for a party of the tenant: 404 for an unknown one, an empty page for one with nothing yet', async () => {
      const unknown = await t.admin.get('/api/v1/parties/01900000-0000-7000-8000-000000000000/timeline');
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toContain('application/problem+json');
      const quiet = await party({ kind: 'person', name: 'Nothing Yet' });
      const empty = await t.admin.get(`/api/v1/parties/${quiet.id}/timeline`);
      expect(empty.status, empty.text).toBe(200);
      expect(empty.body.data).toEqual([]);
    });

    it('changes an interaction and keeps the timeline in step', async () => {
      const created = (await t.admin.post('/api/v1/interactions', { type: 'note', occurredAt: '2001-01-01T00:00:00Z', participants: [{ partyId: a.id, role: 'author' }] })).body;
      const moved = await t.admin.patch(`/api/v1/interactions/${created.id}`, { occurredAt: '2030-01-01T00:00:00Z', summary: 'moved' }, { headers: { 'if-match': '"1"' } });
      expect(moved.status).toBe(200);
      expect(moved.body).toMatchObject({ occurredAt: '2030-01-01T00:00:00.000Z', summary: 'moved', version: 2 });
      const timeline = (await t.admin.get(`/api/v1/parties/${a.id}/timeline?limit=1`)).body;
      expect(ids(timeline)).toEqual([created.id]);
    });
  });

  describe('timelines', () => {
    let subject: Party;
    let other: Party;
    let rel: { id: string };
    const created: Array<{ id: string; occurredAt: string }> = [];

    beforeAll(async () => {
      subject = await party({ kind: 'organization', name: 'Timeline Co' });
      other = await party({ kind: 'person', name: 'Timeline Person' });
      rel = (await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: subject.id, toPartyId: t.selfPartyId })).body;
      // 120 interactions on 40 distinct instants: ties on occurredAt must page by id.
      const inputs: InteractionCreateInput[] = Array.from({ length: 120 }, (_, i) => ({
        type: 'sample.call',
        occurredAt: new Date(Date.UTC(2024, 0, 1) + Math.floor(i / 3) * 60_000).toISOString(),
        subject: `call ${i}`,
        relationshipId: i % 2 === 0 ? rel.id : null,
        participants: [{ partyId: subject.id, role: 'callee' }, ...(i % 4 === 0 ? [{ partyId: other.id, role: 'caller' }] : [])],
      }));
      const rows = await t.app.transaction((uow) => t.app.services.interactions.insertMany(uow, inputs));
      created.push(...rows.map((r) => ({ id: r.id, occurredAt: r.occurredAt })));
    });

    const expectedOrder = () => [...created].sort((x, y) => (x.occurredAt === y.occurredAt ? (x.id < y.id ? 1 : -1) : x.occurredAt < y.occurredAt ? 1 : -1)).map((x) => x.id);

    async function pageThrough(path: string, limit: number, afterFirstPage?: () => Promise<void>) {
      const seen: string[] = [];
      const pages: number[] = [];
      let cursor: string | null = null;
      do {
        const res: { status: number; body: { data: Array<{ id: string; occurredAt: string }>; nextCursor: string | null } } = await t.admin.get(
          `${path}${path.includes('?') ? '&' : '?'}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status).toBe(200);
        pages.push(res.body.data.length);
        seen.push(...res.body.data.map((i) => i.id));
        if (cursor === null && afterFirstPage) await afterFirstPage();
        cursor = res.body.nextCursor;
      } while (cursor);
      return { seen, pages };
    }

    it('pages a party’s timeline newest first, with no duplicates or gaps, stable under inserts', async () => {
      const { seen, pages } = await pageThrough(`/api/v1/parties/${subject.id}/timeline`, 25, async () => {
        // A newer interaction recorded while the client pages must not shift later pages.
        const late = await t.admin.post('/api/v1/interactions', { type: 'sample.call', participants: [{ partyId: subject.id, role: 'callee' }] });
        expect(late.status).toBe(201);
      });
      expect(pages).toEqual([25, 25, 25, 25, 20]);
      expect(new Set(seen).size).toBe(120);
      expect(seen).toEqual(expectedOrder());
    });

    it('pages with the same order whatever the page size', async () => {
      const latest = (await t.admin.get(`/api/v1/parties/${subject.id}/timeline?limit=1`)).body.data[0].id;
      const bySeven = await pageThrough(`/api/v1/parties/${subject.id}/timeline`, 7);
      expect(bySeven.seen).toEqual([latest, ...expectedOrder()]);
      const byMax = await pageThrough(`/api/v1/parties/${subject.id}/timeline`, 200);
      expect(byMax.pages).toEqual([121]);
    });

    it('pages a relationship’s timeline and a second participant’s timeline', async () => {
      const relPages = await pageThrough(`/api/v1/relationships/${rel.id}/timeline`, 25);
      const evens = new Set(created.filter((_, i) => i % 2 === 0).map((x) => x.id));
      expect(relPages.seen).toEqual(expectedOrder().filter((id) => evens.has(id)));
      const quarter = new Set(created.filter((_, i) => i % 4 === 0).map((x) => x.id));
      const otherPages = await pageThrough(`/api/v1/parties/${other.id}/timeline`, 8);
      expect(otherPages.seen).toEqual(expectedOrder().filter((id) => quarter.has(id)));
    });

    it('filters a timeline by type and pages the global interaction list', async () => {
      const notes = (await t.admin.get(`/api/v1/parties/${subject.id}/timeline?type=note`)).body;
      expect(notes.data).toEqual([]);
      const all = await pageThrough('/api/v1/interactions?type=sample.call', 50);
      expect(new Set(all.seen).size).toBe(all.seen.length);
      for (const id of created.map((c) => c.id)) expect(all.seen).toContain(id);
    });
  });

  describe('observations and indicators', () => {
    let subject: Party;
    let rel: { id: string };

    beforeAll(async () => {
      subject = await party({ kind: 'organization', name: 'Observed Co' });
      rel = (await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: subject.id, toPartyId: t.selfPartyId })).body;
    });

    it('range-checks quantitative values', async () => {
      const post = (body: object) => t.admin.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: subject.id, ...body });
      for (const [value, observedAt] of [
        [4, '2024-01-01T00:00:00Z'],
        [8, '2024-02-01T00:00:00Z'],
        [9, '2024-03-01T00:00:00Z'],
      ] as const) {
        const res = await post({ value, observedAt });
        expect(res.status).toBe(201);
        expect(res.body).toMatchObject({ indicator: 'sample.nps', subjectType: 'party', subjectId: subject.id, value, label: null });
      }
      expect((await post({ value: 11 })).status).toBe(400);
      expect((await post({ value: -0.5 })).status).toBe(400);
      expect((await post({})).status).toBe(400);
      expect((await post({ value: '7' })).status).toBe(400);
      // sample.nps is about parties: a relationship id is not a subject for it.
      expect((await post({ subjectId: rel.id, value: 5 })).status).toBe(400);
    });

    it('checks qualitative labels against the scale', async () => {
      const post = (body: object) => t.admin.post('/api/v1/observations', { indicator: 'sample.mood', subjectId: rel.id, ...body });
      expect((await post({ label: 'fair', observedAt: '2024-01-01T00:00:00Z' })).status).toBe(201);
      expect((await post({ label: 'good', text: 'much better', observedAt: '2024-02-01T00:00:00Z' })).status).toBe(201);
      expect((await post({ text: 'no label, just a comment', observedAt: '2024-03-01T00:00:00Z' })).status).toBe(201);
      const off = await post({ label: 'ecstatic' });
      expect(off.status).toBe(400);
      expect(off.body.detail).toContain('poor, fair, good');
      expect((await post({})).status).toBe(400);
      expect((await post({ subjectId: subject.id, label: 'good' })).status).toBe(400);
    });

    it('summarizes an indicator with its declared aggregate', async () => {
      const nps = await t.admin.get(`/api/v1/indicators/sample.nps/summary?subjectId=${subject.id}`);
      expect(nps.status).toBe(200);
      expect(nps.body).toMatchObject({ indicator: 'sample.nps', subjectId: subject.id, count: 3, aggregate: 'avg', value: 7, lastObservedAt: '2024-03-01T00:00:00.000Z' });
      const mood = await t.admin.get(`/api/v1/indicators/sample.mood/summary?subjectId=${rel.id}`);
      expect(mood.body).toMatchObject({ count: 3, labels: { fair: 1, good: 1 }, latestLabel: null, value: null });
      expect((await t.admin.get(`/api/v1/indicators/nobody.score/summary?subjectId=${rel.id}`)).status).toBe(404);
      const list = await t.admin.get(`/api/v1/observations?indicator=sample.nps&subjectId=${subject.id}`);
      expect(list.body.data.map((o: { value: number }) => o.value)).toEqual([9, 8, 4]);
    });

    it('computes sum, min, max and last over the whole series', async () => {
      const series = [
        [5, '2024-01-03'],
        [-2.5, '2024-01-01'],
        [10, '2024-01-02'],
      ] as const;
      for (const key of ['extra.sum', 'extra.min', 'extra.max', 'extra.last']) {
        for (const [value, day] of series) {
          expect((await t.admin.post('/api/v1/observations', { indicator: key, subjectId: subject.id, value, observedAt: `${day}T00:00:00Z` })).status).toBe(201);
        }
      }
      const value = async (key: string) => (await t.admin.get(`/api/v1/indicators/${key}/summary?subjectId=${subject.id}`)).body;
      expect(await value('extra.sum')).toMatchObject({ aggregate: 'sum', value: 12.5, count: 3 });
      expect(await value('extra.min')).toMatchObject({ aggregate: 'min', value: -2.5 });
      expect(await value('extra.max')).toMatchObject({ aggregate: 'max', value: 10 });
      expect(await value('extra.last')).toMatchObject({ aggregate: 'last', value: 5, lastObservedAt: '2024-01-03T00:00:00.000Z' });
      // Another subject's series is not mixed in.
      const other = await party({ kind: 'person', name: 'Unobserved' });
      const empty = await t.admin.get(`/api/v1/indicators/extra.sum/summary?subjectId=${other.id}`);
      expect(empty.body).toMatchObject({ count: 0, value: null, lastObservedAt: null, labels: {} });
    });

    it('refuses a label on a quantitative indicator and a value on a qualitative one', async () => {
      expect((await t.admin.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: subject.id, value: 5, label: 'good' })).status).toBe(400);
      expect((await t.admin.post('/api/v1/observations', { indicator: 'sample.mood', subjectId: rel.id, label: 'good', value: 3 })).status).toBe(400);
    });
  });

  describe('duplicates and merge', () => {
    let survivor: Party;
    let dupe: Party;
    let dupe2: Party;
    let partner: Party;
    let rel: { id: string };
    let call: { id: string };
    let obs: { id: string };

    beforeAll(async () => {
      survivor = await party({ kind: 'organization', name: 'Umbrella', contactPoints: [{ kind: 'email', value: 'info@umbrella.example' }] });
      dupe = await party({
        kind: 'organization',
        name: 'Umbrella Corp',
        contactPoints: [
          { kind: 'email', value: 'INFO@umbrella.example' },
          { kind: 'phone', value: '+44 20 7946 0000' },
        ],
      });
      dupe2 = await party({ kind: 'organization', name: 'Umbrella Ltd', contactPoints: [{ kind: 'domain', value: 'umbrella.example' }] });
      partner = await party({ kind: 'person', name: 'Umbrella Partner' });
      rel = (await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: dupe.id, toPartyId: partner.id })).body;
      call = (
        await t.admin.post('/api/v1/interactions', {
          type: 'note',
          participants: [
            { partyId: dupe.id, role: 'a' },
            { partyId: partner.id, role: 'b' },
          ],
        })
      ).body;
      obs = (await t.admin.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: dupe.id, value: 3 })).body;
    });

    it('finds duplicate candidates by normalized contact point', async () => {
      const res = await t.admin.get(`/api/v1/parties/${survivor.id}/duplicates`);
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([{ party: expect.objectContaining({ id: dupe.id }), matches: [{ kind: 'email', normalized: 'info@umbrella.example' }] }]);
      expect((await t.admin.get(`/api/v1/parties/${partner.id}/duplicates`)).body.data).toEqual([]);
    });

    it('a dry run reports the plan and writes nothing', async () => {
      const snapshot = async () => ({
        parties: await t.app.knex('rapport_parties').whereIn('id', [survivor.id, dupe.id]).orderBy('id').select('id', 'version', 'archived_at', 'merged_into_id'),
        points: await t.app.knex('rapport_contact_points').whereIn('party_id', [survivor.id, dupe.id]).orderBy(['party_id', 'normalized']).select('party_id', 'normalized'),
        rel: await t.app.knex('rapport_relationships').where({ id: rel.id }).first('from_party_id', 'version'),
        participants: await t.app.knex('rapport_interaction_participants').where({ interaction_id: call.id }).orderBy('party_id').select('party_id'),
        obs: await t.app.knex('rapport_observations').where({ id: obs.id }).first('subject_id'),
        outbox: await count('rapport_outbox'),
        audit: await count('rapport_audit'),
      });
      const before = await snapshot();
      const plan = await t.admin.post('/api/v1/parties/merge', { survivorId: survivor.id, mergedIds: [dupe.id], dryRun: true });
      expect(plan.status).toBe(200);
      expect(plan.body).toMatchObject({ survivorId: survivor.id, mergedIds: [dupe.id], dryRun: true, relationships: 1, interactions: 1, observations: 1, contactPoints: 2, conflicts: [] });
      expect(await snapshot()).toEqual(before);
    });

    it('refuses merges that make no sense', async () => {
      const merge = (body: object) => t.admin.post('/api/v1/parties/merge', body);
      expect((await merge({ survivorId: dupe.id, mergedIds: [t.selfPartyId] })).status).toBe(409);
      expect((await merge({ survivorId: survivor.id, mergedIds: [survivor.id] })).status).toBe(400);
      expect((await merge({ survivorId: survivor.id, mergedIds: [partner.id] })).status).toBe(400); // a person into an organization
      expect((await merge({ survivorId: survivor.id, mergedIds: ['01890000-0000-7000-8000-000000000000'] })).status).toBe(404);
    });

    it('moves relationships, participations, observations and contact points, and archives the merged party', async () => {
      const merged = await t.admin.post('/api/v1/parties/merge', { survivorId: survivor.id, mergedIds: [dupe.id, dupe2.id] });
      expect(merged.status).toBe(200);
      expect(merged.body).toMatchObject({ dryRun: false, relationships: 1, interactions: 1, observations: 1, contactPoints: 3 });
      expect(merged.body.survivor.version).toBe(survivor.version + 1);

      const movedRel = (await t.admin.get(`/api/v1/relationships/${rel.id}`)).body;
      expect(movedRel).toMatchObject({ fromPartyId: survivor.id, toPartyId: partner.id, version: 2 });
      const movedCall = (await t.admin.get(`/api/v1/interactions/${call.id}`)).body;
      expect(movedCall.participants.map((p: { partyId: string }) => p.partyId).sort()).toEqual([survivor.id, partner.id].sort());
      expect(ids((await t.admin.get(`/api/v1/parties/${survivor.id}/timeline`)).body)).toEqual([call.id]);
      expect((await t.admin.get(`/api/v1/parties/${dupe.id}/timeline`)).body.data).toEqual([]);
      expect((await t.admin.get(`/api/v1/observations/${obs.id}`)).body.subjectId).toBe(survivor.id);

      const s = (await t.admin.get(`/api/v1/parties/${survivor.id}`)).body as Party;
      expect(s.contactPoints.map((c) => c.value).sort()).toEqual(['+44 20 7946 0000', 'info@umbrella.example', 'umbrella.example']);
      for (const id of [dupe.id, dupe2.id]) {
        const gone = (await t.admin.get(`/api/v1/parties/${id}`)).body as Party;
        expect(gone).toMatchObject({ mergedIntoId: survivor.id, archivedAt: expect.any(String), contactPoints: [] });
      }
      expect(ids((await t.admin.get('/api/v1/parties?email=info@umbrella.example')).body)).toEqual([survivor.id]);
      expect((await t.admin.get(`/api/v1/parties/${survivor.id}/duplicates`)).body.data).toEqual([]);

      // A merged party stays merged.
      expect((await t.admin.post(`/api/v1/parties/${dupe.id}/restore`)).status).toBe(409);
      expect((await t.admin.post('/api/v1/parties/merge', { survivorId: survivor.id, mergedIds: [dupe.id] })).status).toBe(409);
    });

    it('refuses a merge that would relate the survivor to itself', async () => {
      const x = await party({ kind: 'organization', name: 'Self Loop A' });
      const y = await party({ kind: 'organization', name: 'Self Loop B' });
      const loop = (await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: x.id, toPartyId: y.id })).body;
      const dry = await t.admin.post('/api/v1/parties/merge', { survivorId: x.id, mergedIds: [y.id], dryRun: true });
      expect(dry.body.conflicts).toEqual([{ relationshipId: loop.id, reason: 'would relate the survivor to itself' }]);
      const real = await t.admin.post('/api/v1/parties/merge', { survivorId: x.id, mergedIds: [y.id] });
      expect(real.status).toBe(409);
      expect(real.body.conflicts).toHaveLength(1);
      expect((await t.admin.get(`/api/v1/parties/${y.id}`)).body.mergedIntoId).toBeNull();
    });
  });
});
