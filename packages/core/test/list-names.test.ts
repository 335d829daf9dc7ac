import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';

// Name search on the parties list: prefix and substring filters, case-insensitive, sort by
// name either way, keyset pages that neither skip nor repeat a party.
let t: TestApp;
const NAMES = ['acme Europe', 'ACME Inc', 'Acme Labs', 'Acmeworks', 'Ac_me Underscore', 'Ac%me Percent', 'Globex', 'Beta Acme', 'Élan Vital', 'elan', 'Zeta'];

beforeAll(async () => {
  t = await createTestApp();
  for (const name of NAMES) expect((await t.admin.post('/api/v1/parties', { kind: 'organization', name })).status).toBe(201);
  // Two parties with one name: the id decides their order and pages still split cleanly.
  for (let i = 0; i < 2; i++) expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Same Name' })).status).toBe(201);
});
afterAll(() => t?.close());

async function all(query: string, limit = 2): Promise<string[]> {
  const names: string[] = [];
  const ids = new Set<string>();
  let cursor: string | null = null;
  do {
    const response: { status: number; text: string; body: { data: Array<{ id: string; name: string }>; nextCursor: string | null } } = await t.admin.get(
      `/api/v1/parties?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(response.status, response.text).toBe(200);
    for (const party of response.body.data) {
      expect(ids.has(party.id)).toBe(false);
      ids.add(party.id);
      names.push(party.name);
    }
    cursor = response.body.nextCursor;
  } while (cursor);
  return names;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a.toLowerCase()), Buffer.from(b.toLowerCase())) as number;

describe('parties by name', () => {
  it('sorts by lower-cased name in byte order, a to z and z to a, over keyset pages', async () => {
    const everyone = [...NAMES, 'Same Name', 'Same Name', 'Test Company'];
    const ascending = await all('sort=name');
    expect(ascending).toEqual([...everyone].sort(byteOrder));
    const descending = await all('sort=-name', 3);
    expect(descending).toEqual([...everyone].sort(byteOrder).reverse());
  });

  it('filters by prefix, case-insensitively, with LIKE wildcards taken literally', async () => {
    expect(await all('startsWith=ACME&sort=name')).toEqual(['acme Europe', 'ACME Inc', 'Acme Labs', 'Acmeworks']);
    expect(await all('startsWith=acme%20&sort=-name')).toEqual(['Acme Labs', 'ACME Inc', 'acme Europe']);
    expect(await all('startsWith=ac_&sort=name')).toEqual(['Ac_me Underscore']);
    expect(await all('startsWith=ac%25&sort=name')).toEqual(['Ac%me Percent']);
    // Accents are compared as written.
    expect(await all('startsWith=el&sort=name')).toEqual(['elan']);
    expect(await all('startsWith=%C3%A9l&sort=name')).toEqual(['Élan Vital']);
  });

  it('filters by substring, with or without a name sort', async () => {
    expect(await all('q=CME&sort=name')).toEqual(['acme Europe', 'ACME Inc', 'Acme Labs', 'Acmeworks', 'Beta Acme']);
    expect((await all('q=acme')).sort(byteOrder)).toEqual(['acme Europe', 'ACME Inc', 'Acme Labs', 'Acmeworks', 'Beta Acme']);
    expect(await all('q=me%20eur&startsWith=a&sort=name')).toEqual(['acme Europe']);
    // `q` is a substring of the name or what search matches (custom-fields/search): a short
    // text also finds near matches by trigrams, still filtered by the prefix, in name order.
    const near = await all('q=me%20e&startsWith=a&sort=name');
    expect(near).toContain('acme Europe');
    expect(near).toEqual([...near].sort(byteOrder));
    for (const name of near) expect(name.toLowerCase().startsWith('a')).toBe(true);
  });

  it('pages back with prevCursor: the same pages, in the list order, down to the first', async () => {
    for (const query of ['sort=name', 'sort=-name&q=a', 'kind=organization']) {
      type Page = { data: Array<{ id: string }>; nextCursor: string | null; prevCursor?: string };
      const get = async (cursor?: string): Promise<Page> => {
        const response = await t.admin.get(`/api/v1/parties?${query}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(response.status, response.text).toBe(200);
        return response.body as Page;
      };
      const forward: string[][] = [];
      let page = await get();
      expect(page.prevCursor).toBeUndefined();
      forward.push(page.data.map((p) => p.id));
      while (page.nextCursor) {
        page = await get(page.nextCursor);
        expect(page.prevCursor).toEqual(expect.any(String));
        forward.push(page.data.map((p) => p.id));
      }
      expect(forward.length, query).toBeGreaterThan(1);
      const backward: string[][] = [forward[forward.length - 1]];
      while (page.prevCursor) {
        page = await get(page.prevCursor);
        expect(page.nextCursor).toEqual(expect.any(String));
        backward.unshift(page.data.map((p) => p.id));
      }
      expect(backward, query).toEqual(forward);
    }
  });

  it('refuses an unknown sort and a cursor of another order', async () => {
    expect((await t.admin.get('/api/v1/parties?sort=kind')).status).toBe(400);
    const newest = await t.admin.get('/api/v1/parties?limit=1');
    const wrong = await t.admin.get(`/api/v1/parties?sort=name&cursor=${newest.body.nextCursor}`);
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors).toEqual([{ path: 'cursor', message: 'invalid cursor' }]);
  });
});
