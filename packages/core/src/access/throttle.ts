import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type { Knex } from 'knex';
import type { LoginThrottleOptions, ThrottlePolicy } from '../app/config.js';
import { RapportError, UnauthorizedError } from '../errors.js';
import type { Scheduler } from '../jobs/scheduler.js';

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

interface CounterRow {
  key: string;
  kind: CounterKind;
  failures: number;
  last_failure_at: Date | string;
  blocked_until: Date | string | null;
}

/** One counter as an attempt left it: what taking the attempt back must undo. */
interface CountedAttempt extends CounterKey {
  failures: number;
  /** The block this attempt set, if it set one. */
  blockedUntil: string | null;
  /** When this attempt was counted, and the counter's last failure before it. */
  at: string;
  previousAt: string;
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
    private readonly app: { readonly knex: Knex },
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

  /**
   * Runs `verify` (the password check) as one login attempt. Refused with
   * LoginThrottledError, without running `verify`, while any counter of the attempt is
   * blocked. The attempt is counted before `verify` runs, so a burst of concurrent attempts
   * meets the same limits as attempts one after another; a success (or an error other than
   * UnauthorizedError) takes the count back.
   */
  async guard<T>(attempt: LoginAttempt, verify: () => Promise<T>): Promise<T> {
    if (!this.enabled) return verify();
    const counted = await this.count(attempt);
    let result: T;
    try {
      result = await verify();
    } catch (error) {
      if (!(error instanceof UnauthorizedError)) await this.takeBack(counted, ['pair', 'email', 'ip']);
      throw error;
    }
    // The address keeps its failures: an attacker's own account must not reset them.
    await this.knex('rapport_login_throttle')
      .whereIn(
        'key',
        counted.filter((c) => c.kind !== 'ip').map((c) => c.key),
      )
      .delete();
    await this.takeBack(counted, ['ip']);
    return result;
  }

  /**
   * Counts one attempt against its three counters and blocks those past their limit, under
   * the counters' row locks: a concurrent attempt waits, then sees this one's count and block.
   */
  private async count(attempt: LoginAttempt): Promise<CountedAttempt[]> {
    const now = this.now();
    const keys = counterKeys(attempt).sort((a, b) => (a.key < b.key ? -1 : 1));
    return this.knex.transaction(async (trx) => {
      // Creates missing counters and locks all three, in key order (no deadlock between attempts).
      const result = await trx.raw(
        `insert into rapport_login_throttle as t (key, kind, failures, last_failure_at)
         select u.key, u.kind, 0, ?::timestamptz from unnest(?::text[], ?::text[]) with ordinality as u(key, kind, n) order by u.n
         on conflict (key) do update set key = t.key
         returning key, kind, failures, last_failure_at, blocked_until`,
        [now.toISOString(), keys.map((k) => k.key), keys.map((k) => k.kind)],
      );
      const rows: CounterRow[] = result.rows;
      const until = Math.max(0, ...rows.map((r) => (r.blocked_until ? new Date(r.blocked_until).getTime() : 0)));
      if (until > now.getTime()) {
        // Thrown inside the transaction: the counters it created are rolled back with it.
        throw new LoginThrottledError(Math.max(1, Math.ceil((until - now.getTime()) / 1000)));
      }
      const counted = rows.map((row): CountedAttempt => {
        const p = this.policies[row.kind];
        const forgotten = new Date(row.last_failure_at).getTime() < now.getTime() - p.forgetAfterSeconds * 1000;
        const failures = forgotten ? 1 : Number(row.failures) + 1;
        const over = failures - p.freeFailures;
        const blockedUntil = over > 0 ? new Date(now.getTime() + Math.min(p.baseDelaySeconds * 2 ** Math.min(over - 1, 30), p.maxDelaySeconds) * 1000).toISOString() : null;
        return { key: row.key, kind: row.kind, failures, blockedUntil, at: now.toISOString(), previousAt: new Date(row.last_failure_at).toISOString() };
      });
      await trx.raw(
        `update rapport_login_throttle t set failures = c.failures, last_failure_at = ?::timestamptz, blocked_until = c.blocked_until
         from unnest(?::text[], ?::integer[], ?::timestamptz[]) as c(key, failures, blocked_until) where t.key = c.key`,
        [now.toISOString(), counted.map((c) => c.key), counted.map((c) => c.failures), counted.map((c) => c.blockedUntil) as string[]],
      );
      return counted;
    });
  }

  /**
   * Takes one attempt's count back from some of its counters, with the block it set and its
   * time, unless a later attempt has replaced them: successes must not keep old failures from
   * being forgotten.
   */
  private async takeBack(counted: CountedAttempt[], kinds: CounterKind[]): Promise<void> {
    const back = counted.filter((c) => kinds.includes(c.kind));
    await this.knex.raw(
      `update rapport_login_throttle t set failures = greatest(t.failures - 1, 0),
         blocked_until = case when t.blocked_until = c.blocked_until then null else t.blocked_until end,
         last_failure_at = case when t.last_failure_at = c.at then c.previous_at else t.last_failure_at end
       from unnest(?::text[], ?::timestamptz[], ?::timestamptz[], ?::timestamptz[]) as c(key, blocked_until, at, previous_at) where t.key = c.key`,
      [back.map((c) => c.key), back.map((c) => c.blockedUntil) as string[], back.map((c) => c.at), back.map((c) => c.previousAt)],
    );
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
  const ip = clientNetwork(attempt.ip);
  return [
    { kind: 'pair', key: `pair:${digest(`${email}\n${ip}`)}` },
    { kind: 'email', key: `email:${digest(email)}` },
    { kind: 'ip', key: `ip:${digest(ip)}` },
  ];
}

/**
 * What one client is counted as: an IPv4 address, or the /64 network of an IPv6 address (one
 * subscriber's link gets a whole /64, so counting addresses one by one would let a single
 * client rotate through 2^64 of them). IPv4-mapped IPv6 counts as the IPv4 address.
 */
export function clientNetwork(ip: string): string {
  if (!ip) return 'unknown';
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(ip);
  } catch {
    return ip;
  }
  if (parsed.kind() === 'ipv4') return parsed.toString();
  return `${(parsed as ipaddr.IPv6).parts
    .slice(0, 4)
    .map((part) => part.toString(16))
    .join(':')}::/64`;
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function policy(name: string, defaults: ThrottlePolicy, given: Partial<ThrottlePolicy> | undefined): ThrottlePolicy {
  const merged = { ...defaults, ...Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined)) };
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
