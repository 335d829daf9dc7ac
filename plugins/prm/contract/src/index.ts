import { defineContract, event, filter } from '@rapport/core';
import type { Registration } from './records.js';

export * from './records.js';

/**
 * PRM's contract: what other plugins may use of it. A sales plugin (CRM) registers the two
 * registration filters to open deals for approved registrations and to report conflicts with
 * its own work; anything may listen to PRM's events.
 */
export const prm = defineContract('prm', {
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
    registrationSubmitted: event<{ registration: Registration }>('registration.submitted'),
    registrationApproved: event<{ registration: Registration }>('registration.approved'),
    registrationRejected: event<{ registration: Registration }>('registration.rejected'),
    registrationExpired: event<{ registration: Registration }>('registration.expired'),
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
