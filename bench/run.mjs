#!/usr/bin/env node
// Rapport benchmarks. Every figure is a ratio against a baseline measured in the same run
// on the same machine, in interleaved rounds, so it means the same on any machine.
//
//   pnpm bench                 full sizes, PGlite and PostgreSQL where each applies
//   pnpm bench --quick         small sizes: proves the harness (CI)
//   pnpm bench --postgres      PostgreSQL only (--pglite: PGlite only)
//   pnpm bench --only=http,hooks,timeline,import,start,scale,lists,search,link,workload,dispatch
//   pnpm bench --only=peers    opt-in, never in the default or quick set: installs Directus
//                              from npm outside the repository and measures it beside Rapport
//
// PostgreSQL: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); every
// benchmark works in a schema of its own and drops it. Needs the packages built
// (`pnpm bench` builds them first).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchDir, fmt, now } from './lib/common.mjs';
import { httpBenchmarks } from './lib/http.mjs';
import { hookBenchmarks } from './lib/hooks.mjs';
import { timelineBenchmarks } from './lib/timeline.mjs';
import { importBenchmarks } from './lib/import.mjs';
import { startBenchmarks } from './lib/start.mjs';
import { scaleOutBenchmarks } from './lib/scaleout.mjs';
import { listBenchmarks } from './lib/lists.mjs';
import { searchBenchmarks } from './lib/search.mjs';
import { linkBenchmarks } from './lib/link.mjs';
import { workloadBenchmarks } from './lib/workload.mjs';
import { dispatchBenchmarks } from './lib/dispatch.mjs';
import { peerBenchmarks } from './lib/peers.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const databases = args.includes('--postgres') ? ['postgres'] : args.includes('--pglite') ? ['pglite'] : ['pglite', 'postgres'];

const suites = [
  { key: 'http', dbs: ['pglite', 'postgres'], run: (db) => httpBenchmarks({ quick, db }) },
  { key: 'hooks', dbs: ['pglite', 'postgres'], run: (db) => hookBenchmarks({ quick, db }) },
  { key: 'timeline', dbs: ['postgres'], run: () => timelineBenchmarks({ quick }) },
  { key: 'import', dbs: ['postgres'], run: () => importBenchmarks({ quick }) },
  { key: 'start', dbs: ['pglite'], run: () => startBenchmarks({ quick }) },
  { key: 'scale', dbs: ['postgres'], run: () => scaleOutBenchmarks({ quick }) },
  { key: 'lists', dbs: ['postgres'], run: () => listBenchmarks({ quick }) },
  { key: 'search', dbs: ['postgres'], run: () => searchBenchmarks({ quick }) },
  { key: 'link', dbs: ['postgres'], run: () => linkBenchmarks({ quick }) },
  { key: 'workload', dbs: ['postgres'], run: () => workloadBenchmarks({ quick }) },
  { key: 'dispatch', dbs: ['postgres'], run: () => dispatchBenchmarks({ quick }) },
  // Opt-in: runs only when named in --only (it installs a peer from npm and takes minutes).
  { key: 'peers', dbs: ['postgres'], optIn: true, run: () => peerBenchmarks({ quick }) },
];

// Each suite runs on each database in a process of its own, as a server would: what one
// leaves behind (a closed PGlite's WASM memory, a grown heap, timers) must not weigh on the
// next one's figures. `--suite=key:db` is that child.
const childSuite = args.find((a) => a.startsWith('--suite='))?.slice('--suite='.length);
if (childSuite) {
  const [key, db] = childSuite.split(':');
  let message;
  try {
    message = { results: await suites.find((s) => s.key === key).run(db) };
  } catch (error) {
    message = { error: error.stack ?? String(error) };
  }
  process.send(message, () => process.exit(0));
} else {
  await main();
}

function runSuite(key, db) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [...args.filter((a) => a === '--quick'), `--suite=${key}:${db}`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answer;
    child.on('message', (message) => (answer = message));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (answer?.results) resolve(answer.results);
      else reject(new Error(answer?.error ?? `the ${key} (${db}) benchmark process exited with ${code} and no results`));
    });
  });
}

async function main() {
  const results = [];
  const failures = [];
  const started = now();
  const loadBefore = os.loadavg();
  fs.mkdirSync(path.join(benchDir, 'results'), { recursive: true });
  const out = path.join(benchDir, 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
  const machineNow = () => ({
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))),
    loadAverageAfter: os.loadavg().map((l) => Number(l.toFixed(2))),
  });
  // Written after every suite, so a long full run that is stopped keeps what it measured.
  const save = (complete) => fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), quick, complete, machine: machineNow(), results, failures }, null, 2));
  for (const suite of suites) {
    if (only ? !only.includes(suite.key) : suite.optIn) continue;
    for (const db of suite.dbs.filter((d) => databases.includes(d))) {
      const t0 = now();
      process.stderr.write(`bench: ${suite.key} (${db})…`);
      try {
        const out = await runSuite(suite.key, db);
        results.push(...out);
        process.stderr.write(` ${((now() - t0) / 1000).toFixed(1)} s\n`);
      } catch (error) {
        failures.push({ suite: suite.key, db, error: error.stack ?? String(error) });
        process.stderr.write(` FAILED: ${error.message}\n`);
      }
      save(false);
    }
  }

  const met = (r) => {
    const m = /^(<=|>=|=)\s*([\d.]+)/.exec(r.goal);
    if (!m) return '';
    const ok = m[1] === '<=' ? r.ratio <= Number(m[2]) : m[1] === '>=' ? r.ratio >= Number(m[2]) : r.ratio === Number(m[2]);
    return ok ? 'met' : 'MISSED';
  };
  const machine = machineNow();
  console.log(
    `\nRapport benchmarks — ${quick ? 'quick' : 'full'} mode, ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, load ${machine.loadAverageBefore[0]} → ${machine.loadAverageAfter[0]}, ${((now() - started) / 1000).toFixed(0)} s\n`,
  );
  console.log('| benchmark | db | baseline | measured | unit | ratio | goal | |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.db} | ${fmt(r.baseline)} | ${fmt(r.measured)} | ${r.unit} | ${fmt(r.ratio)}${r.ratioUnit ? ` ${r.ratioUnit}` : ''} | ${r.goal} | ${[met(r), r.note].filter(Boolean).join(' ')} |`,
    );
  }
  for (const f of failures) console.log(`\nFAILED ${f.suite} (${f.db}):\n${f.error}`);

  save(true);
  console.log(`\nwritten ${path.relative(process.cwd(), out)}`);
  process.exitCode = failures.length ? 1 : 0;
}
