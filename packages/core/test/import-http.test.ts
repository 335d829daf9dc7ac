import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreServices, createTenant, definePlugin, systemPrincipal } from '@rapport/core';
import { newId } from '../src/util/ids.js';
import { sweepUploads } from '../src/import/upload.js';
import { createTestApp, type TestApp, type TestClient, type TestResponse } from '@rapport/testing';

/** A plugin importer, to show plugins' importers are served too and disappear with their plugin. */
const tagsPlugin = definePlugin({
  deps: { db: coreServices.database },
  name: 'tags',
  version: '1.0.0',
  migrations: [
    {
      name: '0001_tags',
      up: (knex) =>
        knex.schema.createTable('tags_items', (t) => {
          t.uuid('tenant_id').notNullable();
          t.text('label').notNullable();
          t.primary(['tenant_id', 'label']);
        }),
      down: (knex) => knex.schema.dropTable('tags_items'),
    },
  ],
  setup(api, { db }) {
    api.importers.define({
      name: 'tags.labels',
      description: 'Labels',
      columns: [{ name: 'label', required: true, description: 'The label' }],
      async importBatch(uow, rows) {
        const good = rows.filter((r) => /^[a-z]+$/.test(r.record.label));
        const rejected = rows.filter((r) => !good.includes(r)).map((r) => ({ line: r.line, errors: [{ column: 'label', message: 'must be lower-case letters' }] }));
        await db.in(uow).bulkInsert(
          'tags_items',
          { label: 'text' },
          good.map((r) => ({ label: r.record.label })),
        );
        return { imported: good.length, rejected };
      },
    });
  },
});

const uploadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-import-test-'));
const HOURS_AGO = (hours: number) => new Date(Date.now() - hours * 3_600_000);
/** Writes a file in the upload directory, last written to at `mtime`. */
const plant = (dir: string, name: string, mtime = new Date()) => {
  fs.writeFileSync(path.join(dir, name), 'name\nLeft behind\n');
  fs.utimesSync(path.join(dir, name), mtime, mtime);
};
// A crashed node's leftover, there before this node starts: its first upload sweeps it.
plant(uploadDir, `${newId()}.csv`, HOURS_AGO(3));

const postCsv = (client: TestClient, importer: string, body: string, query = '', headers: Record<string, string> = { 'content-type': 'text/csv' }) =>
  client.request('POST', `/api/v1/imports/${importer}${query}`, { rawBody: body, headers });

const expectProblem = (res: TestResponse, status: number, detail?: RegExp) => {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  if (detail) expect(res.body.detail).toMatch(detail);
};

