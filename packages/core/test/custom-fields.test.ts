import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { coreServices, createTenant, createApiKey, definePlugin, type Migration } from '@rapport/core';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';

/** A plugin record type that opts into custom fields: cards with a jsonb `attributes`. */
const cardsMigrations: Migration[] = [
  {
    name: '0001_cards',
    up: async (knex) => {
      await knex.schema.createTable('cards_cards', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('title').notNullable();
        t.jsonb('attributes').notNullable().defaultTo('{}');
        t.primary(['tenant_id', 'id']);
      });
    },
    down: (knex) => knex.schema.dropTable('cards_cards'),
  },
];

const cardsPlugin = definePlugin({
  name: 'cards',
  version: '1.0.0',
  migrations: cardsMigrations,
  deps: { db: coreServices.database, fields: coreServices.fields },
  setup(api, { db, fields }) {
    api.permissions.define({ key: 'cards.write', description: 'Write cards' });
    api.customFields.allow({ key: 'cards.card', table: 'cards_cards', label: 'Cards' });
    api.routes((r) =>
      r.post('/cards', {
        summary: 'Create a card',
        permission: 'cards.write',
        body: z.strictObject({ title: z.string(), attributes: z.record(z.string(), z.unknown()).optional() }),
        response: z.object({ id: z.uuid(), attributes: z.record(z.string(), z.unknown()) }),
        handler: async (ctx) => {
          const body = ctx.body;
          const attributes = await fields.validate(ctx, 'cards.card', body.attributes ?? {});
          const id = crypto.randomUUID();
          await ctx.transaction(async (uow) =>
            db
              .in(uow)('cards_cards')
              .insert({ id, title: body.title, attributes: JSON.stringify(attributes) }),
          );
          return { id, attributes };
        },
      }),
    );
  },
});

