import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreServices, definePlugin, runImport, ValidationError, type ImportProgress, type RejectedRow } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';
import { samplePlugin } from './fixtures/test-plugin.js';

/** A plugin importer that validates nothing: its bad rows only show up as a failed INSERT (a CHECK constraint). */
const bulkPlugin = definePlugin({
  name: 'bulk',
  version: '1.0.0',
  migrations: [
    {
      name: '0001_items',
      up: (knex) =>
        knex.schema
          .createTable('bulk_items', (t) => {
            t.uuid('tenant_id').notNullable();
            t.text('code').notNullable();
            t.primary(['tenant_id', 'code']);
          })
          .then(() => knex.raw("alter table bulk_items add constraint bulk_items_code_check check (code <> 'boom')")),
      down: (knex) => knex.schema.dropTable('bulk_items'),
    },
  ],
  deps: { db: coreServices.database },
  setup(api, { db }) {
    api.importers.define({
      name: 'bulk.items',
      columns: [{ name: 'code', required: true }],
      async importBatch(uow, rows) {
        await db.in(uow).bulkInsert(
          'bulk_items',
          { code: 'text' },
          rows.map((r) => ({ code: r.record.code })),
        );
        return { imported: rows.length, rejected: [] };
      },
    });
  },
});

const csv = (lines: string[]) => Readable.from([lines.join('\n') + '\n']);

