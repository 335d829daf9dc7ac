import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type * as RateLimiterFlexible from 'rate-limiter-flexible';
import type { RateLimiterPostgres } from 'rate-limiter-flexible';
import { lazyModule } from '../util/lazy-module.js';
import type { LimitRule, LimitsSettings, TenantQuotas } from '../app/config.js';
import { RapportError } from '../errors.js';

/** The table the shared counters live in (kernel migration 0007), one row per key and window. */
export const RATE_LIMIT_TABLE = 'rapport_rate_limits';

export const LIMITS_DEFAULTS = {
  perPrincipal: { requests: 6000, windowSeconds: 60 },
  perAddress: { requests: 20_000, windowSeconds: 60 },
  syncIntervalMs: 1000,
} as const;

const DAY_SECONDS = 86_400;

export type QuotaKind = keyof TenantQuotas;

/** 429: a limit or quota is used up; the answer says which, how many, and when it resets. */
export class LimitExceededError extends RapportError {
  constructor(
    readonly limit: Decision,
    message: string,
  ) {
    super(429, limit.quota ? 'quota-exceeded' : 'rate-limited', message, { retryAfterSeconds: limit.resetSeconds, limit: limit.policy, windowSeconds: limit.windowSeconds, max: limit.max });
  }
}

export interface Decision {
  allowed: boolean;
  /** The policy's name in the RateLimit headers (`principal`, `address`, `tenant-requests`…). */
  policy: string;
  /** Its RateLimit-Policy header value. */
  policyHeader: string;
  max: number;
  windowSeconds: number;
  remaining: number;
  resetSeconds: number;
  quota: boolean;
}

/**
 * Counts per key in fixed windows, in this process: synchronous, so a request pays a Map
 * lookup and no promise. Windows that ended are dropped as the map is swept.
 */
class WindowCounts {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private sweepAt = 0;

  constructor(private readonly windowMs: number) {}

  add(key: string, points: number, now: number): { count: number; resetAt: number } {
    if (now >= this.sweepAt) this.sweep(now);
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count += points;
    return window;
  }

  set(key: string, count: number, resetAt: number): void {
    this.windows.set(key, { count, resetAt });
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    this.sweepAt = now + Math.min(this.windowMs, 60_000);
  }
}

// Loaded only where limits are shared through PostgreSQL: an embedded system never needs it.
const rateLimiterFlexible = lazyModule<typeof RateLimiterFlexible>('rate-limiter-flexible');

/**
 * One limit (N per window per key), counted in this process and shared across the nodes of
 * one PostgreSQL. Each request is counted in memory — no database round trip, no promise on
 * the request path — and every `syncIntervalMs` the node adds what it counted to the shared
 * row of each key (rate-limiter-flexible's PostgreSQL store) and takes back the total, so
 * every node sees the requests of all of them within one interval. A key a node sees for the
 * first time in a window is read from the shared row first. A node that cannot reach the
 * shared rows goes on counting alone.
 */
class SharedLimit {
  private readonly local: WindowCounts;
  private readonly shared: RateLimiterPostgres | undefined;
  private pending = new Map<string, number>();
  /** Keys whose shared count this node took in this window, until when. */
  private readonly known = new Map<string, number>();
  private readonly headers: { policy: string };

  constructor(
    readonly policy: string,
    readonly rule: LimitRule,
    readonly quota: boolean,
    knex: Knex | undefined,
    private readonly logger: Logger,
  ) {
    this.local = new WindowCounts(rule.windowSeconds * 1000);
    this.headers = { policy: `"${policy}";q=${rule.requests};w=${rule.windowSeconds}` };
    this.shared = knex
      ? new (rateLimiterFlexible().RateLimiterPostgres)({
          storeClient: knex,
          storeType: 'knex',
          tableName: RATE_LIMIT_TABLE,
          tableCreated: true,
          keyPrefix: policy,
          points: rule.requests,
          duration: rule.windowSeconds,
          clearExpiredByTimeout: false,
        })
      : undefined;
  }

