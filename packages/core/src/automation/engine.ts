import { TENANT_DISCOVERY, TENANT_DISCOVERY_COMMENT } from '../storage/sharding.js';
import { createHash } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AutomationSettings } from '../app/config.js';
import { systemPrincipal } from '../access/principal.js';
import { NotFoundError, RapportError, ValidationError } from '../errors.js';
import type { Transact, UnitOfWork } from '../hooks/unit-of-work.js';
import { keysetPage } from '../http/keyset.js';
import { queryContext, sql, type QueryContext } from '../kernel/context.js';
import type { KernelServices } from '../kernel/services.js';
import type { Scheduler } from '../jobs/scheduler.js';
import type { Page } from '../util/cursor.js';
import { newId } from '../util/ids.js';
import { iso, isoRequired } from '../util/time.js';
import { WakeableSleep } from '../util/wakeable-sleep.js';
import { matchesEventPattern } from '../webhooks/patterns.js';
import type { OutboxConsumer } from '../webhooks/dispatcher.js';
import type { AutomationActions } from './actions.js';
import { evaluate, truthy } from './expressions.js';
import { RULE_COLUMNS, toRule, type Rule, type RuleRow } from './rules.js';

export const AUTOMATION_DEFAULTS = { pollIntervalMs: 1000, maxDepth: 3, maxAttempts: 5, retryBaseMs: 1000 } as const;

/** The event name of a run started by a rule's schedule (no outbox event behind it). */
export const SCHEDULE_EVENT = 'automation.schedule';
/** Runs claimed per pass. */
const CLAIM_BATCH = 20;
const LEASE_SECONDS = 120;

