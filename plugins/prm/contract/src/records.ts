import { z } from 'zod';
import { isoDate, isoTimestamp, observationSchema } from '@rapport/core';

/*
 * PRM's records as other plugins and clients see them: one zod object per record, the API
 * shape (the routes' response schemas, OpenAPI) and, by `z.infer`, its TypeScript type.
 */

// ─── Kernel records PRM declares ─────────────────────────────────────────────

/** PRM's relationship types: the partnership and the supply relationship have the firm's self party at one end. */
export const PRM_RELATIONSHIP_TYPES = {
  /** principal (the self party) → partner (organization); status is the onboarding stage. */
  partner: 'prm.partner',
  /** supplier (organization) → buyer (the self party). */
  supplier: 'prm.supplier',
  /** staff (person) → employer (a partner or supplier organization); the person acts for it in the portal. */
  staff: 'prm.staff',
} as const;

export const PARTNER_KINDS = ['reseller', 'referral', 'distributor', 'technology'] as const;
export type PartnerKind = (typeof PARTNER_KINDS)[number];

/** The recurring expiry sweep (`rapport.scheduler.runNow(SWEEP_TASK)` runs it at once). */
export const SWEEP_TASK = 'prm.sweep-expired';

// ─── Deal registration ──────────────────────────────────────────────────────

export const REGISTRATION_STATUSES = ['submitted', 'approved', 'rejected', 'expired'] as const;
export type RegistrationStatus = (typeof REGISTRATION_STATUSES)[number];

/** PRM's own kinds; a plugin's `prm.registration.conflicts` filter adds its own `reason` as the kind. */
export type ConflictKind = 'registration' | 'existing-customer' | (string & {});

export const registrationConflictSchema = z.object({
  kind: z.string().describe("'registration', 'existing-customer', or the reason another plugin reported"),
  /** Set for conflicts another plugin reported: its explanation, shown to the partner and the reviewer. */
  message: z.string().optional(),
  /** The other plugin's record the conflict is about (a CRM deal, say); the firm only. */
  recordId: z.string().optional(),
  /** The other registration or the existing customer party: the firm only (it would reveal another partner's pipeline). */
  registrationId: z.uuid().optional(),
  partyId: z.uuid().optional(),
  filedAt: isoTimestamp.optional(),
});
export type RegistrationConflict = z.infer<typeof registrationConflictSchema>;

