import type { Knex } from 'knex';
import type { Principal } from './principal.js';
import { hashToken, SESSION_PREFIX } from './keys.js';
import { principalCacheOf } from './principal-cache.js';

interface Grant {
  tenant_id: string;
  id: string;
  roles: string[];
  party_id: string | null;
  scoped: boolean;
  last_used_at?: Date | null;
  /** Sessions only. */
  expires_at?: Date | string;
}

/** `last_used_at` is a hint for operators, not a log: write it at most once a minute per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Resolves a bearer token (API key or login session) to a principal, or undefined.
 * A token seen recently answers from the principal cache without a query; otherwise two
 * indexed lookups: the token's hash, then the permissions of its roles. A revoked key, a
 * changed role, a disabled user or an ended session empties the cache when the change
 * commits (see principal-cache.ts), so each takes effect at once.
 */
export async function authenticate(db: Knex, token: string): Promise<Principal | undefined> {
  if (token.length < 16 || token.length > 500) return undefined;
  const hash = hashToken(token);
  const cache = principalCacheOf(db);
  // Once the cache is trusted (PGlite, or PostgreSQL listening for changes) there is nothing to wait for.
  if (!cache.active) await cache.ready();
  const cached = cache.get(hash);
  if (cached) {
    if (cached.principal.kind === 'api-key' && isStale(cached.lastUsedAt)) {
      cached.lastUsedAt = Date.now();
      await stampLastUsed(db, cached.principal.tenantId, cached.principal.id);
    }
    return cached.principal;
  }
  const generation = cache.snapshot();
  let kind: Principal['kind'];
  let grant: Grant | undefined;
  // Sessions are always `rps_…`; API keys are `rpk_…` or an operator's RAPPORT_BOOTSTRAP_KEY.
  if (!token.startsWith(SESSION_PREFIX)) {
    kind = 'api-key';
    grant = await db('rapport_api_keys').where({ secret_hash: hash }).whereNull('revoked_at').first('tenant_id', 'id', 'roles', 'party_id', 'scoped', 'last_used_at');
    if (grant && isStale(grant.last_used_at ? new Date(grant.last_used_at).getTime() : null)) {
      await stampLastUsed(db, grant.tenant_id, grant.id);
      grant.last_used_at = new Date();
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
      .first('u.tenant_id', 'u.id', 'u.roles', 'u.party_id', 'u.scoped', 's.expires_at');
  }
  if (!grant) return undefined;
  // Fail closed: a scoped grant without its party would otherwise see the whole tenant.
  if (grant.scoped && !grant.party_id) return undefined;
  const roles: Array<{ permissions: string[] }> = grant.roles.length ? await db('rapport_roles').where('tenant_id', grant.tenant_id).whereIn('name', grant.roles).select('permissions') : [];
  const principal: Principal = {
    kind,
    id: grant.id,
    tenantId: grant.tenant_id,
    roles: grant.roles,
    permissions: new Set(roles.flatMap((r) => r.permissions)),
    partyId: grant.party_id,
    scopePartyId: grant.scoped ? grant.party_id : null,
  };
  cache.set(hash, generation, {
    principal,
    lastUsedAt: grant.last_used_at ? new Date(grant.last_used_at).getTime() : null,
    expiresAt: grant.expires_at ? new Date(grant.expires_at).getTime() : null,
  });
  return principal;
}

/**
 * The principal of a token this process resolved recently, with no I/O and no await: the
 * common case of every authenticated request. Undefined whenever `authenticate` must run
 * (unknown token, cache not trusted yet, or an API key whose `last_used_at` is due).
 */
export function cachedPrincipal(db: Knex, token: string, hash?: string): Principal | undefined {
  if (token.length < 16 || token.length > 500) return undefined;
  const cache = principalCacheOf(db);
  if (!cache.active) return undefined;
  const cached = cache.get(hash ?? hashToken(token));
  if (!cached || (cached.principal.kind === 'api-key' && isStale(cached.lastUsedAt))) return undefined;
  return cached.principal;
}

function isStale(lastUsedAt: number | null): boolean {
  return lastUsedAt === null || Date.now() - lastUsedAt > LAST_USED_RESOLUTION_MS;
}

async function stampLastUsed(db: Knex, tenantId: string, id: string): Promise<void> {
  await db('rapport_api_keys').where({ tenant_id: tenantId, id }).update({ last_used_at: new Date() });
}
