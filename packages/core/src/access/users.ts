import { iso } from '../util/time.js';
import type { Knex } from 'knex';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import { sql, type QueryContext } from '../kernel/context.js';
import { BY_ID_DESC, keysetPage } from '../http/keyset.js';
import type { Page } from '../util/cursor.js';
import { newId } from '../util/ids.js';
import { requireNotStronger, requireRoles, type PermissionRegistry } from './roles.js';
import type { User } from './types.js';

interface UserRow {
  id: string;
  email: string;
  name: string | null;
  roles: string[];
  party_id: string | null;
  scoped: boolean;
  disabled_at: Date | string | null;
  created_at: Date | string;
}

/** Never `password_hash`: it is read only by login. */
export const USER_COLUMNS = ['id', 'email', 'name', 'roles', 'party_id', 'scoped', 'disabled_at', 'created_at'];

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name ?? null,
    roles: row.roles,
    partyId: row.party_id,
    scoped: row.scoped,
    disabledAt: iso(row.disabled_at),
    createdAt: iso(row.created_at)!,
  };
}

export interface UserCreate {
  email: string;
  name?: string | null;
  /** argon2id hash, computed before the transaction opens (it is slow on purpose). */
  passwordHash: string;
  roles: string[];
  partyId?: string | null;
  scoped?: boolean;
}

export interface UserPatch {
  name?: string | null;
  roles?: string[];
  partyId?: string | null;
  scoped?: boolean;
  disabled?: boolean;
  passwordHash?: string;
}

export async function listUsers(ctx: QueryContext, query: { limit: number; cursor?: string }): Promise<Page<User>> {
  const q = sql(ctx)('rapport_users').where('tenant_id', ctx.tenantId).select(USER_COLUMNS);
  return keysetPage(q, query, BY_ID_DESC, (rows: UserRow[]) => rows.map(toUser));
}

export async function getUser(ctx: QueryContext, id: string): Promise<User> {
  const row: UserRow | undefined = await sql(ctx)('rapport_users').where({ tenant_id: ctx.tenantId, id }).first(USER_COLUMNS);
  if (!row) throw new NotFoundError('User', id);
  return toUser(row);
}

export async function createUser(uow: UnitOfWork, permissions: PermissionRegistry, input: UserCreate): Promise<User> {
  const roles = await requireRoles(sql(uow), uow.principal, permissions, uow.tenantId, input.roles);
  await requireScopeParty(sql(uow), uow.tenantId, input.partyId ?? null, input.scoped ?? false);
  const email = input.email.trim();
  // E-mails are unique across tenants so login needs no tenant.
  const taken = await sql(uow)('rapport_users').whereRaw('lower(email) = lower(?)', [email]).first('id');
  if (taken) throw new ConflictError(`A user with e-mail ${email} already exists`);
  const id = newId();
  try {
    await sql(uow)('rapport_users').insert({
      tenant_id: uow.tenantId,
      id,
      email,
      name: input.name ?? null,
      password_hash: input.passwordHash,
      roles: JSON.stringify(roles),
      party_id: input.partyId ?? null,
      scoped: input.scoped ?? false,
    });
  } catch (error) {
    // Lost a race with another insert of the same e-mail; the whole write rolls back.
    if ((error as { code?: string }).code === '23505') throw new ConflictError(`A user with e-mail ${email} already exists`);
    throw error;
  }
  const user = await getUser(uow, id);
  uow.emit('access.user.created', { user }, { type: 'user', id });
  return user;
}

export async function updateUser(uow: UnitOfWork, permissions: PermissionRegistry, id: string, patch: UserPatch): Promise<User> {
  const row: UserRow | undefined = await sql(uow)('rapport_users').where({ tenant_id: uow.tenantId, id }).forUpdate().first(USER_COLUMNS);
  if (!row) throw new NotFoundError('User', id);
  const previous = toUser(row);
  await requireNotStronger(sql(uow), uow.principal, permissions, uow.tenantId, { label: `user ${id}`, roles: previous.roles });
  const roles = patch.roles ? await requireRoles(sql(uow), uow.principal, permissions, uow.tenantId, patch.roles) : previous.roles;
  const partyId = patch.partyId !== undefined ? patch.partyId : previous.partyId;
  const scoped = patch.scoped ?? previous.scoped;
  if (patch.partyId !== undefined || patch.scoped !== undefined) await requireScopeParty(sql(uow), uow.tenantId, partyId, scoped);
  const disabledAt = patch.disabled === undefined ? row.disabled_at : patch.disabled ? (row.disabled_at ?? new Date()) : null;
  const change: Record<string, unknown> = {
    name: patch.name !== undefined ? patch.name : previous.name,
    roles: JSON.stringify(roles),
    party_id: partyId,
    scoped,
    disabled_at: disabledAt,
  };
  if (patch.passwordHash) change.password_hash = patch.passwordHash;
  await sql(uow)('rapport_users').where({ tenant_id: uow.tenantId, id }).update(change);
  // A new password or a disabled account ends every open session of that user.
  if (patch.passwordHash || (patch.disabled && !previous.disabledAt)) {
    await sql(uow)('rapport_sessions').where({ tenant_id: uow.tenantId, user_id: id }).delete();
  }
  const user = await getUser(uow, id);
  uow.emit('access.user.updated', { user, previous, passwordChanged: Boolean(patch.passwordHash) }, { type: 'user', id });
  return user;
}

/** A linked party must exist in the tenant; a scoped principal must have one. */
export async function requireScopeParty(db: Knex, tenantId: string, partyId: string | null, scoped: boolean): Promise<void> {
  if (scoped && !partyId) throw new ValidationError('A scoped principal needs the party it is scoped to', [{ path: 'partyId', message: 'required when scoped' }]);
  if (!partyId) return;
  const party = await db('rapport_parties').where({ tenant_id: tenantId, id: partyId }).whereNull('merged_into_id').first('id');
  if (!party) throw new ValidationError(`partyId: party ${partyId} does not exist`, [{ path: 'partyId', message: 'unknown party' }]);
}
