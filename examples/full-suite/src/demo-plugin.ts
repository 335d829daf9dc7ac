import { definePlugin, type Rapport } from '@rapport/core';

const RUNS = 'demo_seed_runs';

/** The version of the demo data; a new version loads again beside the old one. */
export const SEED_VERSION = 'full-suite v1';

/**
 * Where the example records that its demo data is loaded: a table of its own, not a note or
 * any other record users can edit or delete through the API. A marker kept in user data
 * made the server re-seed (and write duplicates) after one ordinary PATCH of that note.
 */
export const demoData = definePlugin({
  name: 'demo',
  version: '1.0.0',
  migrations: [
    {
      name: '0001_seed_runs',
      up: (knex) =>
        knex.schema.createTable(RUNS, (t) => {
          t.uuid('tenant_id').notNullable();
          t.text('version').notNullable();
          t.timestamp('seeded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
          t.primary(['tenant_id', 'version']);
        }),
      down: (knex) => knex.schema.dropTable(RUNS),
    },
  ],
  setup() {},
});

/** Whether a seed of this version completed for the tenant, and how to record one. */
export interface SeedMarker {
  isSet(): Promise<boolean>;
  set(): Promise<void>;
}

/** The marker in the demo plugin's table, for the app's default tenant. */
export function seedMarker(app: Pick<Rapport, 'knex' | 'defaultTenant'>): SeedMarker {
  const key = { tenant_id: app.defaultTenant.id, version: SEED_VERSION };
  return {
    isSet: async () => (await app.knex(RUNS).where(key).first()) !== undefined,
    set: async () => {
      await app.knex(RUNS).insert(key).onConflict(['tenant_id', 'version']).ignore();
    },
  };
}
