import { definePlugin, NotFoundError } from '@rapport/core';
import { z } from 'zod';
import { declareFederation } from './federation/orders.js';
import packageJson from '../package.json' with { type: 'json' };
import { crm } from '@rapport/crm-contract';
import { declareModel } from './declarations.js';
import { crmDeps } from './deps.js';
import { prmGlue } from './hooks/prm.js';
import { scoringHooks } from './hooks/scoring.js';
import { accountsImporter } from './importers/accounts.js';
import { contactsImporter } from './importers/contacts.js';
import { dealsImporter } from './importers/deals.js';
import { crmMigrations } from './migrations/index.js';
import { accountRoutes } from './routes/accounts.js';
import { activityRoutes } from './routes/activities.js';
import { dealRoutes } from './routes/deals.js';
import { exportRoutes } from './routes/exports.js';
import { reportRoutes } from './routes/reports.js';
import { savedViewRoutes } from './routes/saved-views.js';
import { scoringRoutes } from './routes/scoring.js';
import { taskRoutes } from './routes/tasks.js';
import { ActivityService } from './services/activities.js';
import { CounterpartService } from './services/counterparts.js';
import { DealService } from './services/deals.js';
import { ExportService } from './services/exports.js';
import { PipelineService } from './services/pipelines.js';
import { RegistrationDealService } from './services/registration-deals.js';
import { ReportService } from './services/reports.js';
import { SavedViewService } from './services/saved-views.js';
import { ContributedRules, ScoringService } from './services/scoring.js';
import { TaskService } from './services/tasks.js';

export * from '@rapport/crm-contract';
export { PERMISSIONS } from './declarations.js';

/** The package's version: what the kernel records as installed, and upgrades compare. */
export const CRM_VERSION: string = packageJson.version;

/** @rapport/plugin-crm: customers, contacts, pipelines and deals — and the firm as buyer. */
const crmPlugin = definePlugin({
  name: 'crm',
  version: CRM_VERSION,
  description: 'Customers and contacts, pipelines and deals, activities, the firm as buyer, reports',
  requires: { core: '^0.1.0' },
  contract: crm,
  deps: crmDeps,
  migrations: crmMigrations,
  setup(api, deps) {
    declareModel(api);

    const pipelines = new PipelineService(deps);
    const deals = new DealService(deps, pipelines);
    const tasks = new TaskService(deps, deals);
    const activities = new ActivityService(deps);
    const counterparts = new CounterpartService(deps);
    const reports = new ReportService(deps, deals, pipelines, activities);
    const exports = new ExportService(deps, deals);
    const views = new SavedViewService(deps);
    // Per system: the rules contributed by the plugins set up with this one.
    const contributed = new ContributedRules();
    const scoring = new ScoringService(deps, contributed);
    api.provide(crm.services.leadScoring, contributed);

    scoringHooks(api, deps, scoring);
    // Filters only PRM runs: inert without PRM.
    prmGlue(api, new RegistrationDealService(deps, deals, pipelines));
    // Orders received from customers' own systems (docs/federation.md).
    declareFederation(api, { deals, pipelines });

    api.importers.define(accountsImporter(deps));
    api.importers.define(contactsImporter(deps));
    api.importers.define(dealsImporter(deps));

    // Administrators add fields to deals at run time (docs/custom-fields.md).
    api.customFields.allow({ key: 'crm.deal', table: 'crm_deals', label: 'Deals' });
    // Files (a signed contract, a quote) attach to deals the caller may see, on the account's timeline.
    api.attachments.records({
      type: 'crm.deal',
      async find(ctx, id) {
        if (!z.uuid().safeParse(id).success) return null;
        try {
          const deal = await deals.get(ctx, id);
          return { partyIds: [deal.accountId] };
        } catch (error) {
          if (error instanceof NotFoundError) return null;
          throw error;
        }
      },
    });
    api.automation.action({
      name: 'crm.create-task',
      description: 'Opens a task, due in `dueInDays`, assigned to `assigneePartyId` or (with `assignToAccountOwner`) to the owner of the account (attribute crm.owner), else to the deal owner',
      params: z.strictObject({
        title: z.string().trim().min(1).max(500),
        accountId: z.uuid().nullable().optional(),
        dealId: z.uuid().nullable().optional(),
        assigneePartyId: z.uuid().nullable().optional(),
        assignToAccountOwner: z.boolean().optional(),
        dueInDays: z.number().int().min(0).max(3650).default(7),
      }),
      async run({ uow }, p) {
        let assignee = p.assigneePartyId ?? null;
        if (p.assignToAccountOwner && p.accountId) {
          const owner = (await deps.parties.get(uow, p.accountId)).attributes['crm.owner'];
          if (typeof owner === 'string') assignee = owner;
        }
        if (!assignee && p.dealId) assignee = (await deals.get(uow, p.dealId)).ownerPartyId;
        const task = await tasks.create(uow, {
          title: p.title,
          dueAt: new Date(Date.now() + p.dueInDays * 86_400_000).toISOString(),
          assigneePartyId: assignee,
          accountId: p.accountId ?? null,
          dealId: p.dealId ?? null,
        });
        return { taskId: task.id, assigneePartyId: task.assigneePartyId };
      },
    });

    api.routes((r) => {
      dealRoutes(r, { deals, pipelines, fields: deps.fields });
      accountRoutes(r, counterparts);
      activityRoutes(r, activities);
      reportRoutes(r, reports);
      taskRoutes(r, tasks);
      scoringRoutes(r, scoring);
      savedViewRoutes(r, views);
      exportRoutes(r, exports);
    });
  },
});

export default crmPlugin;
