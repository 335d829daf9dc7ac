import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePlugin } from '@rapport/core';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';

// A PNG's signature and IHDR chunk: enough for file-type to know it.
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex'), Buffer.alloc(200, 7)]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const scanned: string[] = [];
const hidden = new Set<string>();
let visibleParty = '';

const plugin = definePlugin({
  name: 'filetest',
  version: '1.0.0',
  setup(api) {
    api.attachments.records({
      type: 'filetest.thing',
      async find(_ctx, id) {
        if (hidden.has(id)) return null;
        return { partyIds: [visibleParty] };
      },
    });
    api.attachments.scan(async (file) => {
      const stream = await file.open();
      let text = '';
      for await (const chunk of stream) text += chunk.toString('latin1');
      scanned.push(file.filename);
      if (text.includes('EICAR-STANDARD-ANTIVIRUS-TEST-FILE')) return { quarantine: true, reason: 'EICAR test signature' };
    });
  },
});

describe('attachments', () => {
  let t: TestApp;
  let dir: string;
  let a: string;
  let b: string;
  let scoped: TestClient;

  const upload = (client: TestClient, record: { type: string; id: string }, body: Buffer, headers: Record<string, string>) =>
    fetch(`${client.baseUrl}/api/v1/attachments?recordType=${encodeURIComponent(record.type)}&recordId=${encodeURIComponent(record.id)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.token}`, ...headers },
      body,
    });
  const download = (client: TestClient, id: string, headers: Record<string, string> = {}) =>
    fetch(`${client.baseUrl}/api/v1/attachments/${id}/content`, { headers: { authorization: `Bearer ${client.token}`, ...headers } });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-attachments-test-'));
    t = await createTestApp({
      plugins: [plugin],
      config: {
        attachments: { dir, maxFileBytes: 2 * 1024 * 1024 },
        limits: { enabled: true, perPrincipal: null, perAddress: null, perTenant: { uploadBytesPerDay: 3 * 1024 * 1024 } },
      },
    });
    a = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Acme' })).body.id;
    b = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Globex' })).body.id;
    visibleParty = a;
    scoped = await t.clientFor({ roles: ['admin'], scopePartyId: a });
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('streams a file to the store with its checksum, detected type and a timeline entry, and serves it back', async () => {
    const res = await upload(t.admin, { type: 'party', id: a }, PNG, { 'content-type': 'image/png', 'content-disposition': 'attachment; filename="logo.png"' });
    expect(res.status).toBe(201);
    const attachment = (await res.json()) as any;
    expect(attachment).toMatchObject({
      recordType: 'party',
      recordId: a,
      filename: 'logo.png',
      contentType: 'image/png',
      declaredType: 'image/png',
      typeMismatch: false,
      size: PNG.length,
      sha256: sha256(PNG),
      status: 'clean',
    });
    expect(fs.readFileSync(path.join(dir, t.tenantId, attachment.id))).toEqual(PNG);

    const timeline = await t.admin.get(`/api/v1/parties/${a}/timeline?type=attachment`);
    expect(timeline.body.data.map((i: any) => i.id)).toContain(attachment.interactionId);
    expect(timeline.body.data.find((i: any) => i.id === attachment.interactionId)).toMatchObject({ subject: 'logo.png', attributes: { attachmentId: attachment.id } });

    const got = await download(t.admin, attachment.id);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-disposition')).toBe('attachment; filename=logo.png');
    expect(got.headers.get('etag')).toBe(`"${sha256(PNG)}"`);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(PNG);

    const list = await t.admin.get(`/api/v1/attachments?recordType=party&recordId=${a}`);
    expect(list.body.data.map((x: any) => x.id)).toEqual([attachment.id]);
    const outbox = await t.outbox({ name: 'attachment.created' });
    expect(outbox.map((e) => e.payload.attachment.id)).toContain(attachment.id);
  });

  it('records a spoofed declared type as the type the bytes are, and serves it as that', async () => {
    const res = await upload(t.admin, { type: 'party', id: a }, PDF, { 'content-type': 'image/png', 'content-disposition': 'attachment; filename="photo.png"' });
    expect(res.status).toBe(201);
    const attachment = (await res.json()) as any;
    expect(attachment).toMatchObject({ contentType: 'application/pdf', declaredType: 'image/png', typeMismatch: true });
    expect((await download(t.admin, attachment.id)).headers.get('content-type')).toBe('application/pdf');

    // A claim of a recognisable format the bytes do not bear out is served as opaque bytes.
    const fake = await upload(t.admin, { type: 'party', id: a }, Buffer.from('just some text, not a JPEG'), { 'content-type': 'image/jpeg', 'content-disposition': 'attachment; filename="x.jpg"' });
    expect(await fake.json()).toMatchObject({ contentType: 'application/octet-stream', declaredType: 'image/jpeg', typeMismatch: true });
    // Text that claims to be text stays text.
    const csv = await upload(t.admin, { type: 'party', id: a }, Buffer.from('a,b\n1,2\n'), { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="x.csv"' });
    expect(await csv.json()).toMatchObject({ contentType: 'text/csv', typeMismatch: false });
  });

  it('answers byte ranges with 206 and a range past the end with 416', async () => {
    const attachment = (await (await upload(t.admin, { type: 'party', id: a }, PNG, { 'content-disposition': 'attachment; filename="r.png"' })).json()) as any;
    const first = await download(t.admin, attachment.id, { range: 'bytes=0-9' });
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe(`bytes 0-9/${PNG.length}`);
    expect(Buffer.from(await first.arrayBuffer())).toEqual(PNG.subarray(0, 10));
    const tail = await download(t.admin, attachment.id, { range: 'bytes=-5' });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(PNG.subarray(PNG.length - 5));
    const open = await download(t.admin, attachment.id, { range: `bytes=${PNG.length - 3}-` });
    expect(Buffer.from(await open.arrayBuffer())).toEqual(PNG.subarray(PNG.length - 3));
    const past = await download(t.admin, attachment.id, { range: `bytes=${PNG.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${PNG.length}`);
    // Several ranges: the whole file (RFC 9110 lets a server ignore Range).
    const many = await download(t.admin, attachment.id, { range: 'bytes=0-1,5-6' });
    expect(many.status).toBe(200);
    expect(Buffer.from(await many.arrayBuffer())).toEqual(PNG);
  });

  it('neutralises header injection through the file name', async () => {
    const name = 'evil\r\nSet-Cookie: session=stolen\r\n"quoted" ü.pdf';
    const header = `attachment; filename*=UTF-8''${encodeURIComponent(name)}`;
    const res = await upload(t.admin, { type: 'party', id: a }, PDF, { 'content-disposition': header });
    expect(res.status).toBe(201);
    const attachment = (await res.json()) as any;
    expect(attachment.filename).toBe('evilSet-Cookie: session=stolen"quoted" ü.pdf');
    const got = await download(t.admin, attachment.id);
    expect(got.status).toBe(200);
    expect(got.headers.get('set-cookie')).toBeNull();
    const disposition = got.headers.get('content-disposition')!;
    expect(disposition).not.toMatch(/[\r\n]/);
    expect(disposition).toBe(`attachment; filename="evilSet-Cookie: session=stolen\\"quoted\\" ?.pdf"; filename*=UTF-8''evilSet-Cookie%3A%20session%3Dstolen%22quoted%22%20%C3%BC.pdf`);
    const traversal = await upload(t.admin, { type: 'party', id: a }, PDF, { 'content-disposition': 'attachment; filename="../../etc/passwd"' });
    expect(((await traversal.json()) as any).filename).toBe('_.._etc_passwd');
    const nameless = await upload(t.admin, { type: 'party', id: a }, PDF, { 'content-type': 'application/pdf' });
    expect(nameless.status).toBe(400);
  });

  it('answers 404 outside the caller’s reach, for every route, and links only to records one may see', async () => {
    const theirs = (await (await upload(t.admin, { type: 'party', id: b }, PDF, { 'content-disposition': 'attachment; filename="theirs.pdf"' })).json()) as any;
    const ours = (await (await upload(t.admin, { type: 'party', id: a }, PDF, { 'content-disposition': 'attachment; filename="ours.pdf"' })).json()) as any;
    expect((await download(scoped, theirs.id)).status).toBe(404);
    expect((await scoped.get(`/api/v1/attachments/${theirs.id}`)).status).toBe(404);
    expect((await scoped.get(`/api/v1/attachments?recordType=party&recordId=${b}`)).status).toBe(404);
    expect((await scoped.delete(`/api/v1/attachments/${theirs.id}`)).status).toBe(404);
    expect((await upload(scoped, { type: 'party', id: b }, PDF, { 'content-disposition': 'attachment; filename="x.pdf"' })).status).toBe(404);
    // Its own party's files it reads.
    expect((await download(scoped, ours.id)).status).toBe(200);
    // An unknown record answers 404 for anyone; an unknown type 400.
    expect((await upload(t.admin, { type: 'party', id: '00000000-0000-4000-8000-000000000000' }, PDF, { 'content-disposition': 'attachment; filename="x.pdf"' })).status).toBe(404);
    expect((await upload(t.admin, { type: 'nothing.here', id: 'x' }, PDF, { 'content-disposition': 'attachment; filename="x.pdf"' })).status).toBe(400);
  });

  it('takes files for a plugin record type through its find, on the parties it names', async () => {
    hidden.add('secret-1');
    expect((await upload(t.admin, { type: 'filetest.thing', id: 'secret-1' }, PDF, { 'content-disposition': 'attachment; filename="x.pdf"' })).status).toBe(404);
    const res = await upload(t.admin, { type: 'filetest.thing', id: 'thing-1' }, PDF, { 'content-disposition': 'attachment; filename="delivery-note.pdf"' });
    expect(res.status).toBe(201);
    const attachment = (await res.json()) as any;
    const timeline = await t.admin.get(`/api/v1/parties/${a}/timeline?type=attachment`);
    expect(timeline.body.data.find((i: any) => i.id === attachment.interactionId)).toMatchObject({ attributes: { recordType: 'filetest.thing', recordId: 'thing-1' } });
    // The record going out of reach takes its files with it.
    hidden.add('thing-1');
    expect((await download(t.admin, attachment.id)).status).toBe(404);
  });

  it('lets a plugin scanner quarantine a file, which is then not downloadable', async () => {
    const res = await upload(t.admin, { type: 'party', id: a }, Buffer.from(EICAR), { 'content-type': 'text/plain', 'content-disposition': 'attachment; filename="eicar.txt"' });
    expect(res.status).toBe(201);
    const attachment = (await res.json()) as any;
    expect(attachment).toMatchObject({ status: 'quarantined', statusReason: 'EICAR test signature' });
    expect(scanned).toContain('eicar.txt');
    const got = await download(t.admin, attachment.id);
    expect(got.status).toBe(409);
    expect(((await got.json()) as any).type).toContain('attachment-quarantined');
    expect((await t.outbox({ name: 'attachment.quarantined' })).map((e) => e.payload.plugin)).toEqual(['filetest']);
  });

  it('refuses a file above the per-file limit and stores nothing', async () => {
    const before = (await t.app.knex('rapport_attachments').count<{ count: string }[]>('* as count'))[0].count;
    const big = Buffer.alloc(2 * 1024 * 1024 + 1, 1);
    const res = await upload(t.admin, { type: 'party', id: a }, big, { 'content-disposition': 'attachment; filename="big.bin"' });
    expect(res.status).toBe(413);
    // Without Content-Length the limit is found while streaming.
    const chunks = async function* () {
      for (let i = 0; i < 3; i++) yield Buffer.alloc(1024 * 1024, 2);
    };
    const streamed = await fetch(`${t.baseUrl}/api/v1/attachments?recordType=party&recordId=${a}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-disposition': 'attachment; filename="big.bin"' },
      body: ReadableStream.from(chunks()),
      duplex: 'half',
    });
    expect(streamed.status).toBe(413);
    expect((await t.app.knex('rapport_attachments').count<{ count: string }[]>('* as count'))[0].count).toBe(before);
    const files = fs.readdirSync(path.join(dir, t.tenantId));
    expect(files.filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(files.length).toBe(Number(before));
  });

  it('deletes by marking (bytes kept) and purges only with attachments:purge', async () => {
    const attachment = (await (await upload(t.admin, { type: 'party', id: a }, PDF, { 'content-disposition': 'attachment; filename="old.pdf"' })).json()) as any;
    const file = path.join(dir, t.tenantId, attachment.id);
    expect((await t.admin.delete(`/api/v1/attachments/${attachment.id}`)).status).toBe(204);
    expect((await t.admin.get(`/api/v1/attachments/${attachment.id}`)).status).toBe(404);
    expect((await download(t.admin, attachment.id)).status).toBe(404);
    expect(fs.existsSync(file)).toBe(true);
    await t.admin.post('/api/v1/roles', { name: 'filer', permissions: ['attachments:read', 'attachments:write', 'parties:read'] });
    const filer = await t.clientFor({ roles: ['filer'] });
    expect((await filer.delete(`/api/v1/attachments/${attachment.id}?purge=true`)).status).toBe(403);
    expect((await t.admin.delete(`/api/v1/attachments/${attachment.id}?purge=true`)).status).toBe(204);
    expect(fs.existsSync(file)).toBe(false);
    expect(await t.app.knex('rapport_attachments').where({ id: attachment.id }).first()).toBeUndefined();
    expect((await t.outbox({ name: 'attachment.purged' })).map((e) => e.payload.attachment.id)).toEqual([attachment.id]);
  });
  it('counts uploaded bytes against the tenant’s daily quota (429 past it, the file removed)', async () => {
    const file = Buffer.alloc(1536 * 1024, 3);
    let status = 201;
    let uploads = 0;
    while (status === 201 && uploads < 5) {
      status = (await upload(t.admin, { type: 'party', id: a }, file, { 'content-disposition': 'attachment; filename="q.bin"' })).status;
      uploads++;
    }
    expect(status).toBe(429);
    expect(uploads).toBe(2);
    const rows = await t.app.knex('rapport_attachments').where({ filename: 'q.bin' }).select('id');
    expect(rows).toHaveLength(1);
    expect(fs.readdirSync(path.join(dir, t.tenantId)).length).toBe(Number((await t.app.knex('rapport_attachments').count<{ count: string }[]>('* as count'))[0].count));
  });
});
