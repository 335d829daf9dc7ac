import { z } from 'zod';
import { decimalNumber, isoDate, isoTimestamp, relationshipSchema } from '@rapport/core';

/*
 * CRM's records as other plugins and clients see them: one zod object per record, which is
 * its API shape (the routes' response schema, the OpenAPI document) and, by z.infer, its
 * TypeScript type; and the keys and constants of what CRM declares in the kernel.
 */

// ── What CRM declares in the kernel ─────────────────────────────────────────

/** Relationship type: a vendor sells to a customer; either end may be the self party. */
export const CUSTOMER_TYPE = 'crm.customer';
/** Relationship type: a person works at an organization. */
export const CONTACT_TYPE = 'crm.contact';

/** Lifecycle of one customer relationship: a conversion changes its status, it never copies it. */
export const CUSTOMER_STATUSES = ['lead', 'prospect', 'customer', 'former-customer'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];
export const CUSTOMER_TRANSITIONS = {
  lead: ['prospect', 'customer'],
  prospect: ['customer', 'lead'],
  customer: ['former-customer'],
  'former-customer': ['customer'],
} as const;

/** Seller-side activities (participants: who did it, who it was with). */
export const ACTIVITY_TYPES = ['crm.call', 'crm.email', 'crm.meeting', 'crm.note'] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];
export const ACTIVITY_ROLES = ['owner', 'account', 'contact', 'attendee'] as const;

/** Buyer-side interactions: the self party is the customer of a vendor. */
export const PURCHASE_TYPES = ['crm.offer-received', 'crm.quote-received', 'crm.purchase', 'crm.complaint'] as const;
export type PurchaseType = (typeof PURCHASE_TYPES)[number];
export const PURCHASE_ROLES = ['vendor', 'customer', 'buyer-contact'] as const;

/** A deal's changes on the account's timeline. */
export const DEAL_UPDATE_TYPE = 'crm.deal-update';
export const DEAL_CHANGES = ['created', 'stage-changed', 'won', 'lost'] as const;
export type DealChange = (typeof DEAL_CHANGES)[number];

/** The indicator a lead score is recorded as (subject: party, unit: points). */
export const LEAD_SCORE = 'crm.lead-score';

export const COMPANY_SIZES = ['1-10', '11-50', '51-200', '201-1000', '1001+'] as const;

/** The CRM party attributes by key, as the kernel checks them (and the importers, up front). */
export const ATTRIBUTE_SCHEMAS = {
  'crm.industry': z.string().min(2).max(100),
  'crm.size': z.enum(COMPANY_SIZES),
  'crm.source': z.string().min(1).max(100),
  'crm.owner': z.uuid(),
} as const;

// ── Field shapes ────────────────────────────────────────────────────────────

export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR');
/** Money with at most two decimals, below 10^16 (the deals' numeric(18,2)). */
export const amountSchema = decimalNumber(18, 2).nonnegative();

// ── Pipelines and deals ─────────────────────────────────────────────────────

export const STAGE_OUTCOMES = ['open', 'won', 'lost'] as const;
export type StageOutcome = (typeof STAGE_OUTCOMES)[number];
/** A deal's status mirrors the outcome of its stage. */
export type DealStatus = StageOutcome;

export const stageSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  position: z.number().int(),
  /** Chance of winning a deal in this stage, 0–100; weights the forecast. */
  probability: z.number(),
  outcome: z.enum(STAGE_OUTCOMES),
});
export type Stage = z.infer<typeof stageSchema>;

export const pipelineSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  stages: z.array(stageSchema),
  createdAt: isoTimestamp,
});
export type Pipeline = z.infer<typeof pipelineSchema>;

export const dealSchema = z.object({
  id: z.uuid(),
  pipelineId: z.uuid(),
  stageId: z.uuid(),
  title: z.string(),
  amount: z.number(),
  currency: z.string(),
  expectedClose: isoDate.nullable(),
  ownerPartyId: z.uuid().nullable(),
  accountId: z.uuid(),
  contactIds: z.array(z.uuid()),
  status: z.enum(STAGE_OUTCOMES),
  closedAt: isoTimestamp.nullable(),
  /** Set when another plugin opened the deal, e.g. `prm.registration:<id>`; null for a deal opened directly. */
  source: z.string().nullable(),
  /** Custom field values (docs/custom-fields.md), keyed by field. */
  attributes: z.record(z.string(), z.unknown()),
  version: z.number().int(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Deal = z.infer<typeof dealSchema>;

/** The `source` of a deal opened from a PRM deal registration. */
export const REGISTRATION_SOURCE_PREFIX = 'prm.registration:';
export const registrationSource = (registrationId: string) => `${REGISTRATION_SOURCE_PREFIX}${registrationId}`;

export const stageChangeSchema = z.object({
  id: z.uuid(),
  dealId: z.uuid(),
  fromStageId: z.uuid().nullable(),
  toStageId: z.uuid(),
  changedAt: isoTimestamp,
  changedByPartyId: z.uuid().nullable(),
});
export type StageChange = z.infer<typeof stageChangeSchema>;

// ── Tasks ───────────────────────────────────────────────────────────────────

export const taskSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  dueAt: isoTimestamp,
  assigneePartyId: z.uuid().nullable(),
  accountId: z.uuid().nullable(),
  dealId: z.uuid().nullable(),
  done: z.boolean(),
  doneAt: isoTimestamp.nullable(),
  version: z.number().int(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Task = z.infer<typeof taskSchema>;

// ── Lead scoring ────────────────────────────────────────────────────────────

export const scoreConditionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('attribute'), key: z.string().min(1).max(100), equals: z.union([z.string().max(500), z.number().finite(), z.boolean()]) }),
  z.strictObject({ kind: z.literal('attribute-present'), key: z.string().min(1).max(100) }),
  z.strictObject({ kind: z.literal('interactions'), type: z.string().min(1).max(100), atLeast: z.number().int().min(1).max(1_000_000) }),
]);
export type ScoreCondition = z.infer<typeof scoreConditionSchema>;

