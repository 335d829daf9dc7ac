import { TENANT_DISCOVERY } from '../storage/sharding.js';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Knex } from 'knex';
import type { Agent } from 'undici';
import type { Logger } from 'pino';
import type { DispatcherSettings } from '../app/config.js';
import type { EventMeta } from '../hooks/types.js';
import { chunk } from '../util/chunk.js';
import { newId } from '../util/ids.js';
import { isoRequired } from '../util/time.js';
import { publicOnlyAgent } from './egress.js';
import { postWebhook, retryDelayMs, webhookBody, type AttemptOutcome } from './delivery.js';
import { matchesAnyPattern } from './patterns.js';
import { WakeableSleep } from '../util/wakeable-sleep.js';

/** What the dispatcher needs of the system: its connection and log, the webhook secrets, the delivery counter. */
export interface DispatcherHost {
  readonly logger: Logger;
  readonly knex: Knex;
  readonly webhookSecrets: { open(tenantId: string, webhookId: string, sealed: string): string };
  readonly metrics: { webhookDeliveries: { inc(labels: { outcome: string }): void } };
}

export type DispatcherOptions = DispatcherSettings & {
  /** Outbox rows fanned out per transaction (default 500). */
  fanOutBatchSize?: number;
  /** Webhook requests in flight at once on this node (default 50). */
  concurrency?: number;
};

export const DISPATCHER_DEFAULTS = {
  pollIntervalMs: 1000,
  retryBaseMs: 1000,
  maxAttempts: 10,
  requestTimeoutMs: 10_000,
  fanOutBatchSize: 500,
  concurrency: 50,
} as const;

// How often a node prunes the outbox when pruning is configured.
const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 5000;
// Delivery rows per insert statement (arrays, so 5 parameters whatever the size).
const DELIVERY_ROWS_PER_INSERT = 1000;
// Outcomes recorded per statement.
const OUTCOMES_PER_WRITE = 500;
// Subscriptions whose opened signing secret is kept.
const OPEN_SECRETS_KEPT = 1000;
// Answered deliveries whose outcome is still to be written, per request slot, before claims pause.
const OUTCOMES_WAITING_PER_SLOT = 4;
/** How many tenants with waiting work one pass looks at. */
const TENANTS_PER_PASS = 64;

interface ClaimedDelivery {
  tenant_id: string;
  id: string;
  webhook_id: string;
  event_id: string;
  attempts: number;
  url: string;
  /** As stored: sealed, or in clear if written before encryption and not yet sealed. */
  secret: string;
  leaseToken: string;
  /** The event and the request body, built once for all of its deliveries in one claim. */
  event?: { name: string; body: string };
}

interface PendingOutcome {
  delivery: ClaimedDelivery;
  outcome: AttemptOutcome;
  final: boolean;
  done: () => void;
  failed: (error: unknown) => void;
}

/**
 * Another durable reader of the outbox (automation rules): handed every event the fan-out
 * hands to webhooks, in the same transaction, so it queues its own work exactly when the
 * event is marked dispatched, and at least once.
 */
export interface OutboxConsumer {
  /** Queues work for these events on `trx`; true when it queued any. */
  fanOut(trx: Knex.Transaction, events: ReadonlyArray<{ tenant_id: string; id: string; name: string }>): Promise<boolean>;
  /** The fan-out that queued work committed: start on it. */
  wake(): void;
}

export interface DispatcherStats {
  /** Outbox rows this instance fanned out. */
  fannedOut: number;
  /** Requests that got a 2xx. */
  delivered: number;
  /** Failed attempts that will be retried. */
  retried: number;
  /** Deliveries given up after maxAttempts. */
  failed: number;
}

/**
 * Moves committed events from the outbox to durable subscribers (webhooks), at least once.
 *
 * Two steps, each claiming rows with `FOR UPDATE SKIP LOCKED` so any number of nodes share
 * the work on one database:
 *  1. fan-out: undispatched outbox rows become one delivery row per matching active
 *     subscription of the same tenant, and are marked dispatched — one short transaction;
 *  2. delivery: due pending deliveries are leased (next_attempt_at pushed past the request
 *     timeout, a lease token set) and committed BEFORE any HTTP call, so no transaction is
 *     ever held across network I/O (PGlite has one connection). The outcome is recorded only
 *     while the lease is still ours; a node that dies mid-request lets the lease expire and
 *     another node delivers again (receivers de-duplicate on Rapport-Event-Id).
 */
