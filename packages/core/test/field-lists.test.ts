import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { applyFieldFilters, coreServices, createFieldFilterIndex, definePlugin, fieldSortPage, keysetPage, pageOf, pageQuery, withFieldParams, type Migration } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';

// Custom fields filter and sort every list that has them — relationships by type,
// interactions by type and a plugin's records that opt in — with the query syntax of the
// parties list, keyset pages both ways (nextCursor and prevCursor), records without a value last.

const migrations: Migration[] = [
  {
    name: '0001_tiles',
    up: async (knex) => {
      await knex.schema.createTable('tiles_tiles', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('title').notNullable();
        t.jsonb('values').notNullable().defaultTo('{}');
        t.primary(['tenant_id', 'id']);
      });
      await createFieldFilterIndex(knex, { table: 'tiles_tiles', column: 'values' });
    },
    down: (knex) => knex.schema.dropTable('tiles_tiles'),
  },
];

const tileSchema = z.object({ id: z.uuid(), title: z.string(), attributes: z.record(z.string(), z.unknown()) });

const plugin = definePlugin({
  name: 'tiles',
  version: '1.0.0',
  migrations,
  deps: { db: coreServices.database, fields: coreServices.fields },
  setup(api, { db, fields }) {
    api.permissions.define({ key: 'tiles.use', description: 'Tiles' });
    api.relationshipTypes.define({ key: 'tiles.member', fromRole: 'member', toRole: 'club', fromKinds: ['person'], toKinds: ['organization'] });
    api.customFields.allow({ key: 'tiles.tile', table: 'tiles_tiles', column: 'values', label: 'Tiles' });
    api.routes((r) => {
      r.post('/tiles', {
        summary: 'Create a tile',
        permission: 'tiles.use',
        body: z.strictObject({ title: z.string(), attributes: z.record(z.string(), z.unknown()).optional() }),
        response: tileSchema,
        handler: async (ctx) => {
          const values = await fields.validate(ctx, 'tiles.tile', ctx.body.attributes ?? {});
          const id = crypto.randomUUID();
          await ctx.transaction((uow) =>
            db
              .in(uow)('tiles_tiles')
              .insert({ id, title: ctx.body.title, values: JSON.stringify(values) }),
          );
          return { id, title: ctx.body.title, attributes: values };
        },
      });
      r.get('/tiles', {
        summary: 'List tiles',
        permission: 'tiles.use',
        query: withFieldParams({ ...pageQuery }),
        response: pageOf(tileSchema),
        handler: async (ctx) => {
          const custom = await fields.listQuery(ctx, 'tiles.tile', ctx.query);
          const q = db.in(ctx)('tiles_tiles as t').select('t.id', 't.title', 't.values');
          if (custom) applyFieldFilters(q, 't', custom, { column: 'values' });
          const map = (rows: Array<{ id: string; title: string; values: Record<string, unknown> }>) => rows.map((row) => ({ id: row.id, title: row.title, attributes: row.values }));
          if (custom?.sort) return fieldSortPage(q, 't', custom.sort, ctx.query, map, { column: 'values' });
          return keysetPage(q, ctx.query, [{ column: 't.id', type: 'uuid', direction: 'desc' }], map);
        },
      });
    });
  },
});

type Row = { id: string; attributes: Record<string, unknown> };

