import type { Knex } from 'knex';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import type { Registry } from '../kernel/registry.js';
import type { PermissionDefinition } from '../kernel/types.js';
import { sql, type QueryContext } from '../kernel/context.js';
import { keysetPage } from '../http/keyset.js';
import type { Page } from '../util/cursor.js';
import { grants, type Principal } from './principal.js';
import type { Role } from './types.js';

export type PermissionRegistry = Registry<PermissionDefinition>;

/** The builtin role that must always hold everything, or a tenant could lock itself out. */
const ADMIN_ROLE = 'admin';

interface RoleRow {
  name: string;
  description: string | null;
  permissions: string[];
  builtin: boolean;
}

const ROLE_COLUMNS = ['name', 'description', 'permissions', 'builtin'];

function toRole(row: RoleRow): Role {
  return { name: row.name, description: row.description ?? null, permissions: row.permissions, builtin: row.builtin };
}

export async function listRoles(ctx: QueryContext, query: { limit: number; cursor?: string }): Promise<Page<Role>> {
  const q = sql(ctx)('rapport_roles').where('tenant_id', ctx.tenantId).select(ROLE_COLUMNS);
  return keysetPage(q, query, [{ column: 'name', type: 'string' }], (rows: RoleRow[]) => rows.map(toRole));
}

export async function getRole(ctx: QueryContext, name: string): Promise<Role> {
  const row: RoleRow | undefined = await sql(ctx)('rapport_roles').where({ tenant_id: ctx.tenantId, name }).first(ROLE_COLUMNS);
  if (!row) throw new NotFoundError('Role', name);
  return toRole(row);
}

export async function createRole(uow: UnitOfWork, registry: PermissionRegistry, input: { name: string; description?: string | null; permissions: string[] }): Promise<Role> {
  const permissions = checkPermissions(registry, input.permissions);
  requireGrantable(uow.principal, registry, permissions);
  const existing = await sql(uow)('rapport_roles').where({ tenant_id: uow.tenantId, name: input.name }).first('name');
  if (existing) throw new ConflictError(`Role "${input.name}" already exists`);
  const role: Role = { name: input.name, description: input.description ?? null, permissions, builtin: false };
  await sql(uow)('rapport_roles').insert({ tenant_id: uow.tenantId, name: role.name, description: role.description, permissions: JSON.stringify(permissions), builtin: false });
  uow.emit('access.role.created', { role }, { type: 'role', id: role.name });
  return role;
}

export async function updateRole(uow: UnitOfWork, registry: PermissionRegistry, name: string, patch: { description?: string | null; permissions?: string[] }): Promise<Role> {
  const row: RoleRow | undefined = await sql(uow)('rapport_roles').where({ tenant_id: uow.tenantId, name }).forUpdate().first(ROLE_COLUMNS);
  if (!row) throw new NotFoundError('Role', name);
  if (name === ADMIN_ROLE && row.builtin) throw new ConflictError('The builtin admin role always holds every permission and cannot be changed');
  const previous = toRole(row);
  const permissions = patch.permissions ? checkPermissions(registry, patch.permissions) : previous.permissions;
  // Changing a role changes what every holder may do: the caller must hold what it grants.
  if (patch.permissions) requireGrantable(uow.principal, registry, permissions);
  const role: Role = { ...previous, description: patch.description !== undefined ? patch.description : previous.description, permissions };
  await sql(uow)('rapport_roles')
    .where({ tenant_id: uow.tenantId, name })
    .update({ description: role.description, permissions: JSON.stringify(role.permissions) });
  uow.emit('access.role.updated', { role, previous }, { type: 'role', id: name });
  return role;
}

export async function deleteRole(uow: UnitOfWork, name: string): Promise<void> {
  const row: RoleRow | undefined = await sql(uow)('rapport_roles').where({ tenant_id: uow.tenantId, name }).forUpdate().first(ROLE_COLUMNS);
  if (!row) throw new NotFoundError('Role', name);
  if (row.builtin) throw new ConflictError(`Role "${name}" is builtin and cannot be deleted`);
  const holds = JSON.stringify([name]);
  const user = await sql(uow)('rapport_users').where('tenant_id', uow.tenantId).whereRaw('roles @> ?::jsonb', [holds]).first('id');
  const key = await sql(uow)('rapport_api_keys').where('tenant_id', uow.tenantId).whereNull('revoked_at').whereRaw('roles @> ?::jsonb', [holds]).first('id');
  if (user || key) {
    throw new ConflictError(`Role "${name}" is still held by ${user ? `user ${user.id}` : `API key ${key.id}`}; take it away first`);
  }
  await sql(uow)('rapport_roles').where({ tenant_id: uow.tenantId, name }).delete();
  uow.emit('access.role.deleted', { role: toRole(row) }, { type: 'role', id: name });
}

