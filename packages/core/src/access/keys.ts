import { createHash, randomBytes } from 'node:crypto';
import * as crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { ValidationError } from '../errors.js';
import { newId } from '../util/ids.js';

export const API_KEY_PREFIX = 'rpk_';
export const SESSION_PREFIX = 'rps_';

/** Bearer tokens are high-entropy, so a fast hash is enough and lets us look them up by it. */
export function hashToken(token: string): string {
  // One-shot `crypto.hash` (Node ≥ 20.12) is several times cheaper than a Hash object, and
  // this runs on every authenticated request.
  return oneShotHash ? oneShotHash('sha256', token, 'hex') : createHash('sha256').update(token).digest('hex');
}

const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

export function generateApiKeyToken(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function generateSessionToken(): string {
  return SESSION_PREFIX + randomBytes(32).toString('base64url');
}

export interface ApiKeyInput {
  name: string;
  roles: string[];
  partyId?: string | null;
  /** Restrict the key to records connected to `partyId` (an external principal). */
  scoped?: boolean;
}

export interface CreatedApiKey {
  id: string;
  name: string;
  roles: string[];
  partyId: string | null;
  scoped: boolean;
  /** Shown once; only its hash is stored. */
  token: string;
}

export async function createApiKey(db: Knex, tenantId: string, input: ApiKeyInput, token = generateApiKeyToken()): Promise<CreatedApiKey> {
  if (input.scoped && !input.partyId) throw new ValidationError('A scoped API key needs the party it is scoped to', [{ path: 'partyId', message: 'required when scoped' }]);
  const id = newId();
  await db('rapport_api_keys').insert({
    tenant_id: tenantId,
    id,
    name: input.name,
    secret_hash: hashToken(token),
    roles: JSON.stringify(input.roles),
    party_id: input.partyId ?? null,
    scoped: input.scoped ?? false,
  });
  return { id, name: input.name, roles: input.roles, partyId: input.partyId ?? null, scoped: input.scoped ?? false, token };
}

/**
 * Headless first start: when the tenant has no API key at all, the operator's chosen
 * RAPPORT_BOOTSTRAP_KEY becomes an admin key. Once any key exists this does nothing, so
 * the variable can stay set without re-opening a door.
 */
export async function ensureBootstrapKey(db: Knex, tenantId: string, token: string, logger: Logger): Promise<void> {
  if (token.length < 16) throw new Error('RAPPORT_BOOTSTRAP_KEY must be at least 16 characters long');
  if (token.startsWith(SESSION_PREFIX)) throw new Error(`RAPPORT_BOOTSTRAP_KEY must not start with "${SESSION_PREFIX}" (the prefix of login sessions)`);
  const existing = await db('rapport_api_keys').where({ tenant_id: tenantId }).first('id');
  if (existing) return;
  await createApiKey(db, tenantId, { name: 'bootstrap', roles: ['admin'] }, token);
  logger.info({ tenantId }, 'created the bootstrap admin API key from RAPPORT_BOOTSTRAP_KEY');
}
