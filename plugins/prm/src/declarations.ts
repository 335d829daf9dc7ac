import { z } from 'zod';
import type { Knex } from 'knex';
import type { PluginApi, QueryContext, TenantTables } from '@rapport/core';
import { PARTNER_KINDS } from '@rapport/prm-contract';
import type { PrmDeps } from './deps.js';
import { PARTNER_TYPE, STAFF_TYPE, SUPPLIER_TYPE, type PortalParties } from './services/portal.js';

/** Relationship types, interaction types, indicators and permissions of the plugin. */
export function declareModel(api: PluginApi): void {
  api.relationshipTypes.define({
    key: PARTNER_TYPE,
    title: 'Sales-channel partnership',
    description: 'The firm (principal, always the self party) and a channel partner organization; status is the onboarding stage.',
    fromRole: 'principal',
    toRole: 'partner',
    fromKinds: ['organization'],
    toKinds: ['organization'],
    statuses: ['application', 'review', 'active', 'rejected', 'suspended', 'ended'],
    activeStatuses: ['active'],
    transitions: {
      application: ['review', 'rejected'],
      review: ['active', 'rejected'],
      active: ['suspended', 'ended'],
      suspended: ['active', 'ended'],
      rejected: ['review'],
      ended: [],
    },
    attributes: z.strictObject({
      kind: z.enum(PARTNER_KINDS),
      program: z.string().trim().min(1).max(100).optional(),
      tier: z.string().trim().min(1).max(100).optional(),
      /** Territories the partner covers; lead rules with a territory match on them. */
      territories: z.array(z.string().trim().min(1).max(100)).max(100).optional(),
      applicationNote: z.string().max(5000).optional(),
    }),
  });
  api.relationshipTypes.define({
    key: SUPPLIER_TYPE,
    title: 'Supply relationship',
    description: 'A supplier organization and the firm as its buyer (the self party): role reversal, the firm is the customer here.',
    fromRole: 'supplier',
    toRole: 'buyer',
    fromKinds: ['organization'],
    statuses: ['applied', 'approved', 'conditional', 'blocked', 'ended'],
    activeStatuses: ['approved', 'conditional'],
    transitions: {
      applied: ['approved', 'conditional', 'blocked'],
      approved: ['conditional', 'blocked', 'ended'],
      conditional: ['approved', 'blocked', 'ended'],
      blocked: ['approved', 'conditional', 'ended'],
      ended: [],
    },
    attributes: z.strictObject({
      categories: z.array(z.string().trim().min(1).max(100)).max(50).optional(),
      /** Answers to the qualification questionnaire, question key → answer. */
      qualification: z.record(z.string().min(1).max(100), z.union([z.string().max(5000), z.number(), z.boolean()])).optional(),
      conditions: z.string().max(5000).optional(),
    }),
  });
  api.relationshipTypes.define({
    key: STAFF_TYPE,
    title: 'Partner or supplier staff member',
    description: 'A person working for a partner or supplier organization; may be given a portal principal scoped to the person.',
    fromRole: 'staff',
    toRole: 'employer',
    fromKinds: ['person'],
    toKinds: ['organization'],
    statuses: ['active', 'ended'],
    // Staff sees what its organization sees: only the firm names staff, never the portal.
    internalOnly: true,
    attributes: z.strictObject({ title: z.string().trim().min(1).max(200).optional() }),
  });

  const steps = (values: readonly [string, ...string[]]) => z.enum(values);
  api.interactionTypes.define({
    key: 'prm.deal-registration',
    title: 'Deal registration step',
    participantRoles: ['partner', 'principal', 'submitter'],
    attributes: z.strictObject({
      registrationId: z.uuid(),
      step: steps(['submitted', 'approved', 'rejected', 'expired']),
      reason: z.string().max(2000).optional(),
    }),
  });
  api.interactionTypes.define({
    key: 'prm.lead',
    title: 'Lead offer step',
    participantRoles: ['partner', 'principal'],
    attributes: z.strictObject({ leadId: z.uuid(), offerId: z.uuid(), step: z.enum(['offered', 'accepted', 'declined', 'expired']), reason: z.string().max(2000).optional() }),
  });
  api.interactionTypes.define({
    key: 'prm.certification',
    title: 'Course completed by a partner staff member',
    participantRoles: ['staff', 'partner'],
    attributes: z.strictObject({ certificationId: z.uuid(), courseId: z.uuid() }),
  });
  api.interactionTypes.define({ key: 'prm.onboarding', title: 'Partner or supplier onboarding step', participantRoles: ['partner', 'principal', 'supplier', 'buyer'] });
  // Opened by hand or by an automation rule (the full-suite demo opens one when on-time delivery drops below 90 %).
  api.interactionTypes.define({ key: 'prm.supplier-review', title: 'Supplier performance review', participantRoles: ['supplier', 'buyer'] });
  const money = z.number().finite();
  api.interactionTypes.define({
    key: 'prm.mdf',
    title: 'Market development funds step',
    participantRoles: ['partner', 'principal'],
    attributes: z.strictObject({ mdfRequestId: z.uuid(), step: z.enum(['requested', 'approved', 'rejected', 'claimed', 'paid']), amount: money }),
  });
  api.interactionTypes.define({
    key: 'prm.rfq',
    title: 'Request for quotation sent',
    participantRoles: ['buyer', 'supplier'],
    attributes: z.strictObject({ rfqId: z.uuid() }),
  });
  api.interactionTypes.define({
    key: 'prm.quote',
    title: 'Quote received',
    participantRoles: ['buyer', 'supplier'],
    attributes: z.strictObject({ rfqId: z.uuid(), quoteId: z.uuid(), unitPrice: money, currency: z.string() }),
  });
  api.interactionTypes.define({
    key: 'prm.purchase-order',
    title: 'Purchase order placed',
    participantRoles: ['buyer', 'supplier'],
    attributes: z.strictObject({ purchaseOrderId: z.uuid(), quantity: money, unitPrice: money, currency: z.string(), promisedAt: z.string() }),
  });
  api.interactionTypes.define({
    key: 'prm.delivery',
    title: 'Delivery received',
    participantRoles: ['buyer', 'supplier'],
    attributes: z.strictObject({ purchaseOrderId: z.uuid(), deliveryId: z.uuid(), quantityAccepted: money, quantityRejected: money, unitPrice: money }),
  });

  // Quantitative and qualitative, in both directions: the partner rates the firm too.
  api.indicators.define({ key: 'prm.partner-health', title: 'Partner health', subject: 'relationship', kind: 'quantitative', unit: 'score', scale: { min: 0, max: 100 }, aggregate: 'last' });
  api.indicators.define({
    key: 'prm.registration-approval-rate',
    title: 'Deal registrations approved',
    subject: 'relationship',
    kind: 'quantitative',
    unit: '%',
    scale: { min: 0, max: 100 },
    aggregate: 'last',
  });
  // Mutual-benefit scorecard and tier evaluations (rolling figures over the last 365 days, hence `last`).
  api.indicators.define({ key: 'prm.partner-sourced-revenue', title: 'Partner-sourced revenue, last 365 days', subject: 'relationship', kind: 'quantitative', unit: 'currency', aggregate: 'last' });
  api.indicators.define({
    key: 'prm.partner-earnings',
    title: 'Margin and rebates earned by the partner, last 365 days',
    subject: 'relationship',
    kind: 'quantitative',
    unit: 'currency',
    aggregate: 'last',
  });
  api.indicators.define({ key: 'prm.mdf-used', title: 'MDF claimed by the partner, last 365 days', subject: 'relationship', kind: 'quantitative', unit: 'currency', aggregate: 'last' });
  api.indicators.define({ key: 'prm.registration-decision-days', title: 'Mean days to decide a deal registration', subject: 'relationship', kind: 'quantitative', unit: 'days', aggregate: 'last' });
  api.indicators.define({ key: 'prm.lead-acceptance-rate', title: 'Lead offers accepted', subject: 'relationship', kind: 'quantitative', unit: '%', scale: { min: 0, max: 100 }, aggregate: 'last' });
  api.indicators.define({
    key: 'prm.tier-standing',
    title: 'Tier the partner qualifies for (rank, 0 = none)',
    subject: 'relationship',
    kind: 'quantitative',
    unit: 'rank',
    scale: { min: 0, max: 20 },
    aggregate: 'last',
  });
  api.indicators.define({ key: 'prm.on-time-delivery', title: 'On-time delivery', subject: 'relationship', kind: 'quantitative', unit: '%', scale: { min: 0, max: 100 }, aggregate: 'last' });
  api.indicators.define({ key: 'prm.quality', title: 'Quality (accepted share)', subject: 'relationship', kind: 'quantitative', unit: '%', scale: { min: 0, max: 100 }, aggregate: 'last' });
  api.indicators.define({ key: 'prm.price-variance', title: 'Price variance against the order', subject: 'relationship', kind: 'quantitative', unit: '%', aggregate: 'last' });
  api.indicators.define({ key: 'prm.rfq-responsiveness', title: 'RFQs answered in time', subject: 'relationship', kind: 'quantitative', unit: '%', scale: { min: 0, max: 100 }, aggregate: 'last' });
  api.indicators.define({ key: 'prm.supplier-score', title: 'Weighted supplier score', subject: 'relationship', kind: 'quantitative', unit: 'score', scale: { min: 0, max: 100 }, aggregate: 'last' });
  const rating = { name: 'rating', levels: ['poor', 'fair', 'good', 'excellent'] } as const;
  api.indicators.define({ key: 'prm.supplier-rating', title: 'Supplier rating', subject: 'relationship', kind: 'qualitative', scale: rating });
  api.indicators.define({ key: 'prm.partner-rating', title: 'Partner rating (of the partner)', subject: 'relationship', kind: 'qualitative', scale: rating });
  api.indicators.define({ key: 'prm.principal-rating', title: 'Rating of the firm, given by its partner or supplier', subject: 'relationship', kind: 'qualitative', scale: rating });

  for (const resource of ['partners', 'suppliers', 'registrations', 'rfqs', 'purchase-orders', 'scorecards']) {
    api.permissions.define({ key: `prm.${resource}:read`, description: `Read ${resource} (a portal principal: its own only)` });
    api.permissions.define({ key: `prm.${resource}:write`, description: `Create and change ${resource} (a portal principal: its own only)` });
  }
  api.permissions.define({ key: 'prm.mdf:read', description: 'Read MDF budgets and requests (a partner: its program and its requests)' });
  api.permissions.define({ key: 'prm.mdf:write', description: 'Request and claim MDF (a partner: its own)' });
  api.permissions.define({ key: 'prm.mdf:decide', description: 'Create budgets, approve, reject and pay MDF (never a portal principal)' });
  api.permissions.define({ key: 'prm.leads:read', description: 'Read leads and lead offers (a partner: the offers made to it) and the distribution rules' });
  api.permissions.define({ key: 'prm.leads:write', description: 'Accept or decline lead offers (a partner: its own)' });
  api.permissions.define({ key: 'prm.leads:manage', description: 'Create and distribute leads, define distribution rules (never a portal principal)' });
  api.permissions.define({ key: 'prm.training:read', description: 'Read courses and certifications (a partner: its staff’s)' });
  api.permissions.define({ key: 'prm.training:write', description: 'Define courses and record completions (never a portal principal)' });
  api.permissions.define({ key: 'prm.plans:read', description: 'Read joint business plans (a partner: its own)' });
  api.permissions.define({ key: 'prm.plans:write', description: 'Start and edit joint business plans (a partner: its own)' });
  api.permissions.define({ key: 'prm.documents:read', description: 'Read the shared information base (a partner: what its program and tier allow)' });
  api.permissions.define({ key: 'prm.documents:write', description: 'Share documents and links (a partner: its own contributions)' });
  api.permissions.define({ key: 'prm.registrations:decide', description: 'Approve, reject and expire deal registrations (never granted to a portal principal)' });
}

