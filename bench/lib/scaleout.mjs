// 6. Scale-out (PostgreSQL): two `rapport serve` processes on one database vs one, under
// the same closed-loop load (half reads of a party, half party creates), interleaved
// rounds. Reported, no goal: on a 2-core machine the database, both nodes and the load
// generator share the cores. Then the outbox check: a webhook subscribed through node A
// must receive the `party.created` events of writes made on node B.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadGenerator } from './children.mjs';
import { databaseUrl, interleave, median, now, pairedRatio, pgSchema, sleep, stats } from './common.mjs';
import { BENCH_KEY, startServer, writeConfig } from './servers.mjs';

const auth = { authorization: `Bearer ${BENCH_KEY}` };

async function api(url, method, body) {
  const res = await fetch(url, { method, headers: { ...auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => undefined);
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

export async function scaleOutBenchmarks({ quick }) {
  const pg = await pgSchema('scale');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-bench-scale-'));
  const config = writeConfig(dir, { url: databaseUrl, schema: pg.schema }, { dispatcher: { pollIntervalMs: 200, allowPrivateNetworks: true } });
  const loader = loadGenerator();
  const nodes = [];
  const received = new Map();
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      try {
        const event = JSON.parse(body);
        const id = event?.payload?.party?.id ?? event?.data?.party?.id;
        if (id) received.set(id, now());
      } catch {
        // not ours
      }
      res.writeHead(204).end();
    });
  });
  try {
    nodes.push(await startServer({ config, cwd: dir }));
    nodes.push(await startServer({ config, cwd: dir }));
    const [a, b] = nodes;
    const party = await api(`${a.url}/api/v1/parties`, 'POST', { kind: 'organization', name: 'Read Me Ltd' });
    const targetsFor = (node) => [
      { url: `${node.url}/api/v1/parties/${party.id}`, headers: auth },
      { url: `${node.url}/api/v1/parties`, method: 'POST', headers: auth, body: { kind: 'person', name: 'Load' } },
    ];
    const requests = quick ? 300 : 4000;
    const concurrency = 16;
    const check = (r) => {
      if (r.errors) throw new Error(`scale-out load had ${r.errors} failed requests: ${r.firstError}`);
      return r;
    };
    const measured = await interleave(
      {
        one: async () => check(await loader.load(targetsFor(a), requests, concurrency)).rps,
        two: async () => check(await loader.load([...targetsFor(a), ...targetsFor(b)], requests, concurrency)).rps,
      },
      { rounds: quick ? 2 : 5, warmup: 1 },
    );

    // Events of writes on node B reach a webhook subscribed through node A.
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
    await api(`${a.url}/api/v1/webhooks`, 'POST', { url: `http://127.0.0.1:${receiver.address().port}/hook`, events: ['party.created'] });
    const writes = quick ? 20 : 100;
    const written = new Map();
    for (let i = 0; i < writes; i++) {
      const created = await api(`${b.url}/api/v1/parties`, 'POST', { kind: 'person', name: `Seen ${i}` });
      written.set(created.id, now());
    }
    const deadline = now() + 60_000;
    while (now() < deadline && [...written.keys()].some((id) => !received.has(id))) await sleep(50);
    const seen = [...written.keys()].filter((id) => received.has(id));
    const lag = stats(seen.map((id) => received.get(id) - written.get(id)));
    const one = median(measured.one);
    const two = median(measured.two);
    return [
      {
        name: 'scale-out: two nodes vs one on one PostgreSQL, same load',
        db: 'postgres',
        baseline: one,
        measured: two,
        unit: 'req/s',
        ratio: pairedRatio(measured.two, measured.one),
        goal: 'reported',
        detail: { rounds: measured, requestsPerRound: requests, concurrency, mix: 'GET party / POST party, 1:1' },
      },
      {
        name: `scale-out: writes on node B seen by a webhook subscribed on node A`,
        db: 'postgres',
        baseline: writes,
        measured: seen.length,
        unit: 'events',
        ratio: seen.length / writes,
        goal: '= 1 (all seen)',
        detail: { deliveryLagMs: lag },
      },
    ];
  } finally {
    await loader.close();
    for (const node of nodes) await node.stop();
    await new Promise((r) => receiver.close(r));
    await pg.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
