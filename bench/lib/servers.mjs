// `rapport serve` processes for the start-up and scale-out benchmarks.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { cliBin, now, pluginPaths, sleep, benchLimits } from './common.mjs';

export const BENCH_KEY = 'rpk_bench_bootstrap_key_0123456789abcdef';

export async function freePort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** A config file with every first-party plugin (by path) and `database`. */
export function writeConfig(dir, database, extra = {}) {
  const file = path.join(dir, 'rapport.config.mjs');
  fs.writeFileSync(file, `export default ${JSON.stringify({ database, plugins: pluginPaths(), logLevel: 'warn', limits: benchLimits, ...extra }, null, 2)};\n`);
  return file;
}

/**
 * Starts `rapport serve` and resolves once `probe` (a path) answers 200, with the time
 * from spawn to that first answer.
 */
/** A fixed 32-byte key (hex): benchmarks need a key, not a secret one. */
const BENCH_SECRET_KEY = 'b'.repeat(64);

export async function startServer({ config, cwd, env = {}, nodeArgs = [], probe = '/api/v1/parties?limit=1', timeoutMs = 120_000 }) {
  const port = await freePort();
  const started = now();
  const proc = spawn(process.execPath, [...nodeArgs, cliBin, '--config', config, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    cwd,
    // The secret key seals webhook signing secrets; PostgreSQL refuses webhooks without one.
    env: { ...process.env, RAPPORT_BOOTSTRAP_KEY: BENCH_KEY, RAPPORT_SECRET_KEY: BENCH_SECRET_KEY, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`rapport serve exited with ${proc.exitCode}: ${stderr.slice(-2000)}`);
    if (now() - started > timeoutMs) throw new Error(`rapport serve did not answer within ${timeoutMs} ms: ${stderr.slice(-2000)}`);
    try {
      const res = await fetch(url + probe, { headers: { authorization: `Bearer ${BENCH_KEY}` } });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
  const firstAnswerMs = now() - started;
  return {
    url,
    proc,
    firstAnswerMs,
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
