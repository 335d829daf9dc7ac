import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePlugin, runImport, VetoError } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';
import prm from '../src/index.js';
import { ok, organization } from './helpers.js';

/** A plugin vetoing one kind of partnership, to show a veto rejects its row only. */
const picky = definePlugin({
  name: 'picky',
  version: '1.0.0',
  setup(api) {
    api.hooks.filter('relationship.create', ({ input }) => {
      if (input.type === 'prm.partner' && (input.attributes as any)?.tier === 'forbidden') throw new VetoError('picky: no forbidden tier');
    });
  },
});

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ plugins: [prm, picky] });
});
afterAll(() => t?.close());

const csv = (lines: string[]) => Readable.from([lines.join('\n') + '\n']);
const partnerships = async (type: string) =>
  (
    await t.app
      .knex('rapport_relationships as r')
      // Joined and filtered by tenant, as the rule for statements on tenant-owned tables asks (a cluster sharded by tenant refuses the join otherwise).
      .join('rapport_parties as p', (on) => on.on('p.tenant_id', 'r.tenant_id').andOn('p.id', type === 'prm.partner' ? 'r.to_party_id' : 'r.from_party_id'))
      .where({ 'r.tenant_id': t.tenantId, 'r.type': type })
      .select('p.name', 'r.status', 'r.attributes', 'r.from_party_id', 'r.to_party_id')
  ).sort((a: any, b: any) => a.name.localeCompare(b.name));

describe('CSV importers', () => {
  it('imports partners: reuses organizations by domain, rejects bad rows with reasons', async () => {
    const existing = await organization(t, 'Known Reseller Ltd', 'known.example');
    const already = await organization(t, 'Already Partner', 'already.example');
    await ok(t.admin.post('/api/v1/relationships', { type: 'prm.partner', fromPartyId: t.selfPartyId, toPartyId: already, status: 'active', attributes: { kind: 'referral' } }), 201);
    const parties = async () => Number((await t.app.knex('rapport_parties').count('* as n').first())!.n);
    const partiesBefore = await parties();

    const result = await runImport(
      t.app,
      'prm.partners',
      csv([
        'name,domain,kind,program,tier,territories,status',
        'New Reseller,new-reseller.example,reseller,Resell,gold,north; south,',
        'Known Reseller,https://www.known.example/,distributor,,,,review',
        'Bad Kind,bad.example,spy,,,,',
        'New Again,new-reseller.example,reseller,,,,',
        'Already,already.example,reseller,,,,',
        'Odd Status,odd.example,reseller,,,,rejected',
        'Vetoed Org,vetoed.example,reseller,,forbidden,,',
        ',nameless.example,reseller,,,,',
      ]),
    );
    expect(result.imported).toBe(2);
    expect(result.rejectedRows.map((r) => [r.line, r.errors[0].column ?? null])).toEqual([
      [4, 'kind'],
      [5, 'domain'],
      [6, 'domain'],
      [7, 'status'],
      [8, null],
      [9, 'name'],
    ]);
    expect(result.rejectedRows.find((r) => r.line === 8)!.errors[0].message).toContain('picky: no forbidden tier');

    const rows = await partnerships('prm.partner');
    const byName = Object.fromEntries(rows.map((r: any) => [r.name, r]));
    expect(byName['New Reseller']).toMatchObject({
      status: 'active',
      from_party_id: t.selfPartyId,
      attributes: { kind: 'reseller', program: 'Resell', tier: 'gold', territories: ['north', 'south'] },
    });
    expect(byName['Known Reseller Ltd']).toMatchObject({ status: 'review', to_party_id: existing, attributes: { kind: 'distributor' } });
    // One organization created (New Reseller); the vetoed row left none behind.
    expect(await parties()).toBe(partiesBefore + 1);
    const newParty = (await ok(t.admin.get('/api/v1/parties?q=New Reseller'))).data[0];
    expect(newParty.contactPoints).toEqual([{ kind: 'domain', value: 'new-reseller.example' }]);
  });

  it('imports suppliers with the firm as buyer', async () => {
    const result = await runImport(t.app, 'prm.suppliers', csv(['name,domain,categories,status', 'Steel Works,steel.example,steel;sheet,', 'Shady Parts,,,blocked', 'Nope,,,preferred']));
    expect(result.imported).toBe(2);
    expect(result.rejectedRows.map((r) => r.line)).toEqual([4]);
    const rows = await partnerships('prm.supplier');
    expect(rows.map((r: any) => [r.name, r.status, r.to_party_id === t.selfPartyId])).toEqual([
      ['Shady Parts', 'blocked', true],
      ['Steel Works', 'approved', true],
    ]);
    expect(rows[1].attributes).toEqual({ categories: ['steel', 'sheet'] });
    // Unknown columns are refused before anything is written.
    await expect(runImport(t.app, 'prm.suppliers', csv(['name,rating', 'X,5']))).rejects.toThrow();
  });
});