export class Dispatcher {
  readonly stats: DispatcherStats = { fannedOut: 0, delivered: 0, retried: 0, failed: 0 };
  private readonly options: Required<Omit<DispatcherOptions, 'enabled' | 'pruneDispatchedOlderThanMs' | 'allowPrivateNetworks'>> & Pick<DispatcherOptions, 'pruneDispatchedOlderThanMs'>;
  private readonly logger: Logger;
  private running = false;
  private loop: Promise<void> | undefined;
  private nudged = false;
  private readonly pause = new WakeableSleep();
  /** Deliveries under way: the request, then the writing of its outcome. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Of those, requests not yet answered (at most `concurrency`). */
  private requests = 0;
  /** Claimed, waiting for a request slot (at most `concurrency`, so each waits for one request at most, well within its lease). */
  private readonly ready: ClaimedDelivery[] = [];
  /** Tenants whose last claim was cut short by its limit (more is due there), and when tenants were last looked for. */
  private busyTenants: string[] = [];
  /** Tenants whose last fan-out was cut short by the batch size (more events wait there). */
  private outboxBacklog: string[] = [];
  private discoveredAt = 0;
  private nudgedSinceDiscovery = false;
  /** Public addresses only, unless `allowPrivateNetworks` (egress.ts). */
  /** The public-only connection pool, made with the first delivery (undici loads then, not at start); stays undefined when private networks are allowed. */
  private agent: Agent | undefined;
  private readonly publicOnly: boolean;
  private lastPruneAt = 0;
  private passes = 0;
  private readonly consumers: OutboxConsumer[] = [];
  /** Outcomes waiting to be written, and whether a write is under way (see record). */
  private readonly outcomes: PendingOutcome[] = [];
  private writing = false;
  /** Signing secrets opened lately by subscription, oldest first (see openSecret). */
  private readonly secrets = new Map<string, { tenantId: string; sealed: string; secret: string }>();

  constructor(
    private readonly app: DispatcherHost,
    options: DispatcherOptions,
  ) {
    const pick = <K extends keyof typeof DISPATCHER_DEFAULTS>(key: K): number => {
      const value = options[key];
      return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : DISPATCHER_DEFAULTS[key];
    };
    this.options = {
      pollIntervalMs: pick('pollIntervalMs'),
      retryBaseMs: pick('retryBaseMs'),
      maxAttempts: Math.floor(pick('maxAttempts')),
      requestTimeoutMs: pick('requestTimeoutMs'),
      fanOutBatchSize: Math.floor(pick('fanOutBatchSize')),
      concurrency: Math.floor(pick('concurrency')),
      pruneDispatchedOlderThanMs: options.pruneDispatchedOlderThanMs,
    };
    this.logger = app.logger.child({ component: 'dispatcher' });
    this.publicOnly = !options.allowPrivateNetworks;
  }

