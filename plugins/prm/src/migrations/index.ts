import { createSearchIndexes, dropSearchIndexes, trigramOperatorClass, type Migration } from '@rapport/core';

/** PRM's own tables: only what the kernel cannot hold. Every key leads with tenant_id. */
export const prmMigrations: Migration[] = [
  {
    name: '0001_registrations',
    up: async (knex) => {
      await knex.schema.createTable('prm_registrations', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('partner_id').notNullable();
        t.uuid('relationship_id').notNullable();
        t.text('customer_name').notNullable();
        /** Folded name and normalized domain: what conflict detection compares. */
        t.text('customer_key').notNullable();
        t.text('customer_domain');
        t.uuid('customer_party_id');
        t.decimal('value', 18, 2).notNullable();
        t.text('currency').notNullable();
        t.text('expected_close_date').notNullable(); // ISO date; text avoids driver time-zone shifts of `date`
        t.text('notes');
        t.text('status').notNullable();
        t.jsonb('conflicts').notNullable().defaultTo('[]');
        t.text('decision_reason');
        t.timestamp('decided_at', { useTz: true });
        t.timestamp('protected_until', { useTz: true });
        t.integer('version').notNullable().defaultTo(1);
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'partner_id', 'created_at']);
        t.index(['tenant_id', 'customer_key']);
        t.index(['tenant_id', 'customer_domain']);
        t.index(['tenant_id', 'created_at', 'id']);
      });
    },
    down: (knex) => knex.schema.dropTable('prm_registrations'),
  },
  {
    name: '0002_suppliers',
    up: async (knex) => {
      await knex.schema.createTable('prm_rfqs', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('title').notNullable();
        t.text('description');
        t.decimal('quantity', 18, 4).notNullable();
        t.text('unit').notNullable();
        t.timestamp('respond_by', { useTz: true }).notNullable();
        t.text('status').notNullable();
        t.uuid('awarded_quote_id');
        t.integer('version').notNullable().defaultTo(1);
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'created_at', 'id']);
      });
      await knex.schema.createTable('prm_rfq_invitations', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('rfq_id').notNullable();
        t.uuid('supplier_id').notNullable();
        t.uuid('relationship_id').notNullable();
        t.timestamp('invited_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'rfq_id', 'supplier_id']);
        t.index(['tenant_id', 'supplier_id']);
      });
      await knex.schema.createTable('prm_quotes', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('rfq_id').notNullable();
        t.uuid('supplier_id').notNullable();
        t.decimal('unit_price', 18, 4).notNullable();
        t.text('currency').notNullable();
        t.integer('lead_time_days').notNullable();
        t.text('notes');
        t.text('status').notNullable();
        t.timestamp('submitted_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.unique(['tenant_id', 'rfq_id', 'supplier_id']);
        t.index(['tenant_id', 'supplier_id']);
      });
      await knex.schema.createTable('prm_purchase_orders', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('supplier_id').notNullable();
        t.uuid('relationship_id').notNullable();
        t.uuid('rfq_id');
        t.uuid('quote_id');
        t.text('reference').notNullable();
        t.decimal('quantity', 18, 4).notNullable();
        t.decimal('unit_price', 18, 4).notNullable();
        t.text('currency').notNullable();
        t.timestamp('ordered_at', { useTz: true }).notNullable();
        t.timestamp('promised_at', { useTz: true }).notNullable();
        t.uuid('interaction_id').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'supplier_id', 'created_at']);
        t.index(['tenant_id', 'created_at', 'id']);
      });
      await knex.schema.createTable('prm_deliveries', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('purchase_order_id').notNullable();
        t.uuid('supplier_id').notNullable();
        t.timestamp('received_at', { useTz: true }).notNullable();
        t.decimal('quantity_accepted', 18, 4).notNullable();
        t.decimal('quantity_rejected', 18, 4).notNullable();
        t.decimal('unit_price', 18, 4).notNullable();
        t.uuid('interaction_id').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'purchase_order_id']);
        t.index(['tenant_id', 'supplier_id']);
      });
    },
    down: async (knex) => {
      for (const table of ['prm_deliveries', 'prm_purchase_orders', 'prm_quotes', 'prm_rfq_invitations', 'prm_rfqs']) await knex.schema.dropTable(table);
    },
  },
  {
    name: '0003_mdf',
    up: async (knex) => {
      await knex.schema.createTable('prm_mdf_budgets', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('program').notNullable();
        t.text('period').notNullable();
        t.text('currency').notNullable();
        t.decimal('amount', 18, 2).notNullable();
        /** Guarded by a CHECK as well as by the conditional UPDATE that spends it. */
        t.decimal('remaining', 18, 2).notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.unique(['tenant_id', 'program', 'period', 'currency']);
      });
      await knex.raw('alter table prm_mdf_budgets add constraint prm_mdf_budgets_remaining_check check (remaining >= 0 and remaining <= amount)');
      await knex.schema.createTable('prm_mdf_requests', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('budget_id').notNullable();
        t.uuid('partner_id').notNullable();
        t.uuid('relationship_id').notNullable();
        t.text('activity').notNullable();
        t.decimal('amount', 18, 2).notNullable();
        t.text('status').notNullable();
        t.text('decision_reason');
        t.decimal('claimed_amount', 18, 2);
        t.text('proof');
        t.integer('version').notNullable().defaultTo(1);
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'partner_id', 'created_at']);
        t.index(['tenant_id', 'budget_id']);
        t.index(['tenant_id', 'created_at', 'id']);
      });
    },
    down: async (knex) => {
      await knex.schema.dropTable('prm_mdf_requests');
      await knex.schema.dropTable('prm_mdf_budgets');
    },
  },
  {
    name: '0004_programs',
    up: (knex) =>
      knex.schema.createTable('prm_programs', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        /** Matches the `program` attribute of prm.partner relationships. */
        t.text('name').notNullable();
        t.text('description');
        /** Ordered lowest first: [{ name, criteria: { metric: minimum } }]. */
        t.jsonb('tiers').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.unique(['tenant_id', 'name']);
      }),
    down: (knex) => knex.schema.dropTable('prm_programs'),
  },
  {
    name: '0005_registration_deal',
    up: (knex) =>
      knex.schema.alterTable('prm_registrations', (t) => {
        /** The deal a sales plugin (CRM) opened for the approved registration, via `prm.registration.convert`. */
        t.text('deal_id');
      }),
    down: (knex) => knex.schema.alterTable('prm_registrations', (t) => t.dropColumn('deal_id')),
  },
  {
    name: '0006_leads',
    up: async (knex) => {
      await knex.schema.createTable('prm_lead_rules', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('name').notNullable();
        /** null: any territory; else the lead's territory must equal it and be one of the partnership's territories. */
        t.text('territory');
        /** null: any tier; else a JSON array of tier names. */
        t.jsonb('tiers');
        /** null: any kind; else a JSON array of partner kinds. */
        t.jsonb('kinds');
        t.integer('weight').notNullable();
        t.boolean('active').notNullable().defaultTo(true);
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
      });
      await knex.schema.createTable('prm_leads', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('customer_name').notNullable();
        t.text('customer_domain');
        t.text('contact_name');
        t.text('contact_email');
        t.text('territory');
        t.decimal('value', 18, 2);
        t.text('currency');
        t.text('description');
        /** open (waiting for an offer), offered, accepted, unassigned (no eligible partner left), withdrawn. */
        t.text('status').notNullable();
        t.integer('response_hours').notNullable();
        t.uuid('accepted_partner_id');
        t.integer('version').notNullable().defaultTo(1);
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'created_at', 'id']);
      });
      await knex.schema.createTable('prm_lead_offers', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('lead_id').notNullable();
        t.uuid('partner_id').notNullable();
        t.uuid('relationship_id').notNullable();
        t.uuid('rule_id').notNullable();
        /** offered, accepted, declined, expired, withdrawn. */
        t.text('status').notNullable();
        t.timestamp('offered_at', { useTz: true }).notNullable();
        t.timestamp('respond_by', { useTz: true }).notNullable();
        t.timestamp('responded_at', { useTz: true });
        t.text('decline_reason');
        t.primary(['tenant_id', 'id']);
        // A partner is offered a lead at most once: once declined (or let expire) it never comes back.
        t.unique(['tenant_id', 'lead_id', 'partner_id']);
        t.index(['tenant_id', 'partner_id', 'offered_at']);
        t.index(['tenant_id', 'status', 'respond_by']);
      });
    },
    down: async (knex) => {
      for (const table of ['prm_lead_offers', 'prm_leads', 'prm_lead_rules']) await knex.schema.dropTable(table);
    },
  },
  {
    name: '0007_training',
    up: async (knex) => {
      await knex.schema.createTable('prm_courses', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('title').notNullable();
        t.text('description');
        /** null: a certification from this course never expires. */
        t.integer('validity_days');
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.unique(['tenant_id', 'title']);
      });
      await knex.schema.createTable('prm_certifications', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('course_id').notNullable();
        t.uuid('person_id').notNullable();
        /** The organization the person was staff of when certified. */
        t.uuid('partner_id').notNullable();
        t.timestamp('completed_at', { useTz: true }).notNullable();
        t.timestamp('expires_at', { useTz: true });
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'partner_id', 'completed_at']);
        t.index(['tenant_id', 'person_id']);
      });
    },
    down: async (knex) => {
      await knex.schema.dropTable('prm_certifications');
      await knex.schema.dropTable('prm_courses');
    },
  },
  {
    name: '0008_plans_and_documents',
    up: async (knex) => {
      await knex.schema.createTable('prm_plans', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('partner_id').notNullable();
        t.uuid('relationship_id').notNullable();
        t.text('title').notNullable();
        t.text('period').notNullable();
        t.text('status').notNullable();
        t.integer('version').notNullable().defaultTo(1);
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'partner_id', 'created_at']);
        t.index(['tenant_id', 'created_at', 'id']);
      });
      await knex.schema.createTable('prm_plan_items', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('plan_id').notNullable();
        /** goal or milestone. */
        t.text('kind').notNullable();
        t.text('title').notNullable();
        t.decimal('target', 18, 2);
        t.decimal('actual', 18, 2);
        t.text('unit');
        t.text('due_date');
        t.text('status').notNullable();
        t.integer('version').notNullable().defaultTo(1);
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.timestamp('updated_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'plan_id']);
      });
      /** Every edit of a plan or of one of its items: who (principal, party, side), what changed, when. */
      await knex.schema.createTable('prm_plan_edits', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('plan_id').notNullable();
        t.uuid('item_id');
        t.text('action').notNullable();
        t.jsonb('changes').notNullable();
        t.text('principal_kind').notNullable();
        t.uuid('principal_id').notNullable();
        t.uuid('party_id');
        t.text('side').notNullable();
        t.timestamp('at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'plan_id', 'at']);
      });
      await knex.schema.createTable('prm_documents', (t) => {
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.text('title').notNullable();
        t.text('description');
        t.text('url');
        t.text('content');
        /** null: every program; else only partners of that program. */
        t.text('program');
        /** null: every tier; else a JSON array of tier names. */
        t.jsonb('tiers');
        /** null: the firm's; else the partner organization that contributed it. */
        t.uuid('contributor_id');
        /** For a contribution: also visible to the other partners (the contributor's choice). */
        t.boolean('shared_with_partners').notNullable().defaultTo(false);
        t.timestamp('archived_at', { useTz: true });
        t.timestamp('created_at', { useTz: true }).notNullable();
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'created_at', 'id']);
        t.index(['tenant_id', 'contributor_id']);
      });
    },
    down: async (knex) => {
      for (const table of ['prm_documents', 'prm_plan_edits', 'prm_plan_items', 'prm_plans']) await knex.schema.dropTable(table);
    },
  },
  {
    // The registration list's orders and filters as indexes led by the tenant: newest first
    // by partner and by status (created_at, then id, as the keyset runs), by customer name
    // (a prefix is one range under "C"), a name substring through pg_trgm where available.
    name: '0009_list_indexes',
    up: async (knex) => {
      await knex.raw('create index prm_registrations_partner_list_idx on prm_registrations (tenant_id, partner_id, created_at, id)');
      await knex.raw('create index prm_registrations_status_list_idx on prm_registrations (tenant_id, status, created_at, id)');
      await knex.raw('create index prm_registrations_customer_name_idx on prm_registrations (tenant_id, (lower(customer_name) collate "C"), id)');
      const trigram = await trigramOperatorClass(knex);
      if (trigram) await knex.raw(`create index prm_registrations_customer_name_trgm_idx on prm_registrations using gin (lower(customer_name) ${trigram})`);
    },
    down: async (knex) => {
      for (const index of ['prm_registrations_customer_name_trgm_idx', 'prm_registrations_customer_name_idx', 'prm_registrations_status_list_idx', 'prm_registrations_partner_list_idx']) {
        await knex.raw(`drop index if exists ${index}`);
      }
    },
  },
  {
    name: '0010_program_mdf_visibility',
    up: async (knex) => {
      await knex.schema.alterTable('prm_programs', (t) => {
        /** What partners see of the program's MDF budgets: `own` figures only, or the remaining budget too (`shared`). */
        t.text('mdf_visibility').notNullable().defaultTo('own');
      });
      await knex.raw("alter table prm_programs add constraint prm_programs_mdf_visibility_check check (mdf_visibility in ('own', 'shared'))");
    },
    down: (knex) =>
      knex.schema.alterTable('prm_programs', (t) => {
        t.dropColumn('mdf_visibility');
      }),
  },
  {
    // Registrations are found by GET /api/v1/search (declarations.ts): the customer's name, the notes.
    name: '0011_search',
    up: (knex) => createSearchIndexes(knex, 'prm_registrations', { title: 'customer_name', text: ['notes'] }),
    down: (knex) => dropSearchIndexes(knex, 'prm_registrations'),
  },
];
