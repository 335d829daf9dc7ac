import type { Knex } from 'knex';
import type { Principal } from './principal.js';
import { hashToken, SESSION_PREFIX } from './keys.js';

interface Grant {
  tenant_id: string;
  id: string;
  roles: string[];
  party_id: string | null;
  scoped: boolean;
  last_used_at?: Date | null;
}

/** `last_used_at` is a hint for operators, not a log: write it at most once a minute per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Resolves a bearer token (API key or login session) to a principal, or undefined.
 * Two indexed lookups: the token's hash, then the permissions of its roles. The roles are read on every request, so a changed role
 * or a revoked key takes effect at once.
 */
export async function authenticate(db: Knex, token: string): Promise<Principal | undefined> {
  if (token.length < 16 || token.length > 500) return undefined;
  const hash = hashToken(token);
  let kind: Principal['kind'];
  let grant: Grant | undefined;
  // Sessions are always `rps_…`; API keys are `rpk_…` or an operator's RAPPORT_BOOTSTRAP_KEY.
  if (!token.startsWith(SESSION_PREFIX)) {
    kind = 'api-key';
    grant = await db('rapport_api_keys')
      .where({ secret_hash: hash })
      .whereNull('revoked_at')
      .first('tenant_id', 'id', 'roles', 'party_id', 'scoped', 'last_used_at');
    if (grant && (!grant.last_used_at || Date.now() - new Date(grant.last_used_at).getTime() > LAST_USED_RESOLUTION_MS)) {
      await db('rapport_api_keys').where({ tenant_id: grant.tenant_id, id: grant.id }).update({ last_used_at: new Date() });
    }
  } else {
    kind = 'user';
    grant = await db('rapport_sessions as s')
      .join('rapport_users as u', function () {
        this.on('u.tenant_id', 's.tenant_id').andOn('u.id', 's.user_id');
      })
      .where('s.token_hash', hash)
      .where('s.expires_at', '>', new Date())
      .whereNull('u.disabled_at')
      .first('u.tenant_id', 'u.id', 'u.roles', 'u.party_id', 'u.scoped');
  }
  if (!grant) return undefined;
  // Fail closed: a scoped grant without its party would otherwise see the whole tenant.
  if (grant.scoped && !grant.party_id) return undefined;
  const roles: Array<{ permissions: string[] }> = grant.roles.length
    ? await db('rapport_roles').where('tenant_id', grant.tenant_id).whereIn('name', grant.roles).select('permissions')
    : [];
  return {
    kind,
    id: grant.id,
    tenantId: grant.tenant_id,
    roles: grant.roles,
    permissions: new Set(roles.flatMap((r) => r.permissions)),
    partyId: grant.party_id,
    scopePartyId: grant.scoped ? grant.party_id : null,
  };
}
