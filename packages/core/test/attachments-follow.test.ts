import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { coreServices, createTenant, definePlugin, NotFoundError, type Migration } from '@rapport/core';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';

// Attachments follow their record: a merged party's files move to the survivor; a plugin
// record's files are purged (rows and stored bytes) when the plugin deletes the record, and
// every file of a plugin's records when the plugin is purged.

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

const migrations: Migration[] = [
  {
    name: '0001_things',
    up: (knex) =>
      knex.schema.createTable('follow_things', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('party_id').notNullable();
        t.primary(['tenant_id', 'id']);
      }),
    down: (knex) => knex.schema.dropTable('follow_things'),
  },
];

const plugin = definePlugin({
  name: 'follow',
  version: '1.0.0',
  migrations,
  deps: { db: coreServices.database, files: coreServices.attachments },
  setup(api, { db, files }) {
    api.permissions.define({ key: 'follow.write', description: 'Write things' });
    api.attachments.records({
      type: 'follow.thing',
      async find(ctx, id) {
        if (!z.uuid().safeParse(id).success) return null;
        const row = await db.in(ctx)('follow_things').where('id', id).first('party_id');
        return row ? { partyIds: [row.party_id] } : null;
      },
    });
    api.routes((r) => {
      r.post('/things', {
        summary: 'Create a thing',
        permission: 'follow.write',
        body: z.strictObject({ partyId: z.uuid() }),
        response: z.object({ id: z.uuid() }),
        handler: async (ctx) => {
          const id = crypto.randomUUID();
          await ctx.transaction((uow) => db.in(uow)('follow_things').insert({ id, party_id: ctx.body.partyId }));
          return { id };
        },
      });
      r.delete('/things/:id', {
        summary: 'Delete a thing and its files',
        permission: 'follow.write',
        params: z.strictObject({ id: z.uuid() }),
        query: z.strictObject({ fail: z.enum(['true']).optional() }),
        handler: async (ctx) => {
          await ctx.transaction(async (uow) => {
            const deleted = await db.in(uow)('follow_things').where('id', ctx.params.id).delete();
            if (!deleted) throw new NotFoundError('Thing', ctx.params.id);
            await files.purgeRecord(uow, 'follow.thing', ctx.params.id);
            // A write that fails after the purge: nothing of it may stay done.
            if (ctx.query.fail) throw new Error('the write failed after the purge');
          });
        },
      });
    });
  },
});

