import type { Knex } from 'knex';
import type { SchedulerOptions } from '../app/config.js';
import type { Logger } from 'pino';
import { NotFoundError, PluginError } from '../errors.js';
import { newId } from '../util/ids.js';
import { allSettledWithin } from './timing.js';
import { WakeableSleep } from '../util/wakeable-sleep.js';

import type { ScheduledTaskRun } from './task.js';
export type { ScheduledTaskContext, ScheduledTaskRun } from './task.js';

export const SCHEDULER_DEFAULTS = { leaseMs: 60_000, maxPollMs: 30_000, stopTimeoutMs: 10_000 } as const;

/** A task's interval must be at least this: a smaller value is almost always seconds given as milliseconds. */
export const MIN_TASK_INTERVAL_MS = 1000;

const TASK_NAME = /^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)+$/;

export interface ScheduledTask {
  name: string;
  /** `core` or the plugin that declared it. */
  owner: string;
  intervalMs: number;
  run: ScheduledTaskRun;
}

export interface ScheduledTaskState {
  name: string;
  owner: string;
  intervalMs: number;
  /** False while the owning plugin is disabled: the task does not run. */
  active: boolean;
  lastStartedAt: Date | null;
  lastFinishedAt: Date | null;
  lastStatus: 'succeeded' | 'failed' | null;
  lastError: string | null;
  runs: number;
  /** Held by a node right now (this one or another). */
  running: boolean;
}

export type ScheduledRunOutcome = { status: 'succeeded' } | { status: 'skipped'; reason: string };

interface TaskRow {
  name: string;
  last_started_at: Date | null;
  last_finished_at: Date | null;
  last_status: 'succeeded' | 'failed' | null;
  last_error: string | null;
  lease_expires_at: Date | null;
  runs: number;
  db_now: Date;
}

/**
 * Recurring tasks declared by the kernel and plugins (`api.schedule.every`). Each task has
 * one row in `rapport_scheduled_tasks`; a node runs a task only after taking its lease in
 * that row with one atomic upsert, so processes sharing a database never run the same
 * task at once, and the last start time survives restarts. A failing run is logged,
 * recorded and tried again at the next interval; it never reaches the caller's process.
 */
/** What the scheduler needs of the system: its connection, its log, and which owners are enabled. */
export interface SchedulerHost {
  readonly logger: Logger;
  readonly knex: Knex;
  readonly plugins: { isActive(owner: string): boolean };
}

export class Scheduler {
  private readonly tasks = new Map<string, ScheduledTask>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly options: Required<Omit<SchedulerOptions, 'enabled'>>;
  private readonly logger: Logger;
  private controller = new AbortController();
  private looping = false;
  private loopDone?: Promise<void>;
  private readonly pause = new WakeableSleep();

  constructor(
    private readonly app: SchedulerHost,
    options: SchedulerOptions = {},
  ) {
    this.options = { ...SCHEDULER_DEFAULTS, ...stripUndefined(options) };
    this.logger = app.logger.child({ component: 'scheduler' });
  }

  /** Declares a task (plugins go through `api.schedule.every`, which names the plugin in errors). */
  define(owner: string, name: string, intervalMs: number, run: ScheduledTaskRun): void {
    if (!name.startsWith(`${owner}.`)) throw new Error(`scheduled task "${name}" must be namespaced "${owner}.…"`);
    if (!TASK_NAME.test(name)) throw new Error(`scheduled task name "${name}" must be lower-case words separated by dots, e.g. "${owner}.expire-registrations"`);
    if (this.tasks.has(name)) throw new Error(`scheduled task "${name}" is declared twice`);
    if (!Number.isInteger(intervalMs) || intervalMs < MIN_TASK_INTERVAL_MS) {
      throw new Error(`scheduled task "${name}" needs an interval of at least ${MIN_TASK_INTERVAL_MS} ms (an integer), not ${intervalMs}`);
    }
    if (typeof run !== 'function') throw new Error(`scheduled task "${name}" needs a function to run`);
    this.tasks.set(name, { name, owner, intervalMs, run });
  }

  /** Names of the tasks an owner declared. */
  namesOf(owner: string): string[] {
    return [...this.tasks.values()].filter((t) => t.owner === owner).map((t) => t.name);
  }

