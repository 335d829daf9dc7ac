import type { Migration } from '@rapport/core';

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
];
