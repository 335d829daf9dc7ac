import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createRapport, createTenant, defineContract, definePlugin, service, type PluginDefinition } from '@rapport/core';
import { samplePlugin } from './fixtures/test-plugin.js';

// Boot errors happen before any database work; this URL fails fast if that ever changes.
const unreachable = { url: 'postgres://nobody@127.0.0.1:1/none', pool: { min: 0, max: 1 } };

function plugin(name: string, version = '1.0.0', extra: Partial<PluginDefinition> = {}): PluginDefinition {
  return definePlugin({ name, version, ...extra });
}

async function bootError(plugins: PluginDefinition[]): Promise<Error> {
  try {
    const app = await createRapport({ logLevel: 'silent', database: unreachable, plugins, dispatcher: { enabled: false } });
    await app.close();
  } catch (error) {
    return error as Error;
  }
  throw new Error('createRapport should have failed');
}

describe('plugin host: start-up errors name the plugin', () => {
  it('refuses a missing dependency', async () => {
    const error = await bootError([plugin('needy', '1.0.0', { requires: { plugins: { absent: '^1.0.0' } } })]);
    expect(error.message).toBe('Plugin "needy": requires plugin "absent" (^1.0.0), which is not in the configuration');
  });

  it('refuses a service ref whose plugin is not configured, naming both plugins', async () => {
    const ledger = defineContract('ledger', { services: { balances: service<{ of(id: string): number }>() } });
    const error = await bootError([plugin('reader', '1.0.0', { deps: { balances: ledger.services.balances } })]);
    expect(error.message).toBe('Plugin "reader": needs the service "ledger.balances" of plugin "ledger", which is not in the configuration');
  });

  it('refuses a service ref its plugin does not provide, naming both plugins', async () => {
    const ledger = defineContract('ledger', { services: { balances: service<{ of(id: string): number }>() } });
    const error = await bootError([plugin('ledger'), plugin('reader', '1.0.0', { deps: { balances: ledger.services.balances } })]);
    expect(error.message).toBe('Plugin "reader": needs the service "ledger.balances", which plugin "ledger" does not provide');
  });

  it('refuses a dependency outside the required range', async () => {
    const error = await bootError([plugin('base', '1.4.0'), plugin('picky', '1.0.0', { requires: { plugins: { base: '^2.0.0' } } })]);
    expect(error.message).toBe('Plugin "picky": requires plugin "base" ^2.0.0, but 1.4.0 is configured');
  });

  it('refuses a core range this kernel does not satisfy', async () => {
    const error = await bootError([plugin('future', '1.0.0', { requires: { core: '^9.0.0' } })]);
    expect(error.message).toBe('Plugin "future": requires @rapport/core ^9.0.0, but this is 0.1.0');
  });

  it('refuses a dependency cycle', async () => {
    const error = await bootError([plugin('chicken', '1.0.0', { requires: { plugins: { egg: '*' } } }), plugin('egg', '1.0.0', { requires: { plugins: { chicken: '*' } } })]);
    expect(error.message).toBe('Plugin "chicken": is part of a dependency cycle: chicken → egg → chicken');
  });

  it('refuses two plugins declaring the same relationship type, naming both', async () => {
    const link = { key: 'alpha.link', fromRole: 'a', toRole: 'b' };
    const error = await bootError([plugin('alpha', '1.0.0', { setup: (api) => api.relationshipTypes.define(link) }), plugin('beta', '1.0.0', { setup: (api) => api.relationshipTypes.define(link) })]);
    expect(error.message).toBe('Plugin "beta": relationship type "alpha.link" is already declared by plugin "alpha"');
  });

  it('refuses a declaration outside the plugin’s namespace', async () => {
    const error = await bootError([plugin('gamma', '1.0.0', { setup: (api) => api.interactionTypes.define({ key: 'call' }) })]);
    expect(error.message).toBe('Plugin "gamma": interaction type "call" must be namespaced "gamma.…"');
  });

  it('names the plugin whose setup throws', async () => {
    const error = await bootError([
      plugin('fine'),
      plugin('broken', '2.0.0', {
        setup() {
          throw new Error('cannot read config');
        },
      }),
    ]);
    expect(error.message).toBe('Plugin "broken": setup failed: cannot read config');
  });

  it('refuses a reserved name and an invalid version', async () => {
    expect((await bootError([{ name: 'parties', version: '1.0.0' }])).message).toBe('Plugin "parties": this name is reserved by the kernel');
    expect((await bootError([plugin('sloppy', 'one')])).message).toBe('Plugin "sloppy": version "one" is not valid semver');
  });
});

