import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreServices, createTenant, definePlugin, newId, PluginError, type PluginDatabase, type RelationshipService } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';

/*
 * The tenant wall of a plugin's database handle: queries written with no tenant condition at
 * all read, change and join only the caller's tenant's rows, inserts are stamped, and tables
 * outside the plugin's prefix are refused. Each check looks at the raw rows of both tenants.
 */

let db!: PluginDatabase;
let relationships!: RelationshipService;

const walled = definePlugin({
  name: 'walled',
  version: '1.0.0',
  deps: { db: coreServices.database, relationships: coreServices.relationships },
  migrations: [
    {
      name: '0001_notes',
      up: async (knex) => {
        await knex.schema.createTable('walled_notes', (t) => {
          t.uuid('tenant_id').notNullable();
          t.uuid('id').notNullable();
          t.text('body').notNullable();
          t.integer('hits').notNullable().defaultTo(0);
          t.primary(['tenant_id', 'id']);
          t.unique(['tenant_id', 'body']);
        });
        await knex.schema.createTable('walled_tags', (t) => {
          t.uuid('tenant_id').notNullable();
          t.uuid('note_id').notNullable();
          t.text('tag').notNullable();
          t.primary(['tenant_id', 'note_id', 'tag']);
        });
      },
      down: async (knex) => {
        await knex.schema.dropTable('walled_tags');
        await knex.schema.dropTable('walled_notes');
      },
    },
  ],
  setup(api, deps) {
    api.relationshipTypes.define({ key: 'walled.link', fromRole: 'from', toRole: 'to' });
    db = deps.db;
    relationships = deps.relationships;
  },
});

