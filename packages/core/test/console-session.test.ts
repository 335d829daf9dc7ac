import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';

/*
 * The console's way in: a password session kept in an HttpOnly cookie, a CSRF token every
 * cookie-signed change must echo, and the built console served at /console.
 */
const PASSWORD = 'console password for tests';

interface Cookie {
  name: string;
  value: string;
  attributes: Map<string, string | true>;
}

function cookiesOf(headers: Headers): Map<string, Cookie> {
  const cookies = new Map<string, Cookie>();
  for (const line of headers.getSetCookie()) {
    const [pair, ...rest] = line.split(';').map((part) => part.trim());
    const [name, ...value] = pair.split('=');
    const attributes = new Map<string, string | true>();
    for (const attribute of rest) {
      const [key, ...v] = attribute.split('=');
      attributes.set(key.toLowerCase(), v.length ? v.join('=') : true);
    }
    cookies.set(name, { name, value: value.join('='), attributes });
  }
  return cookies;
}

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body.type).toBe(`https://rapport.dev/problems/${code}`);
}

describe('console sessions and files', () => {
  let t: TestApp;
  let consoleDir: string;
  const email = 'rep@console.example';

  beforeAll(async () => {
    consoleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-console-'));
    fs.mkdirSync(path.join(consoleDir, 'assets'));
    fs.writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>console</title><script type="module" src="/console/assets/index-abc123.js"></script>');
    fs.writeFileSync(path.join(consoleDir, 'assets', 'index-abc123.js'), 'console.log("hi")');
    t = await createTestApp({ config: { http: { sessionTtlSeconds: 3600, console: { dir: consoleDir } } } });
    const created = await t.admin.post('/api/v1/users', { email, password: PASSWORD, name: 'Rita Rep', roles: ['viewer'] });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(consoleDir, { recursive: true, force: true });
  });

  async function signIn() {
    const res = await t.anonymous.post('/api/v1/auth/session', { email, password: PASSWORD });
    expect(res.status).toBe(200);
    const cookies = cookiesOf(res.headers);
    const session = cookies.get('rapport_session')!;
    const csrf = cookies.get('rapport_csrf')!;
    return { res, cookies, session, csrf, cookie: `rapport_session=${session.value}; rapport_csrf=${csrf.value}` };
  }

  describe('signing in', () => {
    it('keeps the session in an HttpOnly, SameSite=Lax cookie, not in the answer', async () => {
      const { res, session, csrf } = await signIn();
      expect(session.value).toMatch(/^rps_/);
      expect(session.attributes.get('httponly')).toBe(true);
      expect(session.attributes.get('samesite')).toBe('lax');
      expect(session.attributes.get('path')).toBe('/');
      // Plain http here: a Secure cookie would never come back.
      expect(session.attributes.has('secure')).toBe(false);
      expect(new Date(session.attributes.get('expires') as string).getTime()).toBe(new Date(res.body.expiresAt).setMilliseconds(0));
      expect(csrf.attributes.has('httponly')).toBe(false);
      expect(csrf.value).toBe(res.body.csrfToken);
      expect(res.body.user).toMatchObject({ email, name: 'Rita Rep', roles: ['viewer'] });
      expect(JSON.stringify(res.body)).not.toContain(session.value);
    });

    it('answers a wrong password with the same 401 as login, setting no cookie', async () => {
      const res = await t.anonymous.post('/api/v1/auth/session', { email, password: 'not the password at all' });
      expectProblem(res, 401, 'unauthorized');
      expect(res.headers.getSetCookie()).toEqual([]);
    });

    it('answers GET /auth/me for the cookie with the user, roles and permissions', async () => {
      const { cookie } = await signIn();
      const me = await t.anonymous.get('/api/v1/auth/me', { headers: { cookie } });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ kind: 'user', roles: ['viewer'], scopePartyId: null, user: { email, name: 'Rita Rep' } });
      expect(me.body.permissions).toContain('parties:read');
      expect(me.body.permissions).not.toContain('parties:write');
    });

    it('answers GET /auth/me for an API key with no user', async () => {
      const me = await t.admin.get('/api/v1/auth/me');
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ kind: 'api-key', user: null });
    });
  });

  describe('CSRF', () => {
    let cookie: string;
    let csrfToken: string;
    let writerCookie: string;
    let writerCsrf: string;

    beforeAll(async () => {
      ({
        cookie,
        csrf: { value: csrfToken },
      } = await signIn());
      await t.admin.post('/api/v1/users', { email: 'writer@console.example', password: PASSWORD, roles: ['admin'] });
      const res = await t.anonymous.post('/api/v1/auth/session', { email: 'writer@console.example', password: PASSWORD });
      const cookies = cookiesOf(res.headers);
      writerCookie = `rapport_session=${cookies.get('rapport_session')!.value}`;
      writerCsrf = res.body.csrfToken;
    });

    const count = async () => (await t.admin.get('/api/v1/parties?q=Csrf%20Corp')).body.data.length;

    it('refuses a cookie-signed POST without the X-CSRF-Token header with 403 problem+json, creating nothing', async () => {
      const before = await count();
      const res = await t.anonymous.post('/api/v1/parties', { kind: 'organization', name: 'Csrf Corp' }, { headers: { cookie: writerCookie } });
      expectProblem(res, 403, 'csrf-failed');
      expect(await count()).toBe(before);
    });

    it('refuses a wrong token, and another session’s token', async () => {
      const wrong = await t.anonymous.post('/api/v1/parties', { kind: 'organization', name: 'Csrf Corp' }, { headers: { cookie: writerCookie, 'x-csrf-token': 'x'.repeat(43) } });
      expectProblem(wrong, 403, 'csrf-failed');
      const other = await t.anonymous.post('/api/v1/parties', { kind: 'organization', name: 'Csrf Corp' }, { headers: { cookie: writerCookie, 'x-csrf-token': csrfToken } });
      expectProblem(other, 403, 'csrf-failed');
    });

    it('takes the change with the session’s own token', async () => {
      const before = await count();
      const res = await t.anonymous.post('/api/v1/parties', { kind: 'organization', name: 'Csrf Corp' }, { headers: { cookie: writerCookie, 'x-csrf-token': writerCsrf } });
      expect(res.status).toBe(201);
      expect(await count()).toBe(before + 1);
    });

    it('lets reads through without the token', async () => {
      const res = await t.anonymous.get('/api/v1/parties', { headers: { cookie } });
      expect(res.status).toBe(200);
    });

    it('leaves bearer keys as they were: no CSRF token, and the header wins over a cookie', async () => {
      const res = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Bearer Corp' }, { headers: { cookie } });
      expect(res.status).toBe(201);
      const me = await t.admin.get('/api/v1/auth/me', { headers: { cookie } });
      expect(me.body.kind).toBe('api-key');
    });

    it('takes no API key from a cookie', async () => {
      const res = await t.anonymous.get('/api/v1/auth/me', { headers: { cookie: `rapport_session=${t.adminToken}` } });
      expectProblem(res, 401, 'unauthorized');
    });
  });

  describe('the end of a session', () => {
    it('signs out with DELETE /auth/session (CSRF-checked), clearing the cookies and ending the session', async () => {
      const { cookie, csrf } = await signIn();
      expectProblem(await t.anonymous.delete('/api/v1/auth/session', { headers: { cookie } }), 403, 'csrf-failed');
      const res = await t.anonymous.delete('/api/v1/auth/session', { headers: { cookie, 'x-csrf-token': csrf.value } });
      expect(res.status).toBe(204);
      const cleared = cookiesOf(res.headers);
      expect(cleared.get('rapport_session')!.value).toBe('');
      expect(new Date(cleared.get('rapport_session')!.attributes.get('expires') as string).getTime()).toBeLessThan(Date.now());
      expectProblem(await t.anonymous.get('/api/v1/auth/me', { headers: { cookie } }), 401, 'unauthorized');
    });

    it('answers 401 once the session has expired', async () => {
      const { cookie, session } = await signIn();
      const { createHash } = await import('node:crypto');
      // Expired in the database before its first use (nothing cached yet).
      await t.app
        .knex('rapport_sessions')
        .where({ token_hash: createHash('sha256').update(session.value).digest('hex') })
        .update({ expires_at: new Date(Date.now() - 1000) });
      expectProblem(await t.anonymous.get('/api/v1/auth/me', { headers: { cookie } }), 401, 'unauthorized');
    });
  });

  describe('the console files', () => {
    const get = (p: string, method = 'GET') => fetch(t.baseUrl + p, { method, redirect: 'manual' });

    it('redirects /console to /console/', async () => {
      const res = await get('/console');
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('/console/');
    });

    it('answers every page of the application with index.html, uncached, under a CSP', async () => {
      for (const p of ['/console/', '/console/parties/0190c9a4-0000-7000-8000-000000000001', '/console/crm/pipeline']) {
        const res = await get(p);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain('text/html');
        expect(res.headers.get('cache-control')).toBe('no-cache');
        expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
        expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
        expect(await res.text()).toContain('<title>console</title>');
      }
    });

    it('caches hashed assets as immutable', async () => {
      const res = await get('/console/assets/index-abc123.js');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/javascript');
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(await res.text()).toBe('console.log("hi")');
    });

    it('answers a missing asset 404 rather than the page, and nothing outside its directory', async () => {
      expect((await get('/console/assets/gone-123.js')).status).toBe(404);
      for (const p of ['/console/..%2Fpackage.json', '/console/%2E%2E/%2E%2E/etc/passwd', '/console/assets/..%2F..%2Findex.html.bak']) {
        const res = await get(p);
        expect(res.status).toBe(404);
      }
    });

    it('takes GET and HEAD only', async () => {
      const res = await get('/console/', 'POST');
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
      expect((await get('/console/', 'HEAD')).status).toBe(200);
    });
  });
});

describe('console cookies behind https', () => {
  let t: TestApp;
  const previous = process.env.RAPPORT_TRUST_PROXY;

  beforeAll(async () => {
    process.env.RAPPORT_TRUST_PROXY = '1';
    try {
      t = await createTestApp({});
    } finally {
      if (previous === undefined) delete process.env.RAPPORT_TRUST_PROXY;
      else process.env.RAPPORT_TRUST_PROXY = previous;
    }
    await t.admin.post('/api/v1/users', { email: 'secure@console.example', password: PASSWORD, roles: ['viewer'] });
  });
  afterAll(() => t?.close());

  it('marks both cookies Secure when the request came over https', async () => {
    const res = await t.anonymous.post('/api/v1/auth/session', { email: 'secure@console.example', password: PASSWORD }, { headers: { 'x-forwarded-proto': 'https' } });
    expect(res.status).toBe(200);
    const cookies = cookiesOf(res.headers);
    expect(cookies.get('rapport_session')!.attributes.get('secure')).toBe(true);
    expect(cookies.get('rapport_csrf')!.attributes.get('secure')).toBe(true);
  });
});
