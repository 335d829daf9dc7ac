import { createSearchIndexes, dropSearchIndexes, type Migration } from '@rapport/core';

/*
 * HRM keeps only what the kernel cannot hold: positions, HR-private data, surveys and their
 * answers, the service desk. Units, employees, employment and reporting lines are kernel
 * parties and relationships. Every table leads its keys with tenant_id.
 */
export const hrmMigrations: Migration[] = [
  {
    name: '0001_organization',
    up: async (knex) => {
      await knex.schema.createTable('hrm_positions', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('title').notNullable();
        t.uuid('unit_id').nullable();
        t.text('grade').nullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'unit_id']);
      });
      // HR-private data: never a party attribute, so kernel readers (parties:read) never see it.
      await knex.schema.createTable('hrm_private', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('party_id').notNullable();
        t.jsonb('contract').notNullable();
        t.text('pay_band').nullable();
        t.jsonb('private_contact').notNullable();
        t.text('notes').nullable();
        t.integer('version').notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'party_id']);
      });
    },
    down: async (knex) => {
      await knex.schema.dropTableIfExists('hrm_private');
      await knex.schema.dropTableIfExists('hrm_positions');
    },
  },
  {
    name: '0002_engagement',
    up: async (knex) => {
      await knex.schema.createTable('hrm_surveys', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('title').notNullable();
        t.text('kind').notNullable(); // pulse | full
        t.boolean('anonymous').notNullable();
        t.integer('min_group_size').notNullable();
        t.jsonb('questions').notNullable();
        t.text('status').notNullable(); // draft | open | closed
        t.timestamp('opened_at', { useTz: true }).nullable();
        t.timestamp('closed_at', { useTz: true }).nullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'closed_at']);
      });
      // Who took part. Kept apart from the answers so the two cannot be joined.
      await knex.schema.createTable('hrm_survey_participations', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('survey_id').notNullable();
        t.uuid('party_id').notNullable();
        t.timestamp('participated_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'survey_id', 'party_id']);
        t.index(['tenant_id', 'party_id']);
      });
      /*
       * The answers. For an anonymous survey respondent_id is null and there is no timestamp
       * (a time would link an answer to the participation recorded at the same instant); only
       * the groups it counts towards (unit, manager) are kept.
       */
      await knex.schema.createTable('hrm_survey_responses', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('survey_id').notNullable();
        t.uuid('unit_id').nullable();
        t.uuid('manager_id').nullable();
        t.uuid('respondent_id').nullable();
        t.jsonb('answers').notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'survey_id']);
      });
    },
    down: async (knex) => {
      await knex.schema.dropTableIfExists('hrm_survey_responses');
      await knex.schema.dropTableIfExists('hrm_survey_participations');
      await knex.schema.dropTableIfExists('hrm_surveys');
    },
  },
  {
    name: '0003_service_desk',
    up: async (knex) => {
      await knex.schema.createTable('hrm_services', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('unit_id').notNullable();
        t.text('name').notNullable();
        t.text('description').nullable();
        t.integer('response_target_minutes').nullable();
        t.integer('resolution_target_minutes').notNullable();
        t.boolean('active').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'unit_id']);
      });
      await knex.schema.createTable('hrm_requests', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('service_id').notNullable();
        t.uuid('provider_unit_id').notNullable();
        t.uuid('requester_party_id').notNullable();
        t.text('title').notNullable();
        t.text('description').nullable();
        t.uuid('assignee_party_id').nullable();
        t.text('status').notNullable(); // open | in-progress | resolved | closed | cancelled
        t.timestamp('opened_at', { useTz: true }).notNullable();
        t.timestamp('first_response_at', { useTz: true }).nullable();
        t.timestamp('response_due_at', { useTz: true }).nullable();
        t.timestamp('resolution_due_at', { useTz: true }).notNullable();
        t.timestamp('resolved_at', { useTz: true }).nullable();
        t.timestamp('closed_at', { useTz: true }).nullable();
        t.integer('csat').nullable();
        t.text('csat_comment').nullable();
        t.uuid('interaction_id').nullable();
        t.integer('version').notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'provider_unit_id', 'opened_at']);
        t.index(['tenant_id', 'requester_party_id']);
        t.index(['tenant_id', 'status', 'resolution_due_at']);
      });
    },
    down: async (knex) => {
      await knex.schema.dropTableIfExists('hrm_requests');
      await knex.schema.dropTableIfExists('hrm_services');
    },
  },
  {
    name: '0004_performance',
    up: async (knex) => {
      await knex.schema.createTable('hrm_review_cycles', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('name').notNullable();
        t.timestamp('period_start', { useTz: true }).notNullable();
        t.timestamp('period_end', { useTz: true }).notNullable();
        t.jsonb('competencies').notNullable();
        t.jsonb('scale').notNullable();
        t.jsonb('formula').notNullable();
        t.timestamp('closed_at', { useTz: true }).nullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
      });
      await knex.schema.createTable('hrm_goals', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('cycle_id').notNullable();
        t.uuid('employee_id').notNullable();
        t.text('title').notNullable();
        t.double('weight').notNullable();
        t.double('target').notNullable();
        t.double('actual').nullable();
        t.integer('version').notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'cycle_id', 'employee_id']);
      });
      // Upward reviews keep no reviewer (reviewer_id null); who gave one is in hrm_review_givers.
      await knex.schema.createTable('hrm_reviews', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('cycle_id').notNullable();
        t.uuid('subject_id').notNullable();
        t.uuid('reviewer_id').nullable();
        t.text('kind').notNullable();
        t.jsonb('ratings').notNullable();
        t.text('feedback').nullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'cycle_id', 'subject_id']);
      });
      await knex.schema.createTable('hrm_review_givers', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('cycle_id').notNullable();
        t.uuid('subject_id').notNullable();
        t.uuid('reviewer_id').notNullable();
        t.text('kind').notNullable();
        t.primary(['tenant_id', 'cycle_id', 'subject_id', 'reviewer_id', 'kind']);
      });
    },
    down: async (knex) => {
      for (const table of ['hrm_review_givers', 'hrm_reviews', 'hrm_goals', 'hrm_review_cycles']) await knex.schema.dropTableIfExists(table);
    },
  },
  {
    name: '0005_announcements',
    up: async (knex) => {
      await knex.schema.createTable('hrm_announcements', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('title').notNullable();
        t.text('body').notNullable();
        // The audience units, subunits expanded at publication; empty = everyone.
        t.jsonb('unit_ids').notNullable();
        t.boolean('requires_ack').notNullable();
        t.timestamp('published_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
      });
      await knex.schema.createTable('hrm_announcement_receipts', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('announcement_id').notNullable();
        t.uuid('party_id').notNullable();
        t.timestamp('read_at', { useTz: true }).notNullable();
        t.timestamp('acknowledged_at', { useTz: true }).nullable();
        t.primary(['tenant_id', 'announcement_id', 'party_id']);
      });
    },
    down: async (knex) => {
      await knex.schema.dropTableIfExists('hrm_announcement_receipts');
      await knex.schema.dropTableIfExists('hrm_announcements');
    },
  },
  {
    name: '0006_talent',
    up: async (knex) => {
      // Recruiting: an opening; each application is a kernel relationship (hrm.recruiting).
      await knex.schema.createTable('hrm_openings', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('title').notNullable();
        t.uuid('unit_id').notNullable();
        t.uuid('position_id').nullable();
        t.uuid('hiring_manager_id').nullable();
        t.text('status').notNullable(); // open | closed
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'hiring_manager_id']);
      });
      await knex.schema.createTable('hrm_onboarding_templates', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('name').notNullable();
        // null: any unit / any position. A unit template applies to its subunits too.
        t.uuid('unit_id').nullable();
        t.uuid('position_id').nullable();
        t.jsonb('items').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
      });
      await knex.schema.createTable('hrm_onboarding_items', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('employee_id').notNullable();
        t.uuid('employment_id').notNullable();
        t.uuid('template_id').notNullable();
        t.integer('position').notNullable();
        t.text('title').notNullable();
        t.text('owner').notNullable(); // hr | manager | employee
        t.timestamp('due_at', { useTz: true }).notNullable();
        t.timestamp('done_at', { useTz: true }).nullable();
        t.uuid('done_by_party_id').nullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'employee_id']);
      });
      await knex.schema.createTable('hrm_exit_interviews', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('employee_id').notNullable();
        // The unit at the time: reasons are aggregated per unit.
        t.uuid('unit_id').notNullable();
        t.jsonb('reasons').notNullable();
        t.boolean('confidential').notNullable();
        t.text('outcome').notNullable(); // retained | left
        // Confidential interviews only: served unattributed, per unit, at the threshold, once the period ended.
        t.text('comment').nullable();
        t.timestamp('conducted_at', { useTz: true }).notNullable();
        t.uuid('interaction_id').nullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'unit_id', 'conducted_at']);
        t.index(['tenant_id', 'employee_id']);
      });
      // Per-tenant settings of HRM (retention weights, …), validated by the route that writes them.
      await knex.schema.createTable('hrm_settings', (t) => {
        t.uuid('tenant_id').notNullable();
        t.text('key').notNullable();
        t.jsonb('value').notNullable();
        t.integer('version').notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'key']);
      });
      // When the SLA sweep recorded the breach: once per request.
      await knex.schema.alterTable('hrm_requests', (t) => {
        t.timestamp('sla_breached_at', { useTz: true }).nullable();
      });
    },
    down: async (knex) => {
      await knex.schema.alterTable('hrm_requests', (t) => {
        t.dropColumn('sla_breached_at');
      });
      for (const table of ['hrm_settings', 'hrm_exit_interviews', 'hrm_onboarding_items', 'hrm_onboarding_templates', 'hrm_openings']) await knex.schema.dropTableIfExists(table);
    },
  },
  {
    name: '0007_anonymity',
    up: async (knex) => {
      /*
       * An anonymous survey's answers while it is open: sealed under the server's secret key
       * (unit, manager and answers together, padded), a random id, no time. At close they are
       * written to hrm_survey_responses in random order without any group, or stay here (in
       * random order) when fewer than the threshold answered.
       */
      await knex.schema.createTable('hrm_sealed_answers', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('survey_id').notNullable();
        t.text('sealed').notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'survey_id']);
      });
      // What a closed survey keeps of its groups: the results as served and each group's figures.
      await knex.schema.createTable('hrm_survey_snapshots', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('survey_id').notNullable();
        t.jsonb('results').notNullable();
        t.jsonb('units').notNullable();
        t.jsonb('managers').notNullable();
        t.primary(['tenant_id', 'survey_id']);
      });
      // Upward reviews while their cycle is open, sealed the same way; the subject stays in clear (hrm_review_givers names it).
      await knex.schema.createTable('hrm_sealed_reviews', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('cycle_id').notNullable();
        t.uuid('subject_id').notNullable();
        t.text('sealed').notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'cycle_id', 'subject_id']);
      });
    },
    down: async (knex) => {
      for (const table of ['hrm_sealed_reviews', 'hrm_survey_snapshots', 'hrm_sealed_answers']) await knex.schema.dropTableIfExists(table);
    },
  },
  {
    // Desk requests are found by GET /api/v1/search (declarations.ts): the title, the description.
    name: '0008_search',
    up: (knex) => createSearchIndexes(knex, 'hrm_requests', { title: 'title', text: ['description'] }),
    down: (knex) => dropSearchIndexes(knex, 'hrm_requests'),
  },
];
