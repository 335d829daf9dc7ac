import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRapport, type Rapport } from '@rapport/core';
import { createTestApp, type TestApp, type TestResponse } from '@rapport/testing';
import { UnauthorizedError } from '@rapport/core';
import { clientNetwork, LOGIN_THROTTLE_PRUNE_TASK, LoginThrottle, LoginThrottledError } from '../src/access/throttle.js';
import type { LoginThrottleOptions } from '../src/app/config.js';
import { Scheduler } from '../src/jobs/scheduler.js';

/*
 * Failed-login throttling over HTTP. The throttle's clock is the test's `clock`, so blocks
 * of minutes pass instantly; client addresses come from X-Forwarded-For (RAPPORT_TRUST_PROXY=1).
 */
const PASSWORD = 'correct horse battery staple';
const WRONG = 'not the password at all!';
const EMAIL = 'grace@example.com';

let clock = new Date('2026-01-01T00:00:00Z');
const advance = (seconds: number) => {
  clock = new Date(clock.getTime() + seconds * 1000);
};

const throttle: LoginThrottleOptions = {
  perPair: { freeFailures: 3, baseDelaySeconds: 60, maxDelaySeconds: 240, forgetAfterSeconds: 3600 },
  perEmail: { freeFailures: 10, baseDelaySeconds: 600, maxDelaySeconds: 600, forgetAfterSeconds: 7200 },
  perIp: { freeFailures: 12, baseDelaySeconds: 900, maxDelaySeconds: 900, forgetAfterSeconds: 7200 },
  now: () => clock,
};