export const registrationSchema = z.object({
  id: z.uuid(),
  partnerId: z.uuid(),
  relationshipId: z.uuid(),
  customerName: z.string(),
  customerDomain: z.string().nullable(),
  customerPartyId: z.uuid().nullable(),
  value: z.number(),
  currency: z.string(),
  expectedCloseDate: isoDate,
  notes: z.string().nullable(),
  /** An approved registration whose protection has run out reads `expired`, before the sweep records it. */
  status: z.enum(REGISTRATION_STATUSES),
  conflicts: z.array(registrationConflictSchema),
  decisionReason: z.string().nullable(),
  decidedAt: isoTimestamp.nullable(),
  protectedUntil: isoTimestamp.nullable(),
  /** Set when a sales plugin converted the approved registration into a deal. */
  dealId: z.string().nullable(),
  version: z.number().int(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Registration = z.infer<typeof registrationSchema>;

// ─── Programs and tiers ─────────────────────────────────────────────────────

/** What tier criteria can require; each is computed from PRM's own records. */
export const TIER_METRICS = ['partnerSourcedRevenue', 'approvedRegistrations', 'registrationApprovalRate', 'certifiedStaff'] as const;
export type TierMetric = (typeof TIER_METRICS)[number];

export const tierSchema = z.object({
  name: z.string(),
  /** Minimum per metric; a metric left out is no criterion. */
  criteria: z.partialRecord(z.enum(TIER_METRICS), z.number()),
  /** What the tier gives the partner, as percentages of its partner-sourced revenue (feeds the mutual scorecard). */
  benefits: z.object({ marginPercent: z.number().optional(), rebatePercent: z.number().optional() }).optional(),
});
export type Tier = z.infer<typeof tierSchema>;

/**
 * What a partner sees of an MDF budget of its program: `own`, only its own figures (the
 * default: the remaining budget would let one partner work out what the others spent), or
 * `shared`, the remaining budget too.
 */
export const MDF_VISIBILITIES = ['own', 'shared'] as const;
export type MdfVisibility = (typeof MDF_VISIBILITIES)[number];

export const programSchema = z.object({
  id: z.uuid(),
  /** Matches the `program` attribute of `prm.partner` relationships. */
  name: z.string(),
  description: z.string().nullable(),
  /** Lowest first. */
  tiers: z.array(tierSchema),
  mdfVisibility: z.enum(MDF_VISIBILITIES),
  createdAt: isoTimestamp,
});
export type Program = z.infer<typeof programSchema>;

export const tierStandingSchema = z.object({
  partnerId: z.uuid(),
  relationshipId: z.uuid(),
  program: z.string(),
  /** The tier on the partnership (set by the firm). */
  currentTier: z.string().nullable(),
  /** The highest tier whose criteria the partner meets now. */
  qualifiedTier: z.string().nullable(),
  metrics: z.object({ partnerSourcedRevenue: z.number(), approvedRegistrations: z.number(), registrationApprovalRate: z.number(), certifiedStaff: z.number() }),
  nextTier: z.string().nullable(),
  /** What is still missing for the next tier, per criterion (0 when met). */
  gap: z.partialRecord(z.enum(TIER_METRICS), z.number()),
});
export type TierStanding = z.infer<typeof tierStandingSchema>;

/** A tier evaluation: the standing and the `prm.tier-standing` observation that records it. */
export const tierEvaluationSchema = z.object({ standing: tierStandingSchema, observation: observationSchema });
export type TierEvaluation = z.infer<typeof tierEvaluationSchema>;

/**
 * Value in both directions of one partnership, over the trailing year. The partner reads the
 * same figures as the firm: what it brought (revenue), what it got (margin, rebates, MDF,
 * leads) and how the firm treated it (approval rate, time to decision).
 */
export const partnerScorecardSchema = z.object({
  partnerId: z.uuid(),
  relationshipId: z.uuid(),
  periodStart: isoTimestamp,
  periodEnd: isoTimestamp,
  /** To the firm: value of the partner's registrations once approved. */
  partnerSourcedRevenue: z.number(),
  /** To the partner: revenue × the margin and rebate percentages of its current tier (null without such terms). */
  marginEarned: z.number().nullable(),
  rebatesEarned: z.number().nullable(),
  /** To the partner: MDF claimed (claimed or paid requests). */
  mdfUsed: z.number(),
  /** Of the registrations the firm decided, the share approved (null: none decided). */
  registrationApprovalRate: z.number().nullable(),
  /** Mean days from submission to the firm's decision (first-to-file rejections at submission left out). */
  meanDaysToDecision: z.number().nullable(),
  registrationsDecided: z.number().int(),
  /** Of the lead offers that ended (accepted, declined or expired), the share accepted. */
  leadAcceptanceRate: z.number().nullable(),
  leadsOffered: z.number().int(),
  leadsAccepted: z.number().int(),
});
export type PartnerScorecard = z.infer<typeof partnerScorecardSchema>;

/** A scorecard snapshot: the figures and the observations that record them on the partnership. */
export const partnerScorecardSnapshotSchema = z.object({ scorecard: partnerScorecardSchema, observations: z.array(observationSchema) });
export type PartnerScorecardSnapshot = z.infer<typeof partnerScorecardSnapshotSchema>;

// ─── Market development funds ───────────────────────────────────────────────

export const MDF_STATUSES = ['requested', 'approved', 'rejected', 'claimed', 'paid'] as const;
export type MdfStatus = (typeof MDF_STATUSES)[number];

/** A partner's own figures on one MDF budget, by the state of its requests. */
export const mdfOwnFiguresSchema = z.object({
  /** Requested and not decided yet. */
  requested: z.number(),
  /** Approved, claimed or paid: what the budget set aside for this partner. */
  approved: z.number(),
  /** Claimed or paid: what this partner spent. */
  claimed: z.number(),
});
export type MdfOwnFigures = z.infer<typeof mdfOwnFiguresSchema>;

export const mdfBudgetSchema = z.object({
  id: z.uuid(),
  program: z.string(),
  period: z.string(),
  currency: z.string(),
  amount: z.number(),
  /** What is left; null to a partner unless the program shares it (`mdfVisibility: 'shared'`). */
  remaining: z.number().nullable(),
  /** The calling partner's own figures; null to the firm. */
  own: mdfOwnFiguresSchema.nullable(),
  createdAt: isoTimestamp,
});
export type MdfBudget = z.infer<typeof mdfBudgetSchema>;

export const mdfRequestSchema = z.object({
  id: z.uuid(),
  budgetId: z.uuid(),
  partnerId: z.uuid(),
  relationshipId: z.uuid(),
  activity: z.string(),
  amount: z.number(),
  status: z.enum(MDF_STATUSES),
  decisionReason: z.string().nullable(),
  claimedAmount: z.number().nullable(),
  proof: z.string().nullable(),
  version: z.number().int(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type MdfRequest = z.infer<typeof mdfRequestSchema>;

// ─── Lead distribution ──────────────────────────────────────────────────────

export const LEAD_STATUSES = ['open', 'offered', 'accepted', 'unassigned'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];
export const OFFER_STATUSES = ['offered', 'accepted', 'declined', 'expired'] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];

/** A distribution rule, kept as data: which partnerships may be offered a lead, and with what weight. */
export const leadRuleSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  /** null: any lead; else only leads of this territory, to partners covering it. */
  territory: z.string().nullable(),
  /** null: any tier. */
  tiers: z.array(z.string()).nullable(),
  /** null: any partner kind. */
  kinds: z.array(z.enum(PARTNER_KINDS)).nullable(),
  weight: z.number().int(),
  active: z.boolean(),
  createdAt: isoTimestamp,
});
export type LeadRule = z.infer<typeof leadRuleSchema>;

export const leadOfferSchema = z.object({
  id: z.uuid(),
  leadId: z.uuid(),
  partnerId: z.uuid(),
  relationshipId: z.uuid(),
  ruleId: z.uuid(),
  /** An open offer past its deadline reads `expired`, before the sweep records it. */
  status: z.enum(OFFER_STATUSES),
  offeredAt: isoTimestamp,
  respondBy: isoTimestamp,
  respondedAt: isoTimestamp.nullable(),
  declineReason: z.string().nullable(),
});
export type LeadOffer = z.infer<typeof leadOfferSchema>;

export const leadSchema = z.object({
  id: z.uuid(),
  customerName: z.string(),
  customerDomain: z.string().nullable(),
  /** A partner sees the contact once it accepted the lead. */
  contactName: z.string().nullable(),
  contactEmail: z.string().nullable(),
  territory: z.string().nullable(),
  value: z.number().nullable(),
  currency: z.string().nullable(),
  description: z.string().nullable(),
  status: z.enum(LEAD_STATUSES),
  responseHours: z.number().int(),
  /** A partner sees it once the lead is its own. */
  acceptedPartnerId: z.uuid().nullable(),
  /** The firm sees every offer; a partner only the offers made to it. */
  offers: z.array(leadOfferSchema),
  version: z.number().int(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Lead = z.infer<typeof leadSchema>;

/** An offer together with the lead it is for, as the partner's inbox shows it. */
export const leadOfferWithLeadSchema = leadOfferSchema.extend({ lead: leadSchema.omit({ offers: true }) });
export type LeadOfferWithLead = z.infer<typeof leadOfferWithLeadSchema>;

// ─── Training and certification ─────────────────────────────────────────────

export const courseSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  description: z.string().nullable(),
  /** Days a certification stays valid after completion; null: it never expires. */
  validityDays: z.number().int().nullable(),
  createdAt: isoTimestamp,
});
export type Course = z.infer<typeof courseSchema>;

export const certificationSchema = z.object({
  id: z.uuid(),
  courseId: z.uuid(),
  personId: z.uuid(),
  /** The partner organization the person was staff of when certified. */
  partnerId: z.uuid(),
  completedAt: isoTimestamp,
  expiresAt: isoTimestamp.nullable(),
  /** Not expired at the time of reading. */
  valid: z.boolean(),
  createdAt: isoTimestamp,
});
export type Certification = z.infer<typeof certificationSchema>;

// ─── Joint business plans ───────────────────────────────────────────────────

export const PLAN_STATUSES = ['draft', 'active', 'closed'] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];
export const PLAN_ITEM_KINDS = ['goal', 'milestone'] as const;
export type PlanItemKind = (typeof PLAN_ITEM_KINDS)[number];
export const PLAN_ITEM_STATUSES = ['open', 'done', 'dropped'] as const;
export type PlanItemStatus = (typeof PLAN_ITEM_STATUSES)[number];
export const PLAN_EDIT_ACTIONS = ['plan-created', 'plan-updated', 'item-added', 'item-updated'] as const;
export type PlanEditAction = (typeof PLAN_EDIT_ACTIONS)[number];

export const planSchema = z.object({
  id: z.uuid(),
  partnerId: z.uuid(),
  relationshipId: z.uuid(),
  title: z.string(),
  period: z.string(),
  status: z.enum(PLAN_STATUSES),
  version: z.number().int(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
});
export type Plan = z.infer<typeof planSchema>;

export const planItemSchema = z.object({
  id: z.uuid(),
  kind: z.enum(PLAN_ITEM_KINDS),
  title: z.string(),
  target: z.number().nullable(),
  actual: z.number().nullable(),
  unit: z.string().nullable(),
  dueDate: isoDate.nullable(),
  status: z.enum(PLAN_ITEM_STATUSES),
  version: z.number().int(),
  updatedAt: isoTimestamp,
});
export type PlanItem = z.infer<typeof planItemSchema>;

/** One edit of a plan or of one of its items, with who made it. */
export const planEditSchema = z.object({
  id: z.uuid(),
  itemId: z.uuid().nullable(),
  action: z.enum(PLAN_EDIT_ACTIONS),
  changes: z.record(z.string(), z.unknown()),
  /** The principal, the party it acts for, and which side of the partnership. */
  principalKind: z.string(),
  principalId: z.string(),
  partyId: z.uuid().nullable(),
  side: z.enum(['firm', 'partner']),
  at: isoTimestamp,
});
export type PlanEdit = z.infer<typeof planEditSchema>;

export const planDetailSchema = planSchema.extend({ items: z.array(planItemSchema), edits: z.array(planEditSchema) });
export type PlanDetail = z.infer<typeof planDetailSchema>;

// ─── Shared information base ────────────────────────────────────────────────

/**
 * A document or link of the shared information base. The firm's are shared by program and
 * tier; a partner's own contributions are seen by the firm and, if it chose so, by the
 * other partners.
 */
export const sharedDocumentSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  description: z.string().nullable(),
  url: z.string().nullable(),
  content: z.string().nullable(),
  program: z.string().nullable(),
  tiers: z.array(z.string()).nullable(),
  /** null: the firm's; else the partner organization that contributed it. */
  contributorId: z.uuid().nullable(),
  sharedWithPartners: z.boolean(),
  archivedAt: isoTimestamp.nullable(),
  createdAt: isoTimestamp,
});
export type SharedDocument = z.infer<typeof sharedDocumentSchema>;

// ─── Buy side: RFQs, purchase orders, supplier scorecard ────────────────────

export const RFQ_STATUSES = ['open', 'awarded', 'cancelled'] as const;
export type RfqStatus = (typeof RFQ_STATUSES)[number];
export const QUOTE_STATUSES = ['submitted', 'awarded', 'lost'] as const;
export type QuoteStatus = (typeof QUOTE_STATUSES)[number];

export const quoteSchema = z.object({
  id: z.uuid(),
  rfqId: z.uuid(),
  supplierId: z.uuid(),
  unitPrice: z.number(),
  currency: z.string(),
  leadTimeDays: z.number().int(),
  notes: z.string().nullable(),
  status: z.enum(QUOTE_STATUSES),
  submittedAt: isoTimestamp,
  /** Submitted by the RFQ's `respondBy`. */
  onTime: z.boolean(),
});
export type Quote = z.infer<typeof quoteSchema>;

export const rfqSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  description: z.string().nullable(),
  quantity: z.number(),
  unit: z.string(),
  respondBy: isoTimestamp,
  status: z.enum(RFQ_STATUSES),
  /** A supplier sees it only when the awarded quote is its own. */
  awardedQuoteId: z.uuid().nullable(),
  /** The firm sees every invited supplier and quote; a supplier only its own. */
  supplierIds: z.array(z.uuid()),
  quotes: z.array(quoteSchema),
  version: z.number().int(),
  createdAt: isoTimestamp,
});
export type Rfq = z.infer<typeof rfqSchema>;

