import type { Migration } from '@rapport/core';

export const LEDGER = 'loyalty_ledger';

export const loyaltyMigrations: Migration[] = [
  {
    name: '0001_ledger',
    up: (knex) =>
      knex.schema.createTable(LEDGER, (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('party_id').notNullable();
        t.integer('points').notNullable();
        t.text('reason').notNullable();
        t.text('source').notNullable();
        // The event that earned the entry: unique, so a redelivered event awards once.
        t.uuid('source_event_id');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'party_id', 'id']);
        t.unique(['tenant_id', 'source_event_id']);
      }),
    down: (knex) => knex.schema.dropTable(LEDGER),
  },
];