  /** Every declared task with what the database knows of its runs. One query. */
  async list(): Promise<ScheduledTaskState[]> {
    const rows = await this.rows([...this.tasks.keys()]);
    return [...this.tasks.values()].map((task) => {
      const row = rows.get(task.name);
      return {
        name: task.name,
        owner: task.owner,
        intervalMs: task.intervalMs,
        active: this.app.plugins.isActive(task.owner),
        lastStartedAt: row?.last_started_at ?? null,
        lastFinishedAt: row?.last_finished_at ?? null,
        lastStatus: row?.last_status ?? null,
        lastError: row?.last_error ?? null,
        runs: row?.runs ?? 0,
        running: Boolean(row?.lease_expires_at && row.lease_expires_at > row.db_now),
      };
    });
  }

  /** Starts the timers (done by `createRapport` unless `scheduler.enabled` is false). */
  start(): void {
    if (this.looping) return;
    if (this.controller.signal.aborted) this.controller = new AbortController();
    this.looping = true;
    this.loopDone = this.loop();
  }

  get started(): boolean {
    return this.looping;
  }

  /**
   * Runs a task once now, whether or not it is due, and waits for it. When the run fails
   * (after recording it) rejects with an error naming the plugin and the task, the task's
   * own error as its `cause`. Skips, without running, a
   * task whose plugin is disabled or that another run holds (here or on another node).
   */
  async runNow(name: string): Promise<ScheduledRunOutcome> {
    const task = this.tasks.get(name);
    if (!task) throw new NotFoundError('Scheduled task', name);
    if (!this.app.plugins.isActive(task.owner)) return { status: 'skipped', reason: `plugin "${task.owner}" is not enabled` };
    const local = this.running.get(name);
    if (local) return { status: 'skipped', reason: 'it is already running on this node' };
    const leaseToken = await this.claim(task, true);
    if (!leaseToken) return { status: 'skipped', reason: 'it is running on another node' };
    const error = await this.execute(task, leaseToken);
    if (error !== undefined) {
      const message = `scheduled task "${name}" failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`;
      throw task.owner === 'core' ? new Error(message, { cause: error }) : Object.assign(new PluginError(task.owner, message), { cause: error });
    }
    return { status: 'succeeded' };
  }

  /** Stops the timers, aborts running tasks and waits for them (up to `stopTimeoutMs`). */
  async stop(): Promise<void> {
    this.looping = false;
    this.controller.abort(new Error('Rapport is shutting down'));
    this.pause.wake();
    await this.loopDone;
    this.loopDone = undefined;
    const stopped = await allSettledWithin([...this.running.values()], this.options.stopTimeoutMs);
    if (!stopped) this.logger.warn({ tasks: [...this.running.keys()] }, 'scheduled tasks still running after the stop timeout; their leases will expire');
  }

  private get knex(): Knex {
    return this.app.knex;
  }

  private async loop(): Promise<void> {
    while (this.looping) {
      let waitMs: number = this.options.maxPollMs;
      try {
        waitMs = await this.launchDue();
      } catch (error) {
        this.logger.error({ err: error }, 'scheduler pass failed; retrying');
      }
      if (!this.looping) break;
      await this.pause.sleep(Math.max(waitMs, 50));
    }
  }

  /** Starts every due task this node can take; returns how long to wait before looking again. */
  private async launchDue(): Promise<number> {
    const active = [...this.tasks.values()].filter((t) => this.app.plugins.isActive(t.owner));
    let waitMs: number = this.options.maxPollMs;
    if (active.length === 0) return waitMs;
    const rows = await this.rows(active.map((t) => t.name));
    for (const task of active) {
      if (!this.looping) break;
      if (this.running.has(task.name)) {
        waitMs = Math.min(waitMs, task.intervalMs);
        continue;
      }
      const row = rows.get(task.name);
      const now = row?.db_now.getTime() ?? 0;
      const leasedFor = row?.lease_expires_at ? row.lease_expires_at.getTime() - now : 0;
      const dueIn = row?.last_started_at ? row.last_started_at.getTime() + task.intervalMs - now : 0;
      if (leasedFor <= 0 && dueIn <= 0) {
        const leaseToken = await this.claim(task, false);
        // Lost the race to another node: its run counts as this interval's.
        if (leaseToken) void this.execute(task, leaseToken);
        waitMs = Math.min(waitMs, task.intervalMs);
      } else {
        waitMs = Math.min(waitMs, Math.max(leasedFor, dueIn));
      }
    }
    return waitMs;
  }