/** Records a portal principal sees because its organization owns them (`owner` column). */
const OWNED_BY_PORTAL_PARTY = [
  { resource: 'prm.registrations', table: 'prm_registrations', id: 'id', owner: 'partner_id' },
  // A supplier sees the RFQs it is invited to.
  { resource: 'prm.rfqs', table: 'prm_rfq_invitations', id: 'rfq_id', owner: 'supplier_id' },
  { resource: 'prm.mdf-requests', table: 'prm_mdf_requests', id: 'id', owner: 'partner_id' },
  { resource: 'prm.lead-offers', table: 'prm_lead_offers', id: 'id', owner: 'partner_id' },
  // A partner sees the leads offered to it (and, inside them, only its own offers).
  { resource: 'prm.leads', table: 'prm_lead_offers', id: 'lead_id', owner: 'partner_id' },
  { resource: 'prm.certifications', table: 'prm_certifications', id: 'id', owner: 'partner_id' },
  { resource: 'prm.plans', table: 'prm_plans', id: 'id', owner: 'partner_id' },
  { resource: 'prm.purchase-orders', table: 'prm_purchase_orders', id: 'id', owner: 'supplier_id' },
] as const;

type ScopeDeps = Pick<PrmDeps, 'relationships' | 'interactions' | 'observations'>;

