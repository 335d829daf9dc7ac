#!/usr/bin/env node
// What the full HTTP stack costs a request over Koa + @koa/router, in microseconds of this
// process's time (it runs nothing else), with no sockets: each request is a real http.IncomingMessage/ServerResponse
// pair on a socket that discards what is written (one keep-alive "connection"), handed to
// each Koa callback in turn. Steadier than requests/s on a shared machine; use it to judge a
// change to the request path, then confirm with `pnpm bench --only=http`.
//
//   node bench/tools/stack-cost.mjs [--postgres] [--profile=file.cpuprofile]
import http from 'node:http';
import fs from 'node:fs';
import { Duplex } from 'node:stream';
import { benchLimits, databaseUrl, loadCore, loadFirstPartyPlugins, median, pgSchema, requireCore } from '../lib/common.mjs';

const Koa = requireCore('koa');
const Router = requireCore('@koa/router');
const { z } = requireCore('zod');
const args = process.argv.slice(2);
const profileTo = args.find((a) => a.startsWith('--profile='))?.slice('--profile='.length);

class NullSocket extends Duplex {
  remoteAddress = '127.0.0.1';
  _read() {}
  _write(_chunk, _encoding, done) {
    done();
  }
}
const socket = new NullSocket();

/** One request through `callback`; resolves with the status once the response finished. */
function send(callback, { method = 'GET', url, headers = {} }) {
  return new Promise((resolve, reject) => {
    const req = new http.IncomingMessage(socket);
    Object.assign(req, { method, url, headers, httpVersion: '1.1', httpVersionMajor: 1, httpVersionMinor: 1 });
    req.push(null);
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = true;
    res.assignSocket(socket);
    res.on('finish', () => {
      res.detachSocket(socket);
      resolve(res.statusCode);
    });
    res.on('error', reject);
    callback(req, res);
  });
}

const core = await loadCore();
const ping = core.definePlugin({
  name: 'benchping',
  version: '1.0.0',
  setup(api) {
    api.permissions.define({ key: 'benchping.ping:read' });
    api.routes((r) => r.get('/ping', { summary: 'Answers pong', permission: 'benchping.ping:read', response: z.object({ pong: z.boolean() }), handler: () => ({ pong: true }) }));
  },
});
const plugins = [...(await loadFirstPartyPlugins()), ping];
const schema = args.includes('--postgres') ? await pgSchema('stackcost') : undefined;
const app = await core.createRapport({
  database: schema ? { url: databaseUrl, schema: schema.schema } : { dataDir: 'memory://' },
  plugins,
  logLevel: 'silent',
  dispatcher: { enabled: false },
  // `--no-limits` measures the stack without the per-request limits, to see what they cost.
  limits: args.includes('--no-limits') ? { enabled: false } : benchLimits,
});
const key = await core.createApiKey(app.knex, app.defaultTenant.id, { name: 'bench', roles: ['admin'] });
const plainKoa = new Koa();
const router = new Router();
router.get('/api/v1/benchping/ping', (ctx) => {
  ctx.body = { pong: true };
});
plainKoa.use(router.routes()).use(router.allowedMethods());
const request = { url: '/api/v1/benchping/ping', headers: { authorization: `Bearer ${key.token}` } };
const callbacks = { plain: plainKoa.callback(), full: app.callback() };
if ((await send(callbacks.full, request)) !== 200) throw new Error('the full stack did not answer 200');

async function round(callback, n) {
  const started = performance.now();
  for (let i = 0; i < n; i++) await send(callback, request);
  return ((performance.now() - started) * 1000) / n;
}

const perRound = 30_000;
const results = { plain: [], full: [] };
for (let r = 0; r < 9; r++) {
  for (const name of r % 2 ? ['full', 'plain'] : ['plain', 'full']) {
    const cost = await round(callbacks[name], perRound);
    if (r > 0) results[name].push(cost);
  }
}
const plain = median(results.plain);
const full = median(results.full);
console.log(`A request: Koa + @koa/router ${plain.toFixed(2)} µs, full stack ${full.toFixed(2)} µs, difference ${(full - plain).toFixed(2)} µs`);

if (profileTo) {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 20 });
  await session.post('Profiler.start');
  await round(callbacks.full, 100_000);
  const { profile } = await session.post('Profiler.stop');
  fs.writeFileSync(profileTo, JSON.stringify(profile));
  console.log(`profile of 100,000 full-stack requests written to ${profileTo}`);
}
await app.close();
await schema?.drop();