  private async rows(names: string[]): Promise<Map<string, TaskRow>> {
    if (names.length === 0) return new Map();
    const rows: TaskRow[] = await this.knex('rapport_scheduled_tasks')
      .whereRaw('name = any(?::text[])', [names])
      .select('name', 'last_started_at', 'last_finished_at', 'last_status', 'last_error', 'lease_expires_at', 'runs', this.knex.raw('now() as db_now'));
    return new Map(rows.map((r) => [r.name, r]));
  }

  /**
   * Takes the task's lease in one statement: the row is created on first run, and an
   * existing row is taken only when no live lease holds it and (unless forced) the
   * interval has passed since the last start. Two nodes upserting at once serialize on
   * the row; the second sees the first's lease and gets nothing back.
   */
  private async claim(task: ScheduledTask, force: boolean): Promise<string | undefined> {
    const leaseToken = newId();
    const result = await this.knex.raw(
      `insert into rapport_scheduled_tasks as t (name, lease_token, lease_expires_at, last_started_at, runs)
       values (?, ?, now() + make_interval(secs => ?::double precision), now(), 1)
       on conflict (name) do update
         set lease_token = excluded.lease_token, lease_expires_at = excluded.lease_expires_at,
             last_started_at = excluded.last_started_at, runs = t.runs + 1
         where (t.lease_expires_at is null or t.lease_expires_at <= now())
           and (?::boolean or t.last_started_at is null or t.last_started_at <= now() - make_interval(secs => ?::double precision))
       returning name`,
      [task.name, leaseToken, this.options.leaseMs / 1000, force, task.intervalMs / 1000],
    );
    return result.rows.length ? leaseToken : undefined;
  }

  /** Runs a claimed task, renewing its lease, and records the outcome. Resolves with the error of a failed run. */
  private execute(task: ScheduledTask, leaseToken: string): Promise<unknown> {
    const run = this.runClaimed(task, leaseToken);
    const tracked = run.then(() => undefined);
    this.running.set(task.name, tracked);
    void tracked.finally(() => {
      if (this.running.get(task.name) === tracked) this.running.delete(task.name);
    });
    return run;
  }

  private async runClaimed(task: ScheduledTask, leaseToken: string): Promise<unknown> {
    const renew = setInterval(
      () => {
        this.knex('rapport_scheduled_tasks')
          .where({ name: task.name, lease_token: leaseToken })
          .update({ lease_expires_at: this.knex.raw('now() + make_interval(secs => ?::double precision)', [this.options.leaseMs / 1000]) })
          .catch((error: unknown) => this.logger.warn({ err: error, task: task.name }, 'could not renew the lease of a scheduled task'));
      },
      Math.max(Math.floor(this.options.leaseMs / 3), 10),
    );
    renew.unref();
    const log = { task: task.name, plugin: task.owner === 'core' ? undefined : task.owner };
    let failure: unknown;
    try {
      await task.run({ now: new Date(), signal: this.controller.signal });
      this.logger.debug(log, `scheduled task "${task.name}" ran`);
    } catch (error) {
      failure = error ?? new Error('the task failed without an error');
      const who = task.owner === 'core' ? 'the kernel' : `plugin "${task.owner}"`;
      this.logger.error({ ...log, err: error }, `scheduled task "${task.name}" of ${who} failed; it runs again in ${task.intervalMs} ms`);
    } finally {
      clearInterval(renew);
    }
    try {
      await this.knex('rapport_scheduled_tasks')
        .where({ name: task.name, lease_token: leaseToken })
        .update({
          lease_token: null,
          lease_expires_at: null,
          last_finished_at: this.knex.fn.now(),
          last_status: failure === undefined ? 'succeeded' : 'failed',
          last_error: failure === undefined ? null : String((failure as Error)?.message ?? failure).slice(0, 2000),
        });
    } catch (error) {
      // The database may be gone during shutdown; the lease simply expires.
      this.logger.warn({ ...log, err: error }, 'could not record the outcome of a scheduled task');
    }
    return failure;
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
