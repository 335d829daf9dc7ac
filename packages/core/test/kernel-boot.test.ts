import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedDatabase, testDatabaseKind, type IsolatedDatabase } from '@rapport/testing';
import { createRapport, definePlugin, type DatabaseConfig, type Rapport } from '@rapport/core';

/*
 * Several nodes starting at once on one empty database (a deploy with replicas). On
 * PostgreSQL they must converge on one schema, one first tenant, one bootstrap key and one
 * plugin install; on PGlite a second instance on the same directory is refused clearly.
 */
describe('concurrent start-up on one database', () => {
  let database: DatabaseConfig;
  let isolated: IsolatedDatabase | undefined;
  let dataDir: string | undefined;
  const apps: Rapport[] = [];
  let installs = 0;
  const counter = definePlugin({
    name: 'counter',
    version: '1.0.0',
    migrations: [{ name: '0001_counts', up: (knex) => knex.schema.createTable('counter_counts', (t) => t.text('id').primary()), down: (knex) => knex.schema.dropTable('counter_counts') }],
    install: () => void installs++,
  });
  const boot = () =>
    createRapport({ logLevel: 'silent', database, plugins: [counter], bootstrapKey: 'bootstrap-key-for-replicas', dispatcher: { enabled: false } }).then((app) => {
      apps.push(app);
      return app;
    });

  beforeAll(async () => {
    if (testDatabaseKind() === 'postgres') {
      isolated = await isolatedDatabase('postgres');
      database = isolated.config;
    } else {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-boot-'));
      database = { dataDir };
    }
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await isolated?.dispose();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('converges or refuses, never half-boots', async () => {
    const results = await Promise.allSettled([boot(), boot(), boot()]);
    const booted = results.filter((r): r is PromiseFulfilledResult<Rapport> => r.status === 'fulfilled').map((r) => r.value);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as Error).message);

    if (testDatabaseKind() === 'postgres') {
      expect(refused).toEqual([]);
      expect(booted).toHaveLength(3);
    } else {
      expect(booted).toHaveLength(1);
      expect(refused).toHaveLength(2);
      for (const message of refused) expect(message).toContain('is in use by another Rapport instance in this process');
    }
    const app = booted[0];
    expect(new Set(booted.map((a) => a.defaultTenant.id)).size).toBe(1);
    expect(
      await app
        .knex('rapport_tenants')
        .count({ n: '*' })
        .first()
        .then((r) => Number(r!.n)),
    ).toBe(1);
    expect(
      await app
        .knex('rapport_api_keys')
        .where({ name: 'bootstrap' })
        .count({ n: '*' })
        .first()
        .then((r) => Number(r!.n)),
    ).toBe(1);
    expect(installs).toBe(1);
    expect(await app.knex('rapport_plugins').select('name', 'state')).toEqual([{ name: 'counter', state: 'enabled' }]);
    expect(await app.knex.schema.hasTable('counter_counts')).toBe(true);
  }, 120_000);
});
