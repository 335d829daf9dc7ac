import type Koa from 'koa';
import { timingSafeEqual } from 'node:crypto';
import { hashToken } from './keys.js';
import { RapportError } from '../errors.js';

/** The browser session: the `rps_…` token, HttpOnly so page scripts never see it. */
export const SESSION_COOKIE = 'rapport_session';
/** The CSRF token beside it, readable by the console's scripts, which echo it in `X-CSRF-Token`. */
export const CSRF_COOKIE = 'rapport_csrf';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The CSRF token of a session: derived from the session token, so it needs no storage and a
 * page on another site, which can neither read the HttpOnly cookie nor this one, cannot
 * produce it (a signed double-submit token: a cookie planted from a sibling domain does not
 * match a session the attacker cannot read).
 */
export function csrfTokenFor(sessionToken: string): string {
  return hashToken(`rapport-csrf\n${sessionToken}`).slice(0, 43);
}

/** A cookie-authenticated request that changes something must echo the CSRF token; refused with 403 otherwise. */
export function checkCsrf(ctx: Koa.Context, sessionToken: string): void {
  if (SAFE_METHODS.has(ctx.method)) return;
  const sent = ctx.get(CSRF_HEADER);
  const expected = csrfTokenFor(sessionToken);
  if (!sent || sent.length !== expected.length || !timingSafeEqual(Buffer.from(sent), Buffer.from(expected))) {
    throw new RapportError(403, 'csrf-failed', `A request signed in by the session cookie must send the ${CSRF_COOKIE} cookie's value in the X-CSRF-Token header`);
  }
}

/** Sets the session and CSRF cookies; Secure when the request came over https (through a trusted proxy too). */
export function setSessionCookies(ctx: Koa.Context, token: string, expiresAt: string): string {
  const csrf = csrfTokenFor(token);
  const expires = new Date(expiresAt);
  const common = { path: '/', sameSite: 'lax' as const, secure: ctx.secure, expires, overwrite: true, signed: false };
  // Koa refuses to set a Secure cookie on a plain connection; `ctx.secure` already says which it is.
  ctx.cookies.set(SESSION_COOKIE, token, { ...common, httpOnly: true });
  ctx.cookies.set(CSRF_COOKIE, csrf, { ...common, httpOnly: false });
  return csrf;
}

export function clearSessionCookies(ctx: Koa.Context): void {
  const common = { path: '/', sameSite: 'lax' as const, secure: ctx.secure, expires: new Date(0), overwrite: true };
  ctx.cookies.set(SESSION_COOKIE, '', { ...common, httpOnly: true });
  ctx.cookies.set(CSRF_COOKIE, '', { ...common, httpOnly: false });
}

/** The session token of a request: the bearer header's, else the session cookie's. */
export function sessionTokenOf(ctx: Koa.Context): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
  if (bearer) return bearer[1];
  return ctx.cookies.get(SESSION_COOKIE) || undefined;
}
