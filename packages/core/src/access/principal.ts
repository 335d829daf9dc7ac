/**
 * Who is calling. Every principal belongs to exactly one tenant. An external principal
 * (partner portal user, supplier, employee self-service) carries `scopePartyId`: it sees
 * only records connected to that party, and anything else answers 404.
 */
export interface Principal {
  readonly kind: 'user' | 'api-key' | 'system';
  readonly id: string;
  readonly tenantId: string;
  readonly roles: readonly string[];
  /** Granted permissions; `*` grants all, `crm.*` all of one plugin. */
  readonly permissions: ReadonlySet<string>;
  /** The party this principal acts for (an employee, a partner's staff member...), if linked. */
  readonly partyId: string | null;
  /** Set for external principals: record scopes restrict every query to this party's reach. */
  readonly scopePartyId: string | null;
}

/**
 * Route permission meaning "any valid principal, no particular permission" (`/auth/me`,
 * `/auth/logout`). Deny by default still holds: there must be a principal.
 */
export const AUTHENTICATED = 'authenticated';

/**
 * Permissions that reach past record scopes: managing principals (a scoped key could mint
 * an unscoped one), the tenant-wide audit log and event stream (webhooks), plugin lifecycle,
 * imports, metrics and the tenant's custom field definitions. A scoped principal never holds
 * them, whatever its roles say.
 */
export const TENANT_WIDE_PERMISSIONS: ReadonlySet<string> = new Set([
  'access:manage',
  'audit:read',
  'webhooks:read',
  'webhooks:write',
  'plugins:manage',
  'imports:write',
  'jobs:read',
  'jobs:manage',
  'metrics:read',
  'fields:admin',
  'automation:read',
  'automation:manage',
  // Links bind the whole firm to another system: no portal key may read or change them.
  'federation:read',
  'federation:write',
  'federation:manage',
]);

export function hasPermission(principal: Principal, permission: string): boolean {
  if (principal.scopePartyId && TENANT_WIDE_PERMISSIONS.has(permission)) return false;
  return grants(principal.permissions, permission);
}

/** Whether a set of granted permissions (with wildcards) covers `permission`. */
export function grants(granted: ReadonlySet<string>, permission: string): boolean {
  if (granted.has('*') || granted.has(permission)) return true;
  // `crm.*` grants `crm.deals:read`; `parties:*` grants `parties:read`.
  const [resource, action] = permission.split(':');
  if (action && granted.has(`${resource}:*`)) return true;
  const dot = resource.indexOf('.');
  return dot > 0 && granted.has(`${resource.slice(0, dot)}.*`);
}

/** The principal background work (migrations, dispatcher, imports from the CLI) runs as. */
export function systemPrincipal(tenantId: string): Principal {
  return {
    kind: 'system',
    id: '00000000-0000-0000-0000-000000000000',
    tenantId,
    roles: ['admin'],
    permissions: new Set(['*']),
    partyId: null,
    scopePartyId: null,
  };
}
