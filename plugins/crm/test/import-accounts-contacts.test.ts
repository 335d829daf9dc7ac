import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport, systemPrincipal } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';
import crm from '../src/index.js';

let t: TestApp;
let rita: string;
let initech: string;
let ann: string;

const csv = (...lines: string[]) => Readable.from([lines.join('\n')]);
const party = async (kind: string, name: string, contactPoints: Array<{ kind: string; value: string }> = []) =>
  (await t.admin.post('/api/v1/parties', { kind, name, contactPoints })).body.id as string;
const relationshipsOf = async (partyId: string, type: string) => (await t.admin.get(`/api/v1/relationships?type=${type}&partyId=${partyId}&limit=100`)).body.data;

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm] });
  rita = await party('person', 'Rita Rep', [{ kind: 'email', value: 'rita@our.example' }]);
  initech = await party('organization', 'Initech', [{ kind: 'domain', value: 'initech.example' }]);
  ann = await party('person', 'Ann Existing', [{ kind: 'email', value: 'ann@people.example' }]);
  await party('organization', 'Twin Co');
  await party('organization', 'twin  co');
});

afterAll(() => t?.close());

describe('crm.accounts importer', () => {
  it('creates organizations with CRM attributes, owner and lifecycle, and rejects duplicates and bad values by column', async () => {
    const result = await runImport(
      t.app,
      'crm.accounts',
      csv(
        'name,domain,email,phone,industry,size,source,owner_email,status',
        'Acme,https://www.acme.example/,,+1 555 0100,Energy,51-200,fair,rita@our.example,prospect', // 2 ok
        'Globex,globex.example,info@globex.example,,,,,,', //                                          3 ok, no lifecycle
        'Initech again,initech.example,,,,,,,lead', //                                                4 domain exists
        'Acme twin,acme.example,,,,,,,', //                                                           5 duplicate of line 2
        'Big,big.example,,,Energy,huge,,,', //                                                         6 size
        'Owned,owned.example,,,,,,nobody@our.example,', //                                             7 owner_email
        'Odd,odd.example,,,,,,,dreaming', //                                                           8 status
        ',nameless.example,,,,,,,', //                                                                 9 name
      ),
      { batchSize: 3 },
    );
    expect(result).toMatchObject({ read: 8, imported: 2, rejected: 6, completed: true });
    expect(result.rejectedRows.map((r) => [r.line, r.errors.map((e) => e.column)])).toEqual([
      [4, ['domain']],
      [5, ['domain']],
      [6, ['size']],
      [7, ['owner_email']],
      [8, ['status']],
      [9, ['name']],
    ]);
    expect(result.rejectedRows[0].errors[0].message).toContain(initech);
    const acme = (await t.admin.get('/api/v1/parties?q=Acme')).body.data.find((p: any) => p.name === 'Acme');
    expect(acme.attributes).toEqual({ 'crm.industry': 'Energy', 'crm.size': '51-200', 'crm.source': 'fair', 'crm.owner': rita });
    expect(acme.contactPoints).toEqual(
      expect.arrayContaining([
        { kind: 'domain', value: 'https://www.acme.example/' },
        { kind: 'phone', value: '+1 555 0100' },
      ]),
    );
    const lifecycle = await relationshipsOf(acme.id, 'crm.customer');
    expect(lifecycle).toMatchObject([{ fromPartyId: t.selfPartyId, toPartyId: acme.id, status: 'prospect' }]);
    const customers = (await t.admin.get('/api/v1/crm/customers')).body.data.map((c: any) => c.party.name);
    expect(customers).toEqual(['Acme']);
    expect(await t.outbox({ name: 'party.created' })).toHaveLength(5 + 2);
  });

  it('refuses an importer without crm.accounts:write before reading a row', async () => {
    const principal = { ...systemPrincipal(t.tenantId), permissions: new Set(['imports:write']) };
    await expect(runImport(t.app, 'crm.accounts', csv('name,domain', 'Sneaky,sneaky.example'), { principal })).rejects.toThrow(/crm.accounts:write/);
    await expect(runImport(t.app, 'crm.contacts', csv('name,email', 'Sneaky,sneaky@people.example'), { principal })).rejects.toThrow(/crm.accounts:write/);
    await expect(runImport(t.app, 'crm.deals', csv('title,amount,currency,pipeline', 'Sneaky,1,EUR,Sales'), { principal })).rejects.toThrow(/crm.deals:write/);
    expect((await t.admin.get('/api/v1/parties?q=Sneak')).body.data).toEqual([]);
  });
});

