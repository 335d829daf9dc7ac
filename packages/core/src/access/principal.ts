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

export function hasPermission(principal: Principal, permission: string): boolean {
  const granted = principal.permissions;
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