describe('login throttling', () => {
  let t: TestApp;
  let previousTrustProxy: string | undefined;
  /** A second node on the same database, for start-up checks. */
  let other: Rapport | undefined;
  let ipCounter = 0;
  const newIp = () => `203.0.113.${++ipCounter}`;

  const login = (email: string, password: string, ip: string) => t.anonymous.post('/api/v1/auth/login', { email, password }, { headers: { 'x-forwarded-for': ip } });

  async function user(email: string) {
    const res = await t.admin.post('/api/v1/users', { email, password: PASSWORD, roles: ['viewer'] });
    expect(res.status).toBe(201);
  }

  function expectThrottled(res: TestResponse, seconds: number) {
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.type).toBe('https://rapport.dev/problems/login-throttled');
    expect(res.headers.get('retry-after')).toBe(String(seconds));
    expect(res.body.retryAfter).toBe(seconds);
  }

  beforeAll(async () => {
    previousTrustProxy = process.env.RAPPORT_TRUST_PROXY;
    process.env.RAPPORT_TRUST_PROXY = '1';
    t = await createTestApp({ config: { auth: { loginThrottle: throttle } } });
    await user(EMAIL);
  });
  afterAll(async () => {
    if (previousTrustProxy === undefined) delete process.env.RAPPORT_TRUST_PROXY;
    else process.env.RAPPORT_TRUST_PROXY = previousTrustProxy;
    // On PGlite both apps share one instance; the first to close closes it.
    await other?.close().catch(() => undefined);
    await t?.close();
  });

  it('blocks an e-mail from one address after the free failures, even with the right password, and lets it in once the block ends', async () => {
    const ip = newIp();
    for (let i = 0; i < 4; i++) expect((await login(EMAIL, WRONG, ip)).status).toBe(401);
    expectThrottled(await login(EMAIL, PASSWORD, ip), 60);
    advance(30);
    expectThrottled(await login('  GRACE@example.com ', PASSWORD, ip), 30);
    // The real user elsewhere is not locked out.
    expect((await login(EMAIL, PASSWORD, newIp())).status).toBe(200);
    advance(30);
    expect((await login(EMAIL, PASSWORD, ip)).status).toBe(200);
    // Success cleared the pair: three free failures again.
    for (let i = 0; i < 3; i++) expect((await login(EMAIL, WRONG, ip)).status).toBe(401);
    expect((await login(EMAIL, PASSWORD, ip)).status).toBe(200);
  });

  it('doubles the block with each further failure, up to the cap', async () => {
    const ip = newIp();
    await user('backoff@example.com');
    for (let i = 0; i < 3; i++) expect((await login('backoff@example.com', WRONG, ip)).status).toBe(401);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      expect((await login('backoff@example.com', WRONG, ip)).status).toBe(401);
      const blocked = await login('backoff@example.com', WRONG, ip);
      expect(blocked.status).toBe(429);
      const wait = Number(blocked.headers.get('retry-after'));
      waits.push(wait);
      advance(wait);
    }
    expect(waits).toEqual([60, 120, 240, 240]);
  });

  it('answers an unknown e-mail exactly as a known one', async () => {
    const [known, unknown] = [newIp(), newIp()];
    const run = async (email: string, ip: string) => {
      const out: Array<[number, string | null, string]> = [];
      for (let i = 0; i < 5; i++) {
        const res = await login(email, WRONG, ip);
        out.push([res.status, res.headers.get('retry-after'), `${res.body.type} ${res.body.detail}`]);
      }
      return out;
    };
    await user('known@example.com');
    const a = await run('known@example.com', known);
    const b = await run('nobody-here@example.com', unknown);
    expect(a).toEqual(b);
    expect(a.map(([status]) => status)).toEqual([401, 401, 401, 401, 429]);
  });

  it('forgets failures after a quiet period', async () => {
    const ip = newIp();
    await user('forgetful@example.com');
    for (let i = 0; i < 3; i++) expect((await login('forgetful@example.com', WRONG, ip)).status).toBe(401);
    advance(3601);
    // The count restarted: three more failures are free again.
    for (let i = 0; i < 4; i++) expect((await login('forgetful@example.com', WRONG, ip)).status).toBe(401);
    expect((await login('forgetful@example.com', WRONG, ip)).status).toBe(429);
  });

  it('limits one e-mail across many addresses', async () => {
    await user('spread@example.com');
    for (let i = 0; i < 11; i++) expect((await login('spread@example.com', WRONG, newIp())).status).toBe(401);
    expectThrottled(await login('spread@example.com', PASSWORD, newIp()), 600);
    // Other accounts are not affected.
    expect((await login(EMAIL, PASSWORD, newIp())).status).toBe(200);
    advance(600);
    expect((await login('spread@example.com', PASSWORD, newIp())).status).toBe(200);
  });

  it('limits one address across many e-mails, and only that address', async () => {
    const ip = newIp();
    for (let i = 0; i < 13; i++) expect((await login(`guess-${i}@example.com`, WRONG, ip)).status).toBe(401);
    expectThrottled(await login(EMAIL, PASSWORD, ip), 900);
    expect((await login(EMAIL, PASSWORD, newIp())).status).toBe(200);
    // A success from the address does not reset the address's count.
    advance(900);
    expect((await login(EMAIL, PASSWORD, ip)).status).toBe(200);
    expect((await login('guess-x@example.com', WRONG, ip)).status).toBe(401);
    expect((await login('guess-y@example.com', WRONG, ip)).status).toBe(429);
  });

  it('counts the address the proxy saw, whatever the client wrote to the left of it', async () => {
    const ip = newIp();
    // RAPPORT_TRUST_PROXY=1: one proxy appends the address it saw; a client's own X-Forwarded-For comes before it.
    const spoofed = (i: number) => ({ 'x-forwarded-for': `198.51.100.${i}, ${ip}` });
    for (let i = 0; i < 13; i++) {
      expect((await t.anonymous.post('/api/v1/auth/login', { email: `spoof-${i}@example.com`, password: WRONG }, { headers: spoofed(i) })).status).toBe(401);
    }
    expectThrottled(await t.anonymous.post('/api/v1/auth/login', { email: EMAIL, password: PASSWORD }, { headers: spoofed(99) }), 900);
    expect((await login(EMAIL, PASSWORD, newIp())).status).toBe(200);
    advance(900);
  });

  it('refuses to serve with a RAPPORT_TRUST_PROXY that is not a number of proxies', async () => {
    other = await createRapport({ database: t.app.config.database, logLevel: 'silent', dispatcher: { enabled: false }, scheduler: { enabled: false } });
    try {
      process.env.RAPPORT_TRUST_PROXY = 'yes';
      expect(() => other!.http).toThrow('RAPPORT_TRUST_PROXY must be the number of proxies in front of Rapport (0 to 10), not "yes"');
    } finally {
      process.env.RAPPORT_TRUST_PROXY = '1';
    }
  });

  it('counts a burst of concurrent attempts as it counts attempts one after another', async () => {
    const ip = newIp();
    await user('burst@example.com');
    const answers = await Promise.all(Array.from({ length: 20 }, () => login('burst@example.com', WRONG, ip)));
    const statuses = answers.map((res) => res.status).sort();
    // Three free failures, the fourth that sets the block, then refusals: never more guesses than one at a time gets.
    expect(statuses).toEqual([...Array(4).fill(401), ...Array(16).fill(429)]);
    expectThrottled(await login('burst@example.com', PASSWORD, ip), 60);
    advance(60);
    expect((await login('burst@example.com', PASSWORD, ip)).status).toBe(200);
  });

  it('takes a success back from the address: a right password never blocks the address', async () => {
    const ip = newIp();
    for (let i = 0; i < 12; i++) expect((await login(`near-limit-${i}@example.com`, WRONG, ip)).status).toBe(401);
    // The address is at its limit; a success counts on the way in and is taken back.
    for (let i = 0; i < 3; i++) expect((await login(EMAIL, PASSWORD, ip)).status).toBe(200);
    expect((await login('near-limit-x@example.com', WRONG, ip)).status).toBe(401);
    expectThrottled(await login(EMAIL, PASSWORD, ip), 900);
    advance(900);
  });

  it('lets an address forget its failures even while its users keep logging in', async () => {
    const ip = newIp();
    for (let i = 0; i < 12; i++) expect((await login(`old-failure-${i}@example.com`, WRONG, ip)).status).toBe(401);
    advance(3600);
    expect((await login(EMAIL, PASSWORD, ip)).status).toBe(200);
    advance(3601);
    // Two hours since the last failure: the address starts again from one, whatever succeeded since.
    expect((await login('new-failure@example.com', WRONG, ip)).status).toBe(401);
    expect((await login(EMAIL, PASSWORD, ip)).status).toBe(200);
  });

  it('counts an IPv6 client by its /64, and an IPv4-mapped address as IPv4', async () => {
    expect(clientNetwork('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:DB8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientNetwork('203.0.113.9')).toBe('203.0.113.9');
    expect(clientNetwork('')).toBe('unknown');
    // Twelve failures from twelve addresses of one /64: the thirteenth address of it is blocked, the next /64 is not.
    for (let i = 1; i <= 13; i++) expect((await login(`v6-${i}@example.com`, WRONG, `2001:db8:aa:1::${i.toString(16)}`)).status).toBe(401);
    expectThrottled(await login(EMAIL, PASSWORD, '2001:db8:aa:1:ffff::1'), 900);
    expect((await login(EMAIL, PASSWORD, '2001:db8:aa:2::1')).status).toBe(200);
    advance(900);
  });

  it('keeps counters in the database, shared by every node, with no e-mail or address in clear', async () => {
    const ip = newIp();
    for (let i = 0; i < 4; i++) await login('shared@example.com', WRONG, ip);
    const otherNode = new LoginThrottle(t.app, new Scheduler(t.app), throttle);
    const mustNotVerify = async () => {
      throw new Error('a blocked attempt must not reach the password check');
    };
    await expect(otherNode.guard({ email: 'Shared@Example.com', ip }, mustNotVerify)).rejects.toBeInstanceOf(LoginThrottledError);
    await expect(otherNode.guard({ email: 'shared@example.com', ip: newIp() }, async () => 'verified')).resolves.toBe('verified');
    const rows: Array<{ key: string }> = await t.app.knex('rapport_login_throttle').select('key');
    expect(rows.length).toBeGreaterThan(0);
    for (const { key } of rows) {
      expect(key).toMatch(/^(pair|email|ip):[0-9a-f]{64}$/);
      expect(key).not.toContain('example.com');
    }
  });

  it('prunes counters that are forgotten and block nothing, with the scheduled task', async () => {
    const ip = newIp();
    for (let i = 0; i < 4; i++) await login('prune-me@example.com', WRONG, ip);
    const count = async () => Number((await t.app.knex('rapport_login_throttle').count({ n: '*' }).first())!.n);
    const before = await count();
    expect(before).toBeGreaterThan(0);
    advance(7201);
    // A fresh failure now must survive the prune.
    await login('recent@example.com', WRONG, newIp());
    expect(await t.app.scheduler.runNow(LOGIN_THROTTLE_PRUNE_TASK)).toEqual({ status: 'succeeded' });
    expect(await count()).toBe(3);
    expect((await login('prune-me@example.com', WRONG, ip)).status).toBe(401);
  });

  it('refuses a configuration whose blocks outlive their counters', () => {
    expect(() => new LoginThrottle(t.app, new Scheduler(t.app), { perPair: { maxDelaySeconds: 7200, forgetAfterSeconds: 3600 } })).toThrow(/perPair\.maxDelaySeconds/);
    expect(() => new LoginThrottle(t.app, new Scheduler(t.app), { perIp: { freeFailures: -1 } })).toThrow(/perIp\.freeFailures/);
  });

  it('can be turned off', async () => {
    const off = new LoginThrottle(t.app, new Scheduler(t.app), { enabled: false, now: () => clock });
    const ip = newIp();
    const rowsBefore = await t.app.knex('rapport_login_throttle').count({ n: '*' }).first();
    const wrong = async () => {
      throw new UnauthorizedError('Wrong e-mail or password');
    };
    for (let i = 0; i < 10; i++) await expect(off.guard({ email: 'off@example.com', ip }, wrong)).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(off.guard({ email: 'off@example.com', ip }, async () => 'verified')).resolves.toBe('verified');
    expect(await t.app.knex('rapport_login_throttle').count({ n: '*' }).first()).toEqual(rowsBefore);
  });
});
