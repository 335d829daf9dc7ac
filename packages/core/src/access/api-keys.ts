import { NotFoundError } from '../errors.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import { sql, type QueryContext } from '../kernel/context.js';
import { BY_ID_DESC, keysetPage } from '../http/keyset.js';
import type { Page } from '../util/cursor.js';
import { createApiKey } from './keys.js';
import { requireNotStronger, requireRoles, type PermissionRegistry } from './roles.js';
import type { ApiKeyInfo } from './types.js';
import { iso } from '../util/time.js';
import { requireScopeParty } from './users.js';

interface ApiKeyRow {
  id: string;
  name: string;
  roles: string[];
  party_id: string | null;
  scoped: boolean;
  created_at: Date | string;
  last_used_at: Date | string | null;
  revoked_at: Date | string | null;
}

/** Never `secret_hash`. */
const KEY_COLUMNS = ['id', 'name', 'roles', 'party_id', 'scoped', 'created_at', 'last_used_at', 'revoked_at'];

function toKey(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    roles: row.roles,
    partyId: row.party_id,
    scoped: row.scoped,
    createdAt: iso(row.created_at)!,
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
  };
}

export async function listKeys(ctx: QueryContext, query: { limit: number; cursor?: string; revoked?: boolean }): Promise<Page<ApiKeyInfo>> {
  const q = sql(ctx)('rapport_api_keys').where('tenant_id', ctx.tenantId).select(KEY_COLUMNS);
  if (query.revoked === true) q.whereNotNull('revoked_at');
  else if (query.revoked === false) q.whereNull('revoked_at');
  return keysetPage(q, query, BY_ID_DESC, (rows: ApiKeyRow[]) => rows.map(toKey));
}

export async function getKey(ctx: QueryContext, id: string): Promise<ApiKeyInfo> {
  const row: ApiKeyRow | undefined = await sql(ctx)('rapport_api_keys').where({ tenant_id: ctx.tenantId, id }).first(KEY_COLUMNS);
  if (!row) throw new NotFoundError('API key', id);
  return toKey(row);
}

/** Creates a key; the token is in the result only, never in the event or the database. */
export async function issueKey(
  uow: UnitOfWork,
  permissions: PermissionRegistry,
  input: { name: string; roles: string[]; partyId?: string | null; scoped?: boolean },
): Promise<ApiKeyInfo & { token: string }> {
  const roles = await requireRoles(sql(uow), uow.principal, permissions, uow.tenantId, input.roles);
  await requireScopeParty(sql(uow), uow.tenantId, input.partyId ?? null, input.scoped ?? false);
  const created = await createApiKey(sql(uow), uow.tenantId, { ...input, roles });
  const key = await getKey(uow, created.id);
  uow.emit('access.key.created', { key }, { type: 'api-key', id: key.id });
  return { ...key, token: created.token };
}

/** Revokes at once: authentication reads `revoked_at` on every request. Revoking twice is a no-op. */
export async function revokeKey(uow: UnitOfWork, permissions: PermissionRegistry, id: string): Promise<void> {
  const row: ApiKeyRow | undefined = await sql(uow)('rapport_api_keys').where({ tenant_id: uow.tenantId, id }).forUpdate().first(KEY_COLUMNS);
  if (!row) throw new NotFoundError('API key', id);
  if (row.revoked_at) return;
  await requireNotStronger(sql(uow), uow.principal, permissions, uow.tenantId, { label: `API key ${id}`, roles: row.roles });
  await sql(uow)('rapport_api_keys').where({ tenant_id: uow.tenantId, id }).update({ revoked_at: new Date() });
  uow.emit('access.key.revoked', { key: await getKey(uow, id) }, { type: 'api-key', id });
}
