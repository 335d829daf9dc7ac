import { definePlugin } from '@rapport/core';
import { declareModel } from './declarations.js';
import { accountsImporter } from './importers/accounts.js';
import { contactsImporter } from './importers/contacts.js';
import { dealsImporter } from './importers/deals.js';
import { crmMigrations } from './migrations/index.js';
import { accountRoutes } from './routes/accounts.js';
import { dealRoutes } from './routes/deals.js';
import { exportRoutes } from './routes/exports.js';
import { reportRoutes } from './routes/reports.js';
import { taskRoutes } from './routes/tasks.js';
import { scoringRoutes } from './routes/scoring.js';
import { viewRoutes } from './routes/views.js';
import { scoringHooks } from './hooks/scoring.js';
import { prmGlue } from './glue/prm.js';
import { createLeadScoringService } from './services/scoring.js';

export * from './types.js';
export type { LeadScoringService, ContributedRule, ScoringInput, ScoreCondition, ScoreRule, LeadScore, FiredRule } from './services/scoring.js';
export { registrationSource } from './glue/prm.js';
export { CUSTOMER_STATUSES, CUSTOMER_TRANSITIONS, ACTIVITY_TYPES, PURCHASE_TYPES, DEAL_UPDATE_TYPE, PERMISSIONS } from './declarations.js';

export const CRM_VERSION = '0.1.0';

/** @rapport/plugin-crm: customers, contacts, pipelines and deals — and the firm as buyer. */
const crm = definePlugin({
  name: 'crm',
  version: CRM_VERSION,
  description: 'Customers and contacts, pipelines and deals, activities, the firm as buyer, reports',
  requires: { core: '^0.1.0' },
  migrations: crmMigrations,
  setup(api) {
    declareModel(api);
    // Per system: contributed rules and the listeners belong to the app this setup runs for.
    const scoring = createLeadScoringService(api.app);
    api.provide('crm.lead-scoring', scoring);
    scoringHooks(api, scoring);
    // Filters only PRM runs: inert without PRM (see glue/prm.ts).
    prmGlue(api);
    // An external principal (a customer's portal user) sees the deals of its own account.
    api.recordScopes.define('crm.deals', ({ db, tenantId, partyId }) =>
      db('crm_deals').select('id').where({ tenant_id: tenantId, account_id: partyId }).union([db('crm_deals').select('id').where({ tenant_id: tenantId, owner_party_id: partyId })], true),
    );
    // …and the tasks assigned to it or about its account.
    api.recordScopes.define('crm.tasks', ({ db, tenantId, partyId }) =>
      db('crm_tasks').select('id').where({ tenant_id: tenantId, assignee_party_id: partyId }).union([db('crm_tasks').select('id').where({ tenant_id: tenantId, account_id: partyId })], true),
    );
    api.importers.define(accountsImporter);
    api.importers.define(contactsImporter);
    api.importers.define(dealsImporter);
    api.routes((r) => {
      dealRoutes(r);
      accountRoutes(r);
      reportRoutes(r);
      taskRoutes(r);
      scoringRoutes(r, scoring);
      viewRoutes(r);
      exportRoutes(r);
    });
  },
});

export default crm;
