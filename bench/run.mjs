#!/usr/bin/env node
// Benchmarks: each figure is a ratio against a baseline measured in the same run on the
// same machine. `--quick` proves the harness works (CI); without it, runs full sizes.
// Usage: pnpm bench [--quick] [--postgres]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../packages/core/package.json'));
const core = await import(path.join(here, '../packages/core/dist/index.js'));
const Koa = require('koa');
const knexFactory = require('knex');

const quick = process.argv.includes('--quick');
const usePostgres = process.argv.includes('--postgres');
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const results = [];

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

async function timeEach(n, fn) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return stats(samples);
}

async function throughput(url, headers, requests, concurrency = 8) {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        const res = await fetch(url, { headers });
        if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
        await res.arrayBuffer();
      }
    }),
  );
  return requests / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function openApp(plugins = []) {
  let schema;
  let database = { dataDir: 'memory://' };
  if (usePostgres) {
    schema = `bench_${Date.now().toString(36)}`;
    const admin = knexFactory({ client: 'pg', connection: databaseUrl });
    await admin.raw(`create schema "${schema}"`);
    await admin.destroy();
    database = { url: databaseUrl, schema };
  }
  const app = await core.createRapport({ database, plugins, logLevel: 'silent', dispatcher: { enabled: false } });
  return {
    app,
    database,
    async close() {
      await app.close();
      if (schema) {
        const admin = knexFactory({ client: 'pg', connection: databaseUrl });
        await admin.raw(`drop schema "${schema}" cascade`);
        await admin.destroy();
      }
    },
  };
}

// 1. Hook dispatch: 100 filters and listeners on other names must not slow a party create.
async function hookDispatch() {
  const n = quick ? 50 : 1000;
  const busy = core.definePlugin({
    name: 'busy',
    version: '1.0.0',
    setup(api) {
      for (let i = 0; i < 100; i++) {
        api.hooks.filter(`busy.thing${i}.create`, () => undefined);
        api.hooks.on(`busy.thing${i}.created`, () => undefined);
      }
    },
  });
  // Both systems open side by side and measured in alternating rounds, so neither gains
  // from running first (JIT warm-up, a fresher heap).
  const plain = await openApp([]);
  const loaded = await openApp([busy]);
  const create = (app, i) => app.transaction((uow) => app.services.parties.create(uow, { kind: 'person', name: `p${i}` }));
  for (const { app } of [plain, loaded]) await timeEach(Math.ceil(n / 5), (i) => create(app, i));
  const samples = { plain: [], loaded: [] };
  const rounds = 10;
  for (let round = 0; round < rounds; round++) {
    for (const [name, { app }] of round % 2 ? [['loaded', loaded], ['plain', plain]] : [['plain', plain], ['loaded', loaded]]) {
      const s = await timeEach(Math.ceil(n / rounds), (i) => create(app, round * n + i));
      samples[name].push(s.p50);
    }
  }
  await plain.close();
  await loaded.close();
  const none = stats(samples.plain);
  const hundred = stats(samples.loaded);
  results.push({ name: 'hook dispatch: create party, 100 unrelated hooks vs none', baseline: none.p50, measured: hundred.p50, unit: 'ms p50', ratio: hundred.p50 / none.p50, goal: '<= 1.1' });
}

// 2. HTTP overhead: GET a party through the whole stack vs bare Koa + the same SELECT.
async function httpOverhead() {
  const requests = quick ? 300 : 5000;
  const { app, close } = await openApp();
  const party = await app.transaction((uow) => app.services.parties.create(uow, { kind: 'organization', name: 'Bench Ltd', contactPoints: [{ kind: 'domain', value: 'bench.example' }] }));
  const key = await core.createApiKey(app.knex, app.defaultTenant.id, { name: 'bench', roles: ['admin'] });
  const server = await app.listen(0, '127.0.0.1');
  const full = `http://127.0.0.1:${server.address().port}/api/v1/parties/${party.id}`;

  const bare = new Koa();
  const tenantId = app.defaultTenant.id;
  bare.use(async (ctx) => {
    const row = await app.knex('rapport_parties').where({ tenant_id: tenantId, id: party.id }).first();
    const points = await app.knex('rapport_contact_points').where({ tenant_id: tenantId, party_id: party.id });
    ctx.body = { ...row, contactPoints: points };
  });
  const bareServer = bare.listen(0, '127.0.0.1');
  await new Promise((r) => bareServer.once('listening', r));
  const bareUrl = `http://127.0.0.1:${bareServer.address().port}/`;

  const headers = { authorization: `Bearer ${key.token}` };
  await throughput(full, headers, Math.ceil(requests / 5));
  await throughput(bareUrl, {}, Math.ceil(requests / 5));
  const bareRps = await throughput(bareUrl, {}, requests);
  const fullRps = await throughput(full, headers, requests);
  results.push({ name: 'HTTP: GET party, full stack vs bare Koa + same SELECTs', baseline: bareRps, measured: fullRps, unit: 'req/s', ratio: fullRps / bareRps, goal: '>= 0.8' });
  await new Promise((r) => bareServer.close(r));
  await close();
}

await hookDispatch();
await httpOverhead();

const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, database: usePostgres ? 'postgres' : 'pglite' };
console.log(`\nRapport benchmarks (${quick ? 'quick' : 'full'}, ${machine.database}, ${machine.cpus} cores)\n`);
console.log('| benchmark | baseline | measured | unit | ratio | goal |');
console.log('|---|---|---|---|---|---|');
for (const r of results) console.log(`| ${r.name} | ${r.baseline.toFixed(2)} | ${r.measured.toFixed(2)} | ${r.unit} | ${r.ratio.toFixed(2)} | ${r.goal} |`);
const out = path.join(here, 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.json`);
fs.writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), quick, machine, results }, null, 2));
console.log(`\nwritten ${path.relative(process.cwd(), out)}`);
