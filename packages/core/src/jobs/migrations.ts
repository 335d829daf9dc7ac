import type { Knex } from 'knex';
import type { Migration } from '../storage/migrations.js';

/**
 * Background jobs (with the lease that tells a live job from one whose node died), the
 * rejected-row report of HTTP imports, and the one row per recurring task that lets
 * several nodes agree on who runs it and when it last ran.
 */
export const jobsMigration: Migration = {
  name: '0004_jobs_and_scheduler',
  async up(knex: Knex) {
    await knex.schema.createTable('rapport_jobs', (t) => {
      t.uuid('tenant_id').notNullable();
      t.uuid('id').notNullable();
      t.text('kind').notNullable();
      t.text('status').notNullable();
      t.jsonb('input');
      t.jsonb('progress');
      t.jsonb('result');
      t.text('error');
      t.text('created_by_kind').notNullable();
      t.text('created_by_id').notNullable();
      // Set by the node running the job and renewed while it lives; expired = the node is gone.
      t.uuid('lease_token');
      t.timestamp('lease_expires_at', { useTz: true });
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('started_at', { useTz: true });
      t.timestamp('finished_at', { useTz: true });
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.primary(['tenant_id', 'id']);
    });
    // "My jobs", newest first (ids are time-ordered UUIDv7).
    await knex.raw('create index rapport_jobs_creator_idx on rapport_jobs (tenant_id, created_by_id, id desc)');
    await knex.raw("create index rapport_jobs_live_idx on rapport_jobs (lease_expires_at) where status in ('queued', 'running')");
    // Pruning finished jobs past their retention.
    await knex.raw('create index rapport_jobs_finished_idx on rapport_jobs (finished_at) where finished_at is not null');

    await knex.schema.createTable('rapport_import_rejections', (t) => {
      t.uuid('tenant_id').notNullable();
      t.uuid('job_id').notNullable();
      t.integer('line').notNullable();
      t.jsonb('errors').notNullable();
      t.primary(['tenant_id', 'job_id', 'line']);
    });

    await knex.schema.createTable('rapport_scheduled_tasks', (t) => {
      t.text('name').primary();
      t.uuid('lease_token');
      t.timestamp('lease_expires_at', { useTz: true });
      t.timestamp('last_started_at', { useTz: true });
      t.timestamp('last_finished_at', { useTz: true });
      t.text('last_status');
      t.text('last_error');
      t.integer('runs').notNullable().defaultTo(0);
    });
  },
};