describe('attachments follow their record', () => {
  let t: TestApp;
  let dir: string;

  const upload = async (client: TestClient, recordType: string, recordId: string, filename: string) => {
    const res = await fetch(`${client.baseUrl}/api/v1/attachments?recordType=${recordType}&recordId=${recordId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.token}`, 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="${filename}"` },
      body: PDF,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { id: string; interactionId: string | null };
  };
  const stored = (tenantId: string, id: string) => fs.existsSync(path.join(dir, tenantId, id));
  const listed = async (client: TestClient, recordType: string, recordId: string) =>
    ((await client.get(`/api/v1/attachments?recordType=${recordType}&recordId=${recordId}`)).body.data as Array<{ id: string }>).map((a) => a.id).sort();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-attachments-follow-'));
    t = await createTestApp({ plugins: [plugin], config: { attachments: { dir } } });
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("moves a merged party's files, deleted ones included, to the survivor and onto its timeline", async () => {
    const survivor = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Acme' })).body;
    const loser = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'ACME GmbH' })).body;
    const own = await upload(t.admin, 'party', survivor.id, 'own.pdf');
    const contract = await upload(t.admin, 'party', loser.id, 'contract.pdf');
    const old = await upload(t.admin, 'party', loser.id, 'old.pdf');
    expect((await t.admin.delete(`/api/v1/attachments/${old.id}`)).status).toBe(204);

    const dry = await t.admin.post('/api/v1/parties/merge', { survivorId: survivor.id, mergedIds: [loser.id], dryRun: true });
    expect(dry.body).toMatchObject({ dryRun: true, attachments: 2 });
    expect(await listed(t.admin, 'party', survivor.id)).toEqual([own.id]);

    const merged = await t.admin.post('/api/v1/parties/merge', { survivorId: survivor.id, mergedIds: [loser.id] });
    expect(merged.status, merged.text).toBe(200);
    expect(merged.body).toMatchObject({ dryRun: false, attachments: 2 });

    expect(await listed(t.admin, 'party', survivor.id)).toEqual([own.id, contract.id].sort());
    expect(await listed(t.admin, 'party', loser.id)).toEqual([]);
    expect((await t.admin.get(`/api/v1/attachments/${contract.id}`)).body).toMatchObject({ recordType: 'party', recordId: survivor.id });
    // The deleted file moved too, still deleted, its bytes kept until purged.
    expect(await t.app.knex('rapport_attachments').where({ id: old.id }).first('record_id', 'deleted_at')).toMatchObject({ record_id: survivor.id, deleted_at: expect.anything() });
    expect(stored(t.tenantId, old.id)).toBe(true);

    const timeline = (await t.admin.get(`/api/v1/parties/${survivor.id}/timeline?type=attachment`)).body.data as Array<{ id: string; attributes: Record<string, unknown> }>;
    const entry = timeline.find((i) => i.id === contract.interactionId);
    expect(entry?.attributes).toMatchObject({ attachmentId: contract.id, recordType: 'party', recordId: survivor.id });
    expect((await t.admin.get(`/api/v1/parties/${loser.id}/timeline?type=attachment`)).body.data).toEqual([]);

    const moved = await t.outbox({ name: 'attachment.moved' });
    expect(moved.map((e) => e.payload.attachment.id).sort()).toEqual([contract.id, old.id].sort());
    expect(moved.find((e) => e.payload.attachment.id === contract.id)?.payload).toMatchObject({
      attachment: { recordId: survivor.id },
      previous: { recordType: 'party', recordId: loser.id },
    });
    // The survivor's bytes still download.
    const res = await fetch(`${t.admin.baseUrl}/api/v1/attachments/${contract.id}/content`, { headers: { authorization: `Bearer ${t.admin.token}` } });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(PDF)).toBe(true);
  });

  it("purges a plugin record's files, rows and stored bytes, when the plugin deletes the record — and nothing when the write rolls back", async () => {
    const party = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Globex' })).body;
    const thing = (await t.admin.post('/api/v1/follow/things', { partyId: party.id })).body;
    const other = (await t.admin.post('/api/v1/follow/things', { partyId: party.id })).body;
    const quote = await upload(t.admin, 'follow.thing', thing.id, 'quote.pdf');
    const note = await upload(t.admin, 'follow.thing', thing.id, 'note.pdf');
    const kept = await upload(t.admin, 'follow.thing', other.id, 'kept.pdf');
    expect((await t.admin.delete(`/api/v1/attachments/${note.id}`)).status).toBe(204);

    // The write fails after the purge: rows and bytes stay.
    expect((await t.admin.delete(`/api/v1/follow/things/${thing.id}?fail=true`)).status).toBe(500);
    await t.app.bus.settled();
    expect(await listed(t.admin, 'follow.thing', thing.id)).toEqual([quote.id]);
    expect(stored(t.tenantId, quote.id)).toBe(true);
    expect(await t.outbox({ name: 'attachment.purged' })).toEqual([]);

    expect((await t.admin.delete(`/api/v1/follow/things/${thing.id}`)).status).toBe(204);
    await t.app.bus.settled();
    expect(await t.app.knex('rapport_attachments').whereIn('id', [quote.id, note.id]).select('id')).toEqual([]);
    expect(stored(t.tenantId, quote.id)).toBe(false);
    expect(stored(t.tenantId, note.id)).toBe(false);
    expect((await t.outbox({ name: 'attachment.purged' })).map((e) => e.payload.attachment.id).sort()).toEqual([quote.id, note.id].sort());
    expect((await t.admin.get(`/api/v1/attachments/${quote.id}`)).status).toBe(404);
    // The other record's file is untouched.
    expect(await listed(t.admin, 'follow.thing', other.id)).toEqual([kept.id]);
    expect(stored(t.tenantId, kept.id)).toBe(true);
  });

  it("purging the plugin purges every file of its records, in every tenant, and leaves the kernel's", async () => {
    const party = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Initech' })).body;
    const partyFile = await upload(t.admin, 'party', party.id, 'party.pdf');
    const secondTenant = await createTenant(t.app.knex, 'Second Ltd');
    const second = await t.clientFor({ roles: ['admin'], tenantId: secondTenant.id });
    const secondParty = (await second.post('/api/v1/parties', { kind: 'organization', name: 'Hooli' })).body;
    const secondThing = (await second.post('/api/v1/follow/things', { partyId: secondParty.id })).body;
    const secondFile = await upload(second, 'follow.thing', secondThing.id, 'second.pdf');
    const files: Array<{ id: string; tenant_id: string }> = await t.app.knex('rapport_attachments').where('record_type', 'follow.thing').select('id', 'tenant_id');
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) expect(stored(f.tenant_id, f.id)).toBe(true);

    const purged = await t.admin.post('/api/v1/plugins/follow/uninstall', { purge: true });
    expect(purged.status, purged.text).toBe(200);
    await t.app.bus.settled();
    expect(Number((await t.app.knex('rapport_attachments').where('record_type', 'follow.thing').count({ n: '*' }))[0].n)).toBe(0);
    for (const f of files) expect(stored(f.tenant_id, f.id)).toBe(false);
    const events = await t.outbox({ name: 'attachment.purged' });
    expect(events.filter((e) => e.payload.attachment.id === secondFile.id).map((e) => e.tenantId)).toEqual([secondTenant.id]);
    expect(stored(t.tenantId, partyFile.id)).toBe(true);
    expect((await t.admin.get(`/api/v1/attachments/${partyFile.id}`)).status).toBe(200);
  });
});
