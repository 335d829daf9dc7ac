import type { Interaction, Relationship } from '@rapport/core';
import type { Rfq, Quote } from './services/rfqs.js';
import type { PurchaseOrder, Delivery } from './services/orders.js';
import type { MdfBudget, MdfRequest } from './services/mdf.js';
import type { Program } from './services/programs.js';
import type { Course, Certification } from './services/training.js';
import type { Plan } from './services/plans.js';
import type { SharedDocument } from './services/documents.js';
import type { Lead, LeadOffer, LeadOfferWithLead, LeadRule } from './services/leads.js';

/** How the plugin is configured by the system that installs it (`createPrmPlugin(options)`). */
export interface PrmOptions {
  /** Days an approved registration protects the partner's deal, and the window in which a
   *  pending registration of the same customer by another partner is a conflict. Default 90. */
  protectionDays?: number;
  /** When true (default), a registration that conflicts with an earlier live one of another
   *  partner is rejected at once, with the reason; when false it waits flagged for a decision. */
  firstToFile?: boolean;
  /** Weights of the supplier scorecard (any non-negative numbers; normalized). */
  scorecardWeights?: Partial<ScorecardWeights>;
  /** Hours a partner has to accept or decline a lead offer, unless the lead says otherwise. Default 48. */
  leadResponseHours?: number;
  /** How often the expiry sweep (registrations' protection, lead-offer deadlines) runs. Default 5 minutes. */
  sweepIntervalMs?: number;
}

export interface ScorecardWeights {
  onTime: number;
  quality: number;
  price: number;
  responsiveness: number;
}

export interface ResolvedPrmOptions {
  protectionDays: number;
  firstToFile: boolean;
  scorecardWeights: ScorecardWeights;
  leadResponseHours: number;
  sweepIntervalMs: number;
}

export const PARTNER_KINDS = ['reseller', 'referral', 'distributor', 'technology'] as const;
export type PartnerKind = (typeof PARTNER_KINDS)[number];

export const REGISTRATION_STATUSES = ['submitted', 'approved', 'rejected', 'expired'] as const;
export type RegistrationStatus = (typeof REGISTRATION_STATUSES)[number];

/** PRM's own kinds; a plugin's `prm.registration.conflicts` filter adds its own `reason` as the kind. */
export type ConflictKind = 'registration' | 'existing-customer' | (string & {});

export interface RegistrationConflict {
  kind: ConflictKind;
  /** Set for conflicts another plugin reported: its explanation, shown to the partner and the reviewer. */
  message?: string;
  /** The other plugin's record the conflict is about (a CRM deal, say); the firm only. */
  recordId?: string;
  /** The other registration or the existing customer party; shown only to the principal side,
   *  never to a partner (it would reveal another partner's pipeline). */
  registrationId?: string;
  partyId?: string;
  filedAt?: string;
}

export interface Registration {
  id: string;
  partnerId: string;
  relationshipId: string;
  customerName: string;
  customerDomain: string | null;
  customerPartyId: string | null;
  value: number;
  currency: string;
  expectedCloseDate: string;
  notes: string | null;
  status: RegistrationStatus;
  conflicts: RegistrationConflict[];
  decisionReason: string | null;
  decidedAt: string | null;
  protectedUntil: string | null;
  /** Set when a sales plugin converted the approved registration into a deal. */
  dealId: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

declare module '@rapport/core' {
  interface FilterMap {
    /**
     * Runs inside the approval's transaction. A sales plugin (CRM, or a small glue plugin)
     * opens a deal for the approved registration and returns its id; PRM stores it. With no
     * filter (no CRM), `dealId` stays null and nothing else changes. A VetoError refuses the approval.
     */
    'prm.registration.convert': { registration: Registration; dealId: string | null };
    /**
     * Runs inside the submission's transaction, before the registration is stored. Another
     * plugin (CRM: an open direct deal with that customer) appends to `conflicts`; each one is
     * stored on the registration like PRM's own (kind = `reason`) and shown to the partner and
     * the reviewer. `conflicts` starts empty: PRM's own are detected apart and cannot be removed.
     */
    'prm.registration.conflicts': {
      registration: { customerPartyId: string | null; customerName: string; customerDomain: string | null; partnerPartyId: string };
      conflicts: Array<{ reason: string; message: string; recordId?: string }>;
    };
  }
  interface HookMap {
    'prm.registration.submitted': { registration: Registration };
    'prm.registration.approved': { registration: Registration };
    'prm.registration.rejected': { registration: Registration };
    'prm.registration.expired': { registration: Registration };
    'prm.rfq.created': { rfq: Rfq };
    'prm.rfq.awarded': { rfq: Rfq };
    'prm.quote.submitted': { quote: Quote };
    'prm.purchase-order.created': { purchaseOrder: PurchaseOrder };
    'prm.delivery.recorded': { delivery: Delivery };
    'prm.mdf.budget.created': { budget: MdfBudget };
    'prm.program.created': { program: Program };
    'prm.mdf.requested': { request: MdfRequest };
    'prm.mdf.approved': { request: MdfRequest };
    'prm.mdf.rejected': { request: MdfRequest };
    'prm.mdf.claimed': { request: MdfRequest };
    'prm.mdf.paid': { request: MdfRequest };
    'prm.lead-rule.created': { rule: LeadRule };
    'prm.lead.created': { lead: Lead };
    'prm.lead.offered': { offer: LeadOffer };
    'prm.lead.accepted': { offer: LeadOfferWithLead };
    'prm.lead.declined': { offer: LeadOfferWithLead };
    'prm.lead.offer-expired': { offer: LeadOffer };
    'prm.lead.unassigned': { leadId: string };
    'prm.course.created': { course: Course };
    'prm.certification.recorded': { certification: Certification };
    'prm.plan.created': { plan: Plan };
    'prm.plan.updated': { plan: Plan };
    'prm.plan.item-updated': { planId: string; itemId: string };
    'prm.document.created': { document: SharedDocument };
  }
}

export type { Lead, LeadOffer, LeadOfferWithLead, LeadRule, Course, Certification, Plan, SharedDocument };
export type { Interaction, Relationship, Rfq, Quote, PurchaseOrder, Delivery, MdfBudget, MdfRequest };