describe('crm.contacts importer', () => {
  it('links people to organizations in one pass, reusing a person with the same e-mail, and reports bad rows', async () => {
    const result = await runImport(
      t.app,
      'crm.contacts',
      csv(
        'name,email,phone,organization_domain,organization_name,job_title',
        'Bob New,bob@people.example,,initech.example,,CTO', //          2 new person at Initech
        'Ann Renamed,ANN@people.example,,initech.example,,Buyer', //    3 existing Ann (name kept), linked
        'Bob Again,bob@people.example,,,acme,Advisor', //                4 the same new Bob, a second employer by name
        'Carl,carl@people.example,,,,', //                                5 a person without organization
        'Ann Twice,ann@people.example,,initech.example,,Buyer', //       6 already linked: nothing new, no error
        'Dora,dora@people.example,,nowhere.example,,', //                7 organization_domain unknown
        'Eve,eve@people.example,,,Twin Co,', //                          8 organization_name ambiguous
        'Fay,not-an-email,,initech.example,,', //                        9 email
        'Gus,gus@people.example,,,,Chief', //                           10 job_title without organization
        'Rita as contact,rita@our.example,,globex.example,,Friend', //  11 an existing person (a rep) linked too
        'Org Mail,info@globex.example,,initech.example,,', //          12 the e-mail of an organization, not a person
      ),
      { batchSize: 4 },
    );
    expect(result.rejectedRows.map((r) => [r.line, r.errors.map((e) => e.column)])).toEqual([
      [7, ['organization_domain']],
      [8, ['organization_name']],
      [9, ['email']],
      [10, ['job_title']],
      [12, ['email']],
    ]);
    expect(result).toMatchObject({ read: 11, imported: 6, rejected: 5 });
    const people = (await t.admin.get('/api/v1/parties?kind=person&limit=100')).body.data;
    expect(people.filter((p: any) => p.name.startsWith('Bob'))).toHaveLength(1); // one Bob, two employers
    expect(people.find((p: any) => p.id === ann).name).toBe('Ann Existing');
    const bob = people.find((p: any) => p.name === 'Bob New');
    const bobsJobs = await relationshipsOf(bob.id, 'crm.contact');
    const acme = (await t.admin.get('/api/v1/parties?q=Acme')).body.data.find((p: any) => p.name === 'Acme').id;
    expect(bobsJobs.map((r: any) => [r.toPartyId, r.attributes.jobTitle]).sort()).toEqual(
      [
        [acme, 'Advisor'],
        [initech, 'CTO'],
      ].sort(),
    );
    expect(await relationshipsOf(ann, 'crm.contact')).toMatchObject([
      { fromPartyId: ann, toPartyId: initech, fromRole: 'contact', toRole: 'organization', status: 'active', attributes: { jobTitle: 'Buyer' } },
    ]);
    expect(people.find((p: any) => p.name === 'Carl')).toBeDefined();

    // Importing the same file again creates nobody and no link twice.
    const again = await runImport(t.app, 'crm.contacts', csv('name,email,organization_domain,job_title', 'Bob New,bob@people.example,initech.example,CTO'));
    expect(again).toMatchObject({ imported: 1, rejected: 0 });
    expect(await relationshipsOf(bob.id, 'crm.contact')).toHaveLength(2);
    expect((await t.admin.get('/api/v1/parties?kind=person&limit=100')).body.data).toHaveLength(people.length);
  });
});

describe('crm.deals importer by account name', () => {
  it('finds the account organization by its name', async () => {
    await t.admin.post('/api/v1/crm/pipelines', { name: 'Sales', stages: [{ name: 'Qualify' }] });
    const result = await runImport(t.app, 'crm.deals', csv('title,amount,currency,pipeline,account_name', 'By name,10,EUR,Sales,INITECH', 'Ambiguous,10,EUR,Sales,Twin Co'));
    expect(result.rejectedRows.map((r) => [r.line, r.errors[0].column])).toEqual([[3, 'account_name']]);
    expect((await t.admin.get('/api/v1/crm/deals')).body.data).toMatchObject([{ title: 'By name', accountId: initech }]);
  });
});

describe('over HTTP (the kernel runs the CRM importers as background jobs)', () => {
  it('lists the CRM importers with their permission and imports contacts in the background', async () => {
    const importers = (await t.admin.get('/api/v1/importers')).body.data;
    expect(importers.filter((i: any) => i.owner === 'crm').map((i: any) => [i.name, i.permission])).toEqual([
      ['crm.accounts', 'crm.accounts:write'],
      ['crm.contacts', 'crm.accounts:write'],
      ['crm.deals', 'crm.deals:write'],
    ]);
    const body = ['name,email,organization_domain,job_title', 'Hal,hal@people.example,initech.example,Ops', 'Bad,bad-mail,initech.example,'].join('\n');
    const res = await t.admin.request('POST', '/api/v1/imports/crm.contacts', { rawBody: body, headers: { 'content-type': 'text/csv' } });
    expect(res.status, res.text).toBe(202);
    await t.app.jobs.settled();
    const job = (await t.admin.get(res.headers.get('location')!)).body;
    expect(job).toMatchObject({ status: 'succeeded', result: { importer: 'crm.contacts', read: 2, imported: 1, rejected: 1 } });
    const hal = (await t.admin.get('/api/v1/parties?q=Hal')).body.data[0];
    expect(await relationshipsOf(hal.id, 'crm.contact')).toMatchObject([{ toPartyId: initech, attributes: { jobTitle: 'Ops' } }]);
  });
});
