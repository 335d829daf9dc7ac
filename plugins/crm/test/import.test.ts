import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';
import crm, { type Pipeline } from '../src/index.js';

let t: TestApp;
let pipeline: Pipeline;
let acme: string;
let globex: string;
let rita: string;

const party = async (kind: string, name: string, contactPoints: Array<{ kind: string; value: string }>) => (await t.admin.post('/api/v1/parties', { kind, name, contactPoints })).body.id as string;

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm] });
  acme = await party('organization', 'Acme', [{ kind: 'domain', value: 'acme.example' }]);
  globex = await party('organization', 'Globex', [{ kind: 'email', value: 'info@globex.example' }]);
  rita = await party('person', 'Rita Rep', [{ kind: 'email', value: 'rita@our.example' }]);
  await party('organization', 'Twin A', [{ kind: 'domain', value: 'twin.example' }]);
  await party('organization', 'Twin B', [{ kind: 'domain', value: 'twin.example' }]);
  pipeline = (
    await t.admin.post('/api/v1/crm/pipelines', {
      name: 'Sales',
      stages: [
        { name: 'Qualify', probability: 10 },
        { name: 'Propose', probability: 50 },
        { name: 'Won', outcome: 'won' },
        { name: 'Lost', outcome: 'lost' },
      ],
    })
  ).body;
});

afterAll(() => t?.close());

describe('crm.deals importer', () => {
  it('stores every good row in batches, resolving by natural keys, and reports each bad row', async () => {
    const csv = [
      'title,amount,currency,pipeline,stage,account_domain,account_email,owner_email,expected_close',
      'Acme rollout,1200.50,EUR,Sales,,https://www.acme.example/,,rita@our.example,2027-02-01', // 2 ok, first open stage
      'Globex renewal,300,USD,Sales,Won,,info@globex.example,,', //                                   3 ok, closed won
      'Bad amount,12.345,EUR,Sales,,acme.example,,,', //                                               4 amount
      'No pipeline,10,EUR,Nope,,acme.example,,,', //                                                   5 pipeline
      'No stage,10,EUR,Sales,Dreaming,acme.example,,,', //                                             6 stage
      'Unknown account,10,EUR,Sales,,unknown.example,,,', //                                           7 account_domain
      'Ambiguous,10,EUR,Sales,,twin.example,,,', //                                                    8 account_domain
      'No account,10,EUR,Sales,,,,,', //                                                               9 account_domain
      'Unknown owner,10,EUR,Sales,Propose,acme.example,,ghost@our.example,', //                       10 owner_email
      'Acme extension,99.99,EUR,Sales,Propose,acme.example,,,2027-05-31', //                          11 ok
    ].join('\n');
    const result = await runImport(t.app, 'crm.deals', Readable.from([csv]), { batchSize: 4 });
    expect(result).toMatchObject({ read: 10, imported: 3, rejected: 7, completed: true });
    expect(result.rejectedRows.map((r) => [r.line, r.errors.map((e) => e.column)])).toEqual([
      [4, ['amount']],
      [5, ['pipeline']],
      [6, ['stage']],
      [7, ['account_domain']],
      [8, ['account_domain']],
      [9, ['account_domain']],
      [10, ['owner_email']],
    ]);
    const deals = (await t.admin.get('/api/v1/crm/deals?limit=200')).body.data;
    const byTitle = Object.fromEntries(deals.map((d: any) => [d.title, d]));
    expect(Object.keys(byTitle).sort()).toEqual(['Acme extension', 'Acme rollout', 'Globex renewal']);
    const stage = (name: string) => pipeline.stages.find((s) => s.name === name)!.id;
    expect(byTitle['Acme rollout']).toMatchObject({ accountId: acme, ownerPartyId: rita, amount: 1200.5, currency: 'EUR', stageId: stage('Qualify'), status: 'open', expectedClose: '2027-02-01' });
    expect(byTitle['Globex renewal']).toMatchObject({ accountId: globex, ownerPartyId: null, stageId: stage('Won'), status: 'won' });
    expect(byTitle['Globex renewal'].closedAt).not.toBeNull();
    expect(byTitle['Acme extension']).toMatchObject({ stageId: stage('Propose'), amount: 99.99, expectedClose: '2027-05-31' });
    // History, timeline and one event per record.
    expect((await t.admin.get(`/api/v1/crm/deals/${byTitle['Acme rollout'].id}/history`)).body.data).toHaveLength(1);
    const timeline = (await t.admin.get(`/api/v1/parties/${acme}/timeline?type=crm.deal-update`)).body.data;
    expect(timeline.map((i: any) => i.attributes.dealId).sort()).toEqual([byTitle['Acme rollout'].id, byTitle['Acme extension'].id].sort());
    expect(await t.outbox({ name: 'crm.deal.created' })).toHaveLength(3);
    expect(await t.outbox({ name: 'crm.deal.won' })).toHaveLength(1);
  });

  it('refuses a header with an unknown or a missing column before reading any row', async () => {
    await expect(runImport(t.app, 'crm.deals', Readable.from(['title,amount,currency,pipeline,acount_domain\nX,1,EUR,Sales,acme.example\n']))).rejects.toThrow(/unknown column acount_domain/);
    await expect(runImport(t.app, 'crm.deals', Readable.from(['title,amount,pipeline\nX,1,Sales\n']))).rejects.toThrow(/missing required column currency/);
    expect((await t.admin.get('/api/v1/crm/deals?limit=200')).body.data).toHaveLength(3);
  });
});
