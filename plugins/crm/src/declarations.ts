import { z } from 'zod';
import { hasPermission, type PluginApi } from '@rapport/core';
import {
  ACTIVITY_ROLES,
  ACTIVITY_TYPES,
  ATTRIBUTE_SCHEMAS,
  CONTACT_TYPE,
  CUSTOMER_STATUSES,
  CUSTOMER_TRANSITIONS,
  CUSTOMER_TYPE,
  DEAL_CHANGES,
  DEAL_UPDATE_TYPE,
  LEAD_SCORE,
  PURCHASE_ROLES,
  PURCHASE_TYPES,
  currencySchema,
  type ActivityType,
  type PurchaseType,
} from '@rapport/crm-contract';

export const PERMISSIONS: Array<{ key: string; description: string }> = [
  { key: 'crm.deals:read', description: 'Read deals (only own deals without crm.deals:all)' },
  { key: 'crm.deals:write', description: 'Create, change and move deals' },
  { key: 'crm.deals:all', description: 'See and change every deal, not only those one owns' },
  { key: 'crm.pipelines:read', description: 'Read pipelines and stages' },
  { key: 'crm.pipelines:write', description: 'Create pipelines' },
  { key: 'crm.accounts:read', description: 'Read customer and vendor accounts' },
  { key: 'crm.accounts:write', description: 'Import accounts and contacts (crm.accounts, crm.contacts importers)' },
  { key: 'crm.activities:read', description: 'List activities (only those one owns without crm.activities:all)' },
  { key: 'crm.activities:all', description: 'See and count every activity, not only those one owns' },
  { key: 'crm.activities:write', description: 'Record activities and buyer-side interactions' },
  { key: 'crm.tasks:read', description: 'Read tasks (only those assigned to oneself without crm.tasks:all)' },
  { key: 'crm.tasks:write', description: 'Create, change and complete tasks' },
  { key: 'crm.tasks:all', description: 'See and change every task, not only those assigned to oneself' },
  { key: 'crm.scoring:read', description: 'Read lead-scoring rules and scores' },
  { key: 'crm.scoring:write', description: 'Change lead-scoring rules and recompute scores' },
  { key: 'crm.reports:read', description: 'Read pipeline, forecast and activity reports' },
];

/** Without these a principal sees (and changes, and counts) only its own deals, tasks and activities. */
export const SEE_ALL_DEALS = 'crm.deals:all';
export const SEE_ALL_TASKS = 'crm.tasks:all';
export const SEE_ALL_ACTIVITIES = 'crm.activities:all';

/** Record scopes: what a principal scoped to a party (a customer's portal user) sees of deals and tasks. */
export const DEAL_SCOPE = 'crm.deals';
export const TASK_SCOPE = 'crm.tasks';

const amountAttributes = z.strictObject({
  amount: z.number().finite().nonnegative().optional(),
  currency: currencySchema.optional(),
  reference: z.string().max(200).optional(),
});

const ACTIVITY_TITLES: Record<ActivityType, string> = { 'crm.call': 'Call', 'crm.email': 'E-mail', 'crm.meeting': 'Meeting', 'crm.note': 'Note' };
const PURCHASE_TITLES: Record<PurchaseType, string> = {
  'crm.offer-received': 'Offer received',
  'crm.quote-received': 'Quote received',
  'crm.purchase': 'Purchase',
  'crm.complaint': 'Complaint',
};