  /** Adds a reader of the outbox besides webhooks (see OutboxConsumer). */
  addConsumer(consumer: OutboxConsumer): void {
    this.consumers.push(consumer);
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Work is waiting (an event was committed, a delivery requeued): look now, not at the next poll. */
  nudge(): void {
    this.nudged = true;
    this.nudgedSinceDiscovery = true;
    this.pause.wake();
  }

  /** Room for more deliveries: claim now. Noted for a pass under way, which would otherwise go to sleep after it (a wake finds no one asleep then). */
  private wakeLoop(): void {
    this.nudged = true;
    this.pause.wake();
  }

  /** Stops claiming, then waits for the requests in flight to finish and be recorded. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.pause.wake();
    await this.loop;
    // Deliveries claimed ahead are sent as the requests before them finish: wait for those too.
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    this.loop = undefined;
    // Idle keep-alive sockets would hold the process open.
    await this.agent?.close().catch(() => undefined);
    this.agent = undefined;
  }

  /** One pass: fan out, then claim and start due deliveries. True when more work is probably waiting. */
  async tick(): Promise<boolean> {
    // Claimed a batch ahead of the request slots, so the next batch is at hand when requests
    // finish instead of one claim per few answers. Outcomes still to be written bound the
    // claims too, so a slow database cannot let answered deliveries pile up in memory.
    const free = Math.min(2 * this.options.concurrency - this.requests - this.ready.length, this.options.concurrency * OUTCOMES_WAITING_PER_SLOT - this.inFlight.size - this.ready.length);
    const claiming = free >= this.lowWater;
    // While a backlog drains, fan out and claim again from the tenants that still have more,
    // without looking for others each pass — but never for longer than a poll interval, nor past
    // a nudge (new events on this node). Fanning out the next events while the deliveries of the
    // last ones are sent keeps the request slots full: waiting until they ran dry left them idle
    // for a discovery and a fan-out every batch of events.
    const waiting =
      claiming && (this.busyTenants.length > 0 || this.outboxBacklog.length > 0) && !this.nudgedSinceDiscovery && Date.now() - this.discoveredAt < this.options.pollIntervalMs
        ? { outbox: this.outboxBacklog, deliveries: this.busyTenants }
        : await this.discover(claiming);
    const fanned = await this.fanOut(waiting.outbox);
    // A tenant that just got deliveries has them due now: claim them in this pass, not the next.
    const dueTenants = [...new Set([...fanned.tenants, ...waiting.deliveries])];
    const claimed = claiming ? await this.claimDue(dueTenants, free) : [];
    this.ready.push(...claimed);
    this.startReady();
    await this.maybePrune();
    return fanned.handled === this.options.fanOutBatchSize || (claiming && claimed.length === free);
  }

  /** Sends claimed deliveries while request slots are free. */
  private startReady(): void {
    while (this.requests < this.options.concurrency && this.ready.length > 0) {
      this.requests++;
      this.track(this.deliver(this.ready.shift() as ClaimedDelivery));
    }
  }

  /**
   * Deletes outbox rows dispatched more than `olderThanMs` ago whose deliveries are all
   * done (a pending or failed delivery still needs its event). Returns how many went.
   */
  async pruneOutbox(olderThanMs: number): Promise<number> {
    let total = 0;
    const seconds = olderThanMs / 1000;
    // Tenant by tenant, like the claims: each delete stays on one shard of a sharded cluster.
    const tenants = await this.knex.raw(`${TENANT_DISCOVERY} select distinct tenant_id from rapport_outbox where dispatched_at < now() - make_interval(secs => ?::double precision)`, [seconds]);
    for (const { tenant_id: tenantId } of tenants.rows as Array<{ tenant_id: string }>) {
      for (;;) {
        // Raw, because knex-pglite answers .delete() with a result object instead of a count.
        const result = await this.knex.raw(
          `delete from rapport_outbox
           where tenant_id = ? and id in (
             select o.id from rapport_outbox o
             where o.tenant_id = ? and o.dispatched_at < now() - make_interval(secs => ?::double precision)
               and not exists (
                 select 1 from rapport_webhook_deliveries d
                 where d.tenant_id = o.tenant_id and d.event_id = o.id and d.status <> 'delivered'
               )
               -- An automation run still to come reads its event here.
               and not exists (
                 select 1 from rapport_automation_runs a
                 where a.tenant_id = o.tenant_id and a.event_id = o.id and a.status = 'pending'
               )
             limit ?
           )`,
          [tenantId, tenantId, seconds, PRUNE_BATCH],
        );
        const deleted = Number(result.rowCount ?? 0);
        total += deleted;
        if (!(deleted >= PRUNE_BATCH)) break;
      }
    }
    return total;
  }

  private get knex(): Knex {
    return this.app.knex;
  }

  /** In-flight count at which the loop claims again. */
  private get lowWater(): number {
    return Math.floor(this.options.concurrency / 2);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.nudged = false;
      let more = false;
      try {
        more = await this.tick();
        failures = 0;
      } catch (error) {
        failures++;
        this.logger.error({ err: error }, 'webhook dispatcher pass failed; retrying');
      }
      if (!this.running) break;
      // After errors, back off (up to 30 s) instead of hammering a database that is down.
      const waitMs = failures ? Math.min(this.options.pollIntervalMs * 2 ** failures, 30_000) : this.options.pollIntervalMs;
      if (failures || (!more && !this.nudged)) await this.pause.sleep(waitMs);
      // PGlite answers without touching the event loop: let I/O and timers run between passes.
      else await yieldToEventLoop();
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work
      .catch((error) => this.logger.error({ err: error }, 'webhook delivery failed unexpectedly'))
      .finally(() => {
        this.inFlight.delete(tracked);
        if (this.inFlight.size === this.options.concurrency * OUTCOMES_WAITING_PER_SLOT - this.lowWater) this.wakeLoop();
      });
    this.inFlight.add(tracked);
  }

  /**
   * Tenants that have work waiting — undispatched events, due deliveries (when there is room
   * for more) — in one statement read without a lock. Work is then claimed one tenant at a
   * time (`where tenant_id = ? … for update skip locked`): on a cluster sharded by tenant each
   * claim stays on one shard, which row locks require there.
   */
  private async discover(withDeliveries: boolean): Promise<{ outbox: string[]; deliveries: string[] }> {
    this.discoveredAt = Date.now();
    this.nudgedSinceDiscovery = false;
    const result = await this.knex.raw(
      `${TENANT_DISCOVERY} select 'o' as kind, tenant_id from (select distinct tenant_id from rapport_outbox where dispatched_at is null limit ?) o
       union all
       select 'd' as kind, tenant_id from (select distinct tenant_id from rapport_webhook_deliveries where ? and status = 'pending' and next_attempt_at <= now() limit ?) d`,
      [TENANTS_PER_PASS, withDeliveries, TENANTS_PER_PASS],
    );
    const rows = result.rows as Array<{ kind: 'o' | 'd'; tenant_id: string }>;
    return { outbox: this.rotate(rows.filter((r) => r.kind === 'o').map((r) => r.tenant_id)), deliveries: this.rotate(rows.filter((r) => r.kind === 'd').map((r) => r.tenant_id)) };
  }

  /** A different tenant first on each pass, so one busy tenant cannot starve the others. */
  private rotate(tenants: string[]): string[] {
    if (tenants.length < 2) return tenants;
    const start = this.passes++ % tenants.length;
    return [...tenants.slice(start), ...tenants.slice(0, start)];
  }

  /** Step 1: outbox rows → delivery rows. Returns the outbox rows handled and the tenants that got deliveries. */
  private async fanOut(tenants: string[]): Promise<{ handled: number; tenants: string[] }> {
    let handled = 0;
    const withDeliveries: string[] = [];
    const backlog: string[] = [];
    for (const tenantId of tenants) {
      if (handled >= this.options.fanOutBatchSize) break;
      const limit = this.options.fanOutBatchSize - handled;
      const done = await this.fanOutTenant(tenantId, limit);
      handled += done.events;
      if (done.deliveries > 0) withDeliveries.push(tenantId);
      if (done.events === limit) backlog.push(tenantId);
    }
    this.outboxBacklog = backlog;
    this.stats.fannedOut += handled;
    return { handled, tenants: withDeliveries };
  }

  private async fanOutTenant(tenantId: string, limit: number): Promise<{ events: number; deliveries: number }> {
    const woken: OutboxConsumer[] = [];
    const handled = await this.knex.transaction(async (trx) => {
      woken.length = 0;
      const events: Array<{ id: string; name: string }> = await trx('rapport_outbox')
        .where('tenant_id', tenantId)
        .whereNull('dispatched_at')
        .orderBy([{ column: 'occurred_at' }, { column: 'id' }])
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .select('id', 'name');
      if (events.length === 0) return { events: 0, deliveries: 0 };
      const subscriptions: Array<{ id: string; events: string[] }> = await trx('rapport_webhooks').where({ tenant_id: tenantId, active: true }).select('id', 'events');
      const deliveries = events.flatMap((event) => subscriptions.filter((s) => matchesAnyPattern(s.events, event.name)).map((s) => ({ id: newId(), webhookId: s.id, event })));
      // Arrays through unnest: one short statement for any number of rows, planned once.
      for (const batch of chunk(deliveries, DELIVERY_ROWS_PER_INSERT)) {
        await trx.raw(
          `insert into rapport_webhook_deliveries (tenant_id, id, webhook_id, event_id, event_name, status, next_attempt_at)
           select ?::uuid, id, webhook_id, event_id, event_name, 'pending', now()
           from unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::text[]) as d(id, webhook_id, event_id, event_name)
           on conflict (tenant_id, webhook_id, event_id) do nothing`,
          [tenantId, batch.map((d) => d.id), batch.map((d) => d.webhookId), batch.map((d) => d.event.id), batch.map((d) => d.event.name)] as unknown as Knex.RawBinding[],
        );
      }
      // An array through unnest rather than a list of ids: PGlite fails on IN lists of a few
      // hundred values ("bad buffer ID"), and one plan serves any size.
      const withTenant = events.map((e) => ({ tenant_id: tenantId, ...e }));
      for (const consumer of this.consumers) if (await consumer.fanOut(trx, withTenant)) woken.push(consumer);
      await trx.raw('update rapport_outbox set dispatched_at = now() where tenant_id = ? and id in (select * from unnest(?::uuid[]))', [tenantId, events.map((e) => e.id)]);
      return { events: events.length, deliveries: deliveries.length };
    });
    for (const consumer of woken) consumer.wake();
    return handled;
  }

  /**
   * Step 2a: lease due deliveries of active subscriptions, tenant by tenant, with what is
   * needed to send them, in one statement per tenant (its own transaction): rows another node
   * is claiming at the same moment are skipped, rows it has claimed are no longer due.
   */
  private async claimDue(tenants: string[], limit: number): Promise<ClaimedDelivery[]> {
    const claimed: ClaimedDelivery[] = [];
    const busy: string[] = [];
    for (const tenantId of tenants) {
      if (claimed.length >= limit) break;
      const wanted = limit - claimed.length;
      const got = await this.claimDueOf(tenantId, wanted);
      if (got.length === wanted) busy.push(tenantId);
      claimed.push(...got);
    }
    this.busyTenants = busy;
    return claimed;
  }

  private async claimDueOf(tenantId: string, limit: number): Promise<ClaimedDelivery[]> {
    const leaseToken = newId();
    // Long enough to cover the wait for a slot (one request at most, when claimed ahead), the
    // request and its recording; only a stalled or dead node outlives it.
    const leaseSeconds = (2 * this.options.requestTimeoutMs + 30_000) / 1000;
    const result = await this.knex.raw(
      `with claimed as (
         select d.tenant_id, d.id, d.webhook_id, d.event_id
         from rapport_webhook_deliveries d
         join rapport_webhooks w on w.tenant_id = d.tenant_id and w.id = d.webhook_id
         where d.tenant_id = ? and d.status = 'pending' and d.next_attempt_at <= now() and w.active
         order by d.next_attempt_at, d.id
         limit ?
         for update of d skip locked
       )
       update rapport_webhook_deliveries d
       set lease_token = ?, next_attempt_at = now() + make_interval(secs => ?::double precision)
       from claimed c
       join rapport_webhooks w on w.tenant_id = c.tenant_id and w.id = c.webhook_id
       left join rapport_outbox o on o.tenant_id = c.tenant_id and o.id = c.event_id
       where d.tenant_id = ? and d.tenant_id = c.tenant_id and d.id = c.id
       returning d.tenant_id, d.id, d.webhook_id, d.event_id, d.attempts, w.url, w.secret, o.name, o.payload, o.actor, o.occurred_at`,
      [tenantId, limit, leaseToken, leaseSeconds, tenantId],
    );
    type Row = Omit<ClaimedDelivery, 'leaseToken' | 'event'> & { name: string | null; payload: unknown; actor: EventMeta['actor']; occurred_at: Date | string | null };
    const bodies = new Map<string, string>();
    const bodyOf = (row: Row & { name: string; occurred_at: Date | string }): string => {
      let body = bodies.get(row.event_id);
      if (body === undefined) {
        body = webhookBody({ id: row.event_id, name: row.name, tenantId: row.tenant_id, occurredAt: isoRequired(row.occurred_at), actor: row.actor ?? null }, row.payload);
        bodies.set(row.event_id, body);
      }
      return body;
    };
    return (result.rows as Row[]).map((claimed) => {
      const { name, payload: _payload, actor: _actor, occurred_at, ...row } = claimed;
      return { ...row, leaseToken, event: name !== null && occurred_at !== null ? { name, body: bodyOf({ ...claimed, name, occurred_at }) } : undefined };
    });
  }

  /**
   * The signing secret in clear. Opened once per subscription and sealed value, not per
   * delivery: with many deliveries to one subscription the decryption was a tenth of the work.
   * A rotated secret is a new sealed value, so it is opened afresh.
   */
  private openSecret(delivery: ClaimedDelivery): string {
    // Keyed by the subscription's id, the tenant and sealed value compared: a key built of all
    // three was a long new string to hash on every delivery.
    const kept = this.secrets.get(delivery.webhook_id);
    if (kept !== undefined && kept.tenantId === delivery.tenant_id && kept.sealed === delivery.secret) return kept.secret;
    const secret = this.app.webhookSecrets.open(delivery.tenant_id, delivery.webhook_id, delivery.secret);
    this.secrets.delete(delivery.webhook_id);
    if (this.secrets.size >= OPEN_SECRETS_KEPT) this.secrets.delete(this.secrets.keys().next().value as string);
    this.secrets.set(delivery.webhook_id, { tenantId: delivery.tenant_id, sealed: delivery.secret, secret });
    return secret;
  }

  /** Step 2b: send one delivery (no transaction open) and record what happened. */
  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    let attempt: { outcome: AttemptOutcome; final: boolean };
    try {
      attempt = await this.attempt(delivery);
    } finally {
      this.requests--;
      const hadReady = this.ready.length > 0;
      this.startReady();
      // Claim again once the batch claimed ahead is all sent (or half the slots are idle): one claim for many deliveries, not one per answer.
      if (this.ready.length === 0 && (hadReady || this.requests === this.lowWater)) this.wakeLoop();
    }
    await this.record(delivery, attempt.outcome, attempt.final);
  }

