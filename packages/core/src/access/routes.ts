import { z } from 'zod';
import type { KernelModule } from '../app/module.js';
import type { Registry } from '../kernel/registry.js';
import type { PermissionDefinition } from '../kernel/types.js';
import { ValidationError } from '../errors.js';
import { booleanQuery, idParams, pageOf, pageQuery } from '../http/pagination.js';
import type { RouteBuilder } from '../http/routes.js';
import { getKey, issueKey, listKeys, revokeKey } from './api-keys.js';
import { listAudit } from './audit.js';
import { hashPassword } from './passwords.js';
import { AUTHENTICATED } from './principal.js';
import { createRole, deleteRole, getRole, listRoles, updateRole } from './roles.js';
import {
  apiKeySchema,
  auditEntrySchema,
  keyCreateBody,
  loginBody,
  principalSchema,
  roleCreateBody,
  roleName,
  roleSchema,
  roleUpdateBody,
  userCreateBody,
  userSchema,
  userUpdateBody,
} from './schemas.js';
import { login, logout, type SessionHost } from './sessions.js';
import { clearSessionCookies, sessionTokenOf, setSessionCookies } from './cookies.js';
import { LoginThrottledError, type LoginThrottle } from './throttle.js';
import { createUser, getUser, listUsers, updateUser } from './users.js';

const MANAGE = 'access:manage';

/** What access needs of the system: sessions' capabilities, the login throttle and the declared permissions. */
export interface AccessHost extends SessionHost {
  readonly loginThrottle: LoginThrottle;
  readonly registries: { readonly permissions: Registry<PermissionDefinition> };
}

export const ACCESS_PERMISSIONS: readonly PermissionDefinition[] = [
  { key: MANAGE, description: 'Manage users, API keys and roles' },
  { key: 'audit:read', description: 'Read the audit log' },
];

/** Login, users, API keys, roles and the audit log. docs/access.md describes each. */
export function accessModule(app: AccessHost): KernelModule {
  return {
    name: 'access',
    permissions: ACCESS_PERMISSIONS,
    routes(r) {
      authRoutes(r, app);
      userRoutes(r, app);
      keyRoutes(r, app);
      roleRoutes(r, app);
      auditRoutes(r);
    },
  };
}

