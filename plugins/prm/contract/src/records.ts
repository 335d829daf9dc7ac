/* PRM's records as other plugins and clients see them. */

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
