import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Rapport } from '../app/rapport.js';
import { RapportError } from '../errors.js';
import type { Scheduler } from '../jobs/scheduler.js';

/** How one kind of counter reacts to failed logins. */
export interface ThrottlePolicy {
  /** Failures allowed before the first block. */
  freeFailures: number;
  /** First block, seconds; each further failure doubles it. */
  baseDelaySeconds: number;
  /** Longest single block, seconds: nobody is locked out for longer at a time. */
  maxDelaySeconds: number;
  /** A counter with no failure for this long starts again from zero (and its row is pruned). */
  forgetAfterSeconds: number;
}

export interface LoginThrottleOptions {
  /** Default true. */
  enabled?: boolean;
  /** Same e-mail from the same client address: the tight limit a guesser hits first. */
  perPair?: Partial<ThrottlePolicy>;
  /** Same e-mail from any address: looser, against guessing spread over many addresses. */
  perEmail?: Partial<ThrottlePolicy>;
  /** Same address, any e-mail: against one client trying many accounts. */
  perIp?: Partial<ThrottlePolicy>;
  /** The clock (tests). */
  now?: () => Date;
}

type CounterKind = 'pair' | 'email' | 'ip';

export const LOGIN_THROTTLE_DEFAULTS: Record<CounterKind, ThrottlePolicy> = {
  // 5 free tries, then 30 s, 1 min, 2 min … capped at 15 min per try.
  pair: { freeFailures: 5, baseDelaySeconds: 30, maxDelaySeconds: 900, forgetAfterSeconds: 86_400 },
  email: { freeFailures: 20, baseDelaySeconds: 60, maxDelaySeconds: 900, forgetAfterSeconds: 86_400 },
  ip: { freeFailures: 100, baseDelaySeconds: 60, maxDelaySeconds: 900, forgetAfterSeconds: 3600 },
};

export const LOGIN_THROTTLE_PRUNE_TASK = 'core.access.prune-login-throttle';

/** 429 with the seconds to wait; the HTTP route copies them into Retry-After. */
export class LoginThrottledError extends RapportError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'login-throttled', `Too many failed logins; try again in ${retryAfterSeconds} s`, { retryAfter: retryAfterSeconds });
  }
}

export interface LoginAttempt {
  email: string;
  /** The client address (Koa's `ctx.ip`: the socket, or the entry of X-Forwarded-For the trusted proxies added, RAPPORT_TRUST_PROXY). */
  ip: string;
}

interface CounterKey {
  key: string;
  kind: CounterKind;
}

/**
 * Failed-login counters kept in the database so every node sharing it sees the same
 * counts. Counters never depend on whether the account exists, so a block says nothing
 * about it; blocks grow exponentially and are capped, so an attacker can slow a real user
 * down but never lock them out for good. Keys are sha256 digests: the table holds no e-mail
 * or address in clear.
 */
export class LoginThrottle {
  private readonly policies: Record<CounterKind, ThrottlePolicy>;
  private readonly enabled: boolean;
  private readonly now: () => Date;

  constructor(
    private readonly app: Rapport,
    scheduler: Scheduler,
    options: LoginThrottleOptions = {},
  ) {
    this.enabled = options.enabled !== false;
    this.now = options.now ?? (() => new Date());
    this.policies = {
      pair: policy('perPair', LOGIN_THROTTLE_DEFAULTS.pair, options.perPair),
      email: policy('perEmail', LOGIN_THROTTLE_DEFAULTS.email, options.perEmail),
      ip: policy('perIp', LOGIN_THROTTLE_DEFAULTS.ip, options.perIp),
    };
    scheduler.define('core', LOGIN_THROTTLE_PRUNE_TASK, 3_600_000, async () => {
      await this.prune();
    });
  }

  private get knex(): Knex {
    return this.app.knex;
  }

  /** Throws LoginThrottledError while any counter of the attempt is blocked. Call before checking the password. */
  async check(attempt: LoginAttempt): Promise<void> {
    if (!this.enabled) return;
    const now = this.now();
    const keys = counterKeys(attempt).map((k) => k.key);
    const row: { until?: Date | string | null } | undefined = await this.knex('rapport_login_throttle')
      .whereIn('key', keys)
      .where('blocked_until', '>', now)
      .max({ until: 'blocked_until' })
      .first();
    if (!row?.until) return;
    const seconds = Math.max(1, Math.ceil((new Date(row.until).getTime() - now.getTime()) / 1000));
    throw new LoginThrottledError(seconds);
  }