describe('custom fields', () => {
  let t: TestApp;
  let orgId: string;

  const define = (client: TestClient, body: Record<string, unknown>) => client.post('/api/v1/fields', body);

  beforeAll(async () => {
    t = await createTestApp({ plugins: [cardsPlugin] });
  });
  afterAll(() => t?.close());

  it('defines fields by API; only fields:admin may', async () => {
    const viewer = await t.clientFor({ roles: ['viewer'] });
    expect((await define(viewer, { recordType: 'party', key: 'shoeSize', kind: 'number', label: 'Shoe size' })).status).toBe(403);
    const created = await define(t.admin, { recordType: 'party', key: 'shoeSize', kind: 'number', label: 'Shoe size', appliesTo: ['person'], min: 10, max: 60 });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ recordType: 'party', key: 'shoeSize', kind: 'number', appliesTo: ['person'], min: 10, max: 60, retiredAt: null, version: 1 });
    for (const body of [
      { recordType: 'party', key: 'tier', kind: 'choice', label: 'Tier', choices: ['gold', 'silver'] },
      { recordType: 'party', key: 'tags', kind: 'multiChoice', label: 'Tags', choices: ['vip', 'press', 'partner'] },
      { recordType: 'party', key: 'revenue', kind: 'money', label: 'Revenue', currencies: ['EUR', 'USD'] },
      { recordType: 'party', key: 'since', kind: 'date', label: 'Customer since' },
      { recordType: 'party', key: 'motto', kind: 'text', label: 'Motto', maxLength: 20 },
      { recordType: 'party', key: 'referrer', kind: 'party', label: 'Referred by' },
      { recordType: 'cards.card', key: 'colour', kind: 'choice', label: 'Colour', choices: ['red', 'blue'] },
    ]) {
      const res = await define(t.admin, body);
      expect(res.status, res.text).toBe(201);
    }
    expect((await define(t.admin, { recordType: 'party', key: 'tier', kind: 'text', label: 'Again' })).status).toBe(409);
    // Dotted keys belong to plugins; unknown record types and bad options are refused.
    expect((await define(t.admin, { recordType: 'party', key: 'crm.tier', kind: 'text', label: 'x' })).status).toBe(400);
    expect((await define(t.admin, { recordType: 'nope.thing', key: 'x', kind: 'text', label: 'x' })).status).toBe(400);
    expect((await define(t.admin, { recordType: 'party', key: 'bad', kind: 'choice', label: 'x' })).status).toBe(400);
    expect((await define(t.admin, { recordType: 'party', key: 'bad', kind: 'text', label: 'x', min: 3 })).status).toBe(400);
    const types = (await t.admin.get('/api/v1/fields/record-types')).body.data.map((x: { recordType: string }) => x.recordType);
    expect(types).toEqual(['party', 'relationship', 'interaction', 'cards.card']);
  });

  it('refuses a value of the wrong type and accepts the right one, on create and on update', async () => {
    const wrong = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Ada', attributes: { shoeSize: 'forty' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors).toEqual([{ path: 'attributes.shoeSize', message: expect.stringMatching(/number/) }]);
    expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Ada', attributes: { shoeSize: 5 } })).status).toBe(400);
    expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Ada', attributes: { tier: 'bronze' } })).status).toBe(400);
    expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Ada', attributes: { revenue: { amount: 5, currency: 'GBP' } } })).status).toBe(400);
    expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Ada', attributes: { since: '2027-02-31x' } })).status).toBe(400);
    expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Ada', attributes: { referrer: crypto.randomUUID() } })).status).toBe(400);
    // A field limited to people does not apply to an organization; an undefined key is still unknown.
    const org = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Acme', attributes: { shoeSize: 42 } });
    expect(org.status).toBe(400);
    expect(org.body.errors[0].message).toMatch(/does not apply to party organization/);
    const unknown = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Ada', attributes: { hatSize: 3 } });
    expect(unknown.body.errors[0].message).toMatch(/unknown attribute "hatSize"/);

    const acme = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Acme', attributes: { tier: 'gold', revenue: { amount: 1200.5, currency: 'EUR' } } });
    expect(acme.status, acme.text).toBe(201);
    orgId = acme.body.id;
    const ada = await t.admin.post('/api/v1/parties', {
      kind: 'person',
      name: 'Ada',
      attributes: { shoeSize: 38, tier: 'silver', tags: ['vip', 'press'], since: '2027-01-15', motto: 'Count on it', referrer: orgId },
    });
    expect(ada.status, ada.text).toBe(201);
    expect(ada.body.attributes).toEqual({ shoeSize: 38, tier: 'silver', tags: ['vip', 'press'], since: '2027-01-15', motto: 'Count on it', referrer: orgId });
    const bad = await t.admin.patch(`/api/v1/parties/${ada.body.id}`, { attributes: { shoeSize: 70 } }, { headers: { 'if-match': '"1"' } });
    expect(bad.status).toBe(400);
    const good = await t.admin.patch(`/api/v1/parties/${ada.body.id}`, { attributes: { shoeSize: 39, motto: null } }, { headers: { 'if-match': '"1"' } });
    expect(good.status, good.text).toBe(200);
    expect(good.body.attributes).toMatchObject({ shoeSize: 39, tier: 'silver' });
    expect(good.body.attributes).not.toHaveProperty('motto');
  });

  it('puts custom values in webhook payloads (the outbox) and field changes in the audit log', async () => {
    const created = (await t.outbox({ name: 'party.created' })).map((e) => e.payload.party).find((p) => p.name === 'Ada');
    expect(created.attributes).toMatchObject({ shoeSize: 38, tags: ['vip', 'press'] });
    const updated = (await t.outbox({ name: 'party.updated' })).at(-1)!.payload;
    expect(updated.party.attributes.shoeSize).toBe(39);
    expect(updated.previous.attributes.shoeSize).toBe(38);
    const audit = await t.admin.get('/api/v1/audit?limit=200');
    expect(audit.status, audit.text).toBe(200);
    const actions = audit.body.data.filter((e: { recordType: string }) => e.recordType === 'field').map((e: { action: string; recordId: string }) => `${e.action} ${e.recordId}`);
    expect(actions).toContain('field.created party.shoeSize');
  });

  it('filters and sorts lists on custom fields', async () => {
    for (const [name, size] of [
      ['Bo', 41],
      ['Cy', 44],
      ['Di', 41],
    ] as const) {
      expect((await t.admin.post('/api/v1/parties', { kind: 'person', name, attributes: { shoeSize: size, tags: size > 42 ? ['partner'] : ['vip'] } })).status).toBe(201);
    }
    const names = (res: { body: { data: Array<{ name: string }> } }) => res.body.data.map((p) => p.name);
    expect(names(await t.admin.get('/api/v1/parties?field.shoeSize=41')).sort()).toEqual(['Bo', 'Di']);
    expect(names(await t.admin.get('/api/v1/parties?field.shoeSize.gte=40&field.shoeSize.lte=42')).sort()).toEqual(['Bo', 'Di']);
    expect(names(await t.admin.get('/api/v1/parties?field.tags=vip')).sort()).toEqual(['Ada', 'Bo', 'Di']);
    expect(names(await t.admin.get('/api/v1/parties?field.tier=gold'))).toEqual(['Acme']);
    expect(names(await t.admin.get('/api/v1/parties?field.revenue.gte=1000'))).toEqual(['Acme']);
    expect(names(await t.admin.get('/api/v1/parties?field.since.lte=2027-12-31'))).toEqual(['Ada']);
    // Sorted, records without a value last, paged by keyset.
    const first = await t.admin.get('/api/v1/parties?kind=person&sort=-field.shoeSize&limit=2');
    expect(first.status, first.text).toBe(200);
    const second = await t.admin.get(`/api/v1/parties?kind=person&sort=-field.shoeSize&limit=2&cursor=${first.body.nextCursor}`);
    // 41 twice: the tie goes by id, newest first as the sort is descending.
    expect([...names(first), ...names(second)]).toEqual(['Cy', 'Di', 'Bo', 'Ada']);
    const sizes = [...first.body.data, ...second.body.data].map((p: { attributes: { shoeSize?: number } }) => p.attributes.shoeSize);
    expect(sizes).toEqual([44, 41, 41, 39]);
    expect((await t.admin.get('/api/v1/parties?field.nope=1')).status).toBe(400);
    expect((await t.admin.get('/api/v1/parties?field.shoeSize=big')).status).toBe(400);
    expect((await t.admin.get('/api/v1/parties?field.motto.gte=a')).status).toBe(400);
    expect((await t.admin.get('/api/v1/parties?nonsense=1')).status).toBe(400);
  });

  it('exports custom fields as CSV and imports them back, checked', async () => {
    const res = await t.admin.get('/api/v1/exports/parties');
    expect(res.status, res.text).toBe(200);
    const rows: Array<Record<string, string>> = parse(res.text, { columns: true });
    const ada = rows.find((r) => r.name === 'Ada')!;
    expect(ada['attr.shoeSize']).toBe('39');
    expect(JSON.parse(ada['attr.tags'])).toEqual(['vip', 'press']);
    expect(rows.find((r) => r.name === 'Acme')!['attr.tier']).toBe('gold');

    const csv = ['kind,name,attr.shoeSize,attr.tier', 'person,Imported Ok,45,gold', 'person,Imported Bad,huge,gold'].join('\n');
    const job = await t.admin.request('POST', '/api/v1/imports/parties', { rawBody: csv, headers: { 'content-type': 'text/csv' } });
    expect(job.status, job.text).toBe(202);
    await t.app.jobs.settled();
    const done = (await t.admin.get(job.headers.get('location')!)).body;
    expect(done.result).toMatchObject({ imported: 1, rejected: 1 });
    const rejected = (await t.admin.get(`/api/v1/imports/${done.id}/rejected`)).body.data;
    expect(rejected[0].errors[0]).toMatchObject({ column: 'attr.shoeSize' });
    const imported = (await t.admin.get('/api/v1/parties?field.shoeSize=45')).body.data;
    expect(imported.map((p: { name: string }) => p.name)).toEqual(['Imported Ok']);
  });

  it('describes the tenant’s fields in openapi.json, and regenerates it when they change', async () => {
    const doc = (await t.admin.get('/api/v1/openapi.json')).body;
    const party = doc.components.schemas.PartyCustomFields;
    expect(party.properties.shoeSize).toMatchObject({ type: 'number', minimum: 10, maximum: 60, title: 'Shoe size' });
    expect(party.properties.tier).toMatchObject({ enum: ['gold', 'silver'] });
    expect(doc.components.schemas.CardsCardCustomFields).toBeDefined();
    const changed = await t.admin.patch('/api/v1/fields/party/tier', { choices: ['gold', 'silver', 'bronze'] }, { headers: { 'if-match': '"1"' } });
    expect(changed.status, changed.text).toBe(200);
    const again = (await t.admin.get('/api/v1/openapi.json')).body;
    expect(again.components.schemas.PartyCustomFields.properties.tier.enum).toEqual(['gold', 'silver', 'bronze']);
    // Without a token the document names no tenant's fields.
    const anonymous = (await t.anonymous.get('/api/v1/openapi.json')).body;
    expect(anonymous.components.schemas.PartyCustomFields).toBeUndefined();
  });

  it('allows compatible changes and refuses incompatible ones with 409 naming why', async () => {
    const ifMatch = (v: number) => ({ headers: { 'if-match': `"${v}"` } });
    // The cache follows the change at once: bronze is accepted now.
    expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Bronze', attributes: { tier: 'bronze' } })).status).toBe(201);
    const dropChoice = await t.admin.patch('/api/v1/fields/party/tier', { choices: ['gold'] }, ifMatch(2));
    expect(dropChoice.status).toBe(409);
    expect(dropChoice.headers.get('content-type')).toMatch(/problem\+json/);
    expect(dropChoice.body.detail).toMatch(/"silver", "bronze" would be removed/);
    expect((await t.admin.patch('/api/v1/fields/party/shoeSize', { kind: 'text' }, ifMatch(1))).body.detail).toMatch(/kind cannot change from number to text/);
    expect((await t.admin.patch('/api/v1/fields/party/shoeSize', { max: 50 }, ifMatch(1))).status).toBe(409);
    expect((await t.admin.patch('/api/v1/fields/party/shoeSize', { integer: true }, ifMatch(1))).status).toBe(409);
    expect((await t.admin.patch('/api/v1/fields/party/motto', { maxLength: 10 }, ifMatch(1))).status).toBe(409);
    expect((await t.admin.patch('/api/v1/fields/party/shoeSize', { appliesTo: [] }, ifMatch(1))).status).toBe(200);
    const widened = await t.admin.patch('/api/v1/fields/party/shoeSize', { max: 70, label: 'Shoe size (EU)' }, ifMatch(2));
    expect(widened.status, widened.text).toBe(200);
    expect(widened.body).toMatchObject({ max: 70, label: 'Shoe size (EU)', appliesTo: [], version: 3 });
    expect((await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Bigfoot Inc', attributes: { shoeSize: 65 } })).status).toBe(201);
  });

  it('retires a field keeping its values until purged', async () => {
    const retired = await t.admin.post('/api/v1/fields/party/tags/retire');
    expect(retired.status, retired.text).toBe(200);
    expect(retired.body.retiredAt).not.toBeNull();
    const refused = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Late', attributes: { tags: ['vip'] } });
    expect(refused.body.errors[0].message).toMatch(/retired/);
    expect((await t.admin.get('/api/v1/parties?field.tags=vip')).body.data.length).toBe(3);
    expect((await t.admin.post('/api/v1/fields/party/shoeSize/purge')).status).toBe(409);
    const purged = await t.admin.post('/api/v1/fields/party/tags/purge');
    expect(purged.status, purged.text).toBe(200);
    expect(purged.body.purgedRecords).toBe(4);
    const rows = await t.app.knex('rapport_parties').where('tenant_id', t.tenantId).whereRaw("attributes \\? 'tags'");
    expect(rows).toHaveLength(0);
    expect((await t.admin.get('/api/v1/fields/party/tags')).status).toBe(404);
  });

  it('checks values of a plugin record type that opted in', async () => {
    const writer = await t.clientFor({ roles: ['admin'] });
    const wrong = await writer.post('/api/v1/cards/cards', { title: 'A', attributes: { colour: 'green' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0].path).toBe('attributes.colour');
    // A party field is not a card field.
    const elsewhere = await writer.post('/api/v1/cards/cards', { title: 'A', attributes: { shoeSize: 3 } });
    expect(elsewhere.body.errors[0].message).toMatch(/no custom field of cards.card defines it/);
    const ok = await writer.post('/api/v1/cards/cards', { title: 'A', attributes: { colour: 'red' } });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body.attributes).toEqual({ colour: 'red' });
  });

  it('keeps tenants apart: another tenant neither sees nor uses these fields', async () => {
    const other = await createTenant(t.app.knex, 'Other Co');
    const { token } = await createApiKey(t.app.knex, other.id, { name: 'other-admin', roles: ['admin'] });
    const client = t.anonymous.as(token);
    expect((await client.get('/api/v1/fields')).body.data).toEqual([]);
    expect((await client.post('/api/v1/parties', { kind: 'person', name: 'X', attributes: { shoeSize: 40 } })).status).toBe(400);
    expect((await client.get('/api/v1/fields/party/shoeSize')).status).toBe(404);
    expect((await define(client, { recordType: 'party', key: 'shoeSize', kind: 'text', label: 'Their own' })).status).toBe(201);
    expect((await client.post('/api/v1/parties', { kind: 'person', name: 'X', attributes: { shoeSize: 'L' } })).status).toBe(201);
    // Ours is unchanged by theirs.
    expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Y', attributes: { shoeSize: 'L' } })).status).toBe(400);
    expect((await client.get('/api/v1/parties?field.shoeSize=L')).body.data).toHaveLength(1);
  });

  it('takes fields on relationships and interactions by type', async () => {
    const field = await define(t.admin, { recordType: 'interaction', key: 'mood', kind: 'choice', label: 'Mood', choices: ['happy', 'sad'], appliesTo: ['note'] });
    expect(field.status, field.text).toBe(201);
    const participants = [{ partyId: orgId, role: 'participant' }];
    const bad = await t.admin.post('/api/v1/interactions', { type: 'note', occurredAt: new Date().toISOString(), direction: 'internal', participants, attributes: { mood: 'angry' } });
    expect(bad.status).toBe(400);
    const ok = await t.admin.post('/api/v1/interactions', { type: 'note', occurredAt: new Date().toISOString(), direction: 'internal', participants, attributes: { mood: 'happy' } });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body.attributes).toEqual({ mood: 'happy' });
    const patched = await t.admin.patch(`/api/v1/interactions/${ok.body.id}`, { attributes: { mood: 'sad' } }, { headers: { 'if-match': '"1"' } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.attributes).toEqual({ mood: 'sad' });
    const listed = await t.admin.get('/api/v1/interactions?field.mood=sad');
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data.map((i: { id: string }) => i.id)).toEqual([ok.body.id]);
    expect((await t.admin.get('/api/v1/interactions?field.mood=happy')).body.data).toEqual([]);
    // A choice sorts as its text; a multi-choice field cannot be sorted on.
    const sorted = await t.admin.get('/api/v1/interactions?type=note&sort=-field.mood');
    expect(sorted.status, sorted.text).toBe(200);
    expect(sorted.body.data[0].id).toBe(ok.body.id);
    expect((await t.admin.get('/api/v1/interactions?sort=name')).status).toBe(400);
  });
});
