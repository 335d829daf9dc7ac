import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createTenant } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';

describe('search', () => {
  let t: TestApp;
  const ids: Record<string, string> = {};

  const party = async (kind: string, name: string, contactPoints: Array<{ kind: string; value: string }> = []) => {
    const res = await t.admin.post('/api/v1/parties', { kind, name, contactPoints });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  };
  const note = async (subject: string, summary: string, partyId: string) => {
    const res = await t.admin.post('/api/v1/interactions', {
      type: 'note',
      occurredAt: new Date().toISOString(),
      direction: 'internal',
      subject,
      summary,
      participants: [{ partyId, role: 'participant' }],
    });
    expect(res.status, res.text).toBe(201);
    return res.body.id as string;
  };
  const search = async (q: string, extra = '', client = t.admin) => {
    const res = await client.get(`/api/v1/search?q=${encodeURIComponent(q)}${extra}`);
    expect(res.status, res.text).toBe(200);
    return res.body as { data: Array<{ type: string; id: string; title: string; rank: number }>; nextCursor: string | null };
  };

  beforeAll(async () => {
    t = await createTestApp();
    ids.acme = await party('organization', 'Acme', [{ kind: 'domain', value: 'acme.example' }]);
    ids.globex = await party('organization', 'Globex Corporation', [{ kind: 'domain', value: 'globex.example' }]);
    ids.initech = await party('organization', 'Initech', [{ kind: 'email', value: 'info@initech.example' }]);
    ids.ada = await party('person', 'Ada Lovelace', [{ kind: 'email', value: 'ada@acme.example' }]);
    ids.review = await note('Quarterly review', 'Went through the renewal with the purchasing team of Acme', ids.acme);
    ids.lunch = await note('Lunch with Globex', 'They want a discount', ids.globex);
  });
  afterAll(() => t?.close());

  it('finds Acme from a typo, from another case with a suffix, and from its web address', async () => {
    for (const q of ['acmee', 'ACME GmbH', 'www.acme.example', 'https://www.Acme.example/about', 'Acme']) {
      const { data } = await search(q, '&types=party');
      expect(data[0], q).toMatchObject({ type: 'party', id: ids.acme, title: 'Acme' });
      expect(data.map((h) => h.id)).not.toContain(ids.initech);
    }
    // The best match comes first: an exact name above a contact point that merely resembles it.
    const { data } = await search('acme');
    expect(data[0].id).toBe(ids.acme);
    expect(data.map((h) => h.id)).toEqual(expect.arrayContaining([ids.acme, ids.ada, ids.review]));
    expect(data.map((h) => h.id)).not.toContain(ids.globex);
  });

  it('finds interactions by their subject and summary words, and contact points by e-mail', async () => {
    expect((await search('renewal purchasing')).data.map((h) => h.id)).toEqual([ids.review]);
    expect((await search('quarterl')).data.map((h) => h.id)).toEqual([ids.review]);
    expect((await search('info@initech.example')).data[0]).toMatchObject({ type: 'party', id: ids.initech });
    expect((await search('discount', '&types=party')).data).toEqual([]);
    expect((await search('discount', '&types=interaction')).data.map((h) => h.id)).toEqual([ids.lunch]);
  });

  it('pages by keyset over (rank, id) without losing or repeating a hit', async () => {
    for (let i = 0; i < 7; i++) await party('organization', `Umbrella ${i}`);
    const all = (await search('umbrella', '&limit=50')).data;
    expect(all).toHaveLength(7);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof search>> = await search('umbrella', `&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.data.map((h) => h.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.map((h) => h.id));
    for (let i = 1; i < all.length; i++) expect(all[i - 1].rank).toBeGreaterThanOrEqual(all[i].rank);
  });

  it('answers bad input with 400', async () => {
    expect((await t.admin.get('/api/v1/search?q=%21%21%21')).status).toBe(400);
    expect((await t.admin.get('/api/v1/search')).status).toBe(400);
    expect((await t.admin.get('/api/v1/search?q=acme&types=nope')).status).toBe(400);
    expect((await t.admin.get('/api/v1/search?q=acme&cursor=garbage')).status).toBe(400);
    expect((await t.anonymous.get('/api/v1/search?q=acme')).status).toBe(401);
  });

  it('searches only the types the caller may read, and only within its reach', async () => {
    const partiesOnly = await t.clientFor({ roles: ['viewer'] });
    expect((await t.admin.post('/api/v1/roles', { name: 'party-reader', permissions: ['parties:read'] })).status).toBe(201);
    const reader = await t.clientFor({ roles: ['party-reader'] });
    expect((await search('acme', '', partiesOnly)).data.map((h) => h.type)).toContain('interaction');
    expect(new Set((await search('acme', '', reader)).data.map((h) => h.type))).toEqual(new Set(['party']));
    // Scoped to Globex: it sees itself and the interactions it took part in, nothing about Acme.
    const scoped = await t.clientFor({ roles: ['viewer'], scopePartyId: ids.globex });
    expect((await search('acme', '', scoped)).data).toEqual([]);
    expect((await search('globex', '', scoped)).data.map((h) => h.id).sort()).toEqual([ids.globex, ids.lunch].sort());
    expect((await search('renewal', '', scoped)).data).toEqual([]);
  });

  it('keeps tenants apart', async () => {
    const other = await createTenant(t.app.knex, 'Other Co');
    const { token } = await createApiKey(t.app.knex, other.id, { name: 'other', roles: ['admin'] });
    const client = t.anonymous.as(token);
    expect((await search('acme', '', client)).data).toEqual([]);
  });

  it('GET /parties?q= matches as search does (typos, contact points), keeping substrings', async () => {
    const names = async (q: string) => (await t.admin.get(`/api/v1/parties?q=${encodeURIComponent(q)}`)).body.data.map((p: { name: string }) => p.name);
    expect(await names('acmee')).toContain('Acme');
    expect(await names('www.acme.example')).toContain('Acme');
    expect(await names('cme')).toEqual(['Acme']);
    expect(await names('lovelace')).toEqual(['Ada Lovelace']);
  });
});