/** A scoring rule kept as data. */
export const scoreRuleSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  points: z.number().int(),
  condition: scoreConditionSchema,
  createdAt: isoTimestamp,
});
export type ScoreRule = z.infer<typeof scoreRuleSchema>;

/** A rule as `GET /scoring/rules` lists it: kept as data, or contributed in code by a plugin (no condition, no time). */
export const listedScoreRuleSchema = z.object({
  /** The rule's id, or a contributed rule's key. */
  id: z.string(),
  name: z.string(),
  points: z.number().int(),
  condition: scoreConditionSchema.nullable(),
  createdAt: isoTimestamp.nullable(),
  source: z.enum(['data', 'plugin']),
});
export type ListedScoreRule = z.infer<typeof listedScoreRuleSchema>;

export const firedRuleSchema = z.object({ id: z.string(), name: z.string(), points: z.number() });
export type FiredRule = z.infer<typeof firedRuleSchema>;

export const leadScoreSchema = z.object({
  partyId: z.uuid(),
  score: z.number(),
  firedRules: z.array(firedRuleSchema),
  /** False when the score equals the latest observation and nothing was recorded. */
  recorded: z.boolean(),
});
export type LeadScore = z.infer<typeof leadScoreSchema>;

// ── Saved views ─────────────────────────────────────────────────────────────

/** The lists a saved view applies to. */
export const VIEW_RESOURCES = ['deals', 'customers', 'vendors'] as const;
export type ViewResource = (typeof VIEW_RESOURCES)[number];

export const savedViewSchema = z.object({
  id: z.uuid(),
  resource: z.enum(VIEW_RESOURCES),
  name: z.string(),
  /** Exactly the filters the list route accepts. */
  filters: z.record(z.string(), z.unknown()),
  createdAt: isoTimestamp,
});
export type SavedView = z.infer<typeof savedViewSchema>;

// ── Accounts: customers, vendors, the other side ────────────────────────────

/** A counterpart of the self party in `crm.customer`: the relationship and the party at its other end. */
export const counterpartSchema = z.object({
  relationship: relationshipSchema,
  party: z.object({ id: z.uuid(), kind: z.string(), name: z.string(), attributes: z.record(z.string(), z.unknown()) }),
});
export type Counterpart = z.infer<typeof counterpartSchema>;

/** A relationship as the party at its non-self end would record it: ends and roles swapped. */
export const mirroredRelationshipSchema = relationshipSchema.extend({
  mirrored: z.literal(true),
  viewpoint: z.object({ partyId: z.uuid(), role: z.string(), counterpartId: z.uuid(), counterpartRole: z.string() }),
});
export type MirroredRelationship = z.infer<typeof mirroredRelationshipSchema>;

// ── Reports ─────────────────────────────────────────────────────────────────

/** Figures of one currency: amounts are never summed across currencies. */
export const moneyFiguresSchema = z.object({ currency: z.string(), count: z.number().int(), amount: z.number(), weightedAmount: z.number() });
export type MoneyFigures = z.infer<typeof moneyFiguresSchema>;

export const pipelineReportSchema = z.object({
  pipelineId: z.uuid(),
  stages: z.array(
    z.object({
      stageId: z.uuid(),
      name: z.string(),
      position: z.number().int(),
      probability: z.number(),
      outcome: z.enum(STAGE_OUTCOMES),
      count: z.number().int(),
      byCurrency: z.array(moneyFiguresSchema),
    }),
  ),
});
export type PipelineReport = z.infer<typeof pipelineReportSchema>;

export const conversionReportSchema = z.object({
  pipelineId: z.uuid(),
  stages: z.array(
    z.object({
      stageId: z.uuid(),
      name: z.string(),
      outcome: z.enum(['open', 'won']),
      reached: z.number().int(),
      nextStageId: z.uuid().nullable(),
      advanced: z.number().int().nullable(),
      conversionRate: z.number().nullable(),
    }),
  ),
});
export type ConversionReport = z.infer<typeof conversionReportSchema>;

export const winRateSchema = z.object({ won: z.number().int(), lost: z.number().int(), winRate: z.number().nullable() });
export type WinRate = z.infer<typeof winRateSchema>;

export const forecastSchema = z.object({ data: z.array(moneyFiguresSchema.extend({ month: z.string().nullable() })) });
export type Forecast = z.infer<typeof forecastSchema>;

export const activityReportSchema = z.object({
  data: z.array(z.object({ ownerPartyId: z.uuid(), total: z.number().int(), byType: z.record(z.string(), z.number().int()) })),
});
export type ActivityReport = z.infer<typeof activityReportSchema>;