  private async attempt(delivery: ClaimedDelivery): Promise<{ outcome: AttemptOutcome; final: boolean }> {
    let secret: string;
    try {
      secret = this.openSecret(delivery);
    } catch (error) {
      // A configuration fault (key missing or wrong), not the receiver's: say so in the log and the delivery log, and retry on schedule.
      const message = `cannot decrypt the webhook's signing secret: ${(error as Error).message}`;
      this.logger.error({ webhookId: delivery.webhook_id, deliveryId: delivery.id }, message);
      return { outcome: { ok: false, statusCode: null, error: message.slice(0, 500), durationMs: 0, at: new Date() }, final: false };
    }
    if (!delivery.event) return { outcome: { ok: false, statusCode: null, error: 'the event is no longer in the outbox', durationMs: 0, at: new Date() }, final: true };
    const outcome = await postWebhook({
      url: delivery.url,
      secret,
      eventId: delivery.event_id,
      eventName: delivery.event.name,
      body: delivery.event.body,
      timeoutMs: this.options.requestTimeoutMs,
      agent: this.publicOnly ? (this.agent ??= publicOnlyAgent()) : undefined,
    });
    return { outcome, final: false };
  }

  /**
   * Records the outcome and the attempt, only while the lease is still ours. Outcomes that
   * arrive while a write is under way wait for the next one, which writes them all, a statement
   * per tenant: under load many deliveries cost one round trip, and alone a delivery waits for
   * no one. Resolves once its outcome is written (or found unwritable: the lease was lost).
   */
  private record(delivery: ClaimedDelivery, outcome: AttemptOutcome, final: boolean): Promise<void> {
    return new Promise<void>((done, failed) => {
      this.outcomes.push({ delivery, outcome, final, done, failed });
      if (!this.writing) void this.writeOutcomes();
    });
  }