function authRoutes(r: RouteBuilder, app: AccessHost): void {
  const tags = ['Access'];

  r.post('/auth/login', {
    summary: 'Log in with e-mail and password',
    description:
      'Returns a bearer session token (`rps_…`) valid for `http.sessionTtlSeconds` (12 h by default). Wrong e-mail and wrong password answer the same 401. ' +
      'Repeated failures for an e-mail, from an address, or for an e-mail from one address answer 429 (problem `login-throttled`) with `Retry-After` seconds, ' +
      'whether the account exists or not, and without checking the password (docs/access.md).',
    tags,
    permission: null,
    body: loginBody,
    status: 200,
    problems: [401, 429],
    response: z.object({ token: z.string(), expiresAt: z.string(), user: userSchema }),
    handler: async ({ body, koa }) => {
      try {
        return await app.loginThrottle.guard({ email: body.email, ip: koa.ip }, () => login(app, body.email, body.password));
      } catch (error) {
        if (error instanceof LoginThrottledError) koa.set('Retry-After', String(error.retryAfterSeconds));
        throw error;
      }
    },
  });

  r.post('/auth/logout', {
    summary: 'End the current login session',
    tags,
    permission: AUTHENTICATED,
    audience: 'any',
    status: 204,
    handler: async ({ principal, koa }) => {
      if (principal.kind !== 'user') {
        throw new ValidationError('Only login sessions log out; revoke an API key with DELETE /api/v1/keys/{id}', [{ path: 'headers.authorization', message: 'not a session' }]);
      }
      await logout(app, principal, sessionTokenOf(koa)!);
    },
  });

  r.post('/auth/session', {
    summary: 'Sign in a browser with e-mail and password',
    description:
      'What the console calls: the session of `POST /auth/login`, kept in an `HttpOnly; SameSite=Lax` cookie (`rapport_session`, `Secure` over https) rather than answered. ' +
      'The answer and the readable `rapport_csrf` cookie carry the CSRF token: a request signed in by the cookie that is not GET or HEAD must send it in `X-CSRF-Token`, or it is refused (403, problem `csrf-failed`). ' +
      'Wrong credentials and throttling answer as `POST /auth/login` does (docs/console.md).',
    tags,
    permission: null,
    body: loginBody,
    status: 200,
    problems: [401, 429],
    response: z.object({ expiresAt: z.string(), csrfToken: z.string(), user: userSchema }),
    handler: async ({ body, koa }) => {
      try {
        const session = await app.loginThrottle.guard({ email: body.email, ip: koa.ip }, () => login(app, body.email, body.password));
        const csrfToken = setSessionCookies(koa, session.token, session.expiresAt);
        return { expiresAt: session.expiresAt, csrfToken, user: session.user };
      } catch (error) {
        if (error instanceof LoginThrottledError) koa.set('Retry-After', String(error.retryAfterSeconds));
        throw error;
      }
    },
  });

  r.delete('/auth/session', {
    summary: 'Sign a browser out',
    description: 'Ends the session of the cookie (or of the bearer session token) and clears the cookies. Signed in by the cookie, it needs the `X-CSRF-Token` header like every change.',
    tags,
    permission: AUTHENTICATED,
    audience: 'any',
    status: 204,
    handler: async ({ principal, koa }) => {
      if (principal.kind !== 'user') {
        throw new ValidationError('Only login sessions sign out; revoke an API key with DELETE /api/v1/keys/{id}', [{ path: 'headers.authorization', message: 'not a session' }]);
      }
      await logout(app, principal, sessionTokenOf(koa)!);
      clearSessionCookies(koa);
    },
  });

  r.get('/auth/me', {
    summary: 'Who the caller is',
    description:
      'The principal behind the bearer token or session cookie: its roles, the permissions they grant, the party it is scoped to, if any, and for a signed-in user the user (what the console builds its navigation from).',
    tags,
    permission: AUTHENTICATED,
    audience: 'any',
    response: principalSchema,
    handler: async (ctx) => {
      const { principal } = ctx;
      return {
        user: principal.kind === 'user' ? await getUser(ctx, principal.id) : null,
        kind: principal.kind,
        id: principal.id,
        tenantId: principal.tenantId,
        roles: [...principal.roles],
        permissions: [...principal.permissions].sort(),
        partyId: principal.partyId,
        scopePartyId: principal.scopePartyId,
      };
    },
  });
}

function userRoutes(r: RouteBuilder, app: AccessHost): void {
  const tags = ['Access'];
  const permissions = app.registries.permissions;

  r.get('/users', {
    summary: 'List users',
    tags,
    permission: MANAGE,
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(userSchema),
    handler: (ctx) => listUsers(ctx, ctx.query),
  });

  r.post('/users', {
    summary: 'Create a user',
    description: `Passwords have at least 12 characters and are stored as argon2id hashes; they are never returned. Roles must exist and hold nothing the caller does not. A scoped user needs \`partyId\`.`,
    tags,
    permission: MANAGE,
    body: userCreateBody,
    response: userSchema,
    handler: async (ctx) => {
      const { password, ...rest } = ctx.body;
      // Hash before the transaction opens: argon2 is slow on purpose and must not hold a connection.
      const passwordHash = await hashPassword(password);
      return ctx.transaction((uow) => createUser(uow, permissions, { ...rest, passwordHash }));
    },
  });

  r.get('/users/:id', {
    summary: 'Get a user',
    tags,
    permission: MANAGE,
    params: idParams,
    response: userSchema,
    handler: (ctx) => getUser(ctx, ctx.params.id),
  });

  r.patch('/users/:id', {
    summary: 'Change a user',
    description: 'Name, roles, party link and scope, `disabled`, or a new `password`. Disabling or a new password ends the user’s sessions.',
    tags,
    permission: MANAGE,
    params: idParams,
    body: userUpdateBody,
    response: userSchema,
    handler: async (ctx) => {
      const { password, ...rest } = ctx.body;
      const passwordHash = password ? await hashPassword(password) : undefined;
      return ctx.transaction((uow) => updateUser(uow, permissions, ctx.params.id, { ...rest, passwordHash }));
    },
  });
}

