import { TENANT_DISCOVERY } from '../storage/sharding.js';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { JobsOptions } from '../app/config.js';
import { hasPermission, type Principal } from '../access/principal.js';
import { ConflictError, ForbiddenError, NotFoundError, RapportError } from '../errors.js';
import { describeError } from '../import/errors.js';
import { BY_ID_DESC, keysetPage } from '../http/keyset.js';
import type { Page } from '../util/cursor.js';
import { newId } from '../util/ids.js';
import type { Scheduler } from './scheduler.js';
import { allSettledWithin } from './timing.js';
import { JOB_COLUMNS, toJob, type Job, type JobRow, type JobStatus } from './schemas.js';

export const JOBS_DEFAULTS = { leaseMs: 60_000, progressIntervalMs: 1000, concurrency: 2, reapIntervalMs: 60_000, stopTimeoutMs: 10_000, keepFinishedDays: 30 } as const;

/** Finished jobs deleted per statement when pruning. */
const PRUNE_BATCH = 1000;

/** Reading every job of the tenant (everyone reads their own). */
export const JOBS_READ_PERMISSION = 'jobs:read';
/** Cancelling any job of the tenant (everyone cancels their own). */
export const JOBS_MANAGE_PERMISSION = 'jobs:manage';

export const INTERRUPTED_MESSAGE = 'Interrupted: the process running this job stopped (a crash or a restart) before it finished';
const SHUTDOWN_MESSAGE = 'Interrupted: the server shut down before the job finished';

/** What the work of a job gets. */
export interface JobContext {
  readonly job: Job;
  /** Who started the job; run the work as this principal so its permissions and record scopes apply. */
  readonly principal: Principal;
  /** Aborted when the job is cancelled or the server shuts down: stop at the next safe point. */
  readonly signal: AbortSignal;
  /** Reports progress (`{ done, total, ... }`); written to the job at most every `progressIntervalMs`. */
  progress: (progress: Record<string, unknown>) => void;
}

/** The work of a job: what it resolves with becomes the job's result. */
export type JobWork = (ctx: JobContext) => Promise<Record<string, unknown> | void>;

/** Throw from a job's work to fail it with a message while keeping a (partial) result. */
export class JobFailedError extends Error {
  constructor(
    message: string,
    readonly result?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'JobFailedError';
  }
}

export interface JobListQuery {
  limit: number;
  cursor?: string;
  status?: JobStatus;
  kind?: string;
}

interface LocalJob {
  tenantId: string;
  id: string;
  controller: AbortController;
  progress?: Record<string, unknown>;
  dirty: boolean;
  done?: Promise<void>;
}

/**
 * Background jobs: rows in `rapport_jobs` that any node can read, run in the process that
 * started them. That process holds a lease on each of its jobs and renews it while they
 * live (the dispatcher's lease-token pattern); a job whose lease expired lost its process,
 * and is marked failed by the next look (`failInterrupted`), never left running.
 */
export class JobService {
  private readonly options: Required<JobsOptions>;
  private readonly logger: Logger;
  /** This process's lease token: every job it runs carries it. */
  private readonly node = newId();
  private readonly local = new Map<string, LocalJob>();
  private readonly waiting: Array<() => void> = [];
  private runningCount = 0;
  private ticker?: NodeJS.Timeout;
  private ticking = false;
  private closed = false;

