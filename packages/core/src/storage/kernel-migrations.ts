import type { Knex } from 'knex';
import type { Migration } from './migrations.js';
import { webhookAttemptsMigration } from '../webhooks/migrations.js';
import { jobsMigration } from '../jobs/migrations.js';
import { trigramOperatorClass } from './trigram.js';
import { customFieldsMigration } from '../fields/migrations.js';
import { searchMigration } from '../search/migrations.js';
import { attachmentsMigration } from '../attachments/migrations.js';
import { automationMigration } from '../automation/migrations.js';
import { federationMigration } from '../federation/migrations.js';

/*
 * Every tenant-owned table leads its primary key and indexes with tenant_id, so the
 * schema distributes by tenant on Citus unchanged (docs/operations.md).
 */
export const kernelMigrations: Migration[] = [
  {
    name: '0001_kernel',
    async up(knex: Knex) {
      await knex.schema.createTable('rapport_tenants', (t) => {
        t.uuid('id').primary();
        t.text('name').notNullable();
        t.uuid('self_party_id').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });

      await knex.schema.createTable('rapport_parties', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('kind').notNullable();
        t.text('name').notNullable();
        t.jsonb('attributes').notNullable().defaultTo('{}');
        t.timestamp('archived_at', { useTz: true });
        t.uuid('merged_into_id');
        t.integer('version').notNullable().defaultTo(1);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'kind', 'id']);
      });
      await knex.raw('create index rapport_parties_name_idx on rapport_parties (tenant_id, lower(name), id)');

      await knex.schema.createTable('rapport_contact_points', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('party_id').notNullable();
        t.text('kind').notNullable();
        t.text('value').notNullable();
        t.text('normalized').notNullable();
        t.integer('position').notNullable().defaultTo(0);
        t.primary(['tenant_id', 'party_id', 'kind', 'normalized']);
        t.index(['tenant_id', 'kind', 'normalized']);
      });

      await knex.schema.createTable('rapport_relationships', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('type').notNullable();
        t.uuid('from_party_id').notNullable();
        t.uuid('to_party_id').notNullable();
        t.text('from_role').notNullable();
        t.text('to_role').notNullable();
        t.text('status').notNullable();
        t.timestamp('valid_from', { useTz: true });
        t.timestamp('valid_to', { useTz: true });
        t.jsonb('attributes').notNullable().defaultTo('{}');
        t.integer('version').notNullable().defaultTo(1);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['tenant_id', 'id']);
        // "All parties at the customer end of our active crm.customer relationships" is an index scan.
        t.index(['tenant_id', 'from_party_id', 'type', 'status', 'to_party_id']);
        t.index(['tenant_id', 'to_party_id', 'type', 'status', 'from_party_id']);
        t.index(['tenant_id', 'from_party_id', 'from_role', 'id']);
        t.index(['tenant_id', 'to_party_id', 'to_role', 'id']);
        t.index(['tenant_id', 'type', 'id']);
      });

      await knex.schema.createTable('rapport_interactions', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('type').notNullable();
        t.timestamp('occurred_at', { useTz: true }).notNullable();
        t.text('channel');
        t.text('direction').notNullable();
        t.text('subject');
        t.text('summary');
        t.jsonb('attributes').notNullable().defaultTo('{}');
        t.uuid('relationship_id');
        t.integer('version').notNullable().defaultTo(1);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'type', 'occurred_at', 'id']);
      });
      await knex.raw('create index rapport_interactions_relationship_timeline_idx on rapport_interactions (tenant_id, relationship_id, occurred_at desc, id desc) where relationship_id is not null');

      // occurred_at is copied here so a party's timeline is one index range, newest first.
      await knex.schema.createTable('rapport_interaction_participants', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('interaction_id').notNullable();
        t.uuid('party_id').notNullable();
        t.text('role').notNullable();
        t.timestamp('occurred_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'interaction_id', 'party_id']);
      });
      await knex.raw('create index rapport_participants_timeline_idx on rapport_interaction_participants (tenant_id, party_id, occurred_at desc, interaction_id desc)');

      await knex.schema.createTable('rapport_observations', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('indicator').notNullable();
        t.text('subject_type').notNullable();
        t.uuid('subject_id').notNullable();
        t.double('value');
        t.text('label');
        t.text('text');
        t.timestamp('observed_at', { useTz: true }).notNullable();
        t.uuid('observer_party_id');
        t.uuid('interaction_id');
        t.jsonb('details').notNullable().defaultTo('{}');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['tenant_id', 'id']);
      });
      await knex.raw('create index rapport_observations_subject_idx on rapport_observations (tenant_id, subject_type, subject_id, indicator, observed_at desc, id desc)');
      await knex.raw('create index rapport_observations_indicator_idx on rapport_observations (tenant_id, indicator, observed_at desc, id desc)');

      await knex.schema.createTable('rapport_plugins', (t) => {
        t.text('name').primary();
        t.text('version').notNullable();
        t.text('state').notNullable();
        t.timestamp('installed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });

      await knex.schema.createTable('rapport_outbox', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('name').notNullable();
        t.jsonb('payload').notNullable();
        t.jsonb('meta').notNullable();
        t.timestamp('occurred_at', { useTz: true }).notNullable();
        t.timestamp('dispatched_at', { useTz: true });
        t.primary(['tenant_id', 'id']);
      });
      await knex.raw('create index rapport_outbox_pending_idx on rapport_outbox (occurred_at, id) where dispatched_at is null');

      await knex.schema.createTable('rapport_audit', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('event_id').notNullable();
        t.text('action').notNullable();
        t.text('record_type');
        t.uuid('record_id');
        t.text('actor_kind').notNullable();
        t.uuid('actor_id');
        t.timestamp('at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'record_type', 'record_id', 'at']);
      });

      await knex.schema.createTable('rapport_roles', (t) => {
        t.uuid('tenant_id').notNullable();
        t.text('name').notNullable();
        t.text('description');
        t.jsonb('permissions').notNullable().defaultTo('[]');
        t.boolean('builtin').notNullable().defaultTo(false);
        t.primary(['tenant_id', 'name']);
      });

      await knex.schema.createTable('rapport_users', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('email').notNullable();
        t.text('name');
        t.text('password_hash').notNullable();
        t.jsonb('roles').notNullable().defaultTo('[]');
        t.uuid('party_id');
        t.boolean('scoped').notNullable().defaultTo(false);
        t.timestamp('disabled_at', { useTz: true });
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['tenant_id', 'id']);
      });
      // Login looks users up by email before the tenant is known.
      await knex.raw('create unique index rapport_users_email_idx on rapport_users (lower(email))');

      await knex.schema.createTable('rapport_api_keys', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('name').notNullable();
        t.text('secret_hash').notNullable();
        t.jsonb('roles').notNullable().defaultTo('[]');
        t.uuid('party_id');
        t.boolean('scoped').notNullable().defaultTo(false);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('last_used_at', { useTz: true });
        t.timestamp('revoked_at', { useTz: true });
        t.primary(['tenant_id', 'id']);
      });
      // A bearer token is looked up by its hash before the tenant is known.
      await knex.raw('create unique index rapport_api_keys_secret_idx on rapport_api_keys (secret_hash)');

      await knex.schema.createTable('rapport_sessions', (t) => {
        t.text('token_hash').primary();
        t.uuid('tenant_id').notNullable();
        t.uuid('user_id').notNullable();
        t.timestamp('expires_at', { useTz: true }).notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      });

      await knex.schema.createTable('rapport_idempotency_keys', (t) => {
        t.uuid('tenant_id').notNullable();
        t.text('principal_id').notNullable();
        t.text('key').notNullable();
        t.text('request_hash').notNullable();
        t.integer('status_code');
        t.jsonb('response');
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['tenant_id', 'principal_id', 'key']);
      });

      await knex.schema.createTable('rapport_webhooks', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('url').notNullable();
        t.jsonb('events').notNullable();
        t.text('secret').notNullable();
        t.text('description');
        t.boolean('active').notNullable().defaultTo(true);
        t.integer('version').notNullable().defaultTo(1);
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['tenant_id', 'id']);
      });

      await knex.schema.createTable('rapport_webhook_deliveries', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('webhook_id').notNullable();
        t.uuid('event_id').notNullable();
        t.text('event_name').notNullable();
        t.text('status').notNullable();
        t.integer('attempts').notNullable().defaultTo(0);
        t.timestamp('next_attempt_at', { useTz: true }).notNullable();
        t.integer('last_status_code');
        t.text('last_error');
        t.timestamp('delivered_at', { useTz: true });
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['tenant_id', 'id']);
        t.unique(['tenant_id', 'webhook_id', 'event_id']);
        t.index(['tenant_id', 'webhook_id', 'created_at', 'id']);
      });
      await knex.raw("create index rapport_webhook_deliveries_due_idx on rapport_webhook_deliveries (next_attempt_at) where status = 'pending'");
    },
  },
  {
    // Access: audit keys that are not UUIDs (role names), indexes for the audit feed and for
    // ending every session of a user when it is disabled or its password changes.
    name: '0003_access',
    async up(knex: Knex) {
      await knex.raw('alter table rapport_audit alter column record_id type text using record_id::text');
      await knex.raw('create index rapport_audit_feed_idx on rapport_audit (tenant_id, at, id)');
      await knex.raw('create index rapport_audit_actor_idx on rapport_audit (tenant_id, actor_id, at, id)');
      await knex.raw('create index rapport_sessions_user_idx on rapport_sessions (tenant_id, user_id)');
    },
  },
  webhookAttemptsMigration,
  jobsMigration,
  {
    // Failed-login counters shared by every node (access/throttle.ts); keys are sha256 digests.
    name: '0005_login_throttle',
    async up(knex: Knex) {
      await knex.schema.createTable('rapport_login_throttle', (t) => {
        t.text('key').primary();
        t.text('kind').notNullable();
        t.integer('failures').notNullable();
        t.timestamp('last_failure_at', { useTz: true }).notNullable();
        t.timestamp('blocked_until', { useTz: true });
      });
      await knex.raw('create index rapport_login_throttle_prune_idx on rapport_login_throttle (kind, last_failure_at)');
    },
  },
  {
    // Bulk writes (an import's thousands of events a transaction) pay for every byte and
    // index entry of their outbox and audit rows; these cut both without losing anything.
    name: '0006_leaner_event_rows',
    async up(knex: Knex) {
      // The outbox is written once and read once, by the dispatcher that sends it on: \`json\`
      // keeps the text as written (a webhook body is exactly what the event said) and costs
      // the server a validation instead of a conversion to jsonb.
      await knex.raw('alter table rapport_outbox alter column payload type json using payload::json');
      // The event's id, name, tenant and time are columns already; its actor is all the rest of its meta.
      await knex.raw('alter table rapport_outbox add column actor json');
      await knex.raw("update rapport_outbox set actor = (meta -> 'actor')::json where meta -> 'actor' <> 'null'::jsonb");
      await knex.raw('alter table rapport_outbox drop column meta');
      // An audit entry's id is now its event's id (UUIDv7, time-ordered), so the primary key
      // serves the newest-first feed and the per-record and per-actor lists end on the id.
      await knex.raw('drop index rapport_audit_feed_idx');
      await knex.raw('drop index rapport_audit_actor_idx');
      await knex.raw('drop index rapport_audit_tenant_id_record_type_record_id_at_index');
      await knex.raw('create index rapport_audit_actor_idx on rapport_audit (tenant_id, actor_id, id)');
      await knex.raw('create index rapport_audit_record_idx on rapport_audit (tenant_id, record_type, record_id, id)');
    },
  },
  {
    // Request counts shared by the nodes of one PostgreSQL (http/limits.ts): a key is a limit's
    // policy with the principal, address or tenant it counts; `expire` is when its window ends
    // (epoch ms). Global (no tenant column): a key names its tenant itself.
    name: '0007_rate_limits',
    async up(knex: Knex) {
      await knex.schema.createTable('rapport_rate_limits', (t) => {
        t.string('key', 255).primary();
        t.integer('points').notNullable().defaultTo(0);
        t.bigInteger('expire');
      });
    },
  },
  {
    // Every list's order is an index (tenant_id, the sort keys, id), so a first page and one
    // 500 deep read the same few index entries. The tenant-wide interaction and observation
    // lists had none and sorted the tenant's whole table on every page. Names sort and
    // match by prefix on lower(name) under the "C" collation: byte order, the only one in
    // which a prefix is one index range whatever the database's locale. "Contains" (`q`)
    // is a trigram GIN index where pg_trgm is available.
    name: '0008_list_indexes',
    async up(knex: Knex) {
      await knex.raw('create index rapport_interactions_list_idx on rapport_interactions (tenant_id, occurred_at desc, id desc)');
      await knex.raw('create index rapport_observations_list_idx on rapport_observations (tenant_id, observed_at desc, id desc)');
      // Lists of the people at one end of a relationship type (an HRM's employees) in person order.
      await knex.raw('create index rapport_relationships_type_to_idx on rapport_relationships (tenant_id, type, to_party_id)');
      await knex.raw('drop index if exists rapport_parties_name_idx');
      await knex.raw('create index rapport_parties_name_idx on rapport_parties (tenant_id, (lower(name) collate "C"), id)');
      const trigram = await trigramOperatorClass(knex);
      if (trigram) await knex.raw(`create index rapport_parties_name_trgm_idx on rapport_parties using gin (lower(name) ${trigram})`);
    },
    async down(knex: Knex) {
      await knex.raw('drop index if exists rapport_parties_name_trgm_idx');
      await knex.raw('drop index if exists rapport_parties_name_idx');
      await knex.raw('create index rapport_parties_name_idx on rapport_parties (tenant_id, lower(name), id)');
      await knex.raw('drop index if exists rapport_relationships_type_to_idx');
      await knex.raw('drop index if exists rapport_observations_list_idx');
      await knex.raw('drop index if exists rapport_interactions_list_idx');
    },
  },
  {
    // Every index of a tenant's table leads with tenant_id, so a sharded cluster keeps each
    // tenant's rows and their index entries on one shard and the dispatcher claims work per
    // tenant (docs/operations.md, "Sharding by tenant"). These five led with a time column for
    // claims and prunes across all tenants at once.
    name: '0009_tenant_leading_indexes',
    async up(knex: Knex) {
      for (const statement of TENANT_LEADING_INDEXES) await knex.raw(statement);
    },
  },
  customFieldsMigration,
  searchMigration,
  attachmentsMigration,
  automationMigration,
  federationMigration,
];

const TENANT_LEADING_INDEXES = [
  'drop index if exists rapport_outbox_pending_idx',
  'create index rapport_outbox_pending_idx on rapport_outbox (tenant_id, occurred_at, id) where dispatched_at is null',
  'drop index if exists rapport_outbox_dispatched_idx',
  'create index rapport_outbox_dispatched_idx on rapport_outbox (tenant_id, dispatched_at) where dispatched_at is not null',
  'drop index if exists rapport_webhook_deliveries_due_idx',
  "create index rapport_webhook_deliveries_due_idx on rapport_webhook_deliveries (tenant_id, next_attempt_at, id) where status = 'pending'",
  'drop index if exists rapport_jobs_live_idx',
  "create index rapport_jobs_live_idx on rapport_jobs (tenant_id, lease_expires_at) where status in ('queued', 'running')",
  'drop index if exists rapport_jobs_finished_idx',
  'create index rapport_jobs_finished_idx on rapport_jobs (tenant_id, finished_at) where finished_at is not null',
];
