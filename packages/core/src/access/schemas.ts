import { z } from 'zod';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords.js';

export const roleName = z.string().regex(/^[a-z][a-z0-9._-]{0,49}$/, 'lower-case letters, digits, ".", "_" or "-", starting with a letter');
const roleList = z.array(roleName).max(50);
const permissionList = z.array(z.string().min(1).max(150)).max(500);
const password = z.string().min(MIN_PASSWORD_LENGTH, `at least ${MIN_PASSWORD_LENGTH} characters`).max(MAX_PASSWORD_LENGTH);

export const loginBody = z.strictObject({ email: z.string().min(1).max(320), password: z.string().min(1).max(MAX_PASSWORD_LENGTH) });

export const userCreateBody = z.strictObject({
  email: z.email().max(320),
  name: z.string().trim().min(1).max(200).nullish(),
  password,
  roles: roleList.default([]),
  partyId: z.uuid().nullish(),
  scoped: z.boolean().default(false),
});

export const userUpdateBody = z.strictObject({
  name: z.string().trim().min(1).max(200).nullable().optional(),
  roles: roleList.optional(),
  partyId: z.uuid().nullable().optional(),
  scoped: z.boolean().optional(),
  disabled: z.boolean().optional(),
  password: password.optional(),
});

export const keyCreateBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  roles: roleList.default([]),
  partyId: z.uuid().nullish(),
  scoped: z.boolean().default(false),
});

export const roleCreateBody = z.strictObject({
  name: roleName,
  description: z.string().max(500).nullish(),
  permissions: permissionList,
});

export const roleUpdateBody = z.strictObject({
  description: z.string().max(500).nullable().optional(),
  permissions: permissionList.optional(),
});

export const userSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string().nullable(),
  roles: z.array(z.string()),
  partyId: z.uuid().nullable(),
  scoped: z.boolean(),
  disabledAt: z.string().nullable(),
  createdAt: z.string(),
});

export const apiKeySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  roles: z.array(z.string()),
  partyId: z.uuid().nullable(),
  scoped: z.boolean(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

export const roleSchema = z.object({
  name: z.string(),
  description: z.string().nullable(),
  permissions: z.array(z.string()),
  builtin: z.boolean(),
});

export const auditEntrySchema = z.object({
  id: z.uuid(),
  eventId: z.uuid(),
  action: z.string(),
  recordType: z.string().nullable(),
  recordId: z.string().nullable(),
  actor: z.object({ kind: z.string(), id: z.string().nullable() }),
  at: z.string(),
});

export const principalSchema = z.object({
  kind: z.enum(['user', 'api-key', 'system']),
  /** The signed-in user (null for an API key). */
  user: userSchema.nullable(),
  id: z.string(),
  tenantId: z.uuid(),
  roles: z.array(z.string()),
  permissions: z.array(z.string()),
  partyId: z.uuid().nullable(),
  scopePartyId: z.uuid().nullable(),
});