export const deliverySchema = z.object({
  id: z.uuid(),
  purchaseOrderId: z.uuid(),
  receivedAt: isoTimestamp,
  quantityAccepted: z.number(),
  quantityRejected: z.number(),
  /** Price actually invoiced per unit. */
  unitPrice: z.number(),
  interactionId: z.uuid(),
});
export type Delivery = z.infer<typeof deliverySchema>;

export const purchaseOrderSchema = z.object({
  id: z.uuid(),
  supplierId: z.uuid(),
  relationshipId: z.uuid(),
  rfqId: z.uuid().nullable(),
  quoteId: z.uuid().nullable(),
  reference: z.string(),
  quantity: z.number(),
  unitPrice: z.number(),
  currency: z.string(),
  orderedAt: isoTimestamp,
  promisedAt: isoTimestamp,
  interactionId: z.uuid(),
  deliveries: z.array(deliverySchema),
  createdAt: isoTimestamp,
});
export type PurchaseOrder = z.infer<typeof purchaseOrderSchema>;

export const SUPPLIER_STANDINGS = ['preferred', 'approved', 'watch', 'blocked'] as const;
export type SupplierStanding = (typeof SUPPLIER_STANDINGS)[number];

export const scorecardWeightsSchema = z.object({ onTime: z.number(), quality: z.number(), price: z.number(), responsiveness: z.number() });
export type ScorecardWeights = z.infer<typeof scorecardWeightsSchema>;