  /** Counts a failed login against the pair, the e-mail and the address; blocks those past their limit. */
  async failed(attempt: LoginAttempt): Promise<void> {
    if (!this.enabled) return;
    const now = this.now();
    const keys = counterKeys(attempt);
    const forgetBefore = (kind: CounterKind) => new Date(now.getTime() - this.policies[kind].forgetAfterSeconds * 1000);
    // One atomic upsert for the three counters: concurrent failures on several nodes all count.
    const result = await this.knex.raw(
      `insert into rapport_login_throttle as t (key, kind, failures, last_failure_at)
       select u.key, u.kind, 1, ?::timestamptz from unnest(?::text[], ?::text[]) as u(key, kind)
       on conflict (key) do update set
         failures = case when t.last_failure_at < (case t.kind when 'pair' then ?::timestamptz when 'email' then ?::timestamptz else ?::timestamptz end)
                         then 1 else t.failures + 1 end,
         blocked_until = case when t.last_failure_at < (case t.kind when 'pair' then ?::timestamptz when 'email' then ?::timestamptz else ?::timestamptz end)
                              then null else t.blocked_until end,
         last_failure_at = excluded.last_failure_at
       returning key, kind, failures`,
      [
        now.toISOString(),
        keys.map((k) => k.key),
        keys.map((k) => k.kind),
        ...(['pair', 'email', 'ip'] as const).map((k) => forgetBefore(k).toISOString()),
        ...(['pair', 'email', 'ip'] as const).map((k) => forgetBefore(k).toISOString()),
      ],
    );
    const rows: Array<{ key: string; kind: CounterKind; failures: number }> = result.rows;
    const blocks = rows.flatMap((row) => {
      const p = this.policies[row.kind];
      const over = Number(row.failures) - p.freeFailures;
      if (over <= 0) return [];
      const seconds = Math.min(p.baseDelaySeconds * 2 ** Math.min(over - 1, 30), p.maxDelaySeconds);
      return [{ key: row.key, until: new Date(now.getTime() + seconds * 1000).toISOString() }];
    });
    if (blocks.length === 0) return;
    await this.knex.raw(
      `update rapport_login_throttle t set blocked_until = greatest(coalesce(t.blocked_until, b.until), b.until)
       from unnest(?::text[], ?::timestamptz[]) as b(key, until) where t.key = b.key`,
      [blocks.map((b) => b.key), blocks.map((b) => b.until)],
    );
  }

  /** A successful login clears its pair and its e-mail; the address keeps its count (an attacker's own account must not reset it). */
  async succeeded(attempt: LoginAttempt): Promise<void> {
    if (!this.enabled) return;
    const keys = counterKeys(attempt).filter((k) => k.kind !== 'ip').map((k) => k.key);
    await this.knex('rapport_login_throttle').whereIn('key', keys).delete();
  }

  /** Deletes counters nobody has failed on for their forget period and that block nothing. Returns how many. */
  async prune(): Promise<number> {
    const now = this.now();
    let pruned = 0;
    for (const kind of ['pair', 'email', 'ip'] as const) {
      const before = new Date(now.getTime() - this.policies[kind].forgetAfterSeconds * 1000);
      pruned += await this.knex('rapport_login_throttle')
        .where('kind', kind)
        .where('last_failure_at', '<', before)
        .where((q) => q.whereNull('blocked_until').orWhere('blocked_until', '<=', now))
        .delete();
    }
    return pruned;
  }
}

/** Lower case, trimmed, Unicode-normalized: `Ann@X.org ` and `ann@x.org` are one account and one counter. */
export function normalizeLoginEmail(email: string): string {
  return email.normalize('NFKC').trim().toLowerCase();
}

function counterKeys(attempt: LoginAttempt): CounterKey[] {
  const email = normalizeLoginEmail(attempt.email);
  const ip = attempt.ip || 'unknown';
  return [
    { kind: 'pair', key: `pair:${digest(`${email}\n${ip}`)}` },
    { kind: 'email', key: `email:${digest(email)}` },
    { kind: 'ip', key: `ip:${digest(ip)}` },
  ];
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function policy(name: string, defaults: ThrottlePolicy, given: Partial<ThrottlePolicy> | undefined): ThrottlePolicy {
  const merged = { ...defaults, ...Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined)) } as ThrottlePolicy;
  for (const [field, value] of Object.entries(merged)) {
    if (!Number.isInteger(value) || value < (field === 'freeFailures' ? 0 : 1)) {
      throw new Error(`auth.loginThrottle.${name}.${field} must be a positive integer, not ${String(value)}`);
    }
  }
  // A block that outlives its counter would be pruned while still in force.
  if (merged.maxDelaySeconds > merged.forgetAfterSeconds) {
    throw new Error(`auth.loginThrottle.${name}.maxDelaySeconds (${merged.maxDelaySeconds}) must not exceed forgetAfterSeconds (${merged.forgetAfterSeconds})`);
  }
  return merged;
}