describe('the tenant wall of a plugin database handle', () => {
  let t: TestApp;
  let a: string;
  let b: string;
  const noteOf: Record<string, string> = {};

  /** Every row of a table, both tenants, past the wall. */
  const raw = (table: string) =>
    t.app
      .knex(table)
      .orderBy(['tenant_id', table === 'walled_notes' ? 'body' : 'tag'])
      .select('*');

  beforeAll(async () => {
    t = await createTestApp({ plugins: [walled] });
    a = t.tenantId;
    b = (await createTenant(t.app.knex, 'Other Tenant')).id;
    for (const [tenant, prefix] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      for (const n of [1, 2]) {
        const id = newId();
        noteOf[`${prefix}${n}`] = id;
        await db
          .in(tenant)('walled_notes')
          .insert({ id, body: `${prefix}-note-${n}` });
        await db
          .in(tenant)('walled_tags')
          .insert({ note_id: id, tag: `${prefix}-tag-${n}` });
      }
    }
  });
  afterAll(() => t?.close());

  it('stamps every inserted row with the tenant', async () => {
    expect((await raw('walled_notes')).map((r: { tenant_id: string; body: string }) => [r.tenant_id === a ? 'A' : 'B', r.body])).toEqual(
      [
        ['A', 'a-note-1'],
        ['A', 'a-note-2'],
        ['B', 'b-note-1'],
        ['B', 'b-note-2'],
      ].sort((x, y) => (x[0] === y[0] ? 0 : (x[0] === 'A') === a < b ? -1 : 1)),
    );
  });

  it('reads only the tenant’s rows with no condition written, in selects, counts, joins and subqueries', async () => {
    const tables = db.in(a);
    expect((await tables('walled_notes').select('body').orderBy('body')).map((r: { body: string }) => r.body)).toEqual(['a-note-1', 'a-note-2']);
    expect(Number((await tables('walled_notes').count({ n: '*' }).first())?.n)).toBe(2);
    // A join with nothing but the key: the joined table is walled too.
    const joined = await tables('walled_notes as n').join('walled_tags as g', 'g.note_id', 'n.id').select('n.body', 'g.tag').orderBy('g.tag');
    expect(joined).toEqual([
      { body: 'a-note-1', tag: 'a-tag-1' },
      { body: 'a-note-2', tag: 'a-tag-2' },
    ]);
    // Even a join on a condition that matches across tenants (every tag) finds only the tenant's.
    const everyPair = await tables('walled_notes as n')
      .leftJoin('walled_tags as g', (on) => on.on(t.app.knex.raw('true')))
      .select('g.tag');
    expect(new Set(everyPair.map((r: { tag: string }) => r.tag))).toEqual(new Set(['a-tag-1', 'a-tag-2']));
    // An `or` in the caller's join condition cannot escape the tenant condition.
    const withOr = await tables('walled_notes as n')
      .join('walled_tags as g', (on) => on.on('g.note_id', 'n.id').orOn(t.app.knex.raw('true')))
      .select('g.tag');
    expect(new Set(withOr.map((r: { tag: string }) => r.tag))).toEqual(new Set(['a-tag-1', 'a-tag-2']));
    const viaSubquery = await tables('walled_notes').whereIn('id', tables('walled_tags').select('note_id')).select('body').orderBy('body');
    expect(viaSubquery.map((r: { body: string }) => r.body)).toEqual(['a-note-1', 'a-note-2']);
    // A clone, or a cleared WHERE, keeps the wall.
    const base = tables('walled_notes').where('body', 'a-note-1');
    expect((await base.clone().clearWhere().select('body')).map((r: { body: string }) => r.body).sort()).toEqual(['a-note-1', 'a-note-2']);
  });

  it('changes and deletes only the tenant’s rows with no condition written', async () => {
    await t.app.transaction(
      async (uow) => {
        expect(await db.in(uow)('walled_notes').increment('hits', 1)).toBe(2);
      },
      { tenantId: b },
    );
    const hits = (await raw('walled_notes')).map((r: { tenant_id: string; hits: number }) => [r.tenant_id === b, r.hits]);
    expect(hits.filter(([isB]) => isB).map(([, n]) => n)).toEqual([1, 1]);
    expect(hits.filter(([isB]) => !isB).map(([, n]) => n)).toEqual([0, 0]);

    const extra = newId();
    await db.in(b)('walled_tags').insert({ note_id: extra, tag: 'b-doomed' });
    await db.in(a)('walled_tags').insert({ note_id: extra, tag: 'a-doomed' });
    expect(await db.in(b)('walled_tags').where('note_id', extra).del()).toBe(1);
    expect((await raw('walled_tags')).map((r: { tag: string }) => r.tag)).toContain('a-doomed');
    expect(await db.in(a)('walled_tags').where('note_id', extra).del()).toBe(1);
  });

  it('upserts within the tenant: the conflict target gets the tenant column', async () => {
    // Both tenants have a note "x"; an upsert in A touches A's only.
    await db.in(a)('walled_notes').insert({ id: newId(), body: 'x' });
    await db.in(b)('walled_notes').insert({ id: newId(), body: 'x' });
    await db.in(a)('walled_notes').insert({ id: newId(), body: 'x', hits: 5 }).onConflict('body').merge(['hits']);
    const xs = (await raw('walled_notes')).filter((r: { body: string }) => r.body === 'x').map((r: { tenant_id: string; hits: number }) => [r.tenant_id === a, r.hits]);
    expect(xs.sort()).toEqual([
      [false, 0],
      [true, 5],
    ]);
  });

  it('bulk-inserts rows stamped with the tenant', async () => {
    await t.app.transaction(
      async (uow) => {
        await db.in(uow)('walled_tags').where('tag', 'like', 'bulk-%').del();
        await db.in(uow).bulkInsert('walled_tags', { note_id: 'uuid', tag: 'text' }, [
          { note_id: noteOf.a1, tag: 'bulk-1' },
          { note_id: noteOf.a1, tag: 'bulk-2' },
        ]);
      },
      { tenantId: a },
    );
    const bulk = (await raw('walled_tags')).filter((r: { tag: string }) => r.tag.startsWith('bulk-'));
    expect(bulk.map((r: { tenant_id: string }) => r.tenant_id)).toEqual([a, a]);
  });

  it('refuses rows and changes that would cross tenants, naming the plugin', async () => {
    const refused = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(PluginError);
        expect((error as Error).message).toMatch(/^Plugin "walled": /);
        return (error as Error).message;
      }
      throw new Error('not refused');
    };
    expect(refused(() => db.in(a)('walled_notes').insert({ tenant_id: b, id: newId(), body: 'smuggled' }))).toMatch(/another tenant/);
    expect(refused(() => db.in(a)('walled_notes').update({ tenant_id: b }))).toMatch(/another tenant/);
    await expect(db.in(a).bulkInsert('walled_tags', { note_id: 'uuid', tag: 'text' }, [{ tenant_id: b, note_id: noteOf.a1, tag: 'smuggled' }])).rejects.toThrow(/another tenant/);
    expect(refused(() => db.in(a)('walled_notes').from('walled_tags'))).toMatch(/from\(\) is not available/);
    expect(refused(() => db.in(a)('walled_notes').joinRaw('join walled_tags on true'))).toMatch(/joinRaw\(\) is not available/);
    expect((await raw('walled_notes')).some((r: { body: string }) => r.body === 'smuggled')).toBe(false);
  });

  it('refuses tables outside the plugin’s prefix, kernel tables included, and raw subqueries as join targets', async () => {
    expect(() => db.in(a)('rapport_parties')).toThrow(/Plugin "walled": table "rapport_parties" is outside this plugin's tables \("walled_…"\)/);
    expect(() => db.in(a)('sample_tickets as s')).toThrow(/outside this plugin's tables/);
    expect(() => db.in(a)('walled_notes as n').join('rapport_relationships as r', 'r.id', 'n.id')).toThrow(/table "rapport_relationships" is outside/);
    expect(() => db.in(a)('walled_notes as n').join(t.app.knex('rapport_parties').as('p'), 'p.id', 'n.id')).toThrow(/may join only its own tables/);
    expect(() => db.in(a)('walled_notes; drop table walled_tags')).toThrow(/is not a table name/);
    await expect(db.tenantsWith('rapport_parties')).rejects.toThrow(/not one of this plugin's tables/);
  });

  it('joins kernel views, which are limited to the same tenant', async () => {
    const ctx = t.app.systemContext(a);
    const partner = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Joined Org' })).body.id;
    expect((await t.admin.post('/api/v1/relationships', { type: 'walled.link', fromPartyId: t.selfPartyId, toPartyId: partner })).status).toBe(201);
    const view = relationships.query(ctx, { type: 'walled.link' }).select('id', 'to_party_id');
    const rows = await db
      .in(ctx)('walled_notes as n')
      .join(view.as('r'), (on) => on.on(t.app.knex.raw('true')))
      .distinct('r.to_party_id');
    expect(rows).toEqual([{ to_party_id: partner }]);
    // The same view in the other tenant is empty: B has no such relationship.
    const other = await db
      .in(b)('walled_notes as n')
      .join(relationships.query(t.app.systemContext(b), { type: 'walled.link' }).as('r'), (on) => on.on(t.app.knex.raw('true')))
      .distinct('r.to_party_id');
    expect(other).toEqual([]);
  });

  it('finds the tenants with matching rows for work across tenants, one tenant at a time', async () => {
    expect((await db.tenantsWith('walled_notes')).sort()).toEqual([a, b].sort());
    expect(await db.tenantsWith('walled_notes', (q) => q.where('body', 'like', 'b-note-%'))).toEqual([b]);
  });

  it('holds a lock only inside a unit of work', async () => {
    await expect(db.in(a).lock('k')).rejects.toThrow(/inside a unit of work|holds until the transaction ends/);
    await t.app.transaction((uow) => db.in(uow).lock('k'), { tenantId: a });
  });
});
