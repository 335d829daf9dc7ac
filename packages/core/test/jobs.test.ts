import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRapport, createTenant, definePlugin, INTERRUPTED_MESSAGE, JobFailedError, newId, PluginError, systemPrincipal, type Rapport, type ScheduledTaskContext } from '@rapport/core';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';

// Long enough for a loaded machine; each wait still ends as soon as its condition holds.
const waitFor = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) => {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** A plugin with recurring tasks whose runs the tests can count. */
function tickerPlugin() {
  const runs: ScheduledTaskContext[] = [];
  let failNext = 0;
  const plugin = definePlugin({
    name: 'ticker',
    version: '1.0.0',
    setup(api) {
      api.schedule.every('ticker.count', 60_000, async (ctx) => {
        runs.push(ctx);
        if (failNext > 0) {
          failNext--;
          throw new Error('the ticker broke');
        }
      });
    },
  });
  return { plugin, runs, failTimes: (n: number) => (failNext = n) };
}

describe('scheduler', () => {
  let t: TestApp;
  const ticker = tickerPlugin();

  beforeAll(async () => {
    t = await createTestApp({ plugins: [ticker.plugin] });
  });
  afterAll(() => t?.close());

  it('does not start timers in tests, and runNow runs a task once with its context', async () => {
    expect(t.app.scheduler.started).toBe(false);
    expect(ticker.runs).toHaveLength(0);
    const before = Date.now();
    await expect(t.app.scheduler.runNow('ticker.count')).resolves.toEqual({ status: 'succeeded' });
    expect(ticker.runs).toHaveLength(1);
    const [ctx] = ticker.runs;
    expect(ctx.now.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(ctx.signal.aborted).toBe(false);
    const state = (await t.app.scheduler.list()).find((s) => s.name === 'ticker.count')!;
    expect(state).toMatchObject({ owner: 'ticker', intervalMs: 60_000, active: true, lastStatus: 'succeeded', lastError: null, runs: 1, running: false });
    expect(state.lastFinishedAt!.getTime()).toBeGreaterThanOrEqual(state.lastStartedAt!.getTime());
  });

  it('records a failing run, rejects runNow with its error, and runs again next time', async () => {
    ticker.failTimes(1);
    const failure = await t.app.scheduler.runNow('ticker.count').catch((error: Error) => error);
    expect(failure).toBeInstanceOf(PluginError);
    expect((failure as Error).message).toBe('Plugin "ticker": scheduled task "ticker.count" failed: the ticker broke');
    expect(((failure as Error).cause as Error).message).toBe('the ticker broke');
    let state = (await t.app.scheduler.list()).find((s) => s.name === 'ticker.count')!;
    expect(state).toMatchObject({ lastStatus: 'failed', lastError: 'the ticker broke', running: false });
    await expect(t.app.scheduler.runNow('ticker.count')).resolves.toEqual({ status: 'succeeded' });
    state = (await t.app.scheduler.list()).find((s) => s.name === 'ticker.count')!;
    expect(state).toMatchObject({ lastStatus: 'succeeded', lastError: null });
  });

  it('lists the plugin’s tasks in its registrations and rejects an unknown task', async () => {
    expect(t.app.plugins.status('ticker').registrations.scheduledTasks).toEqual(['ticker.count']);
    await expect(t.app.scheduler.runNow('ticker.nope')).rejects.toThrow(/Scheduled task ticker.nope was not found/);
  });

  it('does not run the tasks of a disabled plugin', async () => {
    const count = ticker.runs.length;
    await t.app.plugins.disable('ticker');
    try {
      await expect(t.app.scheduler.runNow('ticker.count')).resolves.toEqual({ status: 'skipped', reason: 'plugin "ticker" is not enabled' });
      expect((await t.app.scheduler.list()).find((s) => s.name === 'ticker.count')!.active).toBe(false);
      expect(ticker.runs).toHaveLength(count);
    } finally {
      await t.app.plugins.enable('ticker');
    }
    await t.app.scheduler.runNow('ticker.count');
    expect(ticker.runs).toHaveLength(count + 1);
  });

  it('refuses a task outside the plugin’s namespace or with a tiny interval, naming the plugin', async () => {
    // Declarations fail before any database is opened.
    const bad = (name: string, interval: number) =>
      createRapport({
        logLevel: 'silent',
        database: { dataDir: 'memory://never-opened' },
        plugins: [definePlugin({ name: 'sloppy', version: '1.0.0', setup: (api) => api.schedule.every(name, interval, async () => undefined) })],
      });
    await expect(bad('cleanup', 60_000)).rejects.toThrow(/Plugin "sloppy": scheduled task "cleanup" must be namespaced "sloppy\.…"/);
    await expect(bad('sloppy.cleanup', 60)).rejects.toThrow(/Plugin "sloppy": scheduled task "sloppy.cleanup" needs an interval of at least 1000 ms/);
  });
});

describe('scheduler timers', () => {
  it('runs due tasks on its own, survives failures, skips disabled plugins and stops on close', async () => {
    const runs: string[] = [];
    let failing = true;
    let lastSignal: AbortSignal | undefined;
    const plugin = definePlugin({
      name: 'clock',
      version: '1.0.0',
      setup(api) {
        api.schedule.every('clock.tick', 1000, async ({ signal }) => {
          lastSignal = signal;
          runs.push('tick');
          if (failing) {
            failing = false;
            throw new Error('first tick fails');
          }
        });
      },
    });
    const t = await createTestApp({ plugins: [plugin], config: { scheduler: { enabled: true } } });
    try {
      expect(t.app.scheduler.started).toBe(true);
      // Never run before: due at once. Its failure is logged, not thrown, and the next interval runs again.
      await waitFor(() => runs.length >= 2, 'two ticks');
      const state = (await t.app.scheduler.list()).find((s) => s.name === 'clock.tick')!;
      expect(state.runs).toBeGreaterThanOrEqual(2);
      expect((await t.admin.get('/health')).status).toBe(200);

      await t.app.plugins.disable('clock');
      const count = runs.length;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(runs).toHaveLength(count);
    } finally {
      await t.close();
    }
    expect(lastSignal?.aborted).toBe(true);
  });
});

// On PostgreSQL two pools on one schema, as two processes would be; on PGlite two systems on one instance.
describe('scheduler across nodes sharing a database', () => {
  it('lets one node at a time run a task, and remembers the last run across restarts', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let runs = 0;
    const plugin = definePlugin({
      name: 'shared',
      version: '1.0.0',
      setup(api) {
        api.schedule.every('shared.work', 1000, async () => {
          inFlight++;
          runs++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 300));
          inFlight--;
        });
      },
    });
    const t = await createTestApp({ plugins: [plugin] });
    // Closing a second system on PGlite would close the one shared instance: stop its background work only.
    const detach = (node: Rapport) => (t.kind === 'postgres' ? node.close() : node.scheduler.stop().then(() => node.jobs.stop()));
    const second = await createRapport({ logLevel: 'silent', database: t.app.config.database, plugins: [plugin], scheduler: { enabled: false }, dispatcher: { enabled: false } });
    try {
      // Both nodes asked at the same moment: exactly one runs it, the other is told why not.
      const outcomes = await Promise.all([t.app.scheduler.runNow('shared.work'), second.scheduler.runNow('shared.work')]);
      expect(outcomes.filter((o) => o.status === 'succeeded')).toHaveLength(1);
      expect(outcomes.find((o) => o.status === 'skipped')).toEqual({ status: 'skipped', reason: 'it is running on another node' });
      expect(runs).toBe(1);

      // Timers on both nodes for a few intervals: never two runs at once, about one run per interval.
      runs = 0;
      maxInFlight = 0;
      await t.app.knex('rapport_scheduled_tasks').where({ name: 'shared.work' }).update({ last_started_at: null });
      const started = Date.now();
      t.app.scheduler.start();
      second.scheduler.start();
      await waitFor(() => runs >= 2, 'two runs across the nodes');
      await t.app.scheduler.stop();
      await second.scheduler.stop();
      expect(maxInFlight).toBe(1);
      // At most one run per interval between the two, however slow the machine: the bound
      // comes from the time that actually passed, not from a guess at it.
      expect(runs).toBeLessThanOrEqual(Math.floor((Date.now() - started) / 1000) + 1);
    } finally {
      await detach(second);
    }

    // A restarted node does not rerun a task whose interval has not passed since the last run.
    const lastRun = await t.app.knex('rapport_scheduled_tasks').where({ name: 'shared.work' }).first('last_started_at', 'runs');
    const slow = definePlugin({ ...plugin, setup: (api) => api.schedule.every('shared.work', 3_600_000, async () => void runs++) });
    const restarted = await createRapport({ logLevel: 'silent', database: t.app.config.database, plugins: [slow], dispatcher: { enabled: false } });
    try {
      const before = runs;
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(restarted.scheduler.started).toBe(true);
      expect(runs).toBe(before);
      const row = await restarted.knex('rapport_scheduled_tasks').where({ name: 'shared.work' }).first('last_started_at', 'runs');
      expect(row).toEqual(lastRun);
    } finally {
      await detach(restarted);
      await t.close();
    }
  });
});

