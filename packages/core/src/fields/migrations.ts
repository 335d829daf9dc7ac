import type { Knex } from 'knex';
import type { Migration } from '../storage/migrations.js';

/**
 * Field definitions per tenant and record type, and one GIN index (jsonb_path_ops) on the
 * `attributes` of each kernel record: every equality filter on a custom field
 * (`attributes @> '{"shoeSize": 42}'`) is an index scan whatever field an administrator adds,
 * without DDL at run time (docs/custom-fields.md explains the choice).
 */
export const customFieldsMigration: Migration = {
  name: '0010_custom_fields',
  async up(knex: Knex) {
    await knex.schema.createTable('rapport_fields', (t) => {
      t.uuid('tenant_id').notNullable();
      t.text('record_type').notNullable();
      t.text('key').notNullable();
      t.text('kind').notNullable();
      t.text('label').notNullable();
      t.text('description');
      t.jsonb('applies_to').notNullable().defaultTo('[]');
      t.jsonb('options').notNullable().defaultTo('{}');
      t.timestamp('retired_at', { useTz: true });
      t.integer('version').notNullable().defaultTo(1);
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.primary(['tenant_id', 'record_type', 'key']);
    });
    for (const table of ['rapport_parties', 'rapport_relationships', 'rapport_interactions']) {
      await knex.raw(`create index ${table}_attributes_idx on ${table} using gin (attributes jsonb_path_ops)`);
    }
  },
};
