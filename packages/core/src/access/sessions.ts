import type { Knex } from 'knex';
import type { Transact } from '../hooks/unit-of-work.js';
import { UnauthorizedError } from '../errors.js';
import { generateSessionToken, hashToken } from './keys.js';
import { verifyNobody, verifyPassword } from './passwords.js';
import type { Principal } from './principal.js';
import type { User } from './types.js';
import { toUser, USER_COLUMNS } from './users.js';
import { sql } from '../kernel/context.js';

export const DEFAULT_SESSION_TTL_SECONDS = 12 * 60 * 60;

export interface LoginResult {
  /** Bearer token (`rps_…`); only its sha256 is stored. */
  token: string;
  expiresAt: string;
  user: User;
}

/**
 * E-mail and password to a session. Unknown e-mail, wrong password and disabled account
 * answer the same 401 after the same argon2 work, so neither the message nor the time
 * tells an attacker which accounts exist.
 */
/** What sessions need of the system: its connection, a unit of work, and the session lifetime setting. */
export interface SessionHost {
  readonly knex: Knex;
  readonly transaction: Transact;
  readonly config: { http?: { sessionTtlSeconds?: number } };
}

export async function login(app: SessionHost, email: string, password: string): Promise<LoginResult> {
  const row = await app
    .knex('rapport_users')
    .whereRaw('lower(email) = lower(?)', [email.trim()])
    .first([...USER_COLUMNS, 'tenant_id', 'password_hash']);
  const valid = row ? await verifyPassword(row.password_hash, password) : await verifyNobody(password);
  if (!row || !valid || row.disabled_at) throw new UnauthorizedError('The e-mail or the password is wrong');
  const user = toUser(row);
  const token = generateSessionToken();
  const ttl = app.config.http?.sessionTtlSeconds ?? DEFAULT_SESSION_TTL_SECONDS;
  const expiresAt = new Date(Date.now() + ttl * 1000);
  const actor: Principal = {
    kind: 'user',
    id: user.id,
    tenantId: row.tenant_id,
    roles: user.roles,
    permissions: new Set(),
    partyId: user.partyId,
    scopePartyId: user.scoped ? user.partyId : null,
  };
  await app.transaction(
    async (uow) => {
      // Housekeeping rides on the login: the user's expired sessions go.
      await sql(uow)('rapport_sessions').where({ tenant_id: uow.tenantId, user_id: user.id }).where('expires_at', '<=', new Date()).delete();
      await sql(uow)('rapport_sessions').insert({ token_hash: hashToken(token), tenant_id: uow.tenantId, user_id: user.id, expires_at: expiresAt });
      uow.emit('access.session.started', { userId: user.id, expiresAt: expiresAt.toISOString() }, { type: 'user', id: user.id });
    },
    { tenantId: row.tenant_id, principal: actor },
  );
  return { token, expiresAt: expiresAt.toISOString(), user };
}

/** Ends the session the request came with. */
export async function logout(app: SessionHost, principal: Principal, token: string): Promise<void> {
  await app.transaction(
    async (uow) => {
      const ended = await sql(uow)('rapport_sessions')
        .where({ token_hash: hashToken(token), tenant_id: uow.tenantId, user_id: principal.id })
        .delete();
      if (ended) uow.emit('access.session.ended', { userId: principal.id }, { type: 'user', id: principal.id });
    },
    { principal },
  );
}