  constructor(
    private readonly app: { readonly logger: Logger; readonly knex: Knex },
    scheduler: Scheduler,
    options: JobsOptions = {},
  ) {
    this.options = { ...JOBS_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
    this.logger = app.logger.child({ component: 'jobs' });
    scheduler.define('core', 'core.jobs.fail-interrupted', Math.max(this.options.reapIntervalMs, 1000), async () => {
      await this.failInterrupted();
    });
    scheduler.define('core', 'core.jobs.prune-finished', 3_600_000, async ({ signal }) => {
      const days = this.options.keepFinishedDays;
      if (days !== null) await this.pruneFinished(days * 86_400_000, signal);
    });
  }

  private get knex(): Knex {
    return this.app.knex;
  }

  /**
   * Records a job (queued) and runs `work` in the background of this process. Resolves
   * with the job as recorded, before the work starts.
   */
  async start(spec: { kind: string; principal: Principal; input?: Record<string, unknown>; progress?: Record<string, unknown>; id?: string }, work: JobWork): Promise<Job> {
    if (this.closed) throw new RapportError(503, 'shutting-down', 'The server is shutting down; start the job again in a moment');
    // A caller may pick the id first (newId()), to name what belongs to the job after it.
    const id = spec.id ?? newId();
    const { principal } = spec;
    const rows: JobRow[] = (
      await this.knex.raw(
        `insert into rapport_jobs (tenant_id, id, kind, status, input, progress, created_by_kind, created_by_id, lease_token, lease_expires_at)
         values (?, ?, ?, 'queued', ?::jsonb, ?::jsonb, ?, ?, ?, now() + make_interval(secs => ?::double precision))
         returning ${JOB_COLUMNS.join(', ')}`,
        [principal.tenantId, id, spec.kind, json(spec.input), json(spec.progress), principal.kind, principal.id, this.node, this.options.leaseMs / 1000],
      )
    ).rows;
    const job = toJob(rows[0]);
    const entry: LocalJob = { tenantId: job.tenantId, id, controller: new AbortController(), progress: spec.progress, dirty: false };
    this.local.set(id, entry);
    this.ensureTicker();
    entry.done = this.execute(entry, job, principal, work).finally(() => {
      this.local.delete(id);
      if (this.local.size === 0) this.stopTicker();
    });
    return job;
  }

  /** Waits until every job started by this process has finished (tests, scripts). */
  async settled(): Promise<void> {
    while (this.local.size) await Promise.all([...this.local.values()].map((e) => e.done ?? Promise.resolve()));
  }

  /** One job the viewer may see; 404 otherwise (another tenant's, or someone else's without `jobs:read`). */
  async get(viewer: Principal, id: string): Promise<Job> {
    await this.failInterrupted(viewer.tenantId);
    const row: JobRow | undefined = await this.visible(viewer).where('id', id).first(JOB_COLUMNS);
    if (!row) throw new NotFoundError('Job', id);
    return toJob(row);
  }

  /** The viewer's jobs (every job of the tenant with `jobs:read`), newest first. */
  async list(viewer: Principal, query: JobListQuery): Promise<Page<Job>> {
    await this.failInterrupted(viewer.tenantId);
    const q = this.visible(viewer).select(JOB_COLUMNS);
    if (query.status) q.where('status', query.status);
    if (query.kind) q.where('kind', query.kind);
    return keysetPage(q, query, BY_ID_DESC, (rows: JobRow[]) => rows.map(toJob));
  }

  /**
   * Cancels a queued or running job: it is marked cancelled at once and its work is
   * aborted (at its next safe point; what it wrote before stays). Own jobs, or any with `jobs:manage`.
   */
  async cancel(viewer: Principal, id: string): Promise<Job> {
    const job = await this.get(viewer, id);
    if (!isOwner(viewer, job) && !(hasPermission(viewer, JOBS_MANAGE_PERMISSION) && !viewer.scopePartyId)) {
      throw new ForbiddenError(`Job ${id} was started by someone else; cancelling it requires the permission "${JOBS_MANAGE_PERMISSION}"`);
    }
    const rows: JobRow[] = (
      await this.knex.raw(
        `update rapport_jobs set status = 'cancelled', error = ?, finished_at = now(), updated_at = now()
         where tenant_id = ? and id = ? and status in ('queued', 'running')
         returning ${JOB_COLUMNS.join(', ')}`,
        [`Cancelled by ${viewer.kind} ${viewer.id}`, viewer.tenantId, id],
      )
    ).rows;
    if (rows.length === 0) {
      const now = await this.get(viewer, id);
      throw new ConflictError(`Job ${id} is already ${now.status}; only a queued or running job can be cancelled`, { jobStatus: now.status });
    }
    this.local.get(id)?.controller.abort(new Error('cancelled'));
    return toJob(rows[0]);
  }

  /**
   * Marks failed every queued or running job whose lease expired: the process running it
   * stopped without finishing it. Runs as the kernel task `core.jobs.fail-interrupted` and
   * before each read of jobs, so no job is ever shown as running when nothing runs it.
   */
  async failInterrupted(tenantId?: string): Promise<number> {
    const tenants = tenantId
      ? [tenantId]
      : (
          (await this.knex.raw(`${TENANT_DISCOVERY} select distinct tenant_id from rapport_jobs where status in ('queued', 'running') and lease_expires_at < now()`)).rows as Array<{
            tenant_id: string;
          }>
        ).map((row) => row.tenant_id);
    let failed = 0;
    // One tenant per statement: on a cluster sharded by tenant each update stays on one shard.
    for (const tenant of tenants) {
      const result = await this.knex.raw(
        `update rapport_jobs set status = 'failed', error = ?, finished_at = now(), updated_at = now(), lease_token = null, lease_expires_at = null
         where tenant_id = ? and status in ('queued', 'running') and lease_expires_at < now()
         returning id, kind`,
        [INTERRUPTED_MESSAGE, tenant],
      );
      const rows: Array<{ id: string; kind: string }> = result.rows;
      for (const row of rows) this.logger.warn({ tenantId: tenant, jobId: row.id, kind: row.kind }, `job ${row.id} (${row.kind}) marked failed: its process stopped before it finished`);
      failed += rows.length;
    }
    return failed;
  }

  /**
   * Deletes jobs that finished more than `olderThanMs` ago, with their import reports, in
   * batches. Returns how many jobs went.
   */
  async pruneFinished(olderThanMs: number, signal?: AbortSignal): Promise<number> {
    let total = 0;
    const seconds = olderThanMs / 1000;
    const finished = "status in ('succeeded', 'failed', 'cancelled') and finished_at < now() - make_interval(secs => ?::double precision)";
    const tenants: Array<{ tenant_id: string }> = (await this.knex.raw(`${TENANT_DISCOVERY} select distinct tenant_id from rapport_jobs where ${finished}`, [seconds])).rows;
    for (const { tenant_id: tenantId } of tenants) {
      while (!signal?.aborted) {
        const old: Array<{ id: string }> = await this.knex('rapport_jobs').where('tenant_id', tenantId).whereRaw(finished, [seconds]).limit(PRUNE_BATCH).select('id');
        if (old.length === 0) break;
        const ids = old.map((j) => j.id);
        await this.knex.transaction(async (trx) => {
          await trx.raw('delete from rapport_import_rejections where tenant_id = ? and job_id in (select * from unnest(?::uuid[]))', [tenantId, ids]);
          await trx.raw('delete from rapport_jobs where tenant_id = ? and id in (select * from unnest(?::uuid[]))', [tenantId, ids]);
        });
        total += old.length;
        if (old.length < PRUNE_BATCH) break;
      }
    }
    if (total) this.logger.info({ pruned: total }, 'deleted finished jobs past their retention');
    return total;
  }

  /** Refuses new jobs, aborts running ones (they end failed: interrupted by the shutdown) and waits for them. */
  async stop(): Promise<void> {
    this.closed = true;
    for (const entry of this.local.values()) entry.controller.abort(new Error('shutdown'));
    for (const wake of this.waiting.splice(0)) wake();
    const stopped = await allSettledWithin(
      [...this.local.values()].map((e) => e.done!),
      this.options.stopTimeoutMs,
    );
    if (!stopped) this.logger.warn({ jobs: [...this.local.keys()] }, 'jobs still running after the stop timeout; they will be marked failed when their lease expires');
    this.stopTicker();
  }

  private visible(viewer: Principal) {
    const q = this.knex('rapport_jobs').where('tenant_id', viewer.tenantId);
    // A scoped principal never sees the tenant's other jobs, whatever its roles grant.
    if (!hasPermission(viewer, JOBS_READ_PERMISSION) || viewer.scopePartyId) q.where({ created_by_kind: viewer.kind, created_by_id: viewer.id });
    return q;
  }

  private async execute(entry: LocalJob, job: Job, principal: Principal, work: JobWork): Promise<void> {
    await this.slot();
    try {
      const { signal } = entry.controller;
      if (signal.aborted) {
        await this.finish(entry, { status: 'failed', error: SHUTDOWN_MESSAGE });
        return;
      }
      const started = await this.knex.raw(
        `update rapport_jobs set status = 'running', started_at = now(), updated_at = now()
         where tenant_id = ? and id = ? and lease_token = ? and status = 'queued' returning started_at`,
        [entry.tenantId, entry.id, this.node],
      );
      if (started.rows.length === 0) {
        // Cancelled while it waited for a slot: nothing ran, nothing to record but the lease.
        await this.finish(entry, { status: 'cancelled' });
        return;
      }
      const context: JobContext = {
        job: { ...job, status: 'running', startedAt: new Date(started.rows[0].started_at).toISOString() },
        principal,
        signal,
        progress: (progress) => {
          entry.progress = progress;
          entry.dirty = true;
        },
      };
      let outcome: Parameters<JobService['finish']>[1];
      try {
        const result = (await work(context)) ?? null;
        outcome = signal.aborted && reasonOf(signal) === 'shutdown' ? { status: 'failed', error: SHUTDOWN_MESSAGE, result } : { status: 'succeeded', result };
      } catch (error) {
        const result = error instanceof JobFailedError ? (error.result ?? null) : null;
        const message = signal.aborted && reasonOf(signal) === 'shutdown' ? SHUTDOWN_MESSAGE : describeError(error);
        if (!(error instanceof JobFailedError) && !signal.aborted) this.logger.error({ err: error, jobId: entry.id, kind: job.kind }, `job ${entry.id} (${job.kind}) failed`);
        outcome = { status: 'failed', error: message, result };
      }
      await this.finish(entry, outcome);
    } catch (error) {
      this.logger.error({ err: error, jobId: entry.id }, `job ${entry.id} could not be recorded; it will be marked failed when its lease expires`);
    } finally {
      this.release();
    }
  }

  /** Records the end of a job, unless someone cancelled it meanwhile (then it stays cancelled, with the result so far). */
  private async finish(entry: LocalJob, outcome: { status: JobStatus; error?: string; result?: Record<string, unknown> | null }): Promise<void> {
    await this.knex.raw(
      `update rapport_jobs set
         status = case when status = 'cancelled' then 'cancelled' else ? end,
         error = case when status = 'cancelled' then error else ? end,
         result = ?::jsonb, progress = coalesce(?::jsonb, progress),
         finished_at = now(), updated_at = now(), lease_token = null, lease_expires_at = null
       where tenant_id = ? and id = ? and lease_token = ? and status in ('queued', 'running', 'cancelled')`,
      [outcome.status, outcome.error ?? null, json(outcome.result ?? undefined), json(entry.progress), entry.tenantId, entry.id, this.node],
    );
  }

  private slot(): Promise<void> {
    if (this.runningCount < this.options.concurrency || this.closed) {
      this.runningCount++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.runningCount++;
        resolve();
      }),
    );
  }

  private release(): void {
    this.runningCount--;
    this.waiting.shift()?.();
  }

  private ensureTicker(): void {
    if (this.ticker) return;
    const every = Math.max(Math.min(this.options.progressIntervalMs, Math.floor(this.options.leaseMs / 3)), 10);
    this.ticker = setInterval(() => void this.tick(), every);
    this.ticker.unref();
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Renews the lease of this process's jobs, writes fresh progress and notices cancellations made elsewhere. */
  private async tick(): Promise<void> {
    if (this.ticking || this.local.size === 0) return;
    this.ticking = true;
    try {
      for (const entry of this.local.values()) {
        if (!entry.dirty) continue;
        entry.dirty = false;
        await this.knex.raw('update rapport_jobs set progress = ?::jsonb, updated_at = now() where tenant_id = ? and id = ? and lease_token = ?', [
          json(entry.progress),
          entry.tenantId,
          entry.id,
          this.node,
        ]);
      }
      const renewed = await this.knex.raw(
        `update rapport_jobs set lease_expires_at = now() + make_interval(secs => ?::double precision)
         where lease_token = ? and id = any(?::uuid[]) and status in ('queued', 'running', 'cancelled')
         returning id, status`,
        [this.options.leaseMs / 1000, this.node, [...this.local.keys()]],
      );
      for (const row of renewed.rows as Array<{ id: string; status: JobStatus }>) {
        const entry = this.local.get(row.id);
        if (row.status === 'cancelled' && entry && !entry.controller.signal.aborted) entry.controller.abort(new Error('cancelled'));
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not renew the leases of running jobs');
    } finally {
      this.ticking = false;
    }
  }
}

function isOwner(viewer: Principal, job: Job): boolean {
  return job.createdBy.kind === viewer.kind && job.createdBy.id === viewer.id;
}

function reasonOf(signal: AbortSignal): string | undefined {
  return (signal.reason as Error | undefined)?.message;
}

function json(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}