/**
 * Portal scope: what a principal scoped to a partner or supplier (or one of its staff) sees.
 * Compiled into every query as `id in (…)`; kernel data comes from the tenant-wide views.
 */
export function declareScopes(api: PluginApi, deps: ScopeDeps, portal: PortalParties): void {
  const { relationships, interactions, observations } = deps;
  // Search finds registrations within the same scope as their list (a partner: its own).
  api.search.define({
    key: 'prm.registration',
    label: 'Deal registrations',
    table: 'prm_registrations',
    title: 'customer_name',
    text: ['notes'],
    resource: 'prm.registrations',
    permission: 'prm.registrations:read',
  });
  for (const { resource, table, id, owner } of OWNED_BY_PORTAL_PARTY) {
    api.recordScopes.define(resource, ({ tables, ctx, partyId }) =>
      tables(table)
        .select(id === 'id' ? 'id' : `${id} as id`)
        .whereIn(owner, portal.of(ctx, partyId)),
    );
  }
  // A partner sees the budgets of the program its active partnership belongs to.
  api.recordScopes.define('prm.mdf-budgets', ({ tables, ctx, partyId }) =>
    tables('prm_mdf_budgets')
      .select('id')
      .whereIn('program', relationships.query(ctx, { type: PARTNER_TYPE, status: 'active' }).whereIn('to_party_id', portal.of(ctx, partyId)).select(tables.raw("attributes->>'program'"))),
  );
  api.recordScopes.define('prm.documents', ({ tables, ctx, partyId }) => documentScope(tables, ctx, partyId, deps, portal));
  // A staff member sees its organization's partnership / supply relationship…
  const ownRelationships = (ctx: QueryContext, partyId: string) =>
    relationships.query(ctx, { type: [PARTNER_TYPE, SUPPLIER_TYPE] }).where((w) => w.whereIn('to_party_id', portal.of(ctx, partyId)).orWhereIn('from_party_id', portal.of(ctx, partyId)));
  api.recordScopes.extend('relationships', ({ ctx, partyId }) => ownRelationships(ctx, partyId).select('id'));
  // …the firm at the other end of it…
  api.recordScopes.extend('parties', ({ tables, ctx, partyId }) =>
    relationships
      .query(ctx, { type: [PARTNER_TYPE, SUPPLIER_TYPE] })
      .select(tables.raw('case when type = ? then from_party_id else to_party_id end as id', [PARTNER_TYPE]))
      .where((w) =>
        w.where((p) => p.where('type', PARTNER_TYPE).whereIn('to_party_id', portal.of(ctx, partyId))).orWhere((s) => s.where('type', SUPPLIER_TYPE).whereIn('from_party_id', portal.of(ctx, partyId))),
      ),
  );
  // …the observations on those relationships (scorecards and tier standings, both ways)…
  api.recordScopes.extend('observations', ({ ctx, partyId }) =>
    observations.query(ctx, { subjectType: 'relationship' }).select('id').whereIn('subject_id', ownRelationships(ctx, partyId).select('id')),
  );
  // …and the PRM steps its organization took part in (registrations, RFQs, POs).
  api.recordScopes.extend('interactions', ({ ctx, partyId }) =>
    interactions
      .participantQuery(ctx, {})
      .select('interaction_id as id')
      .whereIn('party_id', portal.of(ctx, partyId))
      .whereIn('interaction_id', interactions.query(ctx, {}).select('id').where('type', 'like', 'prm.%')),
  );
}

/**
 * What a partner sees of the shared information base: its own contributions, the firm's
 * documents for its program and tier (while its partnership is active), and other partners'
 * contributions they chose to share.
 */
function documentScope(tables: TenantTables, ctx: QueryContext, partyId: string, { relationships }: ScopeDeps, portal: PortalParties) {
  const partnerships = () => relationships.query(ctx, { type: PARTNER_TYPE, status: 'active' }).whereIn('to_party_id', portal.of(ctx, partyId));
  const own = tables('prm_documents').select('id').whereIn('contributor_id', portal.of(ctx, partyId));
  const firms = tables('prm_documents as d')
    .join(partnerships().as('r'), (on: Knex.JoinClause) =>
      on.on(tables.raw("(d.program is null or d.program = r.attributes->>'program')")).andOn(tables.raw("(d.tiers is null or jsonb_exists(d.tiers, coalesce(r.attributes->>'tier', '')))")),
    )
    .whereNull('d.contributor_id')
    .select('d.id');
  const shared = tables('prm_documents').select('id').whereNotNull('contributor_id').where('shared_with_partners', true).whereExists(partnerships());
  return own.union([firms, shared]);
}
