import type { Knex } from 'knex';
import type { Migration } from '../storage/migrations.js';

/**
 * Files linked to records. The bytes live in the attachment store (a directory or an
 * S3-compatible bucket); this row is what the kernel knows of them: where they are, what
 * they are (the type detected from their bytes, next to the one the client declared), their
 * checksum, and whether a scanner quarantined them.
 */
export const attachmentsMigration: Migration = {
  name: '0012_attachments',
  async up(knex: Knex) {
    await knex.schema.createTable('rapport_attachments', (t) => {
      t.uuid('tenant_id').notNullable();
      t.uuid('id').notNullable();
      t.text('record_type').notNullable();
      t.text('record_id').notNullable();
      t.text('filename').notNullable();
      t.text('content_type').notNullable();
      t.text('declared_type');
      t.bigInteger('size').notNullable();
      t.text('sha256').notNullable();
      t.text('storage_key').notNullable();
      t.text('status').notNullable();
      t.text('status_reason');
      t.uuid('interaction_id');
      t.text('created_by_kind').notNullable();
      t.text('created_by_id');
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('deleted_at', { useTz: true });
      t.primary(['tenant_id', 'id']);
    });
    // A record's attachments, newest first (ids are time-ordered).
    await knex.raw('create index rapport_attachments_record_idx on rapport_attachments (tenant_id, record_type, record_id, id desc)');
  },
  async down(knex: Knex) {
    await knex.schema.dropTableIfExists('rapport_attachments');
  },
};
