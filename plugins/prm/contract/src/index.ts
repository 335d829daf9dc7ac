import { defineContract, event, filter, service, type QueryContext, type UnitOfWork } from '@rapport/core';
import type {
  Certification,
  Course,
  Delivery,
  Lead,
  LeadOffer,
  LeadOfferWithLead,
  LeadRule,
  MdfBudget,
  MdfRequest,
  PartnerScorecardSnapshot,
  Plan,
  Program,
  PurchaseOrder,
  Quote,
  Registration,
  Rfq,
  SharedDocument,
  SweepResult,
  TierEvaluation,
} from './records.js';

export * from './records.js';

/**
 * PRM's contract: what other plugins may use of it. A sales plugin (CRM) registers the two
 * registration filters to open deals for approved registrations and to report conflicts with
 * its own work; anything may listen to PRM's events (each also goes to webhooks).
 */
export const prm = defineContract('prm', {
  services: {
    /** Lead distribution, for a plugin that reads leads or runs the expiry on its own clock. */
    leads: service<PrmLeads>(),
    /** The expiry sweep over every tenant, as the scheduled `prm.sweep-expired` runs it. */
    expiry: service<PrmExpiry>(),
  },
  filters: {
    /**
     * Runs inside the approval's transaction. A sales plugin opens a deal for the approved
     * registration and returns its id; PRM stores it. With no filter, `dealId` stays null and
     * nothing else changes. A VetoError refuses the approval.
     */
    registrationConvert: filter<RegistrationConvertPayload>('registration.convert'),
    /**
     * Runs inside the submission's transaction, before the registration is stored. Another
     * plugin (CRM: an open direct deal with that customer) appends to `conflicts`; each one is
     * stored on the registration like PRM's own (kind = `reason`) and shown to the partner and
     * the reviewer. `conflicts` starts empty: PRM's own are detected apart and cannot be removed.
     */
    registrationConflicts: filter<RegistrationConflictsPayload>('registration.conflicts'),
  },
  events: {
    // Deal registration (subject `prm.registration`); the registration as the firm sees it.
    registrationSubmitted: event<{ registration: Registration }>('registration.submitted'),
    registrationApproved: event<{ registration: Registration }>('registration.approved'),
    registrationRejected: event<{ registration: Registration }>('registration.rejected'),
    registrationExpired: event<{ registration: Registration }>('registration.expired'),
    // Programs (subject `prm.program`).
    programCreated: event<{ program: Program }>('program.created'),
    programUpdated: event<{ program: Program; previous: Program }>('program.updated'),
    /** A tier evaluation was recorded (subject `prm.partnership`): what a linked partner's system receives as `prm.tier-standing`. */
    tierEvaluated: event<{ evaluation: TierEvaluation }>('tier.evaluated'),
    /** The mutual-benefit scorecard was recorded (subject `prm.partnership`): a linked partner's system receives it as `prm.partner-scorecard`. */
    scorecardRecorded: event<{ snapshot: PartnerScorecardSnapshot }>('scorecard.recorded'),
    // Market development funds (subjects `prm.mdf-budget`, `prm.mdf-request`).
    mdfBudgetCreated: event<{ budget: MdfBudget }>('mdf.budget.created'),
    mdfRequested: event<{ request: MdfRequest }>('mdf.requested'),
    mdfApproved: event<{ request: MdfRequest }>('mdf.approved'),
    mdfRejected: event<{ request: MdfRequest }>('mdf.rejected'),
    mdfClaimed: event<{ request: MdfRequest }>('mdf.claimed'),
    mdfPaid: event<{ request: MdfRequest }>('mdf.paid'),
    // Lead distribution (subjects `prm.lead-rule`, `prm.lead`, `prm.lead-offer`).
    leadRuleCreated: event<{ rule: LeadRule }>('lead-rule.created'),
    leadCreated: event<{ lead: Lead }>('lead.created'),
    leadOffered: event<{ offer: LeadOffer }>('lead.offered'),
    leadAccepted: event<{ offer: LeadOfferWithLead }>('lead.accepted'),
    leadDeclined: event<{ offer: LeadOfferWithLead }>('lead.declined'),
    leadOfferExpired: event<{ offer: LeadOffer }>('lead.offer-expired'),
    /** No eligible partner is left for the lead. */
    leadUnassigned: event<{ leadId: string }>('lead.unassigned'),
    // Training (subjects `prm.course`, `prm.certification`).
    courseCreated: event<{ course: Course }>('course.created'),
    certificationRecorded: event<{ certification: Certification }>('certification.recorded'),
    // Joint business plans (subject `prm.plan`).
    planCreated: event<{ plan: Plan }>('plan.created'),
    /** The plan's fields changed or an item was added. */
    planUpdated: event<{ plan: Plan }>('plan.updated'),
    planItemUpdated: event<{ planId: string; itemId: string }>('plan.item-updated'),
    // Shared information base (subject `prm.document`).
    documentCreated: event<{ document: SharedDocument }>('document.created'),
    // Buy side (subjects `prm.rfq`, `prm.quote`, `prm.purchase-order`, `prm.delivery`).
    rfqCreated: event<{ rfq: Rfq }>('rfq.created'),
    rfqAwarded: event<{ rfq: Rfq }>('rfq.awarded'),
    quoteSubmitted: event<{ quote: Quote }>('quote.submitted'),
    purchaseOrderCreated: event<{ purchaseOrder: PurchaseOrder }>('purchase-order.created'),
    deliveryRecorded: event<{ delivery: Delivery }>('delivery.recorded'),
  },
});

export interface RegistrationConvertPayload {
  registration: Registration;
  dealId: string | null;
}

export interface RegistrationConflictsPayload {
  registration: { customerPartyId: string | null; customerName: string; customerDomain: string | null; partnerPartyId: string };
  conflicts: Array<{ reason: string; message: string; recordId?: string }>;
}

/** `prm.services.leads`. Reads answer within the caller's record scope; `now` is the clock offers expire by. */
export interface PrmLeads {
  /** The lead with its offers (a partner: its own offers only); 404 outside the caller's reach. */
  get(ctx: QueryContext, id: string, now?: Date): Promise<Lead>;
  /** The offer with its lead; 404 outside the caller's reach. */
  getOffer(ctx: QueryContext, id: string, now?: Date): Promise<LeadOfferWithLead>;
  /** Expires the open offers past their deadline in the unit of work's tenant and moves each lead on; returns them. */
  expireDue(uow: UnitOfWork, now?: Date): Promise<LeadOffer[]>;
}

/** `prm.services.expiry`. */
export interface PrmExpiry {
  /**
   * One run of the sweep as of `now`: in every tenant with PRM records, one unit of work each,
   * approved registrations past their protection become `expired` and open lead offers past
   * their deadline expire and move their lead on. Stops between tenants once `signal` aborts.
   */
  run(now?: Date, signal?: AbortSignal): Promise<SweepResult[]>;
}
