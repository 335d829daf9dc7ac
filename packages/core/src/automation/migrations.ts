import type { Knex } from 'knex';
import type { Migration } from '../storage/migrations.js';

/**
 * Automation rules as data, their runs and the depth of the events their actions caused.
 * A run's key is (rule, event): however often the outbox hands an event over, a rule runs
 * on it once.
 */
export const automationMigration: Migration = {
  name: '0013_automation',
  async up(knex: Knex) {
    await knex.schema.createTable('rapport_automation_rules', (t) => {
      t.uuid('tenant_id').notNullable();
      t.uuid('id').notNullable();
      t.text('name').notNullable();
      t.text('description');
      t.boolean('enabled').notNullable().defaultTo(true);
      t.jsonb('trigger').notNullable();
      t.jsonb('conditions');
      t.jsonb('actions').notNullable();
      t.integer('version').notNullable().defaultTo(1);
      // The last schedule slot handed out, for rules on a schedule.
      t.bigInteger('last_slot');
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.primary(['tenant_id', 'id']);
    });

    await knex.schema.createTable('rapport_automation_runs', (t) => {
      t.uuid('tenant_id').notNullable();
      t.uuid('id').notNullable();
      t.uuid('rule_id').notNullable();
      t.uuid('event_id').notNullable();
      t.text('event_name').notNullable();
      t.integer('depth').notNullable().defaultTo(0);
      t.text('status').notNullable();
      t.integer('attempts').notNullable().defaultTo(0);
      t.uuid('lease_token');
      t.timestamp('next_attempt_at', { useTz: true }).notNullable();
      t.jsonb('outcome');
      t.text('error');
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('finished_at', { useTz: true });
      t.primary(['tenant_id', 'id']);
      t.unique(['tenant_id', 'rule_id', 'event_id']);
      t.index(['tenant_id', 'rule_id', 'id']);
    });
    await knex.raw("create index rapport_automation_runs_due_idx on rapport_automation_runs (tenant_id, next_attempt_at, id) where status = 'pending'");

    // Events written by a rule's actions, with how deep in a chain of rules they are.
    await knex.schema.createTable('rapport_automation_caused', (t) => {
      t.uuid('tenant_id').notNullable();
      t.uuid('event_id').notNullable();
      t.uuid('rule_id').notNullable();
      t.integer('depth').notNullable();
      t.primary(['tenant_id', 'event_id']);
    });
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('rapport_automation_caused');
    await knex.schema.dropTableIfExists('rapport_automation_runs');
    await knex.schema.dropTableIfExists('rapport_automation_rules');
  },
};
