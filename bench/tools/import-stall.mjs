#!/usr/bin/env node
// How long an HTTP import job running in the background keeps other requests waiting on an
// embedded (PGlite) system: one connection, so a batch's transaction holds every other query
// until it commits. Starts a system in this process, posts an interactions CSV as an import
// job, and while it runs reads one party every 20 ms, printing the slowest and the median
// answer, for each batch size given.
//
//   node bench/tools/import-stall.mjs [--rows=100000] [--batch=5000,500]
import { loadCore, median } from '../lib/common.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const rows = Number(args.rows ?? 100_000);
const batches = (args.batch ?? 'default,5000,500').split(',');
const core = await loadCore();
const app = await core.createRapport({ database: { dataDir: 'memory://' }, plugins: [], logLevel: 'silent', dispatcher: { enabled: false }, limits: { enabled: false } });
const key = await core.createApiKey(app.knex, app.defaultTenant.id, { name: 'stall', roles: ['admin'] });
const server = await app.listen(0, '127.0.0.1');
const base = `http://127.0.0.1:${server.address().port}/api/v1`;
const headers = { authorization: `Bearer ${key.token}` };
const party = await (await fetch(`${base}/parties`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'person', name: 'Reader' }) })).json();
const csv = ['type,occurred_at,subject,participant_ids', ...Array.from({ length: rows }, (_, i) => `note,2024-07-02T00:00:00Z,Stall ${i},${party.id}:participant`)].join('\n');

for (const batch of batches) {
  const query = batch === 'default' ? '' : `?batchSize=${batch}`;
  const job = await (await fetch(`${base}/imports/interactions${query}`, { method: 'POST', headers: { ...headers, 'content-type': 'text/csv' }, body: csv })).json();
  const latencies = [];
  const started = performance.now();
  for (;;) {
    const t0 = performance.now();
    const res = await fetch(`${base}/parties/${party.id}`, { headers });
    await res.arrayBuffer();
    latencies.push(performance.now() - t0);
    const state = await (await fetch(`${base}/jobs/${job.id}`, { headers })).json();
    if (args.verbose && latencies.at(-1) > 500)
      console.log(`  slow read ${latencies.at(-1).toFixed(0)} ms at ${((t0 - started) / 1000).toFixed(1)} s, imported ${state.progress?.imported}, ${state.status}`);
    if (state.status !== 'running' && state.status !== 'queued') break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `batch ${batch.padStart(7)}: import ${seconds.toFixed(1)} s (${Math.round(rows / seconds)} rows/s); a read meanwhile: median ${median(latencies).toFixed(0)} ms, slowest ${Math.max(...latencies).toFixed(0)} ms (${latencies.length} reads)`,
  );
}
server.close();
await app.close();
