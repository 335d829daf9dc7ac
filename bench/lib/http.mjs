// 1. HTTP overhead, as ratios of requests/s measured side by side in interleaved rounds:
//  a. GET /api/v1/parties/:id through the whole stack (auth, permission, record scope,
//     validation, hooks, JSON, metrics, request log) vs bare Koa + the database driver
//     running the very SELECTs the stack ran to read that party (captured, not guessed).
//  b. A trivial authenticated route through the whole stack with every first-party
//     plugin loaded vs plain Koa + @koa/router with one route.
import { loadGenerator } from './children.mjs';
import { benchLimits, databaseUrl, interleave, loadCore, loadFirstPartyPlugins, median, pairedRatio, pgSchema, requireCore } from './common.mjs';

const Koa = requireCore('koa');
const Router = requireCore('@koa/router');
const { z } = requireCore('zod');

async function openApp(core, db, plugins) {
  if (db === 'postgres') {
    const pg = await pgSchema('http');
    const app = await core.createRapport({ database: { url: databaseUrl, schema: pg.schema }, plugins, logLevel: 'silent', dispatcher: { enabled: false }, limits: benchLimits });
    const driver = new (requireCore('pg').Pool)({ connectionString: databaseUrl, max: 10, options: `-c search_path="${pg.schema}",public` });
    return {
      app,
      query: async (sql, params) => (await driver.query(sql, params)).rows,
      close: async () => {
        await app.close();
        await driver.end();
        await pg.drop();
      },
    };
  }
  const { PGlite } = await import(requireCore.resolve('@electric-sql/pglite'));
  const pglite = await PGlite.create({ extensions: core.PGLITE_EXTENSIONS });
  const app = await core.createRapport({ database: { pglite }, plugins, logLevel: 'silent', dispatcher: { enabled: false }, limits: benchLimits });
  return {
    app,
    query: async (sql, params) => (await pglite.query(sql, params)).rows,
    close: async () => {
      await app.close();
      await pglite.close().catch(() => undefined);
    },
  };
}

async function listen(koa) {
  const server = koa.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((r) => {
        server.close(r);
        server.closeAllConnections?.();
      }),
  };
}

/** Knex's `?` placeholders to the driver's `$n`. */
function positional(sql) {
  if (/\$\d/.test(sql)) return sql;
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function pingPlugin(core) {
  return core.definePlugin({
    name: 'benchping',
    version: '1.0.0',
    setup(api) {
      api.permissions.define({ key: 'benchping.ping:read' });
      api.routes((r) => {
        r.get('/ping', { summary: 'Answers pong', permission: 'benchping.ping:read', response: z.object({ pong: z.boolean() }), handler: () => ({ pong: true }) });
      });
    },
  });
}

export async function httpBenchmarks({ quick, db }) {
  const core = await loadCore();
  // Rounds of about a second each (GET party runs at 1-4k req/s, the trivial route at
  // 10-25k): shorter rounds measured scheduler noise more than the stack.
  const requests = quick ? 300 : 2_500;
  const trivialRequests = quick ? 600 : 15_000;
  const rounds = quick ? 2 : 9;
  const concurrency = 8;
  const loader = loadGenerator();
  const results = [];
  try {
    // a. GET a party.
    {
      const sut = await openApp(core, db, []);
      const { app } = sut;
      const party = await app.transaction((uow) => app.services.parties.create(uow, { kind: 'organization', name: 'Bench Ltd', contactPoints: [{ kind: 'domain', value: 'bench.example' }] }));
      const key = await core.createApiKey(app.knex, app.defaultTenant.id, { name: 'bench', roles: ['admin'] });
      const server = await app.listen(0, '127.0.0.1');
      const full = { url: `http://127.0.0.1:${server.address().port}/api/v1/parties/${party.id}`, headers: { authorization: `Bearer ${key.token}` } };

      // The SELECTs the stack runs to read the party, captured from a real request.
      const seen = [];
      const onQuery = (q) => seen.push({ sql: q.sql, bindings: q.bindings ?? [] });
      app.knex.on('query', onQuery);
      const probe = await fetch(full.url, { headers: full.headers });
      if (probe.status !== 200) throw new Error(`GET party answered ${probe.status}`);
      await probe.arrayBuffer();
      // Prime the principal cache (if any), then capture the steady-state request.
      seen.length = 0;
      await (await fetch(full.url, { headers: full.headers })).arrayBuffer();
      app.knex.off('query', onQuery);
      const readParty = seen.filter((q) => /rapport_parties|rapport_contact_points/.test(q.sql) && !/rapport_api_keys|rapport_roles|rapport_sessions/.test(q.sql));
      const authQueries = seen.length - readParty.length;

      const bare = new Koa();
      bare.use(async (ctx) => {
        const out = [];
        for (const q of readParty) out.push(await sut.query(positional(q.sql), q.bindings));
        ctx.body = { ...out[0]?.[0], contactPoints: out[1] ?? [] };
      });
      const bareServer = await listen(bare);
      const bareTarget = { url: `${bareServer.url}/` };

      const measured = await interleave(
        {
          bare: async () => (await check(await loader.load(bareTarget, requests, concurrency))).rps,
          full: async () => (await check(await loader.load(full, requests, concurrency))).rps,
        },
        { rounds, warmup: 1 },
      );
      results.push({
        name: 'HTTP: GET party, full stack vs bare Koa + same SELECTs',
        db,
        baseline: median(measured.bare),
        measured: median(measured.full),
        unit: 'req/s',
        ratio: pairedRatio(measured.full, measured.bare),
        goal: '>= 0.9',
        detail: { rounds: measured, requestsPerRound: requests, concurrency, selects: readParty.map((q) => q.sql), otherQueriesPerRequest: authQueries },
      });
      await bareServer.close();
      await sut.close();
    }
    // b. A trivial route with every first-party plugin loaded.
    {
      const plugins = await loadFirstPartyPlugins();
      const sut = await openApp(core, db, [...plugins, pingPlugin(core)]);
      const { app } = sut;
      const key = await core.createApiKey(app.knex, app.defaultTenant.id, { name: 'bench', roles: ['admin'] });
      const server = await app.listen(0, '127.0.0.1');
      const full = { url: `http://127.0.0.1:${server.address().port}/api/v1/benchping/ping`, headers: { authorization: `Bearer ${key.token}` } };
      const plain = new Koa();
      const router = new Router();
      router.get('/api/v1/benchping/ping', (ctx) => {
        ctx.body = { pong: true };
      });
      plain.use(router.routes()).use(router.allowedMethods());
      const plainServer = await listen(plain);
      const plainTarget = { url: `${plainServer.url}/api/v1/benchping/ping` };
      const measured = await interleave(
        {
          plain: async () => (await check(await loader.load(plainTarget, trivialRequests, concurrency))).rps,
          full: async () => (await check(await loader.load(full, trivialRequests, concurrency))).rps,
        },
        { rounds, warmup: 1 },
      );
      results.push({
        name: `HTTP: trivial route, full stack + ${plugins.map((p) => p.name).join('/')} vs Koa + @koa/router`,
        db,
        baseline: median(measured.plain),
        measured: median(measured.full),
        unit: 'req/s',
        ratio: pairedRatio(measured.full, measured.plain),
        goal: '>= 0.95',
        detail: { rounds: measured, requestsPerRound: trivialRequests, concurrency },
      });
      await plainServer.close();
      await sut.close();
    }
  } finally {
    await loader.close();
  }
  return results;
}

function check(result) {
  if (result.errors) throw new Error(`load run had ${result.errors} failed requests: ${result.firstError}`);
  return result;
}