describe('import parties', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    // The import never needs webhooks; without the dispatcher the test measures only the import's own statements.
    t = await createTestApp({ plugins: [samplePlugin().plugin, bulkPlugin], config: { dispatcher: { enabled: false } } });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-import-'));
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const partyCount = async () => Number((await t.app.knex('rapport_parties').where('tenant_id', t.tenantId).count<{ count: number }[]>('* as count'))[0].count);

  it('keeps every good row of 2,000 and reports exactly the bad lines with their reasons', async () => {
    const header = 'kind,name,email,phone,domain,attr.sample.industry,attr.nope';
    const lines = [header];
    const bad = new Map<number, string>();
    const badRow = (row: string, reason: string) => {
      lines.push(row);
      bad.set(lines.length, reason);
    };
    const badAt: Record<number, [string, string]> = {};
    for (const i of [7, 507, 1007, 1507]) badAt[i] = [`robot,Robot ${i},,,,,`, 'kind'];
    for (const i of [19, 519, 1019, 1519]) badAt[i] = [`person,,p${i}@example.com,,,,`, 'name'];
    for (const i of [31, 531, 1031]) badAt[i] = [`person,Person ${i},not-an-email,,,,`, 'email'];
    for (const i of [43, 543, 1043]) badAt[i] = [`organization,Org ${i},,,org${i}.example,,"x"`, 'attr.nope'];
    for (const i of [55, 555, 1055]) badAt[i] = ['organization,Forbidden Corp,,,,,', 'veto'];
    for (const i of [67, 567]) badAt[i] = [`organization,Org ${i},,,,X,`, 'attr.sample.industry'];
    badAt[1067] = ['person,Person 1067,,,,Software,', 'attr.sample.industry'];
    for (let i = 0; i < 2000; i++) {
      if (badAt[i]) badRow(...badAt[i]);
      else if (i % 250 === 80) lines.push(`organization,"Multi\nLine ${i}",,,multi${i}.example,Software,`);
      else lines.push(i % 2 ? `person,Person ${i},p${i}@example.com,+1 555 ${1000 + i},,,` : `organization,Org ${i},,,org${i}.example,Software,`);
    }
    expect(bad.size).toBe(20);
    const file = path.join(dir, 'parties.csv');
    fs.writeFileSync(file, '\ufeff' + lines.join('\n') + '\n');
    const dataRows = lines.length - 1;

    const before = await partyCount();
    const createdBefore = (await t.outbox({ name: 'party.created' })).length;
    const reported: RejectedRow[] = [];
    const progress: ImportProgress[] = [];
    const result = await runImport(t.app, 'parties', file, { batchSize: 500, onRejected: (r) => void reported.push(r), onProgress: (p) => progress.push(p) });

    expect(result.completed).toBe(true);
    expect(result.read).toBe(dataRows);
    expect(result.rejected).toBe(20);
    expect(result.imported).toBe(dataRows - 20);
    expect(await partyCount()).toBe(before + dataRows - 20);

    // Line numbers are file lines (header = 1), also after quoted values that span two lines.
    const multilineRows = lines.slice(0, Math.max(...bad.keys())).filter((l) => l.includes('Multi')).length;
    const expectedLines = [...bad.keys()].map((index) => index + lines.slice(0, index - 1).filter((l) => l.includes('Multi')).length);
    expect(multilineRows).toBeGreaterThan(0);
    expect(reported.map((r) => r.line)).toEqual(expectedLines);
    expect(result.rejectedRows).toEqual(reported);

    const reasons = [...bad.values()];
    reported.forEach((row, i) => {
      const text = row.errors.map((e) => `${e.column ?? ''} ${e.message}`).join(' | ');
      switch (reasons[i]) {
        case 'kind':
          expect(row.errors[0]).toMatchObject({ column: 'kind', message: expect.stringContaining('"robot" is not one of') });
          break;
        case 'name':
          expect(row.errors[0]).toMatchObject({ column: 'name', message: 'is empty' });
          break;
        case 'email':
          expect(row.errors[0]).toMatchObject({ column: 'email', message: expect.stringContaining('not an e-mail address') });
          break;
        case 'attr.nope':
          expect(row.errors[0]).toMatchObject({ column: 'attr.nope', message: expect.stringContaining('unknown attribute "nope"') });
          break;
        case 'veto':
          expect(text).toContain('sample: that name is not allowed');
          break;
        default:
          expect(row.errors[0].column).toBe('attr.sample.industry');
      }
    });

    // One party.created outbox row per stored party, and the events carry the stored records.
    const created = (await t.outbox({ name: 'party.created' })).slice(createdBefore);
    expect(created).toHaveLength(result.imported);
    const ids = new Set(created.map((e) => e.payload.party.id));
    expect(ids.size).toBe(result.imported);
    const stored = await t.app
      .knex('rapport_parties')
      .where('tenant_id', t.tenantId)
      .whereIn('id', [...ids].slice(0, 1000))
      .count<{ count: number }[]>('* as count');
    expect(Number(stored[0].count)).toBe(Math.min(1000, ids.size));

    const org = await t.app.knex('rapport_parties').where({ tenant_id: t.tenantId, name: 'Org 2' }).first();
    expect(org.attributes).toEqual({ 'sample.industry': 'Software' });
    const person = created.find((e) => e.payload.party.name === 'Person 1')!.payload.party;
    expect(person.contactPoints).toEqual([
      { kind: 'email', value: 'p1@example.com' },
      { kind: 'phone', value: '+1 555 1001' },
    ]);
    const read = await t.admin.get(`/api/v1/parties/${person.id}`);
    expect(read.status).toBe(200);
    expect(read.body.contactPoints).toEqual(person.contactPoints);
    expect(created.some((e) => e.payload.party.name === 'Multi Line 80')).toBe(true);

    expect(progress.at(-1)).toMatchObject({ read: dataRows, imported: result.imported, rejected: 20 });
    expect(progress.at(-1)!.totalBytes).toBe(fs.statSync(file).size);
    expect(progress.length).toBeGreaterThanOrEqual(4);
  });

  it('skips rows whose e-mail or domain exists when asked to de-duplicate', async () => {
    const existing = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Dupe Inc', contactPoints: [{ kind: 'domain', value: 'dupe.example' }] });
    expect(existing.status).toBe(201);
    const result = await runImport(
      t.app,
      'parties',
      csv([
        'kind,name,email,domain,dedupe',
        'organization,Dupe Again,,WWW.Dupe.example,yes',
        'person,Twin One,twin@example.com,,yes',
        'person,Twin Two,TWIN@example.com,,yes',
        'organization,Dupe Allowed,,dupe.example,no',
        'person,Bad Flag,,,maybe',
      ]),
    );
    expect(result.imported).toBe(2);
    expect(result.rejectedRows).toEqual([
      { line: 2, errors: [{ column: 'domain', message: `duplicate of ${existing.body.id}` }] },
      { line: 4, errors: [{ column: 'email', message: expect.stringMatching(/^duplicate of [0-9a-f-]{36} \(line 3\)$/) }] },
      { line: 6, errors: [{ column: 'dedupe', message: '"maybe" is not yes or no' }] },
    ]);
    const flagged = await runImport(t.app, 'parties', csv(['kind,name,email', 'person,Twin Three,twin@example.com', 'person,New Person,new@example.com']), { dedupe: true });
    expect(flagged.imported).toBe(1);
    expect(flagged.rejectedRows[0]).toMatchObject({ line: 2, errors: [{ column: 'email', message: expect.stringContaining('duplicate of') }] });
  });

  it('refuses a header that does not fit before writing anything, and flags rows of the wrong width', async () => {
    const before = await partyCount();
    await expect(runImport(t.app, 'parties', csv(['kind,email', 'person,a@b.co']))).rejects.toThrow(/missing required column name/);
    await expect(runImport(t.app, 'parties', csv(['kind,name,emial', 'person,A,a@b.co']))).rejects.toThrow(/unknown column emial/);
    await expect(runImport(t.app, 'parties', csv([]))).rejects.toThrow(/empty/);
    await expect(runImport(t.app, 'nope', csv(['kind,name']))).rejects.toBeInstanceOf(ValidationError);
    await expect(runImport(t.app, 'parties', path.join(dir, 'missing.csv'))).rejects.toThrow(/no such file/);
    expect(await partyCount()).toBe(before);

    const result = await runImport(t.app, 'parties', csv(['kind,name,email', 'person,Short', 'person,Long,l@x.co,extra', 'person,Fine,fine@x.co']));
    expect(result.imported).toBe(1);
    expect(result.rejectedRows.map((r) => [r.line, r.errors[0].message])).toEqual([
      [2, 'the row has 2 values but the header has 3 columns'],
      [3, 'the row has 4 values but the header has 3 columns'],
    ]);
  });

  it('stops on a broken file but keeps the batches written before it', async () => {
    const lines = ['kind,name'];
    for (let i = 0; i < 30; i++) lines.push(`person,Broken File ${i}`);
    lines.push('person,"never closed');
    const result = await runImport(t.app, 'parties', Readable.from(lines.map((l) => l + '\n')), { batchSize: 10 });
    expect(result.completed).toBe(false);
    expect(result.error?.message).toMatch(/cannot be read: the quoted value of the record on line 32 is never closed/);
    expect(result.imported).toBe(30);
  });

  it('isolates rows that fail a batch as a whole by bisecting, so every good row lands (plugin importer)', async () => {
    const lines = ['code'];
    for (let i = 0; i < 1000; i++) lines.push([137, 500, 501, 998].includes(i) ? 'boom' : `item-${i}`);
    lines.push('item-3'); // primary key violation
    const result = await runImport(t.app, 'bulk.items', csv(lines), { batchSize: 400 });
    expect(result.completed).toBe(true);
    expect(result.imported).toBe(996);
    expect(result.rejectedRows.map((r) => r.line)).toEqual([139, 502, 503, 1000, 1002]);
    expect(result.rejectedRows[0].errors[0].message).toMatch(/bulk_items_code_check/);
    expect(result.rejectedRows[0].errors[0].message.length).toBeLessThan(300);
    expect(result.rejectedRows[4].errors[0].message).toMatch(/duplicate key/);
    const [{ count }] = await t.app.knex('bulk_items').count<{ count: number }[]>('* as count');
    expect(Number(count)).toBe(996);
  });

  it('writes 5,000 rows with a handful of INSERT statements, not one per row', async () => {
    const lines = ['kind,name,email,attr.sample.industry'];
    for (let i = 0; i < 5000; i++) lines.push(i % 2 ? `person,Bulk ${i},bulk${i}@example.com,` : `organization,Bulk Org ${i},,Retail`);
    const statements: string[] = [];
    const listener = (q: { sql: string }) => statements.push(q.sql);
    t.app.knex.on('query', listener);
    let result;
    try {
      result = await runImport(t.app, 'parties', csv(lines), { batchSize: 2500 });
    } finally {
      t.app.knex.removeListener('query', listener);
    }
    expect(result.imported).toBe(5000);
    const inserts = statements.filter((s) => /^\s*insert/i.test(s));
    // Per batch: parties, contact points, outbox, audit.
    expect(inserts.length).toBeLessThanOrEqual(8);
    expect(statements.length).toBeLessThan(30);
    expect(inserts.filter((s) => s.includes('rapport_parties'))).toHaveLength(2);
  });
});
