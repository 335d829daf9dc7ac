// A small closed-loop HTTP load generator, run as a child process so it does not share
// the event loop (or the core) of the server it measures. Keep-alive connections, fixed
// concurrency; answers every job with requests/s and latency percentiles.
// Messages in: { id, targets: [{ url, method?, headers?, body? }], requests, concurrency }
// (targets are spread over the connections round-robin; `sequential`: request i takes target
// i, so no two requests share one, e.g. an If-Match update each). Out: { id, rps, p50, p99, errors }.
import http from 'node:http';

function request(agent, target) {
  return new Promise((resolve, reject) => {
    const url = new URL(target.url);
    const body = target.body === undefined ? undefined : Buffer.from(typeof target.body === 'string' ? target.body : JSON.stringify(target.body));
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: target.method ?? 'GET',
        headers: { ...(target.headers ?? {}), ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}) },
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run({ targets, requests, concurrency, sequential }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  let next = 0;
  let errors = 0;
  let firstError;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < requests) {
        const i = next++;
        const target = sequential ? targets[i % targets.length] : targets[(i + worker) % targets.length];
        const t0 = process.hrtime.bigint();
        try {
          const status = await request(agent, typeof target === 'function' ? target(i) : target);
          if (status >= 400) {
            errors++;
            firstError ??= `${target.method ?? 'GET'} ${target.url} answered ${status}`;
          }
        } catch (error) {
          errors++;
          firstError ??= error.message;
        }
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rps: requests / seconds, p50: at(0.5), p99: at(0.99), errors, firstError };
}

process.on('message', async (job) => {
  try {
    process.send({ id: job.id, ...(await run(job)) });
  } catch (error) {
    process.send({ id: job.id, error: error.message });
  }
});