function keyRoutes(r: RouteBuilder, app: AccessHost): void {
  const tags = ['Access'];
  const permissions = app.registries.permissions;

  r.get('/keys', {
    summary: 'List API keys',
    description: 'Never shows secrets. `revoked` filters by state.',
    tags,
    permission: MANAGE,
    query: z.strictObject({ ...pageQuery, revoked: booleanQuery.optional() }),
    response: pageOf(apiKeySchema),
    handler: (ctx) => listKeys(ctx, ctx.query),
  });

  r.post('/keys', {
    summary: 'Create an API key',
    description:
      'The `token` is in this response only; store it now. `scoped: true` with `partyId` makes an external principal. Idempotency-Key is not honoured here: the response carries a secret that is never stored.',
    tags,
    permission: MANAGE,
    body: keyCreateBody,
    response: apiKeySchema.extend({ token: z.string() }),
    // The response, token included, is not stored for replays.
    handler: (ctx) => ctx.transaction((uow) => issueKey(uow, permissions, ctx.body), { storeResponse: false }),
  });

  r.get('/keys/:id', {
    summary: 'Get an API key (without its secret)',
    tags,
    permission: MANAGE,
    params: idParams,
    response: apiKeySchema,
    handler: (ctx) => getKey(ctx, ctx.params.id),
  });

  r.delete('/keys/:id', {
    summary: 'Revoke an API key',
    description: 'Takes effect on the next request. The key stays listed with `revokedAt`.',
    tags,
    permission: MANAGE,
    params: idParams,
    status: 204,
    handler: async (ctx) => {
      await ctx.transaction((uow) => revokeKey(uow, app.registries.permissions, ctx.params.id));
    },
  });
}

function roleRoutes(r: RouteBuilder, app: AccessHost): void {
  const tags = ['Access'];
  const permissions = app.registries.permissions;
  const nameParams = z.strictObject({ name: roleName });

  r.get('/roles', {
    summary: 'List roles',
    tags,
    permission: MANAGE,
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(roleSchema),
    handler: (ctx) => listRoles(ctx, ctx.query),
  });

  r.post('/roles', {
    summary: 'Create a role',
    description: 'Each permission is a declared one (GET /api/v1/meta/permissions) or a wildcard: `*`, `<plugin>.*`, `<resource>:*`. You cannot grant what you do not hold.',
    tags,
    permission: MANAGE,
    body: roleCreateBody,
    response: roleSchema,
    handler: (ctx) => ctx.transaction((uow) => createRole(uow, permissions, ctx.body)),
  });

  r.get('/roles/:name', {
    summary: 'Get a role',
    tags,
    permission: MANAGE,
    params: nameParams,
    response: roleSchema,
    handler: (ctx) => getRole(ctx, ctx.params.name),
  });

  r.patch('/roles/:name', {
    summary: 'Change a role’s description or permissions',
    description: 'Takes effect for every holder on their next request. The builtin `admin` role cannot be changed.',
    tags,
    permission: MANAGE,
    params: nameParams,
    body: roleUpdateBody,
    response: roleSchema,
    handler: (ctx) => ctx.transaction((uow) => updateRole(uow, permissions, ctx.params.name, ctx.body)),
  });

  r.delete('/roles/:name', {
    summary: 'Delete a role',
    description: 'Not a builtin role, and not while a user or a live API key holds it (409).',
    tags,
    permission: MANAGE,
    params: nameParams,
    status: 204,
    handler: async (ctx) => {
      await ctx.transaction((uow) => deleteRole(uow, ctx.params.name));
    },
  });
}

function auditRoutes(r: RouteBuilder): void {
  r.get('/audit', {
    reads: 'replica',
    summary: 'The audit log',
    description: 'Every audited change (one per event of a committed write), newest first. Filter by record, actor or action.',
    tags: ['Access'],
    permission: 'audit:read',
    query: z.strictObject({
      ...pageQuery,
      recordType: z.string().max(100).optional(),
      recordId: z.string().max(200).optional(),
      actorId: z.uuid().optional(),
      action: z.string().max(200).optional(),
    }),
    response: pageOf(auditEntrySchema),
    handler: (ctx) => listAudit(ctx, ctx.query),
  });
}