  private async writeOutcomes(): Promise<void> {
    this.writing = true;
    try {
      while (this.outcomes.length > 0) {
        const batch = this.outcomes.splice(0, OUTCOMES_PER_WRITE);
        const byTenant = new Map<string, PendingOutcome[]>();
        for (const pending of batch) {
          const same = byTenant.get(pending.delivery.tenant_id);
          if (same) same.push(pending);
          else byTenant.set(pending.delivery.tenant_id, [pending]);
        }
        for (const [tenantId, pending] of byTenant) {
          try {
            await this.writeTenantOutcomes(tenantId, pending);
            for (const p of pending) p.done();
          } catch (error) {
            for (const p of pending) p.failed(error);
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeTenantOutcomes(tenantId: string, pending: PendingOutcome[]): Promise<void> {
    const rows = pending.map(({ delivery, outcome, final }) => {
      const attempts = delivery.attempts + 1;
      const giveUp = !outcome.ok && (final || attempts >= this.options.maxAttempts);
      const result: 'delivered' | 'failed' | 'retried' = outcome.ok ? 'delivered' : giveUp ? 'failed' : 'retried';
      return { delivery, outcome, attempts, result, retryInSeconds: result === 'retried' ? retryDelayMs(attempts, this.options.retryBaseMs) / 1000 : null, attemptId: newId() };
    });
    const written = await this.knex.raw(
      // The times are computed here, not in the CASEs below: Citus refuses a non-immutable
      // function such as now() inside CASE in a distributed UPDATE.
      `with outcome as (
         select o.*, case when o.status = 'delivered' then now() end as delivered_now, now() + make_interval(secs => o.retry_in) as retry_at
         from unnest(?::uuid[], ?::uuid[], ?::text[], ?::integer[], ?::integer[], ?::text[], ?::double precision[], ?::uuid[], ?::integer[], ?::timestamptz[])
           as o(id, lease_token, status, attempts, status_code, error, retry_in, attempt_id, duration_ms, at)
       ),
       updated as (
         update rapport_webhook_deliveries d
         set status = o.status, attempts = o.attempts, last_status_code = o.status_code, last_error = o.error, lease_token = null,
             delivered_at = coalesce(o.delivered_now, d.delivered_at),
             next_attempt_at = coalesce(o.retry_at, d.next_attempt_at)
         from outcome o
         where d.tenant_id = ? and d.id = o.id and d.lease_token = o.lease_token
         returning d.tenant_id, d.id, d.webhook_id
       )
       insert into rapport_webhook_attempts (tenant_id, id, delivery_id, webhook_id, status_code, error, duration_ms, at)
       select u.tenant_id, o.attempt_id, u.id, u.webhook_id, o.status_code, o.error, o.duration_ms, o.at from updated u join outcome o on o.id = u.id
       returning delivery_id`,
      [
        rows.map((r) => r.delivery.id),
        rows.map((r) => r.delivery.leaseToken),
        rows.map((r) => (r.result === 'retried' ? 'pending' : r.result)),
        rows.map((r) => r.attempts),
        rows.map((r) => r.outcome.statusCode),
        rows.map((r) => r.outcome.error),
        rows.map((r) => r.retryInSeconds),
        rows.map((r) => r.attemptId),
        rows.map((r) => r.outcome.durationMs),
        rows.map((r) => r.outcome.at.toISOString()),
        tenantId,
      ] as unknown as Knex.RawBinding[],
    );
    const recorded = new Set((written.rows as Array<{ delivery_id: string }>).map((row) => row.delivery_id));
    for (const { delivery, outcome, attempts, result } of rows) {
      // Nothing written: the lease was lost (another node took over after expiry) or the subscription was deleted.
      if (!recorded.has(delivery.id)) {
        this.logger.warn({ deliveryId: delivery.id, webhookId: delivery.webhook_id }, 'webhook delivery outcome not recorded: lease lost or subscription deleted');
        continue;
      }
      this.stats[result]++;
      this.app.metrics.webhookDeliveries.inc({ outcome: result });
      const log = { webhookId: delivery.webhook_id, deliveryId: delivery.id, eventId: delivery.event_id, attempt: attempts, statusCode: outcome.statusCode, error: outcome.error };
      if (result === 'failed') this.logger.warn(log, 'webhook delivery failed for good');
      else if (result === 'retried') this.logger.info(log, 'webhook delivery attempt failed; will retry');
      else this.logger.debug(log, 'webhook delivered');
    }
  }

  private async maybePrune(): Promise<void> {
    const olderThan = this.options.pruneDispatchedOlderThanMs;
    if (!olderThan || Date.now() - this.lastPruneAt < PRUNE_EVERY_MS) return;
    this.lastPruneAt = Date.now();
    const pruned = await this.pruneOutbox(olderThan);
    if (pruned) this.logger.info({ pruned }, 'pruned dispatched outbox rows');
  }
}