describe('custom field filters and sorts on every list', () => {
  let t: TestApp;
  let club: string;
  const relationships: Row[] = [];
  const interactions: Row[] = [];
  const tiles: Row[] = [];
  // Ties (5 twice), records without a value (undefined), a negative and a fraction.
  const SCORES = [5, 3, undefined, 5, 9, undefined, -1, 2.5, 7, undefined, 5];

  beforeAll(async () => {
    t = await createTestApp({ plugins: [plugin] });
    for (const [recordType, appliesTo] of [
      ['relationship', ['tiles.member']],
      ['interaction', ['note']],
      ['tiles.tile', []],
    ] as const) {
      const res = await t.admin.post('/api/v1/fields', { recordType, key: 'score', kind: 'number', label: 'Score', appliesTo });
      expect(res.status, res.text).toBe(201);
      const tags = await t.admin.post('/api/v1/fields', { recordType, key: 'tags', kind: 'multiChoice', label: 'Tags', choices: ['a', 'b'], appliesTo });
      expect(tags.status, tags.text).toBe(201);
    }
    club = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Club' })).body.id;
    for (const [i, score] of SCORES.entries()) {
      const attributes = { ...(score === undefined ? {} : { score }), tags: i % 2 ? ['a'] : ['b'] };
      const person = (await t.admin.post('/api/v1/parties', { kind: 'person', name: `P${i}` })).body.id;
      const rel = await t.admin.post('/api/v1/relationships', { type: 'tiles.member', fromPartyId: person, toPartyId: club, attributes });
      expect(rel.status, rel.text).toBe(201);
      relationships.push(rel.body);
      const note = await t.admin.post('/api/v1/interactions', {
        type: 'note',
        occurredAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
        direction: 'internal',
        participants: [{ partyId: person, role: 'participant' }],
        attributes,
      });
      expect(note.status, note.text).toBe(201);
      interactions.push(note.body);
      const tile = await t.admin.post('/api/v1/tiles/tiles', { title: `T${i}`, attributes });
      expect(tile.status, tile.text).toBe(201);
      tiles.push(tile.body);
    }
  }, 120_000);
  afterAll(() => t?.close());

  /** The order the list must have: by score either way, ties by id the same way, records without a score last (by id the same way). */
  const expected = (rows: Row[], direction: 'asc' | 'desc', keep: (row: Row) => boolean = () => true) => {
    const sign = direction === 'asc' ? 1 : -1;
    const score = (r: Row) => r.attributes.score as number | undefined;
    return rows
      .filter(keep)
      .sort((a, b) => {
        const [x, y] = [score(a), score(b)];
        if (x === undefined && y !== undefined) return 1;
        if (y === undefined && x !== undefined) return -1;
        if (x !== undefined && y !== undefined && x !== y) return sign * (x - y);
        return sign * (a.id < b.id ? -1 : 1);
      })
      .map((r) => r.id);
  };

  /** Every page forward, then every page back from the last by prevCursor; both must read the whole list once, in order. */
  async function walk(path: string): Promise<{ forward: string[][]; backward: string[][] }> {
    const join = path.includes('?') ? '&' : '?';
    const forward: string[][] = [];
    let cursor: string | null = null;
    type ListPage = { data: Row[]; nextCursor: string | null; prevCursor?: string };
    let last: ListPage | undefined;
    do {
      const res: { status: number; text: string; body: ListPage } = await t.admin.get<ListPage>(`${path}${join}limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, res.text).toBe(200);
      forward.push(res.body.data.map((r) => r.id));
      if (forward.length === 1) expect(res.body.prevCursor).toBeUndefined();
      cursor = res.body.nextCursor;
      last = res.body;
    } while (cursor);
    const backward: string[][] = [];
    let previous = last?.prevCursor;
    while (previous) {
      const res = await t.admin.get<ListPage>(`${path}${join}limit=3&cursor=${previous}`);
      expect(res.status, res.text).toBe(200);
      backward.unshift(res.body.data.map((r) => r.id));
      previous = res.body.prevCursor;
    }
    return { forward, backward };
  }

  const lists = [
    { name: 'relationships of a type', path: '/api/v1/relationships?type=tiles.member', rows: () => relationships },
    { name: 'interactions of a type', path: '/api/v1/interactions?type=note', rows: () => interactions },
    { name: "a plugin's records", path: '/api/v1/tiles/tiles', rows: () => tiles },
  ];

  for (const list of lists) {
    it(`${list.name}: sorted by a field either way, keyset pages forward and back, without a value last`, async () => {
      for (const direction of ['asc', 'desc'] as const) {
        const { forward, backward } = await walk(`${list.path}${list.path.includes('?') ? '&' : '?'}sort=${direction === 'desc' ? '-' : ''}field.score`);
        const order = expected(list.rows(), direction);
        expect(forward.flat()).toEqual(order);
        expect(forward.every((page) => page.length === 3 || page === forward[forward.length - 1])).toBe(true);
        // Back from the last page: the pages before it, exactly as they were read forward.
        expect([...backward, forward[forward.length - 1]]).toEqual(forward);
      }
    });

    it(`${list.name}: filters on fields, combined with the sort`, async () => {
      const join = list.path.includes('?') ? '&' : '?';
      const res = await t.admin.get(`${list.path}${join}field.score.gte=3&field.score.lte=7&sort=-field.score&limit=50`);
      expect(res.status, res.text).toBe(200);
      const wanted = (r: Row) => typeof r.attributes.score === 'number' && r.attributes.score >= 3 && r.attributes.score <= 7;
      expect(res.body.data.map((r: Row) => r.id)).toEqual(expected(list.rows(), 'desc', wanted));
      const tagged = await t.admin.get(`${list.path}${join}field.tags=a&limit=50`);
      expect(tagged.body.data.map((r: Row) => r.id).sort()).toEqual(
        list
          .rows()
          .filter((r) => (r.attributes.tags as string[]).includes('a'))
          .map((r) => r.id)
          .sort(),
      );
      expect((await t.admin.get(`${list.path}${join}field.score=5&limit=50`)).body.data).toHaveLength(3);
      // Without a sort, the list keeps its own order and pages back too.
      const { forward, backward } = await walk(`${list.path}${join}field.tags=b`);
      expect([...backward, forward[forward.length - 1]]).toEqual(forward);
    });

    it(`${list.name}: bad field queries are 400 problems`, async () => {
      const join = list.path.includes('?') ? '&' : '?';
      const bad = async (query: string) => {
        const res = await t.admin.get(`${list.path}${join}${query}`);
        expect(res.status, `${query}: ${res.text}`).toBe(400);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
      };
      await bad('sort=field.nope');
      await bad('sort=-field.tags');
      await bad('sort=score');
      await bad('field.nope=1');
      await bad('field.score=high');
      await bad('field.tags.gte=a');
      await bad('sort=field.score&cursor=garbage');
      // A cursor whose value is not one the database wrote: refused, not cast into a 500.
      const forged = Buffer.from(JSON.stringify(['1; drop table x', 0, '01890000-0000-7000-8000-000000000000'])).toString('base64url');
      await bad(`sort=field.score&cursor=${forged}`);
      const forgedBack = Buffer.from(JSON.stringify(['<', 'x', 0, '01890000-0000-7000-8000-000000000000'])).toString('base64url');
      await bad(`sort=field.score&cursor=${forgedBack}`);
    });
  }

  it('a plugin reads list queries of its own record types only', async () => {
    const other = definePlugin({
      name: 'nosy',
      version: '1.0.0',
      deps: { fields: coreServices.fields },
      setup(_api, { fields }) {
        nosy = fields;
      },
    });
    let nosy: { listQuery: (...args: never[]) => Promise<unknown> } | undefined;
    const app = await createTestApp({ plugins: [plugin, other] });
    try {
      await expect(nosy!.listQuery(app.app.systemContext() as never, 'tiles.tile' as never, {} as never)).rejects.toThrow(/own record types/);
    } finally {
      await app.close();
    }
  });
});
