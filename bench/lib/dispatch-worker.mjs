// One node of the dispatcher benchmark in its own process, as `rapport serve` would be: a
// system on the benchmark's PostgreSQL schema whose webhook dispatcher the parent starts and
// stops, or (`sql`) the bare-SQL baseline that claims and marks the same rows with no HTTP.
import { databaseUrl, loadCore } from './common.mjs';

const [schema] = process.argv.slice(2);
const core = await loadCore();
const app = await core.createRapport({
  database: { url: databaseUrl, schema, pool: { max: 10 } },
  logLevel: 'silent',
  secretKey: 'b'.repeat(64),
  // Started by the parent for each round, so the systems are idle while the other variant runs.
  dispatcher: { enabled: false, allowPrivateNetworks: true, pollIntervalMs: 1000 },
  scheduler: { enabled: false },
});
const knex = app.knex;
const tenantId = app.defaultTenant.id;

/** Replaces the subscriptions with `count` active ones on `url`, all matching `bench.*`. */
async function subscribe(count, url) {
  await knex('rapport_webhook_attempts').where({ tenant_id: tenantId }).delete();
  await knex('rapport_webhook_deliveries').where({ tenant_id: tenantId }).delete();
  await knex('rapport_webhooks').where({ tenant_id: tenantId }).delete();
  const now = new Date();
  const rows = [];
  for (let i = 0; i < count; i++) {
    const id = core.newId();
    rows.push({
      tenant_id: tenantId,
      id,
      url: `${url}/hook/${i}`,
      events: JSON.stringify(['bench.*']),
      description: null,
      active: true,
      version: 1,
      created_at: now,
      updated_at: now,
      secret: app.webhookSecrets.seal(tenantId, id, `whsec_bench_${i}`),
    });
  }
  await knex('rapport_webhooks').insert(rows);
}

/** Commits `count` events in one transaction: the backlog a throughput round drains. */
async function commitBatch(count, startSeq) {
  await app.transaction(async (uow) => {
    for (let i = 0; i < count; i++) uow.emit('bench.tick', { seq: startSeq + i });
  });
}

/** Deletes what earlier rounds left (events, deliveries, attempts), so every round starts on tables of one size. */
async function clean() {
  for (const table of ['rapport_webhook_attempts', 'rapport_webhook_deliveries', 'rapport_outbox', 'rapport_audit']) await knex(table).where({ tenant_id: tenantId }).delete();
  await knex.raw('vacuum analyze rapport_outbox, rapport_webhook_deliveries, rapport_webhook_attempts');
}

/** Commits `count` events one transaction each, as writes on this node would, and returns when each committed. */
async function emit(count, gapMs, startSeq) {
  const committed = [];
  for (let i = 0; i < count; i++) {
    const seq = startSeq + i;
    await app.transaction(async (uow) => uow.emit('bench.tick', { seq }));
    committed.push([seq, Date.now()]);
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  return committed;
}

/**
 * The baseline: the dispatcher's work on the same rows with nothing else — claim undispatched
 * outbox rows, write a delivery per subscription, mark them dispatched; claim the due
 * deliveries, mark them delivered with an attempt row each — in batched statements, no HTTP.
 */
let subscriptionIds = [];
/** One delivery per event and subscription, ids made here as the dispatcher makes them. */
function deliveryArrays(events) {
  const rows = events.flatMap((e) => subscriptionIds.map((w) => [core.newId(), w, e.id, e.name]));
  return [0, 1, 2, 3].map((i) => rows.map((r) => r[i]));
}

async function bareSql() {
  subscriptionIds = (await knex('rapport_webhooks').where({ tenant_id: tenantId, active: true }).select('id')).map((w) => w.id);
  for (;;) {
    const fanned = await knex.transaction(async (trx) => {
      const events = (
        await trx.raw(
          `select id, name from rapport_outbox where tenant_id = ? and dispatched_at is null
           order by occurred_at, id limit 500 for update skip locked`,
          [tenantId],
        )
      ).rows;
      if (events.length === 0) return 0;
      await trx.raw(
        `insert into rapport_webhook_deliveries (tenant_id, id, webhook_id, event_id, event_name, status, next_attempt_at)
         select ?::uuid, d.id, d.webhook_id, d.event_id, d.event_name, 'pending', now()
         from unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::text[]) as d(id, webhook_id, event_id, event_name)
         on conflict (tenant_id, webhook_id, event_id) do nothing`,
        [tenantId, ...deliveryArrays(events)],
      );
      await trx.raw('update rapport_outbox set dispatched_at = now() where tenant_id = ? and id = any(?::uuid[])', [tenantId, events.map((e) => e.id)]);
      return events.length;
    });
    const claimed = (
      await knex.raw(
        `with c as (
           select id from rapport_webhook_deliveries
           where tenant_id = ? and status = 'pending' and next_attempt_at <= now()
           order by next_attempt_at, id limit 100 for update skip locked
         )
         update rapport_webhook_deliveries d set lease_token = ?, next_attempt_at = now() + interval '40 seconds'
         from c where d.tenant_id = ? and d.id = c.id
         returning d.id, d.webhook_id`,
        [tenantId, core.newId(), tenantId],
      )
    ).rows;
    if (claimed.length > 0) {
      await knex.raw(
        `with done as (
           update rapport_webhook_deliveries set status = 'delivered', attempts = attempts + 1, last_status_code = 204, lease_token = null, delivered_at = now()
           where tenant_id = ? and id = any(?::uuid[])
           returning tenant_id, id, webhook_id
         )
         insert into rapport_webhook_attempts (tenant_id, id, delivery_id, webhook_id, status_code, error, duration_ms, at)
         select done.tenant_id, a.id, done.id, done.webhook_id, 204, null, 1, now()
         from done join unnest(?::uuid[], ?::uuid[]) as a(delivery_id, id) on a.delivery_id = done.id`,
        [tenantId, claimed.map((c) => c.id), claimed.map((c) => c.id), claimed.map(() => core.newId())],
      );
    }
    if (fanned === 0 && claimed.length === 0) return;
  }
}

process.on('message', async (job) => {
  try {
    let answer;
    if (job.subscribe) answer = await subscribe(job.subscribe.count, job.subscribe.url);
    else if (job.start) app.dispatcher.start();
    else if (job.stop) answer = await app.dispatcher.stop();
    else if (job.emit) answer = await emit(job.emit.count, job.emit.gapMs, job.emit.startSeq);
    else if (job.commitBatch) answer = await commitBatch(job.commitBatch.count, job.commitBatch.startSeq);
    else if (job.clean) answer = await clean();
    else if (job.sql) answer = await bareSql();
    else if (job.tenant) answer = tenantId;
    else if (job.close) {
      await app.close();
      process.send({ id: job.id }, () => process.exit(0));
      return;
    }
    process.send({ id: job.id, answer });
  } catch (error) {
    process.send({ id: job.id, error: error.stack ?? String(error) });
  }
});
process.send({ ready: true });
