import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedDatabase, testDatabaseKind, type IsolatedDatabase } from '@rapport/testing';
import { createRapport, defineContract, definePlugin, service, type DatabaseConfig, type Migration, type PluginDefinition, type Rapport } from '@rapport/core';

/*
 * Restarts on one database: the second boot sees a newer plugin package, a disabled
 * plugin and a downgrade. PostgreSQL reuses one schema; PGlite a data directory on disk
 * (its lock means the first app must close before the next opens).
 */
const calls: Array<{ plugin: string; hook: string; from?: string }> = [];

const itemsTable: Migration = {
  name: '0001_items',
  up: (knex) =>
    knex.schema.createTable('tracker_items', (t) => {
      t.text('id').primary();
      t.text('title').notNullable();
    }),
  down: (knex) => knex.schema.dropTable('tracker_items'),
};
const priorityColumn: Migration = {
  name: '0002_priority',
  up: (knex) => knex.schema.alterTable('tracker_items', (t) => t.integer('priority').notNullable().defaultTo(3)),
  down: (knex) => knex.schema.alterTable('tracker_items', (t) => t.dropColumn('priority')),
};
const notesTable: Migration = {
  name: '0001_notes',
  up: (knex) => knex.schema.createTable('quiet_notes', (t) => t.text('id').primary()),
  down: (knex) => knex.schema.dropTable('quiet_notes'),
};
const notesColumn: Migration = {
  name: '0002_body',
  up: (knex) => knex.schema.alterTable('quiet_notes', (t) => t.text('body')),
  down: (knex) => knex.schema.alterTable('quiet_notes', (t) => t.dropColumn('body')),
};

function tracker(version: string, migrations: Migration[]) {
  return definePlugin({
    name: 'tracker',
    version,
    migrations,
    install: (ctx) => void calls.push({ plugin: ctx.plugin, hook: 'install' }),
    upgrade: (ctx, from) => void calls.push({ plugin: ctx.plugin, hook: 'upgrade', from }),
  });
}

function quiet(version: string, migrations: Migration[]) {
  return definePlugin({
    name: 'quiet',
    version,
    migrations,
    setup: (api) => api.interactionTypes.define({ key: 'quiet.note' }),
    install: (ctx) => void calls.push({ plugin: ctx.plugin, hook: 'install' }),
    upgrade: (ctx, from) => void calls.push({ plugin: ctx.plugin, hook: 'upgrade', from }),
  });
}

/** A plugin that needs `quiet`'s service: it cannot run while `quiet` is disabled. */
const notes = defineContract('quiet', { services: { notes: service<{ title: string }>() } });
function quietWithNotes(version: string, migrations: Migration[]) {
  return definePlugin({
    ...quiet(version, migrations),
    contract: notes,
    setup: (api) => {
      api.interactionTypes.define({ key: 'quiet.note' });
      api.provide(notes.services.notes, { title: 'quiet notes' });
    },
  });
}
const watcher = definePlugin({ name: 'watcher', version: '1.0.0', deps: { notes: notes.services.notes } });

