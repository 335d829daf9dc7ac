import type { Knex } from 'knex';
import type { Migration } from '../storage/migrations.js';

/**
 * The per-attempt delivery log, the lease that lets several dispatchers share deliveries,
 * and the indexes the delivery log, the dispatcher and outbox pruning read through.
 */
export const webhookAttemptsMigration: Migration = {
  name: '0002_webhook_attempts',
  async up(knex: Knex) {
    await knex.schema.createTable('rapport_webhook_attempts', (t) => {
      t.uuid('tenant_id').notNullable();
      t.uuid('id').notNullable();
      t.uuid('delivery_id').notNullable();
      t.uuid('webhook_id').notNullable();
      t.integer('status_code');
      t.text('error');
      t.integer('duration_ms').notNullable();
      t.timestamp('at', { useTz: true }).notNullable();
      t.primary(['tenant_id', 'id']);
      t.index(['tenant_id', 'delivery_id', 'id']);
      t.index(['tenant_id', 'webhook_id']);
    });
    await knex.schema.alterTable('rapport_webhook_deliveries', (t) => {
      // Set when a dispatcher takes a delivery; its outcome is recorded only while it still holds it.
      t.uuid('lease_token');
    });
    // The delivery log, newest first (ids are time-ordered UUIDv7).
    await knex.raw('create index rapport_webhook_deliveries_log_idx on rapport_webhook_deliveries (tenant_id, webhook_id, id desc)');
    // Pruning keeps outbox rows that a delivery still needs.
    await knex.raw('create index rapport_webhook_deliveries_event_idx on rapport_webhook_deliveries (tenant_id, event_id)');
    await knex.raw('create index rapport_outbox_dispatched_idx on rapport_outbox (dispatched_at) where dispatched_at is not null');
  },
};
