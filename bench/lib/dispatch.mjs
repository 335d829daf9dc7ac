// 10. Dispatcher throughput (PostgreSQL): events per second from commit to a delivered and
// acknowledged webhook on a loopback receiver, with 1, 10 and 100 subscriptions, one node and
// two (each a system in its own process on one schema), beside a baseline in the same run:
// the same outbox and delivery rows claimed and marked by bare SQL, with no HTTP. A round
// commits a backlog of events while the dispatchers are stopped, then starts them and times
// until every delivery is marked delivered; variants alternate within each round. Then the
// latency from commit to delivery (p50/p99) of events committed one at a time on a node
// while the dispatchers run.
import http from 'node:http';
import { child } from './children.mjs';
import { databaseUrl, interleave, now, pairedRatio, pgSchema, requireCore, sleep, stats } from './common.mjs';

async function startWorker(schema) {
  const c = child('dispatch-worker.mjs', [schema]);
  await new Promise((resolve, reject) => {
    c.proc.once('message', (m) => (m.ready ? resolve() : reject(new Error('dispatch worker did not start'))));
    c.proc.once('exit', (code) => reject(new Error(`dispatch worker exited with ${code}`)));
  });
  return c;
}

export async function dispatchBenchmarks({ quick }) {
  const pg = await pgSchema('dispatch');
  const knex = requireCore('knex')({ client: 'pg', connection: databaseUrl, searchPath: [pg.schema], pool: { min: 0, max: 2 } });
  const arrivals = new Map();
  let received = 0;
  const receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      received++;
      try {
        const seq = JSON.parse(Buffer.concat(chunks).toString()).payload?.seq;
        if (seq !== undefined) arrivals.set(`${req.url} ${seq}`, Date.now());
      } catch {
        // not ours
      }
      res.writeHead(204).end();
    });
  });
  receiver.keepAliveTimeout = 60_000;
  const workers = [];
  try {
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${receiver.address().port}`;
    // One after the other: the first migrates the schema.
    workers.push(await startWorker(pg.schema));
    workers.push(await startWorker(pg.schema));
    const [a] = workers;
    const tenantId = (await a.call({ tenant: true })).answer;

    const done = async (expected, timeoutMs = 300_000) => {
      const deadline = now() + timeoutMs;
      for (;;) {
        const row = (
          await knex.raw(
            `select (select count(*) from rapport_webhook_deliveries where tenant_id = ? and status = 'delivered')::int as delivered,
                    (select count(*) from rapport_outbox where tenant_id = ? and dispatched_at is null)::int as waiting`,
            [tenantId, tenantId],
          )
        ).rows[0];
        if (row.delivered >= expected && row.waiting === 0) return;
        if (now() > deadline) throw new Error(`dispatch: ${row.delivered} of ${expected} deliveries done after ${timeoutMs} ms`);
        await sleep(5);
      }
    };

    let seq = 0;
    const results = [];
    const sizes = quick
      ? [
          { subscriptions: 1, events: 50, latencyEvents: 10 },
          { subscriptions: 10, events: 10, latencyEvents: 5 },
          { subscriptions: 100, events: 2, latencyEvents: 2 },
        ]
      : [
          { subscriptions: 1, events: 2000, latencyEvents: 200 },
          { subscriptions: 10, events: 300, latencyEvents: 100 },
          { subscriptions: 100, events: 30, latencyEvents: 30 },
        ];
    for (const { subscriptions, events, latencyEvents } of sizes) {
      await a.call({ subscribe: { count: subscriptions, url } });
      const expected = events * subscriptions;
      const round = (nodes) => async () => {
        await a.call({ clean: true });
        await a.call({ commitBatch: { count: events, startSeq: seq } });
        seq += events;
        const before = received;
        const t0 = now();
        if (nodes === 0) await a.call({ sql: true });
        else for (const w of workers.slice(0, nodes)) await w.call({ start: true });
        await done(expected);
        const ms = now() - t0;
        if (nodes > 0) for (const w of workers.slice(0, nodes)) await w.call({ stop: true });
        // At least once: a delivery may be sent twice, never not at all.
        if (nodes > 0 && received - before < expected) throw new Error(`dispatch: the receiver got ${received - before} requests for ${expected} deliveries`);
        return ms;
      };
      const measured = await interleave({ sql: round(0), one: round(1), two: round(2) }, { rounds: quick ? 1 : 5, warmup: quick ? 0 : 1 });
      const eps = (ms) => (events / ms) * 1000;
      const medianEps = (series) => eps(stats(series).p50);
      for (const [key, label] of [
        ['one', 'one node'],
        ['two', 'two nodes'],
      ]) {
        results.push({
          name: `dispatch: ${subscriptions} subscription${subscriptions === 1 ? '' : 's'}, ${label} vs bare SQL (events/s)`,
          db: 'postgres',
          baseline: medianEps(measured.sql),
          measured: medianEps(measured[key]),
          unit: 'events/s',
          ratio: pairedRatio(measured[key], measured.sql),
          ratioUnit: '× the time',
          goal: '<= 2',
          detail: { roundsMs: measured, eventsPerRound: events, deliveriesPerRound: expected },
        });
      }

      // Latency: events committed one at a time on a node while the dispatchers run.
      for (const nodes of [1, 2]) {
        await a.call({ clean: true });
        arrivals.clear();
        for (const w of workers.slice(0, nodes)) await w.call({ start: true });
        const writer = workers[nodes - 1];
        const committed = (await writer.call({ emit: { count: latencyEvents, gapMs: quick ? 5 : 20, startSeq: seq } })).answer;
        seq += latencyEvents;
        await done(latencyEvents * subscriptions);
        for (const w of workers.slice(0, nodes)) await w.call({ stop: true });
        const at = new Map(committed);
        const lags = [...arrivals].map(([key, t]) => t - at.get(Number(key.split(' ')[1]))).filter((lag) => Number.isFinite(lag));
        const lag = stats(lags);
        results.push({
          name: `dispatch: commit-to-delivery latency, ${subscriptions} subscription${subscriptions === 1 ? '' : 's'}, ${nodes === 1 ? 'one node' : 'two nodes (written on the second)'}`,
          db: 'postgres',
          baseline: lag.p50,
          measured: lag.p99,
          unit: 'ms p50 → p99',
          ratio: lag.p99 / Math.max(lag.p50, 1),
          ratioUnit: 'p99/p50',
          goal: 'reported',
          detail: { deliveries: lags.length, events: latencyEvents, latencyMs: lag },
        });
      }
    }
    return results;
  } finally {
    for (const w of workers) await w.call({ close: true }).catch(() => undefined);
    await new Promise((r) => receiver.close(r));
    await knex.destroy();
    await pg.drop();
  }
}
