// 11. Against a peer, measured (opt-in: `--only=peers`, never in the default or quick set).
// Directus 11.3.5, the peer issue 20's "five times the peers" names, is installed from npm
// into a cache outside the repository, bootstrapped on the same PostgreSQL in a database of
// its own, given `contacts` and `interactions` collections through its API and the data
// shape of the workload suite's 10k step (10k contacts, ten interactions each) by SQL. The
// same six workloads run through its REST API with the same load generator as Rapport's
// (workload.mjs at 10k parties), each workload on one system right after the other, which
// goes first alternating: each row is Rapport ÷ Directus, goal ≥ 5.
import { spawn, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadGenerator } from './children.mjs';
import { databaseUrl, requireCore, sleep } from './common.mjs';
import { workloadBenchmarks } from './workload.mjs';

const DIRECTUS = '11.3.5';
const CONNECTIONS = 16;
const SIZE = 10_000;
const INTERACTIONS_PER_CONTACT = 10;
const WORDS = ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Wonka'];
const DEEP_OFFSET = 10_000;
const DEEP_PAGE_SIZE = 20;
const ADMIN = { email: 'bench@example.com', password: 'bench-password-not-secret' };

export async function peerBenchmarks({ quick }) {
  const requests = Number(process.env.BENCH_WORKLOAD_REQUESTS ?? (quick ? 200 : 3_000));
  const dir = process.env.BENCH_PEERS_DIR ?? path.join(os.homedir(), '.cache', 'rapport-bench', `directus-${DIRECTUS}`);
  const bin = await installDirectus(dir);

  // Both systems seeded and up, then each workload measured on one right after the other,
  // which goes first alternating: a load that drifts during the run (a shared machine) weighs
  // on both sides of a ratio alike, not on one side's minutes only.
  const peer = await startDirectus(bin, dir);
  const directus = [];
  let rapport;
  try {
    let turn = 0;
    rapport = await workloadBenchmarks({
      quick,
      sizes: [SIZE],
      requests,
      alongside: async (key, measureRapport) => {
        if (turn++ % 2 === 0) {
          directus.push(await peer.measure(key, requests));
          await measureRapport();
        } else {
          await measureRapport();
          directus.push(await peer.measure(key, requests));
        }
      },
    });
  } finally {
    await peer.close();
  }

  return directus.map((d) => {
    const r = rapport.find((row) => row.detail.workload === d.key);
    const ratio = r.measured / d.rps;
    return {
      name: `peers: ${d.name}, Rapport ÷ Directus ${DIRECTUS}, ${SIZE.toLocaleString('en-US')} contacts`,
      db: 'postgres',
      baseline: d.rps,
      measured: r.measured,
      unit: 'req/s',
      ratio,
      goal: '>= 5',
      note: `Directus p50 ${d.p50.toFixed(1)} / p99 ${d.p99.toFixed(1)} ms (load ${d.loadBefore.toFixed(2)}), Rapport p50 ${r.detail.p50.toFixed(1)} / p99 ${r.detail.p99.toFixed(1)} ms (load ${r.detail.loadBefore.toFixed(2)})`,
      detail: {
        workload: d.key,
        contacts: SIZE,
        interactions: SIZE * INTERACTIONS_PER_CONTACT,
        connections: CONNECTIONS,
        requests,
        directus: { version: DIRECTUS, request: d.request, rps: d.rps, p50: d.p50, p99: d.p99, loadBefore: d.loadBefore, loadAverage: d.loadAverage, seedSeconds: d.seedSeconds },
        rapport: { request: r.name, rps: r.measured, p50: r.detail.p50, p99: r.detail.p99, loadBefore: r.detail.loadBefore, loadAverage: r.detail.loadAverage },
        targetRps: 5 * d.rps,
      },
    };
  });
}

