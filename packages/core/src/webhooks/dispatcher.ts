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
  /** Webhook requests in flight at once on this node (default 20). */
  concurrency?: number;
};

export const DISPATCHER_DEFAULTS = {
  pollIntervalMs: 1000,
  retryBaseMs: 1000,
  maxAttempts: 10,
  requestTimeoutMs: 10_000,
  fanOutBatchSize: 500,
  concurrency: 20,
} as const;

// How often a node prunes the outbox when pruning is configured.
const PRUNE_EVERY_MS = 60_000;
const PRUNE_BATCH = 5000;
// 7 columns per delivery row: far below PostgreSQL's 65,535 parameters.
const DELIVERY_ROWS_PER_INSERT = 1000;
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
  event?: { name: string; payload: unknown; meta: EventMeta };
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
  private readonly inFlight = new Set<Promise<void>>();
  /** Public addresses only, unless `allowPrivateNetworks` (egress.ts). */
  private agent: Agent | undefined;
  private lastPruneAt = 0;
  private passes = 0;
  private readonly consumers: OutboxConsumer[] = [];

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
    this.agent = options.allowPrivateNetworks ? undefined : publicOnlyAgent();
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
    this.pause.wake();
  }

  /** Stops claiming, then waits for the requests in flight to finish and be recorded. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.pause.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    this.loop = undefined;
    // Idle keep-alive sockets would hold the process open.
    await this.agent?.close().catch(() => undefined);
    if (this.agent) this.agent = publicOnlyAgent();
  }

  /** One pass: fan out, then claim and start due deliveries. True when more work is probably waiting. */
  async tick(): Promise<boolean> {
    const fannedOut = await this.fanOut();
    const free = this.options.concurrency - this.inFlight.size;
    const claimed = free > 0 ? await this.claimDue(free) : [];
    for (const delivery of claimed) this.track(this.deliver(delivery));
    await this.maybePrune();
    return fannedOut === this.options.fanOutBatchSize || (free > 0 && claimed.length === free);
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
        const wasFull = this.inFlight.size >= this.options.concurrency;
        this.inFlight.delete(tracked);
        if (wasFull) this.pause.wake();
      });
    this.inFlight.add(tracked);
  }

  /**
   * Tenants that have work of one kind waiting, read without a lock. Work is then claimed one
   * tenant at a time (`where tenant_id = ? … for update skip locked`): on a cluster sharded by
   * tenant each claim stays on one shard, which row locks require there.
   */
  private async tenantsWith(discovery: string, limit: number): Promise<string[]> {
    const result = await this.knex.raw(`${TENANT_DISCOVERY} ${discovery} limit ?`, [limit]);
    const tenants = (result.rows as Array<{ tenant_id: string }>).map((row) => row.tenant_id);
    // A different tenant first on each pass, so one busy tenant cannot starve the others.
    const start = tenants.length ? this.passes++ % tenants.length : 0;
    return [...tenants.slice(start), ...tenants.slice(0, start)];
  }

  /** Step 1: outbox rows → delivery rows. Returns the number of outbox rows handled. */
  private async fanOut(): Promise<number> {
    const tenants = await this.tenantsWith('select distinct tenant_id from rapport_outbox where dispatched_at is null', TENANTS_PER_PASS);
    let handled = 0;
    for (const tenantId of tenants) {
      if (handled >= this.options.fanOutBatchSize) break;
      handled += await this.fanOutTenant(tenantId, this.options.fanOutBatchSize - handled);
    }
    this.stats.fannedOut += handled;
    return handled;
  }

  private async fanOutTenant(tenantId: string, limit: number): Promise<number> {
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
      if (events.length === 0) return 0;
      const subscriptions: Array<{ id: string; events: string[] }> = await trx('rapport_webhooks').where({ tenant_id: tenantId, active: true }).select('id', 'events');
      const deliveries = events.flatMap((event) =>
        subscriptions
          .filter((s) => matchesAnyPattern(s.events, event.name))
          .map((s) => ({
            tenant_id: tenantId,
            id: newId(),
            webhook_id: s.id,
            event_id: event.id,
            event_name: event.name,
            status: 'pending',
            next_attempt_at: trx.fn.now(),
          })),
      );
      for (const batch of chunk(deliveries, DELIVERY_ROWS_PER_INSERT)) {
        await trx('rapport_webhook_deliveries').insert(batch).onConflict(['tenant_id', 'webhook_id', 'event_id']).ignore();
      }
      // An array through unnest rather than a list of ids: PGlite fails on IN lists of a few
      // hundred values ("bad buffer ID"), and one plan serves any size.
      const withTenant = events.map((e) => ({ tenant_id: tenantId, ...e }));
      for (const consumer of this.consumers) if (await consumer.fanOut(trx, withTenant)) woken.push(consumer);
      await trx.raw('update rapport_outbox set dispatched_at = now() where tenant_id = ? and id in (select * from unnest(?::uuid[]))', [tenantId, events.map((e) => e.id)]);
      return events.length;
    });
    for (const consumer of woken) consumer.wake();
    return handled;
  }

  /**
   * Step 2a: lease due deliveries of active subscriptions, tenant by tenant, with what is
   * needed to send them, in one statement per tenant (its own transaction): rows another node
   * is claiming at the same moment are skipped, rows it has claimed are no longer due.
   */
  private async claimDue(limit: number): Promise<ClaimedDelivery[]> {
    const tenants = await this.tenantsWith("select distinct tenant_id from rapport_webhook_deliveries where status = 'pending' and next_attempt_at <= now()", TENANTS_PER_PASS);
    const claimed: ClaimedDelivery[] = [];
    for (const tenantId of tenants) {
      if (claimed.length >= limit) break;
      claimed.push(...(await this.claimDueOf(tenantId, limit - claimed.length)));
    }
    return claimed;
  }

  private async claimDueOf(tenantId: string, limit: number): Promise<ClaimedDelivery[]> {
    const leaseToken = newId();
    // Long enough to cover the request and its recording; only a stalled or dead node outlives it.
    const leaseSeconds = (this.options.requestTimeoutMs + 30_000) / 1000;
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
    return (result.rows as Row[]).map(({ name, payload, actor, occurred_at, ...row }) => ({
      ...row,
      leaseToken,
      event:
        name !== null && occurred_at !== null ? { name, payload, meta: { id: row.event_id, name, tenantId: row.tenant_id, occurredAt: isoRequired(occurred_at), actor: actor ?? null } } : undefined,
    }));
  }

  /** Step 2b: send one delivery (no transaction open) and record what happened. */
  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    let secret: string;
    try {
      secret = this.app.webhookSecrets.open(delivery.tenant_id, delivery.webhook_id, delivery.secret);
    } catch (error) {
      // A configuration fault (key missing or wrong), not the receiver's: say so in the log and the delivery log, and retry on schedule.
      const message = `cannot decrypt the webhook's signing secret: ${(error as Error).message}`;
      this.logger.error({ webhookId: delivery.webhook_id, deliveryId: delivery.id }, message);
      await this.record(delivery, { ok: false, statusCode: null, error: message.slice(0, 500), durationMs: 0, at: new Date() }, false);
      return;
    }
    const outcome: AttemptOutcome = delivery.event
      ? await postWebhook({
          url: delivery.url,
          secret,
          eventId: delivery.event_id,
          eventName: delivery.event.name,
          body: webhookBody(delivery.event.meta, delivery.event.payload),
          timeoutMs: this.options.requestTimeoutMs,
          agent: this.agent,
        })
      : { ok: false, statusCode: null, error: 'the event is no longer in the outbox', durationMs: 0, at: new Date() };
    await this.record(delivery, outcome, !delivery.event);
  }

  /** Records the outcome and the attempt in one statement, only while the lease is still ours. */
  private async record(delivery: ClaimedDelivery, outcome: AttemptOutcome, final: boolean): Promise<void> {
    const attempts = delivery.attempts + 1;
    const giveUp = !outcome.ok && (final || attempts >= this.options.maxAttempts);
    const result = outcome.ok ? 'delivered' : giveUp ? 'failed' : 'retried';
    const retryInSeconds = result === 'retried' ? retryDelayMs(attempts, this.options.retryBaseMs) / 1000 : 0;
    const written = await this.knex.raw(
      `with updated as (
         update rapport_webhook_deliveries
         set status = ?, attempts = ?, last_status_code = ?, last_error = ?, lease_token = null,
             delivered_at = case when ? then now() else delivered_at end,
             next_attempt_at = case when ? then now() + make_interval(secs => ?::double precision) else next_attempt_at end
         where tenant_id = ? and id = ? and lease_token = ?
         returning tenant_id, id, webhook_id
       )
       insert into rapport_webhook_attempts (tenant_id, id, delivery_id, webhook_id, status_code, error, duration_ms, at)
       select tenant_id, ?::uuid, id, webhook_id, ?::integer, ?::text, ?::integer, ?::timestamptz from updated
       returning id`,
      [
        outcome.ok ? 'delivered' : giveUp ? 'failed' : 'pending',
        attempts,
        outcome.statusCode,
        outcome.error,
        outcome.ok,
        result === 'retried',
        retryInSeconds,
        delivery.tenant_id,
        delivery.id,
        delivery.leaseToken,
        newId(),
        outcome.statusCode,
        outcome.error,
        outcome.durationMs,
        outcome.at.toISOString(),
      ],
    );
    // Nothing written: the lease was lost (another node took over after expiry) or the subscription was deleted.
    if (written.rows.length === 0) {
      this.logger.warn({ deliveryId: delivery.id, webhookId: delivery.webhook_id }, 'webhook delivery outcome not recorded: lease lost or subscription deleted');
      return;
    }
    this.stats[result]++;
    this.app.metrics.webhookDeliveries.inc({ outcome: result });
    const log = { webhookId: delivery.webhook_id, deliveryId: delivery.id, eventId: delivery.event_id, attempt: attempts, statusCode: outcome.statusCode, error: outcome.error };
    if (result === 'failed') this.logger.warn(log, 'webhook delivery failed for good');
    else if (result === 'retried') this.logger.info(log, 'webhook delivery attempt failed; will retry');
    else this.logger.debug(log, 'webhook delivered');
  }

  private async maybePrune(): Promise<void> {
    const olderThan = this.options.pruneDispatchedOlderThanMs;
    if (!olderThan || Date.now() - this.lastPruneAt < PRUNE_EVERY_MS) return;
    this.lastPruneAt = Date.now();
    const pruned = await this.pruneOutbox(olderThan);
    if (pruned) this.logger.info({ pruned }, 'pruned dispatched outbox rows');
  }
}