  /** The decision for `points` more of `key`: at once when the node knows the key, after one shared read otherwise. */
  consume(key: string, points = 1): Decision | Promise<Decision> {
    if (this.shared && !this.isKnown(key)) return this.learn(key).then(() => this.count(key, points));
    return this.count(key, points);
  }

  private count(key: string, points: number): Decision {
    const now = Date.now();
    const window = this.local.add(key, points, now);
    const allowed = window.count <= this.rule.requests;
    // Only what was admitted is shared: a flood that is refused does not use up the others' allowance.
    if (allowed && this.shared) this.pending.set(key, (this.pending.get(key) ?? 0) + points);
    return {
      allowed,
      policy: this.policy,
      policyHeader: this.headers.policy,
      max: this.rule.requests,
      windowSeconds: this.rule.windowSeconds,
      remaining: Math.max(0, this.rule.requests - window.count),
      resetSeconds: Math.max(1, Math.ceil((window.resetAt - now) / 1000)),
      quota: this.quota,
    };
  }

  /** Adds what this node counted to the shared rows and takes back each key's total. */
  async flush(): Promise<void> {
    if (!this.shared || this.pending.size === 0) return;
    const counted = this.pending;
    this.pending = new Map();
    for (const [key, points] of counted) {
      try {
        const total = await this.shared.penalty(key, points);
        const since = this.pending.get(key) ?? 0;
        const resetAt = Date.now() + total.msBeforeNext;
        this.local.set(key, total.consumedPoints + since, resetAt);
        this.known.set(key, resetAt);
      } catch (error) {
        this.logger.debug({ err: error, policy: this.policy }, 'could not share a rate-limit count; counting on this node alone');
      }
    }
  }

  private isKnown(key: string): boolean {
    const until = this.known.get(key);
    if (until !== undefined && until > Date.now()) return true;
    this.known.delete(key);
    return false;
  }

  private async learn(key: string): Promise<void> {
    try {
      const total = await this.shared!.get(key);
      // Bounded: a flood of distinct keys costs one read each, and the map never outgrows it.
      if (this.known.size > 100_000) this.known.clear();
      const resetAt = Date.now() + (total?.msBeforeNext ?? this.rule.windowSeconds * 1000);
      this.known.set(key, resetAt);
      if (total && total.consumedPoints > 0) this.local.set(key, total.consumedPoints, resetAt);
    } catch (error) {
      this.known.set(key, Date.now() + 1000);
      this.logger.debug({ err: error, policy: this.policy }, 'could not read a shared rate-limit count; counting on this node alone');
    }
  }
}

/**
 * The limits on every caller (OWASP API4): requests per principal and per client address in
 * a short window, and per-tenant daily quotas of requests, imported rows and uploaded bytes.
 * Shared across nodes on PostgreSQL (see SharedLimit); one process on PGlite.
 */
