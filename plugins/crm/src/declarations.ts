import { z } from 'zod';
import type { PluginApi } from '@rapport/core';

/** Lifecycle of one customer relationship: a conversion changes its status, it never copies it. */
export const CUSTOMER_STATUSES = ['lead', 'prospect', 'customer', 'former-customer'] as const;
export const CUSTOMER_TRANSITIONS = {
  lead: ['prospect', 'customer'],
  prospect: ['customer', 'lead'],
  customer: ['former-customer'],
  'former-customer': ['customer'],
} as const;

/** Seller-side activities (participants: who did it, who it was with). */
export const ACTIVITY_TYPES = ['crm.call', 'crm.email', 'crm.meeting', 'crm.note'] as const;
/** Buyer-side interactions: the self party is the customer of a vendor. */
export const PURCHASE_TYPES = ['crm.offer-received', 'crm.quote-received', 'crm.purchase', 'crm.complaint'] as const;
export type PurchaseType = (typeof PURCHASE_TYPES)[number];
/** A deal's changes on the account's timeline. */
export const DEAL_UPDATE_TYPE = 'crm.deal-update';

export const ACTIVITY_ROLES = ['owner', 'account', 'contact', 'attendee'] as const;
export const PURCHASE_ROLES = ['vendor', 'customer', 'buyer-contact'] as const;

export const COMPANY_SIZES = ['1-10', '11-50', '51-200', '201-1000', '1001+'] as const;

/** Schemas of the CRM party attributes (also used by the importers to check a row up front). */
export const ATTRIBUTE_SCHEMAS = {
  'crm.industry': z.string().min(2).max(100),
  'crm.size': z.enum(COMPANY_SIZES),
  'crm.source': z.string().min(1).max(100),
  'crm.owner': z.uuid(),
} as const;

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

const amountAttributes = z.strictObject({
  amount: z.number().finite().nonnegative().optional(),
  currency: z.string().regex(/^[A-Z]{3}$/).optional(),
  reference: z.string().max(200).optional(),
});

/** Every declaration of the plugin except routes and hooks. */
export function declareModel(api: PluginApi): void {
  api.relationshipTypes.define({
    key: 'crm.customer',
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
    key: 'crm.contact',
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

  const activityTitles: Record<(typeof ACTIVITY_TYPES)[number], string> = { 'crm.call': 'Call', 'crm.email': 'E-mail', 'crm.meeting': 'Meeting', 'crm.note': 'Note' };
  for (const key of ACTIVITY_TYPES) {
    api.interactionTypes.define({ key, title: activityTitles[key], participantRoles: ACTIVITY_ROLES });
  }
  const purchaseTitles: Record<PurchaseType, string> = {
    'crm.offer-received': 'Offer received',
    'crm.quote-received': 'Quote received',
    'crm.purchase': 'Purchase',
    'crm.complaint': 'Complaint',
  };
  for (const key of PURCHASE_TYPES) {
    api.interactionTypes.define({ key, title: purchaseTitles[key], participantRoles: PURCHASE_ROLES, attributes: amountAttributes });
  }
  api.interactionTypes.define({
    key: DEAL_UPDATE_TYPE,
    title: 'Deal update',
    description: 'A deal was opened, moved, won or lost',
    participantRoles: ['account', 'owner'],
    attributes: z.strictObject({
      dealId: z.uuid(),
      change: z.enum(['created', 'stage-changed', 'won', 'lost']),
      fromStageId: z.uuid().nullable().optional(),
      toStageId: z.uuid(),
    }),
  });

  api.indicators.define({
    key: 'crm.lead-score',
    title: 'Lead score',
    description: 'Sum of the points of the scoring rules a lead or prospect meets; details.firedRules lists them',
    subject: 'party',
    kind: 'quantitative',
    unit: 'points',
    aggregate: 'last',
  });

  for (const permission of PERMISSIONS) api.permissions.define(permission);
}
