// Child processes that answer jobs over IPC: the load generator and benchmark workers.
import { fork } from 'node:child_process';
import path from 'node:path';
import { benchDir } from './common.mjs';

/** Forks `script` (relative to bench/lib) and returns { call(job) → reply, close() }. */
export function child(script, args = [], env = {}) {
  const proc = fork(path.join(benchDir, 'lib', script), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let seq = 0;
  const waiting = new Map();
  proc.on('message', (msg) => {
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    if (msg.error) w.reject(new Error(`${script}: ${msg.error}`));
    else w.resolve(msg);
  });
  proc.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`${script} exited with ${code}`));
    waiting.clear();
  });
  return {
    proc,
    call(job) {
      const id = ++seq;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        proc.send({ ...job, id });
      });
    },
    async close() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** The load generator in its own process. */
export function loadGenerator() {
  const c = child('load.mjs');
  return {
    load: (targets, requests, concurrency = 8, sequential = false) => c.call({ targets: Array.isArray(targets) ? targets : [targets], requests, concurrency, sequential }),
    close: c.close,
  };
}