/**
 * Every entry must be a declared permission or a wildcard that matches at least one:
 * `*`, `<plugin>.*` or `<resource>:*`. A typo would otherwise grant nothing, silently.
 */
export function checkPermissions(registry: PermissionRegistry, permissions: readonly string[]): string[] {
  const declared = registry.list({ includeInactive: true }).map((p) => p.key);
  const unique = [...new Set(permissions)];
  unique.forEach((permission) => {
    const isPattern = permission === '*' || permission.endsWith('.*') || permission.endsWith(':*');
    const known = isPattern ? declared.some((key) => grants(new Set([permission]), key)) : declared.includes(permission);
    if (!known) {
      throw new ValidationError(`Unknown permission "${permission}"; see GET /api/v1/meta/permissions`, [
        { path: `permissions.${permissions.indexOf(permission)}`, message: isPattern ? 'wildcard matches no declared permission' : 'not a declared permission' },
      ]);
    }
  });
  return unique;
}

/**
 * A caller cannot hand out more than it holds: every permission (or every declared
 * permission a wildcard covers) must be one the caller has. Stops `access:manage` alone
 * from minting an admin.
 */
export function requireGrantable(caller: Principal, registry: PermissionRegistry, permissions: readonly string[]): void {
  const lacking = ungrantable(caller, registry, permissions);
  if (lacking) throw new ForbiddenError(`You cannot grant "${lacking.permission}": you do not hold "${lacking.missing}"`);
}

/** The first of `permissions` the caller could not grant, with the permission it lacks for it. */
function ungrantable(caller: Principal, registry: PermissionRegistry, permissions: readonly string[]): { permission: string; missing: string } | undefined {
  const declared = registry.list({ includeInactive: true }).map((p) => p.key);
  for (const permission of permissions) {
    if (grants(caller.permissions, permission)) continue;
    const covered = declared.filter((key) => grants(new Set([permission]), key));
    const missing = covered.find((key) => !grants(caller.permissions, key));
    if (missing || covered.length === 0) return { permission, missing: missing ?? permission };
  }
  return undefined;
}

/**
 * The caller must hold everything `holder`'s roles give before changing it (password,
 * roles, scope, disabling) or revoking it: `access:manage` alone must not take over, escape
 * the scope of, or lock out a stronger account.
 */
export async function requireNotStronger(db: Knex, caller: Principal, registry: PermissionRegistry, tenantId: string, holder: { label: string; roles: readonly string[] }): Promise<void> {
  if (holder.roles.length === 0) return;
  const rows: RoleRow[] = await db('rapport_roles')
    .where('tenant_id', tenantId)
    .whereIn('name', [...holder.roles])
    .select(ROLE_COLUMNS);
  const lacking = ungrantable(
    caller,
    registry,
    rows.flatMap((r) => r.permissions),
  );
  if (lacking) throw new ForbiddenError(`You cannot change ${holder.label}: it holds "${lacking.missing}", which you do not`);
}

/** Checks that every role exists in the tenant and that the caller may grant what they hold. */
export async function requireRoles(db: Knex, caller: Principal, registry: PermissionRegistry, tenantId: string, roles: readonly string[]): Promise<string[]> {
  const unique = [...new Set(roles)];
  if (unique.length === 0) return [];
  const rows: RoleRow[] = await db('rapport_roles').where('tenant_id', tenantId).whereIn('name', unique).select(ROLE_COLUMNS);
  const found = new Map(rows.map((r) => [r.name, r]));
  unique.forEach((name) => {
    if (!found.has(name)) throw new ValidationError(`Role "${name}" does not exist`, [{ path: `roles.${roles.indexOf(name)}`, message: 'unknown role' }]);
  });
  requireGrantable(
    caller,
    registry,
    rows.flatMap((r) => r.permissions),
  );
  return unique;
}