/**
 * npm into the cache directory, once (about 470 MB). Only the npm registry is reachable
 * here: the prebuilt binaries that isolated-vm and sqlite3 try to fetch at install fail to
 * download, and both fall back to compiling with node-gyp (g++, make, python3 and Node's
 * headers, which this machine has); argon2 and sharp ship theirs inside npm packages.
 */
async function installDirectus(dir) {
  const bin = path.join(dir, 'node_modules', 'directus', 'cli.js');
  const installed = path.join(dir, 'node_modules', 'directus', 'package.json');
  if (fs.existsSync(installed) && JSON.parse(fs.readFileSync(installed, 'utf8')).version === DIRECTUS) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const pkg = path.join(dir, 'package.json');
  if (!fs.existsSync(pkg)) fs.writeFileSync(pkg, JSON.stringify({ name: 'rapport-bench-directus', private: true }));
  process.stderr.write(`\nbench: installing directus@${DIRECTUS} into ${dir} (once)…`);
  await promisify(execFile)('npm', ['install', `directus@${DIRECTUS}`, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    maxBuffer: 64 * 2 ** 20,
  });
  return bin;
}

/** Directus installed, bootstrapped, seeded and serving: `measure(key, requests)` runs one workload on it, `close()` stops it and drops its database. */
async function startDirectus(bin, dir) {
  const knexFactory = requireCore('knex');
  const database = `bench_directus_${process.pid}`;
  const serverUrl = new URL(databaseUrl);
  const adminUrl = new URL(serverUrl);
  adminUrl.pathname = '/postgres';
  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${database}`;
  const admin = knexFactory({ client: 'pg', connection: adminUrl.href, pool: { min: 0, max: 1 } });
  await admin.raw(`drop database if exists "${database}"`);
  await admin.raw(`create database "${database}"`);
  const port = await freePort();
  const token = crypto.randomBytes(24).toString('hex');
  const env = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DB_CLIENT: 'pg',
    DB_CONNECTION_STRING: dbUrl.href,
    // The same pool as Rapport's side (workload.mjs: pool max 16, one per connection).
    DB_POOL__MIN: '0',
    DB_POOL__MAX: String(CONNECTIONS),
    KEY: crypto.randomUUID(),
    SECRET: crypto.randomBytes(32).toString('hex'),
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    ADMIN_TOKEN: token,
    // As Rapport's side runs: no request log, no cache, no rate limiter; nothing leaves the machine.
    LOG_LEVEL: 'error',
    CACHE_ENABLED: 'false',
    RATE_LIMITER_ENABLED: 'false',
    // Its load shedding answers 503 once the event loop lags (as it does on a loaded 2-core
    // machine); Rapport has none, so both sides are measured serving every request.
    PRESSURE_LIMITER_ENABLED: 'false',
    TELEMETRY: 'false',
    WEBSOCKETS_ENABLED: 'false',
    EXTENSIONS_PATH: path.join(dir, 'extensions'),
    STORAGE_LOCAL_ROOT: path.join(dir, 'uploads'),
    NODE_ENV: 'production',
  };
  let server;
  const db = knexFactory({ client: 'pg', connection: dbUrl.href, pool: { min: 0, max: 2 } });
  const loader = loadGenerator();
  const close = async () => {
    await loader.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    await db.destroy();
    await admin.raw(`drop database if exists "${database}" with (force)`);
    await admin.destroy();
  };
  try {
    await run(process.execPath, [bin, 'bootstrap'], { cwd: dir, env });
    server = spawn(process.execPath, [bin, 'start'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    server.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/server/ping`, server, () => stderr);
    const headers = { authorization: `Bearer ${token}` };
    const api = async (method, p, body) => {
      const res = await fetch(`${base}${p}`, { method, headers: { ...headers, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
      const text = await res.text();
      if (!res.ok) throw new Error(`Directus ${method} ${p} answered ${res.status}: ${text.slice(0, 500)}`);
      return text ? JSON.parse(text) : undefined;
    };
    await createCollections(api);

    const seedStarted = Date.now();
    // The same shape as workload.mjs' 10k step: a third organisations, names a word and an
    // md5, ten interactions for each contact at spread times, a quarter of them calls.
    await db.raw(
      `insert into contacts (id, kind, name, email, date_created, date_updated)
       select gen_random_uuid(), case when g % 3 = 0 then 'organization' else 'person' end,
              (?::text[])[1 + g % 8] || ' ' || md5(g::text), 'contact' || g || '@example.com', now(), null
       from generate_series(1, ?::int) g`,
      [WORDS, SIZE],
    );
    await db.raw(
      `insert into interactions (id, contact, occurred_at, type, subject)
       select gen_random_uuid(), c.id, timestamptz '2026-01-01T00:00:00Z' - (random() * 3e7) * interval '1 second',
              case when k % 4 = 0 then 'crm.call' else 'crm.note' end, 'Note ' || k
       from contacts c, generate_series(1, ?::int) k`,
      [INTERACTIONS_PER_CONTACT],
    );
    // What a careful Directus user adds for these reads: the list's sort, the timeline's
    // filter and order, and the tenant-wide list's order (Rapport's kernel has all three).
    await db.raw('create index contacts_name on contacts (name)');
    await db.raw('create index interactions_contact_occurred_at on interactions (contact, occurred_at desc)');
    await db.raw('create index interactions_occurred_at on interactions (occurred_at desc, id desc)');
    await db.raw('analyze contacts');
    await db.raw('analyze interactions');
    const seedSeconds = (Date.now() - seedStarted) / 1000;

    const sample = async (sql, n) => (await db.raw(sql, [n])).rows.map((r) => r.id);
    const someContacts = await sample('select id from contacts order by random() limit ?', 500);
    const timelineContacts = await sample('select distinct contact as id from interactions limit ?', 500);
    // Enough never-updated contacts for the largest run a caller may ask for.
    const fresh = await sample('select id from contacts where date_updated is null order by random() limit ?', SIZE);

    const url = (p) => `${base}${p}`;
    const workloads = [
      { key: 'get', name: 'GET a contact by id', request: 'GET /items/contacts/:id', targets: someContacts.map((id) => ({ url: url(`/items/contacts/${id}`), headers })) },
      {
        key: 'list',
        name: 'filtered list sorted by name (page of 50)',
        request: 'GET /items/contacts?filter[kind][_eq]=person&filter[name][_starts_with]=…&sort=name&limit=50',
        targets: WORDS.map((w) => ({ url: url(`/items/contacts?filter[kind][_eq]=person&filter[name][_starts_with]=${w}&sort=name&limit=50`), headers })),
      },
      {
        key: 'timeline',
        name: "a contact's newest 20 interactions",
        request: 'GET /items/interactions?filter[contact][_eq]=:id&sort=-occurred_at&limit=20',
        targets: timelineContacts.map((id) => ({ url: url(`/items/interactions?filter[contact][_eq]=${id}&sort=-occurred_at&limit=20`), headers })),
      },
      {
        key: 'deep',
        name: `a page ${DEEP_OFFSET / DEEP_PAGE_SIZE} deep of all interactions (20 a page)`,
        request: `GET /items/interactions?sort=-occurred_at,-id&limit=${DEEP_PAGE_SIZE}&offset=${DEEP_OFFSET}`,
        targets: [{ url: url(`/items/interactions?sort=-occurred_at,-id&limit=${DEEP_PAGE_SIZE}&offset=${DEEP_OFFSET}`), headers }],
      },
      {
        key: 'create',
        name: 'create a contact',
        request: 'POST /items/contacts',
        targets: WORDS.map((w, i) => ({ url: url('/items/contacts'), method: 'POST', headers, body: { kind: 'person', name: `${w} Created ${i}` } })),
      },
      {
        key: 'update',
        name: 'update a contact (Directus: PATCH without If-Match, which it has not)',
        request: 'PATCH /items/contacts/:id',
        sequential: true,
        targets: (from, count) => fresh.slice(from, from + count).map((id) => ({ url: url(`/items/contacts/${id}`), method: 'PATCH', headers, body: { name: 'Renamed Party' } })),
      },
    ];
    // Each read answers what it should (a wrong filter would be fast and empty).
    const expect = { get: 1, list: 50, timeline: INTERACTIONS_PER_CONTACT, deep: DEEP_PAGE_SIZE };
    for (const w of workloads.filter((x) => expect[x.key])) {
      const body = await (await fetch(w.targets[0].url, { headers })).json();
      const count = Array.isArray(body.data) ? body.data.length : body.data?.id ? 1 : 0;
      if (count !== expect[w.key]) throw new Error(`Directus ${w.request} answered ${count} items, not ${expect[w.key]}`);
    }
    const measure = async (key, requests) => {
      const w = workloads.find((x) => x.key === key);
      if (!w) throw new Error(`peers: no Directus workload "${key}"`);
      // The same warm-up as workload.mjs (the update's on other contacts), then the measured run.
      const warm = Math.max(50, Math.round(requests / 10));
      const targets = (from) => (typeof w.targets === 'function' ? w.targets(from, requests) : w.targets);
      check(await loader.load(w.sequential ? targets(requests).slice(0, warm) : targets(0), warm, CONNECTIONS, w.sequential), w.name);
      const loadBefore = os.loadavg()[0];
      const r = check(await loader.load(targets(0), requests, CONNECTIONS, w.sequential), w.name);
      return { key: w.key, name: w.name, request: w.request, rps: r.rps, p50: r.p50, p99: r.p99, loadBefore, loadAverage: os.loadavg(), seedSeconds };
    };
    return { measure, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Through Directus' own API, as its users model data: two collections and their m2o. */
async function createCollections(api) {
  const id = { field: 'id', type: 'uuid', meta: { hidden: true, readonly: true, interface: 'input', special: ['uuid'] }, schema: { is_primary_key: true, length: 36, has_auto_increment: false } };
  const string = (field, required) => ({ field, type: 'string', meta: { interface: 'input', required }, schema: { is_nullable: !required } });
  await api('POST', '/collections', {
    collection: 'contacts',
    meta: { icon: 'person' },
    schema: {},
    fields: [
      id,
      string('kind', true),
      string('name', true),
      string('email', false),
      { field: 'date_created', type: 'timestamp', meta: { special: ['date-created'], readonly: true, hidden: true }, schema: {} },
      { field: 'date_updated', type: 'timestamp', meta: { special: ['date-updated'], readonly: true, hidden: true }, schema: {} },
    ],
  });
  await api('POST', '/collections', {
    collection: 'interactions',
    meta: { icon: 'forum' },
    schema: {},
    fields: [
      id,
      { field: 'contact', type: 'uuid', meta: { special: ['m2o'], interface: 'select-dropdown-m2o' }, schema: { is_nullable: false } },
      { field: 'occurred_at', type: 'timestamp', meta: { interface: 'datetime' }, schema: { is_nullable: false } },
      string('type', true),
      string('subject', false),
    ],
  });
  await api('POST', '/relations', { collection: 'interactions', field: 'contact', related_collection: 'contacts', schema: { on_delete: 'CASCADE' } });
}

function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output = (output + d).slice(-4000)));
    child.stderr.on('data', (d) => (output = (output + d).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`directus ${args.slice(1).join(' ')} exited with ${code}: ${output}`))));
  });
}

async function waitFor(url, server, stderr) {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`directus start exited with ${server.exitCode}: ${stderr()}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`directus did not answer ${url} within 180 s: ${stderr()}`);
}

async function freePort() {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function check(result, name) {
  if (result.errors) throw new Error(`Directus ${name}: ${result.errors} failed requests: ${result.firstError}`);
  return result;
}