describe('CSV import over HTTP', () => {
  let t: TestApp;
  let uploader: TestClient;
  const jobCount = async () => Number((await t.app.knex('rapport_jobs').count('* as n').first())!.n);

  beforeAll(async () => {
    t = await createTestApp({ plugins: [tagsPlugin], config: { imports: { maxUploadBytes: 64 * 1024, uploadDir }, jobs: { progressIntervalMs: 20 } } });
    expect((await t.admin.post('/api/v1/roles', { name: 'uploader', permissions: ['imports:write', 'meta:read', 'parties:read', 'parties:write'] })).status).toBe(201);
    uploader = await t.clientFor({ roles: ['uploader'] });
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(uploadDir, { recursive: true, force: true });
  });

  it('lists the kernel’s and enabled plugins’ importers with their columns', async () => {
    const res = await t.admin.get('/api/v1/importers');
    expect(res.status).toBe(200);
    const names = res.body.data.map((i: { name: string }) => i.name);
    expect(names).toEqual(['parties', 'interactions', 'tags.labels']);
    expect(res.body.data.find((i: { name: string }) => i.name === 'parties').columns).toEqual(
      expect.arrayContaining([
        { name: 'kind', required: true, description: expect.any(String) },
        { name: 'email', required: false, description: expect.any(String) },
      ]),
    );
    expect(res.body.data[0].permission).toBe('parties:write');
    expect(res.body.data[2]).toEqual({ name: 'tags.labels', owner: 'tags', description: 'Labels', permission: null, columns: [{ name: 'label', required: true, description: 'The label' }] });
  });

  it('imports good rows in the background, as the caller, and keeps a report of the rejected ones', async () => {
    const csv = [
      'kind,name,email',
      'person,Ada Lovelace,ada@example.com',
      'robot,Marvin,marvin@example.com',
      'organization,Initech,',
      'person,,nobody@example.com',
      'person,Grace Hopper,grace@example.com',
      'person,"Too, many",x@example.com,extra',
      'organization,Umbrella,',
    ].join('\n');
    const res = await postCsv(uploader, 'parties', csv, '?batchSize=2');
    expect(res.status, res.text).toBe(202);
    expect(res.headers.get('location')).toBe(`/api/v1/jobs/${res.body.id}`);
    expect(res.body).toMatchObject({ kind: 'import', status: 'queued', input: { importer: 'parties', dedupe: false, batchSize: 2, bytes: Buffer.byteLength(csv) } });
    const me = (await uploader.get('/api/v1/auth/me')).body;
    expect(res.body.createdBy).toEqual({ kind: 'api-key', id: me.id });

    await t.app.jobs.settled();
    const job = (await uploader.get(res.headers.get('location')!)).body;
    expect(job).toMatchObject({
      status: 'succeeded',
      error: null,
      result: { importer: 'parties', read: 7, imported: 4, rejected: 3, completed: true, rejectedReport: `/api/v1/imports/${job.id}/rejected` },
      progress: { read: 7, imported: 4, rejected: 3, bytes: Buffer.byteLength(csv), totalBytes: Buffer.byteLength(csv), done: Buffer.byteLength(csv), total: Buffer.byteLength(csv) },
    });

    // Every good row is stored, and the events name the uploader as the actor.
    const names = (await t.app.knex('rapport_parties').where({ tenant_id: t.tenantId }).whereIn('name', ['Ada Lovelace', 'Initech', 'Grace Hopper', 'Umbrella', 'Marvin']).pluck('name')).sort();
    expect(names).toEqual(['Ada Lovelace', 'Grace Hopper', 'Initech', 'Umbrella']);
    const created = await t.app.knex('rapport_outbox').where({ tenant_id: t.tenantId, name: 'party.created' }).select('actor');
    expect(created.filter((e: { actor: { id: string } | null }) => e.actor?.id === me.id)).toHaveLength(4);

    const report = await uploader.get(`/api/v1/imports/${job.id}/rejected`);
    expect(report.status).toBe(200);
    expect(report.body.nextCursor).toBeNull();
    expect(report.body.data.map((r: { line: number }) => r.line)).toEqual([3, 5, 7]);
    expect(report.body.data[0].errors).toEqual([{ column: 'kind', message: expect.stringContaining('"robot" is not one of') }]);
    expect(report.body.data[1].errors).toEqual([{ column: 'name', message: 'is empty' }]);
    expect(report.body.data[2].errors[0].message).toMatch(/4 values but the header has 3 columns/);

    const first = (await uploader.get(`/api/v1/imports/${job.id}/rejected?limit=2`)).body;
    expect(first.data.map((r: { line: number }) => r.line)).toEqual([3, 5]);
    const rest = (await uploader.get(`/api/v1/imports/${job.id}/rejected?limit=2&cursor=${first.nextCursor}`)).body;
    expect(rest).toEqual({ data: [report.body.data[2]], nextCursor: null, prevCursor: expect.any(String) });
    // The shared keyset pages both ways: the page before the last is the first again.
    const back = (await uploader.get(`/api/v1/imports/${job.id}/rejected?limit=2&cursor=${rest.prevCursor}`)).body;
    expect(back.data).toEqual(first.data);

    const asCsv = await uploader.get(`/api/v1/imports/${job.id}/rejected.csv`);
    expect(asCsv.status).toBe(200);
    expect(asCsv.headers.get('content-type')).toContain('text/csv');
    const lines = asCsv.text.trim().split(/\r?\n/);
    expect(lines[0]).toBe('line,columns,reasons');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['3', '5', '7']);
    expect(lines[2]).toBe('5,name,name: is empty');

    // The upload is gone once its job ended, and so is the leftover the first upload swept.
    await expect.poll(() => fs.readdirSync(uploadDir)).toEqual([]);
  });

  it('sweeps only uploads nothing will read again: no live job, untouched for an hour', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-sweep-test-'));
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const live = await t.app.jobs.start({ kind: 'test.hold', principal: systemPrincipal(t.tenantId) }, () => gate);
      const finished = await t.app.jobs.start({ kind: 'test.done', principal: systemPrincipal(t.tenantId) }, async () => undefined);
      await expect.poll(async () => (await t.app.knex('rapport_jobs').where({ id: finished.id }).first()).status).toBe('succeeded');
      const [orphanOld, orphanFresh] = [newId(), newId()];
      plant(dir, `${live.id}.csv`, HOURS_AGO(5));
      plant(dir, `${finished.id}.csv`, HOURS_AGO(2));
      plant(dir, `${orphanOld}.csv`, HOURS_AGO(2));
      plant(dir, `${orphanFresh}.csv`, HOURS_AGO(0.5));
      plant(dir, 'not-an-upload.csv', HOURS_AGO(9));
      const deleted = await sweepUploads(t.app.knex, dir);
      expect(deleted.sort()).toEqual([`${finished.id}.csv`, `${orphanOld}.csv`].sort());
      expect(fs.readdirSync(dir).sort()).toEqual([`${live.id}.csv`, `${orphanFresh}.csv`, 'not-an-upload.csv'].sort());
      release();
      await t.app.jobs.settled();
      // Once its job ended, the held file goes with the next sweep; a missing directory is nothing to sweep.
      expect(await sweepUploads(t.app.knex, dir)).toEqual([`${live.id}.csv`]);
      expect(await sweepUploads(t.app.knex, path.join(dir, 'absent'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('honours dedupe and serves plugins’ importers', async () => {
    const dup = await postCsv(t.admin, 'parties', 'kind,name,email\nperson,Ada Again,ada@example.com\n', '?dedupe=true');
    expect(dup.status).toBe(202);
    const tags = await postCsv(t.admin, 'tags.labels', 'label\nurgent\nNOT OK\nvip\n');
    expect(tags.status).toBe(202);
    await t.app.jobs.settled();
    const dupJob = (await t.admin.get(`/api/v1/jobs/${dup.body.id}`)).body;
    expect(dupJob.result).toMatchObject({ imported: 0, rejected: 1 });
    expect((await t.admin.get(`/api/v1/imports/${dup.body.id}/rejected`)).body.data[0].errors[0].message).toMatch(/^duplicate of /);
    expect((await t.admin.get(`/api/v1/jobs/${tags.body.id}`)).body.result).toMatchObject({ importer: 'tags.labels', imported: 2, rejected: 1 });
    expect(await t.app.knex('tags_items').orderBy('label').pluck('label')).toEqual(['urgent', 'vip']);
  });

  it('writes one summary event per batch when asked, and one event per row otherwise', async () => {
    const party = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Summary Person' });
    expect(party.status, party.text).toBe(201);
    const rows = (prefix: string) =>
      ['type,occurred_at,subject,participant_ids', ...Array.from({ length: 5 }, (_, i) => `note,2024-07-02T00:00:00Z,${prefix} ${i},${party.body.id}:participant`)].join('\n');
    const perRowBefore = (await t.outbox({ name: 'interaction.created' })).length;
    const summariesBefore = (await t.outbox({ name: 'interactions.imported' })).length;
    const summarised = await postCsv(t.admin, 'interactions', rows('Summarised'), '?summaryEvents=true&batchSize=2');
    expect(summarised.status, summarised.text).toBe(202);
    await t.app.jobs.settled();
    expect((await t.admin.get(`/api/v1/jobs/${summarised.body.id}`)).body).toMatchObject({ status: 'succeeded', input: { summaryEvents: true }, result: { imported: 5 } });
    const summaries = (await t.outbox({ name: 'interactions.imported' })).slice(summariesBefore);
    // Batches are written side by side, so their events need not be in file order.
    expect(summaries.map((e) => e.payload.count).sort()).toEqual([1, 2, 2]);
    expect((await t.outbox({ name: 'interaction.created' })).length).toBe(perRowBefore);

    const perRow = await postCsv(t.admin, 'interactions', rows('Per row'));
    expect(perRow.status, perRow.text).toBe(202);
    await t.app.jobs.settled();
    expect((await t.outbox({ name: 'interaction.created' })).length).toBe(perRowBefore + 5);
    // Without a batch size, the embedded database's batches are small: each holds its one connection.
    expect((await t.admin.get(`/api/v1/jobs/${perRow.body.id}`)).body.input.batchSize).toBe(t.app.databaseKind === 'postgres' ? 5000 : 500);
    expect((await t.outbox({ name: 'interactions.imported' })).length).toBe(summariesBefore + 3);
    expectProblem(await postCsv(t.admin, 'interactions', rows('Refused'), '?summaryEvents=yes'), 400);
  });

  it('stops a cancelled import after its current batch, keeping the rows written before', async () => {
    // Distinct lower-case labels: q + the index in base 26 letters.
    const label = (i: number) => `q${i.toString(26).replace(/./g, (d) => String.fromCharCode(97 + parseInt(d, 26)))}`;
    const rows = Array.from({ length: 1500 }, (_, i) => label(i));
    const res = await postCsv(t.admin, 'tags.labels', `label\n${rows.join('\n')}\n`, '?batchSize=1');
    expect(res.status).toBe(202);
    for (let seen = 0; seen === 0;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = (await t.admin.get(`/api/v1/jobs/${res.body.id}`)).body.progress.imported;
    }
    const cancelled = await t.admin.post(`/api/v1/jobs/${res.body.id}/cancel`);
    expect(cancelled.body.status).toBe('cancelled');
    await t.app.jobs.settled();
    const job = (await t.admin.get(`/api/v1/jobs/${res.body.id}`)).body;
    expect(job.status).toBe('cancelled');
    expect(job.result.completed).toBe(false);
    expect(job.result.imported).toBeLessThan(1500);
    const stored = Number((await t.app.knex('tags_items').where('label', 'like', 'q%').count('* as n').first())!.n);
    expect(stored).toBe(job.result.imported);
  });

  it('refuses bad requests with a problem and starts nothing', async () => {
    const before = await jobCount();
    expectProblem(await postCsv(t.admin, 'nope', 'kind,name\nperson,A\n'), 404, /Unknown importer "nope"; available: parties, interactions, tags.labels/);
    expectProblem(await postCsv(t.admin, 'parties', '{"kind":"person"}', '', { 'content-type': 'application/json' }), 415, /Send the CSV file as text\/csv/);
    expectProblem(await postCsv(t.admin, 'parties', 'kind,name\n', '', { 'content-type': 'text/plain' }), 415);
    expectProblem(await postCsv(t.admin, 'parties', ''), 400, /The body is empty/);
    expectProblem(await postCsv(t.admin, 'parties', '\n\n'), 400, /The CSV file is empty/);
    expectProblem(await postCsv(t.admin, 'parties', 'kind,nmae\nperson,A\n'), 400, /missing required column name; unknown column nmae/);
    expectProblem(await postCsv(t.admin, 'parties', 'kind,name\n', '?batchSize=0'), 400);
    expectProblem(await postCsv(t.admin, 'parties', 'kind,name\n', '?dedupe=maybe'), 400);
    const big = `kind,name\n${'person,Someone with a long enough name\n'.repeat(2000)}`;
    expectProblem(await postCsv(t.admin, 'parties', big), 413, /larger than the limit of 65536 bytes/);
    expect(await jobCount()).toBe(before);
    expect(fs.readdirSync(uploadDir)).toEqual([]);
  });

  it('refuses an oversized body sent without a length (chunked) once the limit is crossed', async () => {
    const chunk = new TextEncoder().encode('person,Someone\n'.repeat(1000));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('kind,name\n'));
        if (sent++ < 10) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${t.baseUrl}/api/v1/imports/parties`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'text/csv' },
      body,
      duplex: 'half',
    });
    expect(res.status).toBe(413);
    expect(fs.readdirSync(uploadDir)).toEqual([]);
  });

  it('needs imports:write, keeps reports to whoever may see the job, and 404s a disabled plugin’s importer', async () => {
    const viewer = await t.clientFor({ roles: ['viewer'] });
    expectProblem(await postCsv(viewer, 'parties', 'kind,name\nperson,A\n'), 403, /imports:write/);
    // The importer's own permission too: this role may import, but not write interactions.
    expectProblem(await postCsv(uploader, 'interactions', 'type\nnote\n'), 403, /Importing with "interactions" also needs the permission "interactions:write"/);
    const party = (await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Portal User' })).body;
    const scoped = await t.clientFor({ roles: ['admin'], scopePartyId: party.id });
    expectProblem(await postCsv(scoped, 'parties', 'kind,name\nperson,A\n'), 403);

    const own = await postCsv(uploader, 'parties', 'kind,name\nalien,Zork\n');
    await t.app.jobs.settled();
    const other = await t.clientFor({ roles: ['uploader'] });
    expectProblem(await other.get(`/api/v1/imports/${own.body.id}/rejected`), 404);
    expectProblem(await other.get(`/api/v1/imports/${own.body.id}/rejected.csv`), 404);
    const outsider = await t.clientFor({ roles: ['admin'], tenantId: (await createTenant(t.app.knex, 'Other')).id });
    expectProblem(await outsider.get(`/api/v1/imports/${own.body.id}/rejected`), 404);
    expect((await t.admin.get(`/api/v1/imports/${own.body.id}/rejected`)).body.data).toHaveLength(1);
    // A job that is not an import has no report.
    const plain = await t.app.jobs.start({ kind: 'test.plain', principal: systemPrincipal(t.tenantId) }, async () => undefined);
    await t.app.jobs.settled();
    expectProblem(await t.admin.get(`/api/v1/imports/${plain.id}/rejected`), 404);

    await t.app.plugins.disable('tags');
    try {
      expectProblem(await postCsv(t.admin, 'tags.labels', 'label\nx\n'), 404, /belongs to plugin "tags", which is not enabled/);
      expect((await t.admin.get('/api/v1/importers')).body.data.map((i: { name: string }) => i.name)).toEqual(['parties', 'interactions']);
    } finally {
      await t.app.plugins.enable('tags');
    }
  });

  it('documents the routes in OpenAPI, with the CSV body', async () => {
    const doc = (await t.anonymous.get('/api/v1/openapi.json')).body;
    const post = doc.paths['/api/v1/imports/{importer}'].post;
    expect(post.requestBody.content['text/csv']).toEqual({ schema: { type: 'string' } });
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['202', '404', '413', '415']));
    expect(post.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['importer', 'dedupe', 'batchSize']));
    expect(doc.paths['/api/v1/imports/{id}/rejected.csv'].get.responses['200'].content['text/csv']).toBeDefined();
    for (const p of ['/api/v1/importers', '/api/v1/jobs', '/api/v1/jobs/{id}', '/api/v1/jobs/{id}/cancel', '/api/v1/imports/{id}/rejected']) expect(doc.paths[p], p).toBeDefined();
  });
});