export const runSchema = z.object({
  id: z.uuid(),
  ruleId: z.uuid(),
  eventId: z.uuid(),
  eventName: z.string(),
  /** How many rules deep the event is (0: a write of someone, not of a rule). */
  depth: z.number().int(),
  /** `skipped`: the conditions did not hold, the rule is off, or the loop guard stopped it (see `error`). */
  status: z.enum(['pending', 'succeeded', 'skipped', 'failed']),
  attempts: z.number().int(),
  /** What each action did (ids of what it made), or why the run was skipped. */
  outcome: z.unknown(),
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type AutomationRun = z.infer<typeof runSchema>;

export const dryRunSchema = z.object({
  ruleId: z.uuid(),
  eventId: z.uuid(),
  eventName: z.string(),
  /** Whether the rule's trigger matches the event's name. */
  triggerMatches: z.boolean(),
  /** Whether the conditions hold for the event. */
  conditionsHold: z.boolean(),
  /** The actions that would run, with their parameters as they would be evaluated, or why they could not. */
  actions: z.array(z.object({ type: z.string(), params: z.unknown(), problem: z.string().nullable() })),
  /** Whether this rule already ran on the event (a real run would not run it again). */
  alreadyRun: z.boolean(),
});
export type DryRun = z.infer<typeof dryRunSchema>;

interface RunRow {
  tenant_id: string;
  id: string;
  rule_id: string;
  event_id: string;
  event_name: string;
  depth: number;
  status: AutomationRun['status'];
  attempts: number;
  outcome: unknown;
  error: string | null;
  created_at: Date | string;
  finished_at: Date | string | null;
}
const RUN_COLUMNS = ['tenant_id', 'id', 'rule_id', 'event_id', 'event_name', 'depth', 'status', 'attempts', 'outcome', 'error', 'created_at', 'finished_at'];

function toRun(row: RunRow): AutomationRun {
  return {
    id: row.id,
    ruleId: row.rule_id,
    eventId: row.event_id,
    eventName: row.event_name,
    depth: row.depth,
    status: row.status,
    attempts: row.attempts,
    outcome: row.outcome ?? null,
    error: row.error,
    createdAt: isoRequired(row.created_at),
    finishedAt: iso(row.finished_at),
  };
}

/** What the engine needs of the system. */
export interface AutomationHost {
  readonly logger: Logger;
  readonly knex: Knex;
  readonly services: KernelServices;
  readonly transaction: Transact;
  readonly automationActions: AutomationActions;
  readonly dispatcher: { addConsumer(consumer: OutboxConsumer): void };
}

interface TriggerEvent {
  id: string;
  name: string;
  occurredAt: string;
  actor: unknown;
  payload: unknown;
  subject: { type: string; id: string } | null;
}

/**
 * Runs automation rules after commit, at least once and once per (rule, event):
 *  1. the webhook dispatcher's fan-out hands each committed event to `fanOut`, in its own
 *     transaction, which queues one run per matching enabled rule (`rapport_automation_runs`,
 *     unique on rule + event, so a duplicate hand-over queues nothing);
 *  2. the runner leases due runs (the dispatcher's lease pattern: no transaction held while
 *     waiting) and runs each in one unit of work: the actions' writes, their events, the depth
 *     of those events and the run's outcome commit together, or not at all (then the run is
 *     retried with back-off, and given up after `maxAttempts`).
 * Events written by a rule carry its depth; from `maxDepth` on they start no rule (loop guard).
 */
export class AutomationEngine implements OutboxConsumer {
  private readonly options: Required<Omit<AutomationSettings, 'enabled'>>;
  private readonly logger: Logger;
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly pause = new WakeableSleep();
  private nudged = false;

  constructor(
    private readonly app: AutomationHost,
    scheduler: Scheduler,
    private readonly settings: AutomationSettings = {},
  ) {
    this.options = { ...AUTOMATION_DEFAULTS, ...Object.fromEntries(Object.entries(settings).filter(([k, v]) => v !== undefined && k !== 'enabled')) };
    this.logger = app.logger.child({ component: 'automation' });
    app.dispatcher.addConsumer(this);
    scheduler.define('core', 'core.automation.schedule', 60_000, async ({ now }) => {
      await this.queueScheduled(now);
    });
  }

  get maxDepth(): number {
    return this.options.maxDepth;
  }

  start(): void {
    if (this.running || this.settings.enabled === false) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.pause.wake();
    await this.loop;
    this.loop = undefined;
  }

  wake(): void {
    this.nudged = true;
    this.pause.wake();
  }

  /** Step 1, in the dispatcher's fan-out transaction. */
  async fanOut(trx: Knex.Transaction, events: ReadonlyArray<{ tenant_id: string; id: string; name: string }>): Promise<boolean> {
    let queued = false;
    // One tenant per statement: on a cluster sharded by tenant each stays on one shard.
    for (const tenant of new Set(events.map((e) => e.tenant_id))) {
      if (
        await this.fanOutTenant(
          trx,
          tenant,
          events.filter((e) => e.tenant_id === tenant),
        )
      )
        queued = true;
    }
    return queued;
  }

  private async fanOutTenant(trx: Knex.Transaction, tenant: string, events: ReadonlyArray<{ tenant_id: string; id: string; name: string }>): Promise<boolean> {
    const rules: Array<{ tenant_id: string; id: string; trigger: Rule['trigger'] }> = await trx('rapport_automation_rules')
      .where('tenant_id', tenant)
      .where('enabled', true)
      .whereRaw("trigger ->> 'event' is not null")
      .select('tenant_id', 'id', 'trigger');
    if (rules.length === 0) return false;
    const matched = events.flatMap((event) =>
      rules.filter((r) => r.tenant_id === event.tenant_id && 'event' in r.trigger && matchesEventPattern(r.trigger.event, event.name)).map((rule) => ({ event, rule })),
    );
    if (matched.length === 0) return false;
    const caused: Array<{ tenant_id: string; event_id: string; depth: number }> = await trx('rapport_automation_caused')
      .where('tenant_id', tenant)
      .whereIn(
        'event_id',
        matched.map((m) => m.event.id),
      )
      .select('tenant_id', 'event_id', 'depth');
    const depthOf = new Map(caused.map((c) => [`${c.tenant_id}:${c.event_id}`, c.depth]));
    const rows = matched.map(({ event, rule }) => {
      const depth = depthOf.get(`${event.tenant_id}:${event.id}`) ?? 0;
      const guarded = depth >= this.options.maxDepth;
      return {
        tenant_id: event.tenant_id,
        id: newId(),
        rule_id: rule.id,
        event_id: event.id,
        event_name: event.name,
        depth,
        status: guarded ? 'skipped' : 'pending',
        error: guarded ? `loop guard: the event was written by a chain of ${depth} rules (automation.maxDepth ${this.options.maxDepth})` : null,
        finished_at: guarded ? trx.fn.now() : null,
        next_attempt_at: trx.fn.now(),
      };
    });
    await trx('rapport_automation_runs').insert(rows).onConflict(['tenant_id', 'rule_id', 'event_id']).ignore();
    return rows.some((r) => r.status === 'pending');
  }

  /** Queues a run for every scheduled rule whose next slot has come; one node hands each slot out once. */
  async queueScheduled(now = new Date()): Promise<number> {
    const rules: Array<{ tenant_id: string; id: string; trigger: { schedule: { everyMinutes: number } }; last_slot: string | number | null }> = await this.app
      .knex('rapport_automation_rules')
      // Across tenants, locking nothing: each slot is then taken in its rule's own tenant.
      .comment(TENANT_DISCOVERY_COMMENT)
      .where('enabled', true)
      .whereRaw("trigger -> 'schedule' is not null")
      .select('tenant_id', 'id', 'trigger', 'last_slot');
    let queued = 0;
    for (const rule of rules) {
      const slot = Math.floor(now.getTime() / (rule.trigger.schedule.everyMinutes * 60_000));
      if (rule.last_slot !== null && Number(rule.last_slot) >= slot) continue;
      await this.app.knex.transaction(async (trx) => {
        const taken = await trx('rapport_automation_rules')
          .where({ tenant_id: rule.tenant_id, id: rule.id })
          .where((q) => q.whereNull('last_slot').orWhere('last_slot', '<', slot))
          .update({ last_slot: slot });
        if (!taken) return;
        await trx('rapport_automation_runs')
          .insert({
            tenant_id: rule.tenant_id,
            id: newId(),
            rule_id: rule.id,
            event_id: slotEventId(rule.id, slot),
            event_name: SCHEDULE_EVENT,
            depth: 0,
            status: 'pending',
            outcome: JSON.stringify({ scheduledAt: new Date(slot * rule.trigger.schedule.everyMinutes * 60_000).toISOString() }),
            next_attempt_at: trx.fn.now(),
          })
          .onConflict(['tenant_id', 'rule_id', 'event_id'])
          .ignore();
        queued++;
      });
    }
    if (queued) this.wake();
    return queued;
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
        this.logger.error({ err: error }, 'automation pass failed; retrying');
      }
      if (!this.running) break;
      const waitMs = failures ? Math.min(this.options.pollIntervalMs * 2 ** failures, 30_000) : this.options.pollIntervalMs;
      if (failures || (!more && !this.nudged)) await this.pause.sleep(waitMs);
      else await yieldToEventLoop();
    }
  }

  /** One pass: lease due runs and run them one after the other. True when more are probably due. */
  async tick(): Promise<boolean> {
    const tenants: Array<{ tenant_id: string }> = (
      await this.app.knex.raw(`${TENANT_DISCOVERY} select distinct tenant_id from rapport_automation_runs where status = 'pending' and next_attempt_at <= now() limit 64`)
    ).rows;
    let more = false;
    for (const { tenant_id: tenantId } of tenants) {
      if (await this.tickTenant(tenantId)) more = true;
      if (!this.running && this.loop) break;
    }
    return more;
  }

  /** Leases a tenant's due runs (one shard on a sharded cluster) and runs them one after the other. */
  private async tickTenant(tenantId: string): Promise<boolean> {
    const leaseToken = newId();
    const result = await this.app.knex.raw(
      `with claimed as (
         select tenant_id, id from rapport_automation_runs
         where tenant_id = ? and status = 'pending' and next_attempt_at <= now()
         order by next_attempt_at, id
         limit ?
         for update skip locked
       )
       update rapport_automation_runs r
       set lease_token = ?, next_attempt_at = now() + make_interval(secs => ?::double precision)
       from claimed c
       where r.tenant_id = ? and r.tenant_id = c.tenant_id and r.id = c.id
       returning r.tenant_id, r.id, r.rule_id, r.event_id, r.event_name, r.depth, r.attempts, r.outcome`,
      [tenantId, CLAIM_BATCH, leaseToken, LEASE_SECONDS, tenantId],
    );
    const claimed = result.rows as Array<Pick<RunRow, 'tenant_id' | 'id' | 'rule_id' | 'event_id' | 'event_name' | 'depth' | 'attempts' | 'outcome'>>;
    for (const run of claimed) {
      if (!this.running && this.loop) break;
      await this.execute(run, leaseToken);
    }
    return claimed.length === CLAIM_BATCH;
  }

  private async execute(run: Pick<RunRow, 'tenant_id' | 'id' | 'rule_id' | 'event_id' | 'event_name' | 'depth' | 'attempts' | 'outcome'>, leaseToken: string): Promise<void> {
    const tenantId = run.tenant_id;
    const ctx = queryContext(this.app.knex, tenantId, systemPrincipal(tenantId));
    try {
      const rule = await this.ruleRow(ctx, run.rule_id);
      const event = await this.triggerEvent(ctx, run);
      if (!rule || !rule.enabled) {
        await this.finish(run, leaseToken, 'skipped', { reason: rule ? 'the rule is disabled' : 'the rule was deleted' }, null);
        return;
      }
      if (!event) {
        await this.finish(run, leaseToken, 'failed', null, 'the event is no longer in the outbox');
        return;
      }
      const data = await this.dataFor(ctx, event);
      if (!this.conditionsHold(rule, data)) {
        await this.finish(run, leaseToken, 'skipped', { reason: 'the conditions do not hold' }, null);
        return;
      }
      await this.app.transaction(
        async (uow) => {
          const outcomes: Array<Record<string, unknown>> = [];
          for (const [index, action] of rule.actions.entries()) {
            const definition = this.app.automationActions.get(action.type);
            if (!definition) throw new ValidationError(`actions[${index}]: no action "${action.type}" (its plugin is disabled or gone)`);
            // Each action sees what the ones before it made (`steps.0.taskId`).
            const params = this.params(definition.params, action.params, { ...data, steps: outcomes }, `actions[${index}]`);
            const result = await definition.run({ uow, tenantId, rule: { id: rule.id, name: rule.name }, event: { id: event.id, name: event.name } }, params);
            outcomes.push({ type: action.type, ...(result ?? {}) });
          }
          await this.markCaused(uow, rule.id, run.depth + 1);
          const done = await sql(uow)('rapport_automation_runs')
            .where({ tenant_id: tenantId, id: run.id, lease_token: leaseToken })
            .update({ status: 'succeeded', attempts: run.attempts + 1, outcome: JSON.stringify({ actions: outcomes }), error: null, lease_token: null, finished_at: sql(uow).fn.now() });
          // Another node took the run over after our lease ran out: let its run be the one that counts.
          if (!done) throw new LeaseLostError();
        },
        { tenantId },
      );
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.logger.warn({ runId: run.id, ruleId: run.rule_id }, 'automation run not recorded: its lease ran out and another node took it');
        return;
      }
      const attempts = run.attempts + 1;
      const message = describe(error);
      const giveUp = attempts >= this.options.maxAttempts || (error instanceof RapportError && error.status < 500);
      this.logger.warn(
        { runId: run.id, ruleId: run.rule_id, eventId: run.event_id, attempt: attempts, err: error },
        `automation rule ${run.rule_id} failed on ${run.event_name}${giveUp ? '' : '; will retry'}`,
      );
      await this.app
        .knex('rapport_automation_runs')
        .where({ tenant_id: tenantId, id: run.id, lease_token: leaseToken })
        .update({
          status: giveUp ? 'failed' : 'pending',
          attempts,
          error: message,
          lease_token: null,
          finished_at: giveUp ? this.app.knex.fn.now() : null,
          next_attempt_at: this.app.knex.raw('now() + make_interval(secs => ?::double precision)', [(this.options.retryBaseMs * 2 ** (attempts - 1)) / 1000]),
        });
    }
  }

  private async finish(run: Pick<RunRow, 'tenant_id' | 'id' | 'attempts'>, leaseToken: string, status: 'skipped' | 'failed', outcome: unknown, error: string | null): Promise<void> {
    await this.app
      .knex('rapport_automation_runs')
      .where({ tenant_id: run.tenant_id, id: run.id, lease_token: leaseToken })
      .update({ status, attempts: run.attempts + 1, outcome: outcome === null ? null : JSON.stringify(outcome), error, lease_token: null, finished_at: this.app.knex.fn.now() });
  }

  /** The events of a rule's writes carry its depth, read by the fan-out that hands them on. */
  private async markCaused(uow: UnitOfWork, ruleId: string, depth: number): Promise<void> {
    if (uow.events.length === 0) return;
    await sql(uow)('rapport_automation_caused').insert(uow.events.map((e) => ({ tenant_id: uow.tenantId, event_id: e.meta.id, rule_id: ruleId, depth })));
  }

  private async ruleRow(ctx: QueryContext, id: string): Promise<Rule | undefined> {
    const row: RuleRow | undefined = await sql(ctx)('rapport_automation_rules').where({ tenant_id: ctx.tenantId, id }).first(RULE_COLUMNS);
    return row ? toRule(row) : undefined;
  }

  private async triggerEvent(ctx: QueryContext, run: Pick<RunRow, 'event_id' | 'event_name' | 'outcome'>): Promise<TriggerEvent | undefined> {
    if (run.event_name === SCHEDULE_EVENT) {
      const at = (run.outcome as { scheduledAt?: string } | null)?.scheduledAt ?? new Date().toISOString();
      return { id: run.event_id, name: SCHEDULE_EVENT, occurredAt: at, actor: null, payload: { scheduledAt: at }, subject: null };
    }
    return this.outboxEvent(ctx, run.event_id);
  }

  private async outboxEvent(ctx: QueryContext, eventId: string): Promise<TriggerEvent | undefined> {
    const row: { id: string; name: string; payload: unknown; actor: unknown; occurred_at: Date | string } | undefined = await sql(ctx)('rapport_outbox')
      .where({ tenant_id: ctx.tenantId, id: eventId })
      .first('id', 'name', 'payload', 'actor', 'occurred_at');
    if (!row) return undefined;
    const audit: { record_type: string | null; record_id: string | null } | undefined = await sql(ctx)('rapport_audit')
      .where({ tenant_id: ctx.tenantId, id: eventId })
      .first('record_type', 'record_id');
    const payload = typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload;
    return {
      id: row.id,
      name: row.name,
      occurredAt: isoRequired(row.occurred_at),
      actor: row.actor ?? null,
      payload,
      subject: audit?.record_type && audit.record_id ? { type: audit.record_type, id: audit.record_id } : null,
    };
  }

  /** What expressions see: `event`, `payload`, and `record` (the event's kernel record as it is now, else its type and id). */
  private async dataFor(ctx: QueryContext, event: TriggerEvent): Promise<Record<string, unknown>> {
    let record: unknown = event.subject;
    if (event.subject) {
      const { type, id } = event.subject;
      const { parties, relationships, interactions } = this.app.services;
      const load = type === 'party' ? parties.get(ctx, id) : type === 'relationship' ? relationships.get(ctx, id) : type === 'interaction' ? interactions.get(ctx, id) : undefined;
      if (load) {
        try {
          record = await load;
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
          record = null;
        }
      }
    }
    return { event: { id: event.id, name: event.name, occurredAt: event.occurredAt, actor: event.actor }, payload: event.payload, record };
  }

  private conditionsHold(rule: Rule, data: unknown): boolean {
    if (rule.conditions === null || rule.conditions === undefined) return true;
    return truthy(evaluate(rule.conditions, data));
  }

  private params(schema: z.ZodType, params: Record<string, unknown>, data: unknown, at: string): unknown {
    const values = Object.fromEntries(Object.entries(params).map(([key, expression]) => [key, evaluate(expression, data)]));
    const parsed = schema.safeParse(values);
    if (!parsed.success) {
      throw new ValidationError(
        `${at}: the parameters do not fit`,
        parsed.error.issues.map((issue) => ({ path: [`${at}.params`, ...issue.path.map(String)].join('.'), message: issue.message })),
      );
    }
    return parsed.data;
  }

  /** What the rule would do on a past event: evaluates everything, writes nothing. */
  async dryRun(ctx: QueryContext, rule: Rule, eventId: string): Promise<DryRun> {
    const system = queryContext(this.app.knex, ctx.tenantId, systemPrincipal(ctx.tenantId));
    const event = await this.outboxEvent(system, eventId);
    if (!event) throw new NotFoundError('Event', eventId);
    const data = await this.dataFor(system, event);
    const triggerMatches = 'event' in rule.trigger && matchesEventPattern(rule.trigger.event, event.name);
    const conditionsHold = this.conditionsHold(rule, data);
    const actions = rule.actions.map((action, index) => {
      const definition = this.app.automationActions.get(action.type);
      if (!definition) return { type: action.type, params: action.params, problem: `no action "${action.type}"` };
      try {
        // Nothing runs, so `steps` is empty: a parameter made from an earlier step's outcome shows as null.
        return { type: action.type, params: this.params(definition.params, action.params, { ...data, steps: [] }, `actions[${index}]`), problem: null };
      } catch (error) {
        const issues = error instanceof ValidationError ? (error.extensions.errors as Array<{ path: string; message: string }> | undefined) : undefined;
        return { type: action.type, params: action.params, problem: issues?.length ? issues.map((i) => `${i.path}: ${i.message}`).join('; ') : describe(error) };
      }
    });
    const already = await sql(system)('rapport_automation_runs').where({ tenant_id: ctx.tenantId, rule_id: rule.id, event_id: eventId }).first('status');
    return {
      ruleId: rule.id,
      eventId,
      eventName: event.name,
      triggerMatches,
      conditionsHold,
      actions: triggerMatches && conditionsHold ? actions : [],
      alreadyRun: Boolean(already && already.status !== 'pending'),
    };
  }

  runs(ctx: QueryContext, ruleId: string, page: { limit: number; cursor?: string; status?: AutomationRun['status'] }): Promise<Page<AutomationRun>> {
    const q = sql(ctx)('rapport_automation_runs').where({ tenant_id: ctx.tenantId, rule_id: ruleId }).select(RUN_COLUMNS);
    if (page.status) q.where('status', page.status);
    return keysetPage(q, page, [{ column: 'id', type: 'uuid', direction: 'desc' }], (rows: RunRow[]) => rows.map(toRun));
  }
}

class LeaseLostError extends Error {}

/** A stable event id for one slot of a scheduled rule, so a slot runs once however many nodes see it. */
function slotEventId(ruleId: string, slot: number): string {
  const hex = createHash('sha256').update(`${ruleId}:${slot}`).digest('hex');
  // Shaped as a version-8 (custom) UUID.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function describe(error: unknown): string {
  if (error instanceof ValidationError) {
    const issues = error.extensions.errors as Array<{ path: string; message: string }> | undefined;
    if (issues?.length) return `${error.message}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`.slice(0, 1000);
  }
  return ((error as Error)?.message ?? String(error)).slice(0, 1000);
}