export const supplierScorecardSchema = z.object({
  supplierId: z.uuid(),
  relationshipId: z.uuid(),
  relationshipStatus: z.string(),
  deliveries: z.number().int(),
  /** Percent of deliveries received by the promised date. */
  onTimeDelivery: z.number().nullable(),
  /** Percent of delivered units accepted. */
  quality: z.number().nullable(),
  /** Percent paid above (+) or below (−) the ordered price, weighted by delivered units. */
  priceVariance: z.number().nullable(),
  /** Percent of RFQs answered by their deadline, among those due or answered. */
  rfqResponsiveness: z.number().nullable(),
  /** Weighted 0–100 over the components that have data. */
  score: z.number().nullable(),
  standing: z.enum(SUPPLIER_STANDINGS),
  weights: scorecardWeightsSchema,
  /** The latest `prm.supplier-rating` observations the caller may see. */
  ratings: z.array(z.object({ label: z.string().nullable(), text: z.string().nullable(), observedAt: isoTimestamp, observerPartyId: z.uuid().nullable() })),
});
export type SupplierScorecard = z.infer<typeof supplierScorecardSchema>;

// ─── The expiry sweep ───────────────────────────────────────────────────────

/** What one run of the expiry sweep did in one tenant. */
export const sweepResultSchema = z.object({ tenantId: z.uuid(), expiredRegistrations: z.number().int(), expiredLeadOffers: z.number().int() });
export type SweepResult = z.infer<typeof sweepResultSchema>;
