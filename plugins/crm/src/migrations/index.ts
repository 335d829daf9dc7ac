import { createFieldFilterIndex, createSearchIndexes, dropSearchIndexes, trigramOperatorClass, type Migration } from '@rapport/core';

/*
 * Only what the kernel cannot hold lives here: pipelines, their stages, deals and the
 * deal history. Accounts and contacts are kernel parties, activities kernel interactions.
 * Every key leads with tenant_id (Citus-ready, and every query filters by it).
 */
export const crmMigrations: Migration[] = [
  {
    name: '0001_pipelines_deals',
    up: async (knex) => {
      await knex.schema.createTable('crm_pipelines', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('name').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.unique(['tenant_id', 'name']);
      });
      await knex.schema.createTable('crm_stages', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('pipeline_id').notNullable();
        t.text('name').notNullable();
        t.integer('position').notNullable();
        t.integer('probability').notNullable();
        t.text('outcome').notNullable(); // open | won | lost
        t.primary(['tenant_id', 'id']);
        t.unique(['tenant_id', 'pipeline_id', 'position']);
        t.foreign(['tenant_id', 'pipeline_id']).references(['tenant_id', 'id']).inTable('crm_pipelines');
      });
      await knex.schema.createTable('crm_deals', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('pipeline_id').notNullable();
        t.uuid('stage_id').notNullable();
        t.text('title').notNullable();
        t.decimal('amount', 18, 2).notNullable();
        t.string('currency', 3).notNullable();
        t.date('expected_close').nullable();
        t.uuid('owner_party_id').nullable();
        t.uuid('account_id').notNullable();
        t.text('status').notNullable(); // open | won | lost, mirrors the stage's outcome
        t.timestamp('closed_at', { useTz: true }).nullable();
        t.integer('version').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'owner_party_id']);
        t.index(['tenant_id', 'account_id']);
        t.index(['tenant_id', 'stage_id']);
        t.foreign(['tenant_id', 'stage_id']).references(['tenant_id', 'id']).inTable('crm_stages');
      });
      await knex.schema.createTable('crm_deal_contacts', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('deal_id').notNullable();
        t.uuid('party_id').notNullable();
        t.primary(['tenant_id', 'deal_id', 'party_id']);
        t.index(['tenant_id', 'party_id']);
        t.foreign(['tenant_id', 'deal_id']).references(['tenant_id', 'id']).inTable('crm_deals').onDelete('CASCADE');
      });
      await knex.schema.createTable('crm_deal_stage_history', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('deal_id').notNullable();
        t.uuid('from_stage_id').nullable();
        t.uuid('to_stage_id').notNullable();
        t.timestamp('changed_at', { useTz: true }).notNullable();
        t.uuid('changed_by_party_id').nullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'deal_id', 'changed_at']);
        t.foreign(['tenant_id', 'deal_id']).references(['tenant_id', 'id']).inTable('crm_deals').onDelete('CASCADE');
      });
    },
    down: async (knex) => {
      await knex.schema.dropTableIfExists('crm_deal_stage_history');
      await knex.schema.dropTableIfExists('crm_deal_contacts');
      await knex.schema.dropTableIfExists('crm_deals');
      await knex.schema.dropTableIfExists('crm_stages');
      await knex.schema.dropTableIfExists('crm_pipelines');
    },
  },
  {
    name: '0002_tasks',
    up: async (knex) => {
      await knex.schema.createTable('crm_tasks', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('title').notNullable();
        t.timestamp('due_at', { useTz: true }).notNullable();
        t.uuid('assignee_party_id').nullable();
        t.uuid('account_id').nullable();
        t.uuid('deal_id').nullable();
        t.timestamp('done_at', { useTz: true }).nullable();
        t.integer('version').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'assignee_party_id', 'due_at']);
        // The overdue list: open tasks by due date.
        t.index(['tenant_id', 'due_at', 'id'], 'crm_tasks_open_due', { predicate: knex.whereNull('done_at') });
      });
    },
    down: async (knex) => {
      await knex.schema.dropTableIfExists('crm_tasks');
    },
  },
  {
    name: '0003_score_rules',
    up: async (knex) => {
      await knex.schema.createTable('crm_score_rules', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('name').notNullable();
        t.integer('points').notNullable();
        t.jsonb('condition').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
      });
    },
    down: async (knex) => {
      await knex.schema.dropTableIfExists('crm_score_rules');
    },
  },
  {
    name: '0004_saved_views',
    up: async (knex) => {
      await knex.schema.createTable('crm_saved_views', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        // The principal (user or API key) the view belongs to: views are personal.
        t.text('owner').notNullable();
        t.text('resource').notNullable(); // deals | customers | vendors
        t.text('name').notNullable();
        t.jsonb('filters').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.unique(['tenant_id', 'owner', 'resource', 'name']);
      });
    },
    down: async (knex) => {
      await knex.schema.dropTableIfExists('crm_saved_views');
    },
  },
  {
    name: '0005_deal_source',
    up: async (knex) => {
      await knex.schema.alterTable('crm_deals', (t) => {
        // Where a deal came from when another plugin opened it (`prm.registration:<id>`); null when opened directly.
        t.text('source').nullable();
      });
    },
    down: async (knex) => {
      await knex.schema.alterTable('crm_deals', (t) => {
        t.dropColumn('source');
      });
    },
  },
  {
    // The deal list's orders and filters as indexes led by the tenant: by title (a prefix is
    // one range under "C"), by status and by pipeline newest first, and a title substring
    // through pg_trgm where the database has it.
    name: '0006_list_indexes',
    up: async (knex) => {
      await knex.raw('create index crm_deals_title_idx on crm_deals (tenant_id, (lower(title) collate "C"), id)');
      await knex.raw('create index crm_deals_status_idx on crm_deals (tenant_id, status, id)');
      await knex.raw('create index crm_deals_pipeline_idx on crm_deals (tenant_id, pipeline_id, id)');
      const trigram = await trigramOperatorClass(knex);
      if (trigram) await knex.raw(`create index crm_deals_title_trgm_idx on crm_deals using gin (lower(title) ${trigram})`);
    },
    down: async (knex) => {
      for (const index of ['crm_deals_title_trgm_idx', 'crm_deals_pipeline_idx', 'crm_deals_status_idx', 'crm_deals_title_idx']) await knex.raw(`drop index if exists ${index}`);
    },
  },
  {
    // A sales rep's own deals (what visible() shows without crm.deals:all) and an assignee's
    // tasks, newest first, without reading everyone's.
    name: '0007_owner_list_indexes',
    up: async (knex) => {
      await knex.raw('create index crm_deals_owner_list_idx on crm_deals (tenant_id, owner_party_id, id)');
      await knex.raw('create index crm_tasks_assignee_list_idx on crm_tasks (tenant_id, assignee_party_id, id)');
    },
    down: async (knex) => {
      await knex.raw('drop index if exists crm_tasks_assignee_list_idx');
      await knex.raw('drop index if exists crm_deals_owner_list_idx');
    },
  },
  {
    // Deals are found by GET /api/v1/search (declarations.ts): trigrams on the title, its words.
    name: '0008_search',
    up: (knex) => createSearchIndexes(knex, 'crm_deals', { title: 'title' }),
    down: (knex) => dropSearchIndexes(knex, 'crm_deals'),
  },
  {
    // Custom fields on deals (docs/custom-fields.md): their values, and the GIN index that
    // serves every equality filter on them whatever field an administrator adds.
    name: '0009_deal_custom_fields',
    up: async (knex) => {
      await knex.schema.alterTable('crm_deals', (t) => {
        t.jsonb('attributes').notNullable().defaultTo('{}');
      });
      await createFieldFilterIndex(knex, { table: 'crm_deals' });
    },
    down: async (knex) => {
      await knex.raw('drop index if exists crm_deals_attributes_idx');
      await knex.schema.alterTable('crm_deals', (t) => {
        t.dropColumn('attributes');
      });
    },
  },
];