export class RequestLimits {
  readonly enabled: boolean;
  private perPrincipal: SharedLimit | undefined;
  private perAddress: SharedLimit | undefined;
  private readonly quotas = new Map<string, SharedLimit>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: LimitsSettings,
    private readonly knex: () => Knex | undefined,
    private readonly logger: Logger,
  ) {
    this.enabled = settings.enabled !== false;
  }

  private limit(policy: string, rule: LimitRule, quota: boolean): SharedLimit {
    return new SharedLimit(policy, rule, quota, this.knex(), this.logger);
  }

  /** Starts counting once the database is open, and sharing counts with the other nodes (PostgreSQL only). */
  start(): void {
    if (!this.enabled || this.perPrincipal || this.perAddress) return;
    const principal = this.settings.perPrincipal === undefined ? LIMITS_DEFAULTS.perPrincipal : this.settings.perPrincipal;
    const address = this.settings.perAddress === undefined ? LIMITS_DEFAULTS.perAddress : this.settings.perAddress;
    this.perPrincipal = principal ? this.limit('principal', principal, false) : undefined;
    this.perAddress = address ? this.limit('address', address, false) : undefined;
    if (!this.knex()) return;
    this.timer = setInterval(() => void this.flush(), this.settings.syncIntervalMs ?? LIMITS_DEFAULTS.syncIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Shares what this node counted now (tests; the timer does it every interval). */
  async flush(): Promise<void> {
    const limits = [this.perPrincipal, this.perAddress, ...this.quotas.values()].filter((l): l is SharedLimit => l !== undefined);
    for (const limit of limits) await limit.flush();
  }

  /** Per client address, before authentication (a flood of bad tokens is limited too). Throws 429 past it. */
  address(ip: string): Decision | Promise<Decision> | undefined {
    return this.check(this.perAddress, ip, 'Too many requests from this address');
  }

  /** Per principal and per tenant, once the caller is known. Throws 429 past either. */
  principal(tenantId: string, principalId: string): Decision | Promise<Decision | undefined> | undefined {
    const own = this.check(this.perPrincipal, this.principalKey(tenantId, principalId), 'Too many requests with this credential');
    const perDay = this.quotaOf(tenantId, 'requestsPerDay');
    if (perDay === undefined || perDay === null) return own;
    return Promise.resolve(own).then(async (decision) => {
      await this.quota(tenantId, 'requestsPerDay', 1);
      return decision;
    });
  }

  /** Counts `amount` against a tenant's daily quota; throws 429 when it is used up. */
  async quota(tenantId: string, kind: QuotaKind, amount: number): Promise<void> {
    const max = this.quotaOf(tenantId, kind);
    if (!this.enabled || max === null || max === undefined || amount <= 0) return;
    const name = `tenant-${kind}`;
    const key = `${name}:${max}`;
    let limit = this.quotas.get(key);
    if (!limit) {
      limit = this.limit(name, { requests: max, windowSeconds: DAY_SECONDS }, true);
      this.quotas.set(key, limit);
    }
    const decision = await limit.consume(tenantId, amount);
    if (!decision.allowed) throw new LimitExceededError(decision, `The tenant's daily quota of ${QUOTA_WORDS[kind]} (${max}) is used up; it resets in ${decision.resetSeconds} s`);
  }

  private quotaOf(tenantId: string, kind: QuotaKind): number | null | undefined {
    const tenants = this.settings.tenants;
    const own = typeof tenants === 'function' ? tenants(tenantId) : tenants?.[tenantId];
    if (own && kind in own) return own[kind];
    return this.settings.perTenant?.[kind];
  }

  /**
   * The per-principal key, kept while the same caller keeps calling (a cached principal's
   * ids are the same strings each request): a key built per request is a new string V8 must
   * flatten and hash for every lookup.
   */
  private lastPrincipal = { tenantId: '', principalId: '', key: '' };
  private principalKey(tenantId: string, principalId: string): string {
    const last = this.lastPrincipal;
    if (last.tenantId === tenantId && last.principalId === principalId) return last.key;
    const key = `${tenantId}:${principalId}`;
    this.lastPrincipal = { tenantId, principalId, key };
    return key;
  }

  private check(limit: SharedLimit | undefined, key: string, message: string): Decision | Promise<Decision> | undefined {
    if (!limit) return undefined;
    const decision = limit.consume(key);
    // No closure on the common, synchronous path.
    return decision instanceof Promise ? decision.then((d) => refuse(d, message)) : refuse(decision, message);
  }
}

function refuse(decision: Decision, message: string): Decision {
  if (!decision.allowed) throw new LimitExceededError(decision, `${message}: at most ${decision.max} in ${decision.windowSeconds} s; retry in ${decision.resetSeconds} s`);
  return decision;
}

const QUOTA_WORDS: Record<QuotaKind, string> = {
  requestsPerDay: 'requests',
  importRowsPerDay: 'imported rows',
  uploadBytesPerDay: 'uploaded bytes',
};

/** The RateLimit and RateLimit-Policy headers (IETF draft-ietf-httpapi-ratelimit-headers) of a decision. */
export function setRateLimitHeaders(response: { setHeader(name: string, value: string): unknown }, decision: Decision): void {
  response.setHeader('RateLimit-Policy', decision.policyHeader);
  response.setHeader('RateLimit', `"${decision.policy}";r=${decision.remaining};t=${decision.resetSeconds}`);
}
