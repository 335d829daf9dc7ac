import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport, type ImportProgress, type ImportResult } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';
import crm from '../src/index.js';

/*
 * The must-show: 10k accounts, 20k contacts and 10k deals imported in one run, with
 * progress, a few deliberately bad rows in each file, an error report naming exactly those
 * rows, and every good row stored (counted in the database afterwards).
 */

const ACCOUNTS = 10_000;
const CONTACTS = 20_000;
const DEALS = 10_000;
const REPS = ['rita@our.example', 'sam@our.example', 'tom@our.example'];
const STATUSES = ['lead', 'prospect', 'customer', ''];
const SIZES = ['1-10', '11-50', '51-200', '201-1000', '1001+'];

let t: TestApp;
let dir: string;

/** A CSV with the bad rows spliced in at given positions; returns the file and the line → column the report must name. */
function writeCsv(name: string, header: string, good: (i: number) => string, count: number, bad: Array<{ at: number; row: string; column: string }>) {
  const lines = [header];
  const expected = new Map<number, string>();
  const byPosition = new Map(bad.map((b) => [b.at, b]));
  for (let i = 0; i < count; i++) {
    const b = byPosition.get(i);
    if (b) {
      lines.push(b.row);
      expected.set(lines.length, b.column); // header is line 1, so the row just pushed is line lines.length
    }
    lines.push(good(i));
  }
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, expected };
}

const count = async (table: string, where: Record<string, unknown> = {}) =>
  Number(
    (await t.app
      .knex(table)
      .where({ tenant_id: t.tenantId, ...where })
      .count({ n: '*' })
      .first())!.n,
  );

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm] });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-import-'));
  for (const email of REPS) expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: email.split('@')[0], contactPoints: [{ kind: 'email', value: email }] })).status).toBe(201);
  const pipeline = await t.admin.post('/api/v1/crm/pipelines', {
    name: 'Sales',
    stages: [{ name: 'Qualify' }, { name: 'Propose', probability: 50 }, { name: 'Won', outcome: 'won' }, { name: 'Lost', outcome: 'lost' }],
  });
  expect(pipeline.status).toBe(201);
});

