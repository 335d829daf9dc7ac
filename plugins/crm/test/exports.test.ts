import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';
import crm from '../src/index.js';

let t: TestApp;
const rows = (text: string) => parse<Record<string, string>>(text, { columns: true });

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm] });
  await t.admin.post('/api/v1/crm/pipelines', { name: 'Sales', stages: [{ name: 'Qualify' }, { name: 'Won', outcome: 'won' }] });
  const accounts = ['name,domain,industry,size,status', 'Acme,acme.example,Energy,51-200,customer', '=cmd|calc,evil.example,,,lead', 'Globex,globex.example,Retail,1-10,'];
  expect((await runImport(t.app, 'crm.accounts', Readable.from([accounts.join('\n')]))).imported).toBe(3);
  const contacts = ['name,email,organization_domain,job_title', 'Ann,ann@acme.example,acme.example,Buyer', 'Bob,bob@globex.example,globex.example,'];
  expect((await runImport(t.app, 'crm.contacts', Readable.from([contacts.join('\n')]))).imported).toBe(2);
  const deals = ['title,amount,currency,pipeline,stage,account_domain,expected_close'];
  for (let i = 0; i < 2500; i++) deals.push(`Deal ${i},${i}.25,EUR,Sales,${i % 10 === 0 ? 'Won' : ''},${i % 2 ? 'acme.example' : 'globex.example'},2027-03-01`);
  expect((await runImport(t.app, 'crm.deals', Readable.from([deals.join('\n')]))).imported).toBe(2500);
});

afterAll(() => t?.close());

describe('CSV exports', () => {
  it('streams every visible deal across keyset batches, with names resolved', async () => {
    const res = await t.admin.get('/api/v1/crm/exports/deals');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="deals.csv"');
    const deals = rows(res.text);
    expect(deals).toHaveLength(2500);
    expect(new Set(deals.map((d) => d.id)).size).toBe(2500);
    expect(Object.keys(deals[0])).toEqual([
      'id',
      'title',
      'amount',
      'currency',
      'pipeline',
      'stage',
      'status',
      'expected_close',
      'account_id',
      'account_name',
      'owner_party_id',
      'closed_at',
      'created_at',
    ]);
    const deal7 = deals.find((d) => d.title === 'Deal 7')!;
    expect(deal7).toMatchObject({
      amount: '7.25',
      currency: 'EUR',
      pipeline: 'Sales',
      stage: 'Qualify',
      status: 'open',
      expected_close: '2027-03-01',
      account_name: 'Acme',
      owner_party_id: '',
      closed_at: '',
    });
    // Filters are those of the list.
    expect(rows((await t.admin.get('/api/v1/crm/exports/deals?status=won')).text)).toHaveLength(250);
    expect((await t.admin.get('/api/v1/crm/exports/deals?status=maybe')).status).toBe(400);
  });

  it('exports accounts with their attributes and lifecycle, defusing formula-looking names', async () => {
    const accounts = rows((await t.admin.get('/api/v1/crm/exports/accounts')).text);
    expect(accounts.map((a) => [a.name, a.status, a.domain, a.industry, a.size]).sort()).toEqual([
      ["'=cmd|calc", 'lead', 'evil.example', '', ''],
      ['Acme', 'customer', 'acme.example', 'Energy', '51-200'],
    ]);
    expect(rows((await t.admin.get('/api/v1/crm/exports/accounts?status=customer')).text).map((a) => a.name)).toEqual(['Acme']);
  });

  it('exports contacts with their organization and job title', async () => {
    const contacts = rows((await t.admin.get('/api/v1/crm/exports/contacts')).text);
    expect(contacts.map((c) => [c.name, c.email, c.organization_name, c.organization_domain, c.job_title]).sort()).toEqual([
      ['Ann', 'ann@acme.example', 'Acme', 'acme.example', 'Buyer'],
      ['Bob', 'bob@globex.example', 'Globex', 'globex.example', ''],
    ]);
  });

  it("gives an external principal (the account's portal) only what its record scopes allow", async () => {
    // `q` also finds the parties search matches (Ann, by her ann@acme.example): take the organization.
    const acme = (await t.admin.get('/api/v1/parties?q=Acme&kind=organization')).body.data.find((p: { name: string }) => p.name === 'Acme').id;
    expect((await t.admin.post('/api/v1/roles', { name: 'portal', permissions: ['crm.deals:read', 'crm.deals:all', 'crm.accounts:read', 'relationships:read', 'parties:read'] })).status).toBe(201);
    const portal = await t.clientFor({ roles: ['portal'], scopePartyId: acme });
    const deals = rows((await portal.get('/api/v1/crm/exports/deals')).text);
    expect(deals).toHaveLength(1250);
    expect(new Set(deals.map((d) => d.account_id))).toEqual(new Set([acme]));
    const contacts = rows((await portal.get('/api/v1/crm/exports/contacts')).text);
    expect(contacts.map((c) => c.name)).toEqual(['Ann']);
    expect((await t.anonymous.get('/api/v1/crm/exports/deals')).status).toBe(401);
  });

  it('leaves out the name of an account a scoped deal owner cannot see', async () => {
    const rep = (await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Remote Rep' })).body.id;
    const hidden = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Hidden Account Ltd' })).body.id;
    const pipelineId = (await t.admin.get('/api/v1/crm/pipelines')).body.data[0].id;
    const deal = await t.admin.post('/api/v1/crm/deals', { title: 'Owned, account out of reach', pipelineId, amount: 1, currency: 'EUR', accountId: hidden, ownerPartyId: rep });
    expect(deal.status, deal.text).toBe(201);
    expect((await t.admin.post('/api/v1/roles', { name: 'own-deals', permissions: ['crm.deals:read', 'parties:read'] })).status).toBe(201);
    const asRep = await t.clientFor({ roles: ['own-deals'], scopePartyId: rep });
    expect((await asRep.get(`/api/v1/parties/${hidden}`)).status).toBe(404);
    const exported = rows((await asRep.get('/api/v1/crm/exports/deals')).text);
    expect(exported.map((d) => [d.title, d.account_id, d.account_name])).toEqual([['Owned, account out of reach', hidden, '']]);
    expect(rows((await t.admin.get('/api/v1/crm/exports/deals')).text).find((d) => d.id === deal.body.id)?.account_name).toBe('Hidden Account Ltd');
  });
});