describe('plugin host: lifecycle over HTTP', () => {
  let t: TestApp;
  const sample = samplePlugin();
  const installs: string[] = [];
  const base = plugin('base', '1.2.0', {
    migrations: [
      {
        name: '0001_items',
        up: (knex) => knex.schema.createTable('base_items', (tb) => tb.text('id').primary()),
        down: (knex) => knex.schema.dropTable('base_items'),
      },
    ],
    async install(ctx) {
      installs.push(ctx.plugin);
      await ctx.knex('base_items').insert({ id: 'seed' });
    },
  });
  const dependent = plugin('dependent', '1.0.0', {
    requires: { core: '>=0.1.0', plugins: { base: '^1.0.0' } },
    install: (ctx) => {
      installs.push(ctx.plugin);
    },
  });
  // Its table cannot be dropped (no down) and its stop() fails.
  const keeper = plugin('keeper', '1.0.0', {
    migrations: [{ name: '0001_ledger', up: (knex) => knex.schema.createTable('keeper_ledger', (tb) => tb.text('id').primary()) }],
    stop() {
      throw new Error('stuck');
    },
  });
  let partyId: string;
  let ticketId: string;

  const count = async (table: string) => Number((await t.app.knex(table).count({ n: '*' }).first())!.n);
  const tableExists = (table: string) => t.app.knex.schema.hasTable(table);

  beforeAll(async () => {
    // Listed dependent-first on purpose: the host must still install base before it.
    t = await createTestApp({ plugins: [dependent, sample.plugin, base, keeper] });
    const party = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Initech' });
    partyId = party.body.id;
  });
  afterAll(() => t?.close());

  it('installs in dependency order, whatever the configured order', async () => {
    expect(installs).toEqual(['base', 'dependent']);
    expect(t.app.plugins.ordered.map((p) => p.name)).toEqual(['base', 'dependent', 'sample', 'keeper']);
    const list = await t.admin.get('/api/v1/plugins');
    expect(list.status).toBe(200);
    const byName = Object.fromEntries(list.body.data.map((p: { name: string }) => [p.name, p]));
    expect(byName.sample).toMatchObject({ state: 'enabled', version: '1.0.0', installedVersion: '1.0.0' });
    expect(byName.sample.registrations).toMatchObject({
      relationshipTypes: ['sample.supply'],
      interactionTypes: ['sample.call'],
      indicators: ['sample.nps', 'sample.mood'],
      partyAttributes: ['sample.industry'],
      filters: ['party.create'],
      listeners: ['party.*'],
      routes: ['POST /api/v1/sample/tickets', 'GET /api/v1/sample/tickets/:id'],
    });
  });

  it('serves the plugin’s routes, filters, listeners and types while enabled', async () => {
    const ticket = await t.admin.post('/api/v1/sample/tickets', { partyId, title: 'Printer on fire' });
    expect(ticket.status).toBe(201);
    ticketId = ticket.body.id;
    expect((await t.admin.get(`/api/v1/sample/tickets/${ticketId}`)).status).toBe(200);
    expect((await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Forbidden Corp' })).status).toBe(422);
  });

  it('refuses to disable a plugin an enabled plugin requires (409)', async () => {
    const refused = await t.admin.post('/api/v1/plugins/base/disable');
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.detail).toContain('"dependent"');
    expect(t.app.plugins.status('base').state).toBe('enabled');
  });

  it('lets only the operator tenant change plugin state, which every tenant shares (403)', async () => {
    const other = await createTenant(t.app.knex, 'Other Tenant');
    const otherAdmin = await t.clientFor({ roles: ['admin'], tenantId: other.id });
    for (const action of ['disable', 'enable', 'uninstall']) {
      const refused = await otherAdmin.post(`/api/v1/plugins/sample/${action}`, action === 'uninstall' ? { purge: true } : undefined);
      expect(refused.status).toBe(403);
    }
    expect(t.app.plugins.status('sample').state).toBe('enabled');
    expect((await otherAdmin.get('/api/v1/plugins')).status).toBe(200);
  });

  it('disable removes routes, filters, listeners and types, and keeps the data', async () => {
    const seenBefore = sample.seen.length;
    const disabled = await t.admin.post('/api/v1/plugins/sample/disable');
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ name: 'sample', state: 'disabled' });

    // Routes: gone, as if never declared.
    const route = await t.admin.get(`/api/v1/sample/tickets/${ticketId}`);
    expect(route.status).toBe(404);
    expect(route.headers.get('content-type')).toContain('application/problem+json');
    expect((await t.admin.post('/api/v1/sample/tickets', { partyId, title: 'x' })).status).toBe(404);

    // Filters: the veto and the whitespace rewrite no longer apply.
    const allowed = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Forbidden Corp' });
    expect(allowed.status).toBe(201);
    const spaced = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Wide   Open' });
    expect(spaced.body.name).toBe('Wide   Open');

    // Listeners: the plugin hears nothing.
    await t.app.settled();
    expect(sample.seen.length).toBe(seenBefore);

    // Types: relationship, interaction, indicator and attribute are refused with 400.
    const rel = await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: partyId, toPartyId: t.selfPartyId });
    expect(rel.status).toBe(400);
    const call = await t.admin.post('/api/v1/interactions', { type: 'sample.call', participants: [{ partyId, role: 'caller' }] });
    expect(call.status).toBe(400);
    const nps = await t.admin.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: partyId, value: 5 });
    expect(nps.status).toBe(400);
    const attr = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Attr Co', attributes: { 'sample.industry': 'retail' } });
    expect(attr.status).toBe(400);
    const types = await t.admin.get('/api/v1/meta/relationship-types');
    expect(types.body.data.map((x: { key: string }) => x.key)).not.toContain('sample.supply');

    // Data: kept.
    expect(await count('sample_tickets')).toBe(1);
    expect((await t.app.knex('rapport_plugins').where({ name: 'sample' }).first()).state).toBe('disabled');
  });

  it('enable restores routes, filters, listeners and types', async () => {
    const enabled = await t.admin.post('/api/v1/plugins/sample/enable');
    expect(enabled.status).toBe(200);
    expect(enabled.body.state).toBe('enabled');

    expect((await t.admin.get(`/api/v1/sample/tickets/${ticketId}`)).body).toMatchObject({ id: ticketId, title: 'Printer on fire' });
    expect((await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Forbidden Corp' })).status).toBe(422);

    const seenBefore = sample.seen.length;
    const spaced = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Wide   Again' });
    expect(spaced.body.name).toBe('Wide Again');
    await t.app.settled();
    expect(sample.seen.slice(seenBefore).map((e) => e.name)).toEqual(['party.created']);

    const rel = await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: partyId, toPartyId: t.selfPartyId });
    expect(rel.status).toBe(201);
  });

  it('uninstall without purge keeps the tables; enable brings the plugin back', async () => {
    const removed = await t.admin.post('/api/v1/plugins/sample/uninstall', {});
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ state: 'uninstalled', installedVersion: null });
    expect(await tableExists('sample_tickets')).toBe(true);
    expect(await count('sample_tickets')).toBe(1);
    expect((await t.admin.get(`/api/v1/sample/tickets/${ticketId}`)).status).toBe(404);

    const back = await t.admin.post('/api/v1/plugins/sample/enable');
    expect(back.status).toBe(200);
    expect(back.body.state).toBe('enabled');
    expect((await t.admin.get(`/api/v1/sample/tickets/${ticketId}`)).status).toBe(200);
  });

  it('uninstall with purge drops only that plugin’s tables and migration records', async () => {
    const partiesBefore = await count('rapport_parties');
    const relationshipsBefore = await count('rapport_relationships');
    const purged = await t.admin.post('/api/v1/plugins/sample/uninstall', { purge: true });
    expect(purged.status).toBe(200);
    expect(purged.body.state).toBe('uninstalled');

    expect(await tableExists('sample_tickets')).toBe(false);
    expect(await t.app.knex('rapport_migrations').where({ owner: 'sample' }).select('name')).toEqual([]);
    // Kernel tables and rows, and other plugins' tables, untouched.
    expect(await count('rapport_parties')).toBe(partiesBefore);
    expect(await count('rapport_relationships')).toBe(relationshipsBefore);
    expect(await tableExists('base_items')).toBe(true);
    expect(await count('base_items')).toBe(1);
    expect((await t.app.knex('rapport_migrations').where({ owner: 'base' }).select('name')).map((r: { name: string }) => r.name)).toEqual(['0001_items']);
    expect((await t.app.knex('rapport_migrations').where({ owner: 'core' }).count({ n: '*' }).first())!.n).not.toBe(0);

    // Enabling after a purge installs afresh, with an empty table.
    const again = await t.admin.post('/api/v1/plugins/sample/enable');
    expect(again.status).toBe(200);
    expect(await tableExists('sample_tickets')).toBe(true);
    expect(await count('sample_tickets')).toBe(0);
  });

  it('refuses a purge it cannot complete, before changing anything (409)', async () => {
    const refused = await t.admin.post('/api/v1/plugins/keeper/uninstall', { purge: true });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe('Plugin "keeper" cannot be purged: migration "0001_ledger" has no down(); uninstall it without purge');
    expect(t.app.plugins.status('keeper').state).toBe('enabled');
    expect(await tableExists('keeper_ledger')).toBe(true);
  });

  it('disables a plugin whose stop() fails', async () => {
    const disabled = await t.admin.post('/api/v1/plugins/keeper/disable');
    expect(disabled.status).toBe(200);
    expect(disabled.body.state).toBe('disabled');
    const removed = await t.admin.post('/api/v1/plugins/keeper/uninstall', { purge: false });
    expect(removed.status).toBe(200);
    expect(await tableExists('keeper_ledger')).toBe(true);
  });

  it('answers 404 for an unknown plugin and 400 for a malformed name', async () => {
    const unknown = await t.admin.post('/api/v1/plugins/nothing/disable');
    expect(unknown.status).toBe(404);
    const malformed = await t.admin.post('/api/v1/plugins/NOT_A_NAME/enable');
    expect(malformed.status).toBe(400);
  });

  it('refuses to enable a plugin whose dependency is disabled', async () => {
    expect((await t.admin.post('/api/v1/plugins/dependent/disable')).status).toBe(200);
    expect((await t.admin.post('/api/v1/plugins/base/disable')).status).toBe(200);
    const refused = await t.admin.post('/api/v1/plugins/dependent/enable');
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('"base"');
    expect((await t.admin.post('/api/v1/plugins/base/enable')).status).toBe(200);
    expect((await t.admin.post('/api/v1/plugins/dependent/enable')).status).toBe(200);
  });
});
