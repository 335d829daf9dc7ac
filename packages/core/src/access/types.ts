/** A person who logs in with e-mail and password. The password hash never leaves the database. */
export interface User {
  id: string;
  email: string;
  name: string | null;
  roles: string[];
  /** The party this user acts for (an employee, a partner's staff member...). */
  partyId: string | null;
  /** When true the user sees only records connected to `partyId` (an external principal). */
  scoped: boolean;
  disabledAt: string | null;
  createdAt: string;
}

/** An API key as listed: never its secret, which is shown once at creation. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  roles: string[];
  partyId: string | null;
  scoped: boolean;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** A named bundle of permissions, per tenant. `builtin` roles come with every tenant. */
export interface Role {
  name: string;
  description: string | null;
  permissions: string[];
  builtin: boolean;
}

/** One audited change: an event of a committed unit of work and who caused it. */
export interface AuditEntry {
  id: string;
  eventId: string;
  action: string;
  recordType: string | null;
  recordId: string | null;
  actor: { kind: string; id: string | null };
  at: string;
}