describe('plugin upgrades and persisted state across restarts', () => {
  let database: DatabaseConfig;
  let isolated: IsolatedDatabase | undefined;
  let dataDir: string | undefined;
  let app: Rapport | undefined;

  const boot = async (plugins: PluginDefinition[]) => {
    await app?.close();
    app = undefined;
    app = await createRapport({ logLevel: 'silent', database, plugins, dispatcher: { enabled: false } });
    return app;
  };
  const columns = async (a: Rapport, table: string) => Object.keys(await a.knex(table).columnInfo());

  beforeAll(async () => {
    if (testDatabaseKind() === 'postgres') {
      isolated = await isolatedDatabase('postgres');
      database = isolated.config;
    } else {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-upgrade-'));
      database = { dataDir };
    }
  });

  afterAll(async () => {
    await app?.close();
    await isolated?.dispose();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('first boot installs both plugins once', async () => {
    const a = await boot([tracker('1.0.0', [itemsTable]), quiet('1.0.0', [notesTable])]);
    expect(calls).toEqual([
      { plugin: 'tracker', hook: 'install' },
      { plugin: 'quiet', hook: 'install' },
    ]);
    await a.knex('tracker_items').insert({ id: 't1', title: 'kept across upgrades' });
    await a.plugins.disable('quiet');
    expect(a.plugins.status('quiet').state).toBe('disabled');
  }, 60_000); // a PGlite data directory on disk is created here (initdb)

  it('the same database with a newer package runs the new migration, then upgrade(ctx, from)', async () => {
    calls.length = 0;
    const a = await boot([tracker('1.1.0', [itemsTable, priorityColumn]), quiet('1.0.0', [notesTable])]);
    expect(calls).toEqual([{ plugin: 'tracker', hook: 'upgrade', from: '1.0.0' }]);
    expect(await columns(a, 'tracker_items')).toContain('priority');
    expect(await a.knex('tracker_items').select('id', 'title', 'priority')).toEqual([{ id: 't1', title: 'kept across upgrades', priority: 3 }]);
    expect((await a.knex('rapport_plugins').where({ name: 'tracker' }).first()).version).toBe('1.1.0');
    expect(a.plugins.status('tracker')).toMatchObject({ state: 'enabled', version: '1.1.0', installedVersion: '1.1.0' });
    expect((await a.knex('rapport_migrations').where({ owner: 'tracker' }).select('name')).map((r: { name: string }) => r.name).sort()).toEqual(['0001_items', '0002_priority']);
  });

  it('a disabled plugin stays disabled across restarts, and its new migrations wait for enable', async () => {
    calls.length = 0;
    const a = await boot([tracker('1.1.0', [itemsTable, priorityColumn]), quiet('2.0.0', [notesTable, notesColumn])]);
    // Nothing ran: tracker is current, quiet is disabled.
    expect(calls).toEqual([]);
    expect(a.plugins.status('quiet')).toMatchObject({ state: 'disabled', installedVersion: '1.0.0' });
    expect(a.registries.interactionTypes.usable('quiet.note')).toBeUndefined();
    expect(await columns(a, 'quiet_notes')).not.toContain('body');

    await a.plugins.enable('quiet');
    expect(calls).toEqual([{ plugin: 'quiet', hook: 'upgrade', from: '1.0.0' }]);
    expect(await columns(a, 'quiet_notes')).toContain('body');
    expect(a.plugins.status('quiet')).toMatchObject({ state: 'enabled', installedVersion: '2.0.0' });
    expect(a.registries.interactionTypes.usable('quiet.note')).toBeDefined();
  });

  it('refuses a downgrade, naming the plugin', async () => {
    await app?.close();
    app = undefined;
    await expect(createRapport({ logLevel: 'silent', database, plugins: [tracker('1.0.0', [itemsTable]), quiet('2.0.0', [notesTable, notesColumn])], dispatcher: { enabled: false } })).rejects.toThrow(
      'Plugin "tracker": version 1.0.0 is older than the installed 1.1.0; downgrades are not supported',
    );
    // The failed boot released the database: a correct configuration opens it again.
    const a = await boot([tracker('1.1.0', [itemsTable, priorityColumn]), quiet('2.0.0', [notesTable, notesColumn])]);
    expect(a.plugins.status('tracker').state).toBe('enabled');
  });

  it('refuses to start a plugin whose dependency was disabled while it stayed enabled, naming both', async () => {
    const configured = [tracker('1.1.0', [itemsTable, priorityColumn]), quietWithNotes('2.0.0', [notesTable, notesColumn]), watcher];
    const a = await boot(configured);
    expect(a.plugins.status('watcher').state).toBe('enabled');
    // What another node (or a hand edit) can leave behind: the dependency off, its dependent on.
    await a.knex('rapport_plugins').where({ name: 'quiet' }).update({ state: 'disabled' });
    await app?.close();
    app = undefined;
    await expect(createRapport({ logLevel: 'silent', database, plugins: configured, dispatcher: { enabled: false } })).rejects.toThrow(
      'Plugin "watcher": is enabled but requires "quiet", which is not enabled',
    );
    // Without the dependent the system starts; with its dependency enabled again, so does the dependent.
    await (await boot(configured.slice(0, 2))).plugins.enable('quiet');
    expect((await boot(configured)).plugins.status('watcher').state).toBe('enabled');
  });
});