/** Everything the plugin declares in the kernel: types, attributes, the indicator, permissions, record scopes. */
export function declareModel(api: PluginApi): void {
  api.relationshipTypes.define({
    key: CUSTOMER_TYPE,
    title: 'Customer',
    description: 'A vendor sells to a customer. Either end may be the self party (role reversal).',
    fromRole: 'vendor',
    toRole: 'customer',
    fromKinds: ['organization', 'person'],
    toKinds: ['organization', 'person'],
    statuses: CUSTOMER_STATUSES,
    activeStatuses: ['customer'],
    transitions: CUSTOMER_TRANSITIONS,
    // The firm's record of who buys from whom: not for a customer's portal user to change.
    internalOnly: true,
    attributes: z.strictObject({ source: z.string().min(1).max(100).optional() }),
  });
  api.relationshipTypes.define({
    key: CONTACT_TYPE,
    title: 'Contact',
    description: 'A person works at an organization; one person may be a contact of several.',
    fromRole: 'contact',
    toRole: 'organization',
    fromKinds: ['person'],
    toKinds: ['organization'],
    statuses: ['active', 'ended'],
    activeStatuses: ['active'],
    transitions: { active: ['ended'], ended: ['active'] },
    internalOnly: true,
    attributes: z.strictObject({ jobTitle: z.string().min(1).max(200).optional() }),
  });

  api.partyAttributes.define({ key: 'crm.industry', kinds: ['organization'], description: 'Industry of an account', schema: ATTRIBUTE_SCHEMAS['crm.industry'] });
  api.partyAttributes.define({ key: 'crm.size', kinds: ['organization'], description: 'Head count band', schema: ATTRIBUTE_SCHEMAS['crm.size'] });
  api.partyAttributes.define({ key: 'crm.source', description: 'Where the lead came from', schema: ATTRIBUTE_SCHEMAS['crm.source'] });
  api.partyAttributes.define({ key: 'crm.owner', description: 'Party id of the account owner (a sales rep)', schema: ATTRIBUTE_SCHEMAS['crm.owner'] });

  for (const key of ACTIVITY_TYPES) {
    api.interactionTypes.define({ key, title: ACTIVITY_TITLES[key], participantRoles: ACTIVITY_ROLES });
  }
  for (const key of PURCHASE_TYPES) {
    api.interactionTypes.define({ key, title: PURCHASE_TITLES[key], participantRoles: PURCHASE_ROLES, attributes: amountAttributes });
  }
  api.interactionTypes.define({
    key: DEAL_UPDATE_TYPE,
    title: 'Deal update',
    description: 'A deal was opened, moved, won or lost',
    participantRoles: ['account', 'owner'],
    attributes: z.strictObject({
      dealId: z.uuid(),
      change: z.enum(DEAL_CHANGES),
      fromStageId: z.uuid().nullable().optional(),
      toStageId: z.uuid(),
    }),
  });

  api.indicators.define({
    key: LEAD_SCORE,
    title: 'Lead score',
    description: 'Sum of the points of the scoring rules a lead or prospect meets; details.firedRules lists them',
    subject: 'party',
    kind: 'quantitative',
    unit: 'points',
    aggregate: 'last',
  });

  for (const permission of PERMISSIONS) api.permissions.define(permission);

  // A party sees the deals of which it is the account or the owner (two index ranges)…
  api.recordScopes.define(DEAL_SCOPE, ({ tables, partyId }) =>
    tables('crm_deals')
      .select('id')
      .where('account_id', partyId)
      .union([tables('crm_deals').select('id').where('owner_party_id', partyId)], true),
  );
  // Search finds deals as the deal list shows them: own deals only without crm.deals:all.
  api.search.define({
    key: 'crm.deal',
    label: 'Deals',
    table: 'crm_deals',
    title: 'title',
    resource: DEAL_SCOPE,
    permission: 'crm.deals:read',
    restrict: (query, ctx, alias) => {
      if (hasPermission(ctx.principal, SEE_ALL_DEALS)) return;
      if (ctx.principal.partyId) query.where(`${alias}.owner_party_id`, ctx.principal.partyId);
      else query.whereRaw('false');
    },
  });
  // …and the tasks assigned to it or about its account.
  api.recordScopes.define(TASK_SCOPE, ({ tables, partyId }) =>
    tables('crm_tasks')
      .select('id')
      .where('assignee_party_id', partyId)
      .union([tables('crm_tasks').select('id').where('account_id', partyId)], true),
  );
}