afterAll(async () => {
  await t?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('importing 10k accounts, 20k contacts and 10k deals', () => {
  it('stores every good row, reports exactly the bad ones, with progress', async () => {
    const accounts = writeCsv(
      'accounts.csv',
      'name,domain,industry,size,source,owner_email,status',
      (i) => `Account ${i},acct${i}.example,${i % 2 ? 'Energy' : 'Retail'},${SIZES[i % 5]},fair,${REPS[i % 3]},${STATUSES[i % 4]}`,
      ACCOUNTS,
      [
        { at: 10, row: ',nameless.example,Energy,1-10,fair,,', column: 'name' },
        { at: 2_500, row: 'Huge Co,huge.example,Energy,huge,fair,,', column: 'size' },
        { at: 6_000, row: 'Copy Co,acct17.example,Energy,1-10,fair,,', column: 'domain' }, // duplicate of an account in an earlier batch
        { at: 9_999, row: 'Ghost Owned,ghost.example,Energy,1-10,fair,ghost@our.example,lead', column: 'owner_email' },
        { at: 9_998, row: 'Odd Status,odd.example,Energy,1-10,fair,,dreaming', column: 'status' },
      ],
    );
    const contacts = writeCsv(
      'contacts.csv',
      'name,email,phone,organization_domain,organization_name,job_title',
      // Every fifth contact is linked by the organization's name instead of its domain.
      (i) => (i % 5 === 0 ? `Person ${i},p${i}@people.example,,,Account ${i % ACCOUNTS},Buyer` : `Person ${i},p${i}@people.example,,acct${i % ACCOUNTS}.example,,Engineer`),
      CONTACTS,
      [
        { at: 3, row: 'Nobody,,,unknown.example,,CEO', column: 'organization_domain' },
        { at: 7_000, row: 'Bad Mail,not-an-email,,acct1.example,,CEO', column: 'email' },
        { at: 12_000, row: ',nameless@people.example,,acct2.example,,CEO', column: 'name' },
        { at: 19_000, row: 'Lost Org,lost@people.example,,,No Such Account,CEO', column: 'organization_name' },
      ],
    );
    const deals = writeCsv(
      'deals.csv',
      'title,amount,currency,pipeline,stage,account_domain,account_email,account_name,owner_email,expected_close',
      (i) => `Deal ${i},${(i % 97) * 100 + 0.5},${i % 4 ? 'EUR' : 'USD'},Sales,${['', 'Propose', 'Won', 'Lost'][i % 4]},acct${i % ACCOUNTS}.example,,,${REPS[i % 3]},2027-0${(i % 9) + 1}-15`,
      DEALS,
      [
        { at: 1, row: 'Bad Amount,12.345,EUR,Sales,,acct1.example,,,,', column: 'amount' },
        { at: 4_000, row: 'No Pipeline,10,EUR,Nope,,acct1.example,,,,', column: 'pipeline' },
        { at: 8_000, row: 'Unknown Account,10,EUR,Sales,,nowhere.example,,,,', column: 'account_domain' },
        { at: 9_000, row: 'Bad Date,10,EUR,Sales,,acct1.example,,,,2027-13-45', column: 'expected_close' },
      ],
    );

    const started = performance.now();
    const progress: Record<string, ImportProgress[]> = {};
    const run = async (importer: string, file: string): Promise<ImportResult> => {
      progress[importer] = [];
      const result = await runImport(t.app, importer, file, { batchSize: 2_000, onProgress: (p) => progress[importer].push(p) });
      console.info(`${importer}: ${result.imported} imported, ${result.rejected} rejected in ${result.seconds.toFixed(1)} s`);
      return result;
    };
    const results = {
      accounts: await run('crm.accounts', accounts.file),
      contacts: await run('crm.contacts', contacts.file),
      deals: await run('crm.deals', deals.file),
    };
    const seconds = (performance.now() - started) / 1000;
    console.info(`crm import of ${ACCOUNTS} accounts, ${CONTACTS} contacts, ${DEALS} deals on ${t.kind}: ${seconds.toFixed(1)} s`);

    for (const [name, csv, good] of [
      ['accounts', accounts, ACCOUNTS],
      ['contacts', contacts, CONTACTS],
      ['deals', deals, DEALS],
    ] as const) {
      const result = results[name];
      expect(result.completed, `${name}: ${result.error?.message}`).toBe(true);
      expect(result).toMatchObject({ read: good + csv.expected.size, imported: good, rejected: csv.expected.size });
      // The report names each bad row by line and column, and nothing else.
      expect(new Map(result.rejectedRows.map((r) => [r.line, r.errors[0].column]))).toEqual(csv.expected);
      // Progress was reported batch by batch, ending at the whole file.
      const steps = progress[`crm.${name}`];
      expect(steps.length).toBeGreaterThan(Math.floor(good / 2_000));
      expect(steps.at(-1)).toMatchObject({ read: good + csv.expected.size, imported: good, rejected: csv.expected.size });
      expect(steps.at(-1)!.bytes).toBe(steps.at(-1)!.totalBytes);
    }

    // Every good row is in the database.
    expect(await count('rapport_parties', { kind: 'organization' })).toBe(ACCOUNTS + 1); // + the tenant's self party
    expect(await count('rapport_parties', { kind: 'person' })).toBe(CONTACTS + REPS.length);
    expect(await count('rapport_relationships', { type: 'crm.contact' })).toBe(CONTACTS);
    expect(await count('rapport_relationships', { type: 'crm.customer' })).toBe(ACCOUNTS - ACCOUNTS / 4);
    expect(await count('crm_deals')).toBe(DEALS);
    expect(await count('crm_deals', { status: 'won' })).toBe(DEALS / 4);
    expect(await count('crm_deal_stage_history')).toBe(DEALS);
    // Natural keys resolved to the right records, checked by a join independent of the importers.
    const misfiled = await t.app.knex.raw(
      `select count(*) as n from crm_deals d
         join rapport_parties a on a.tenant_id = d.tenant_id and a.id = d.account_id
        where d.tenant_id = ? and ('Account ' || substring(d.title from 6)::int % ${ACCOUNTS}) <> a.name`,
      [t.tenantId],
    );
    expect(Number(misfiled.rows[0].n)).toBe(0);
    const wrongEmployer = await t.app.knex.raw(
      `select count(*) as n from rapport_relationships r
         join rapport_parties p on p.tenant_id = r.tenant_id and p.id = r.from_party_id
         join rapport_parties o on o.tenant_id = r.tenant_id and o.id = r.to_party_id
        where r.tenant_id = ? and r.type = 'crm.contact'
          and ('Account ' || (substring(p.name from 8)::int % ${ACCOUNTS})) <> o.name`,
      [t.tenantId],
    );
    expect(Number(wrongEmployer.rows[0].n)).toBe(0);
    const owners = await t.app.knex.raw(`select count(distinct owner_party_id) as n, count(*) filter (where owner_party_id is null) as unowned from crm_deals where tenant_id = ?`, [t.tenantId]);
    expect(Number(owners.rows[0].n)).toBe(REPS.length);
    expect(Number(owners.rows[0].unowned)).toBe(0);
  }, 600_000);
});