describe('background jobs', () => {
  let t: TestApp;
  let importer: TestClient;
  let importerKeyId: string;
  beforeAll(async () => {
    t = await createTestApp();
    const role = await t.admin.post('/api/v1/roles', { name: 'uploader', permissions: ['imports:write', 'meta:read'] });
    expect(role.status).toBe(201);
    importer = await t.clientFor({ roles: ['uploader'] });
    importerKeyId = (await importer.get('/api/v1/auth/me')).body.id;
  });
  afterAll(() => t?.close());

  const principalOf = async (client: TestClient) => {
    const me = (await client.get('/api/v1/auth/me')).body;
    return { ...systemPrincipal(me.tenantId), kind: me.kind, id: me.id, roles: me.roles, permissions: new Set<string>(me.permissions ?? []) } as const;
  };

  it('runs a job in the background with progress and a result', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const admin = await principalOf(t.admin);
    const job = await t.app.jobs.start({ kind: 'test.count', principal: admin, input: { upTo: 3 } }, async ({ progress, job }) => {
      progress({ done: 1, total: 3 });
      await gate;
      progress({ done: 3, total: 3 });
      return { counted: 3, id: job.id };
    });
    expect(job).toMatchObject({ kind: 'test.count', status: 'queued', input: { upTo: 3 }, createdBy: { kind: admin.kind, id: admin.id }, finishedAt: null });
    await waitFor(async () => (await t.admin.get(`/api/v1/jobs/${job.id}`)).body.status === 'running', 'the job to run');
    release();
    await t.app.jobs.settled();
    const done = (await t.admin.get(`/api/v1/jobs/${job.id}`)).body;
    expect(done).toMatchObject({ status: 'succeeded', progress: { done: 3, total: 3 }, result: { counted: 3, id: job.id }, error: null });
    expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));
  });

  it('marks a job failed with its error, keeping a partial result when given one', async () => {
    const admin = await principalOf(t.admin);
    const broken = await t.app.jobs.start({ kind: 'test.broken', principal: admin }, async () => {
      throw new Error('the disk is full');
    });
    const partial = await t.app.jobs.start({ kind: 'test.partial', principal: admin }, async () => {
      throw new JobFailedError('stopped at row 7', { done: 6 });
    });
    await t.app.jobs.settled();
    expect((await t.admin.get(`/api/v1/jobs/${broken.id}`)).body).toMatchObject({ status: 'failed', error: 'the disk is full', result: null });
    expect((await t.admin.get(`/api/v1/jobs/${partial.id}`)).body).toMatchObject({ status: 'failed', error: 'stopped at row 7', result: { done: 6 } });
  });

  it('cancels a running job: it stops at its next check and stays cancelled', async () => {
    const admin = await principalOf(t.admin);
    let steps = 0;
    const job = await t.app.jobs.start({ kind: 'test.forever', principal: admin }, async ({ signal }) => {
      while (!signal.aborted) {
        steps++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return { steps };
    });
    await waitFor(() => steps > 2, 'the job to loop');
    const cancelled = await t.admin.post(`/api/v1/jobs/${job.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: job.id, status: 'cancelled' });
    await t.app.jobs.settled();
    const after = (await t.admin.get(`/api/v1/jobs/${job.id}`)).body;
    expect(after).toMatchObject({ status: 'cancelled', result: { steps: expect.any(Number) } });
    expect(after.error).toMatch(/^Cancelled by api-key /);

    const again = await t.admin.post(`/api/v1/jobs/${job.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(again.body.detail).toBe(`Job ${job.id} is already cancelled; only a queued or running job can be cancelled`);
  });

  it('marks failed a job whose process died (expired lease) instead of leaving it running', async () => {
    const orphan = newId();
    const stale = newId();
    await t.app.knex('rapport_jobs').insert([
      {
        tenant_id: t.tenantId,
        id: orphan,
        kind: 'test.orphan',
        status: 'running',
        created_by_kind: 'api-key',
        created_by_id: importerKeyId,
        lease_token: newId(),
        lease_expires_at: new Date(Date.now() - 1000),
        started_at: new Date(),
      },
      { tenant_id: t.tenantId, id: stale, kind: 'test.orphan', status: 'queued', created_by_kind: 'system', created_by_id: 'x', lease_token: newId(), lease_expires_at: new Date(Date.now() - 1000) },
    ]);
    const seen = await importer.get(`/api/v1/jobs/${orphan}`);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ status: 'failed', error: INTERRUPTED_MESSAGE });
    expect(seen.body.finishedAt).not.toBeNull();
    // The kernel's recurring task does the same without anyone looking.
    await t.app.scheduler.runNow('core.jobs.fail-interrupted');
    expect(await t.app.knex('rapport_jobs').where({ id: stale }).first('status', 'error')).toEqual({ status: 'failed', error: INTERRUPTED_MESSAGE });
  });

  it('shows callers their own jobs only, admins all of the tenant, and nobody another tenant’s', async () => {
    const mine = await t.app.jobs.start({ kind: 'test.mine', principal: await principalOf(importer) }, async () => ({ ok: true }));
    const admins = await t.app.jobs.start({ kind: 'test.admins', principal: await principalOf(t.admin) }, async () => ({ ok: true }));
    await t.app.jobs.settled();

    const ownList = (await importer.get('/api/v1/jobs?limit=200')).body.data.map((j: { id: string }) => j.id);
    expect(ownList).toContain(mine.id);
    expect(ownList).not.toContain(admins.id);
    const notMine = await importer.get(`/api/v1/jobs/${admins.id}`);
    expect(notMine.status).toBe(404);
    expect(notMine.headers.get('content-type')).toContain('application/problem+json');
    expect((await importer.post(`/api/v1/jobs/${admins.id}/cancel`)).status).toBe(404);

    const all = (await t.admin.get('/api/v1/jobs?limit=200')).body.data.map((j: { id: string }) => j.id);
    expect(all).toEqual(expect.arrayContaining([mine.id, admins.id]));
    const filtered = (await t.admin.get('/api/v1/jobs?kind=test.mine')).body.data;
    expect(filtered.map((j: { id: string }) => j.id)).toEqual([mine.id]);
    expect((await t.admin.get('/api/v1/jobs?status=succeeded&limit=1')).body.nextCursor).toEqual(expect.any(String));

    const other = await createTenant(t.app.knex, 'Elsewhere');
    const outsider = await t.clientFor({ roles: ['admin'], tenantId: other.id });
    expect((await outsider.get(`/api/v1/jobs/${mine.id}`)).status).toBe(404);
    expect((await outsider.get('/api/v1/jobs')).body.data).toEqual([]);
    expect((await t.anonymous.get('/api/v1/jobs')).status).toBe(401);
    expect((await t.admin.get('/api/v1/jobs?status=done')).status).toBe(400);
  });

  it('deletes finished jobs past their retention, with their import reports', async () => {
    const day = 86_400_000;
    const old = newId();
    const recent = newId();
    const running = newId();
    const row = (id: string, status: string, finishedAt: Date | null) => ({
      tenant_id: t.tenantId,
      id,
      kind: 'import',
      status,
      created_by_kind: 'system',
      created_by_id: 'x',
      finished_at: finishedAt,
    });
    await t.app
      .knex('rapport_jobs')
      .insert([
        row(old, 'succeeded', new Date(Date.now() - 31 * day)),
        row(recent, 'failed', new Date(Date.now() - 29 * day)),
        { ...row(running, 'running', null), lease_token: newId(), lease_expires_at: new Date(Date.now() + 60_000) },
      ]);
    await t.app.knex('rapport_import_rejections').insert([old, recent].map((job_id) => ({ tenant_id: t.tenantId, job_id, line: 2, errors: JSON.stringify([{ message: 'bad' }]) })));

    await expect(t.app.scheduler.runNow('core.jobs.prune-finished')).resolves.toEqual({ status: 'succeeded' });
    const left = await t.app.knex('rapport_jobs').whereIn('id', [old, recent, running]).pluck('id');
    expect(left.sort()).toEqual([recent, running].sort());
    expect(await t.app.knex('rapport_import_rejections').whereIn('job_id', [old, recent]).pluck('job_id')).toEqual([recent]);
    expect(await t.app.jobs.pruneFinished(day)).toBe(1);
    expect(await t.app.knex('rapport_jobs').whereIn('id', [old, recent, running]).pluck('id')).toEqual([running]);
    await t.app.knex('rapport_jobs').where({ id: running }).delete();
  });

  // Last: the service stays stopped.
  it('on shutdown aborts running jobs, records them as interrupted and refuses new ones', async () => {
    const admin = await principalOf(t.admin);
    let looping = false;
    const job = await t.app.jobs.start({ kind: 'test.long', principal: admin }, async ({ signal }) => {
      looping = true;
      while (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 10));
      return { stoppedCleanly: true };
    });
    await waitFor(() => looping, 'the job to start');
    await t.app.jobs.stop();
    expect((await t.admin.get(`/api/v1/jobs/${job.id}`)).body).toMatchObject({
      status: 'failed',
      error: 'Interrupted: the server shut down before the job finished',
      result: { stoppedCleanly: true },
    });
    await expect(t.app.jobs.start({ kind: 'test.late', principal: admin }, async () => undefined)).rejects.toThrow(/shutting down/);
  });
});
