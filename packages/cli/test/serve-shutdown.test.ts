import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isolatedDatabase, keepAliveRequest, testDatabaseKind, type IsolatedDatabase, type KeepAliveOutcome } from '@rapport/testing';

/*
 * SIGTERM to a real `rapport serve` process, as an orchestrator sends it, while clients keep
 * their keep-alive connections busy. Runs the built CLI (`pnpm build`; the root `pnpm test`
 * builds first). The grace period is set short; the only bound on time is "it exits before
 * the grace period plus a generous margin" — a stop that never finishes is what fails.
 */
const workspace = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(workspace, 'packages/cli/dist/bin.js');
const KEY = 'rpk_serve-shutdown-test-admin-key';
const GRACE_MS = 4_000;
// The stop of the modules (dispatcher batch, jobs, plugins, database) comes on top of the
// grace period; on a loaded machine all of it can take a while. Still far below "never".
const MARGIN_MS = 45_000;

/*
 * A plugin whose route never answers: a request stuck in a handler must not hold the stop
 * past the grace period. Plain ESM in the config file, no imports.
 */
const CONFIG = (settings: Record<string, unknown>) => `
export default {
  ...${JSON.stringify(settings)},
  plugins: [
    {
      name: 'waiter',
      version: '1.0.0',
      description: 'A route that never answers (shutdown test)',
      setup(api) {
        // The line tells the test the request reached its handler.
        const handler = () => (process.stdout.write('{"msg":"waiter: in the handler"}\\n'), new Promise(() => {}));
        api.routes((r) => r.get('/forever', { summary: 'Never answers', permission: 'authenticated', handler }));
      },
    },
  ],
};
`;

class Server {
  output = '';
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  port!: number;
  private constructor(readonly child: ChildProcess) {
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(dir: string, env: Record<string, string>): Promise<Server> {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--host', '127.0.0.1'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new Server(child);
    child.stdout.on('data', (chunk: Buffer) => (server.output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (server.output += chunk.toString()));
    server.port = await new Promise<number>((resolve, reject) => {
      const poll = setInterval(() => {
        const match = /"port":(\d+)[^\n]*Rapport listening on/.exec(server.output);
        if (match) {
          clearInterval(poll);
          resolve(Number(match[1]));
        }
      }, 20);
      void server.exit.then(({ code }) => {
        clearInterval(poll);
        reject(new Error(`rapport serve exited (${code}) before listening:\n${server.output}`));
      });
    });
    return server;
  }

  /** Resolves once the process has written a log line whose message matches. */
  logged(message: RegExp): Promise<void> {
    return new Promise((resolve, reject) => {
      const poll = setInterval(() => {
        if (this.lines().some((line) => message.test(String(line.msg)))) {
          clearInterval(poll);
          resolve();
        } else if (this.child.exitCode !== null) {
          clearInterval(poll);
          reject(new Error(`exited without logging ${message}:\n${this.output.slice(-4000)}`));
        }
      }, 5);
    });
  }

  lines(): Array<Record<string, unknown>> {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

type Outcome = KeepAliveOutcome;
const request = (port: number, agent: http.Agent | false, path?: string): Promise<Outcome> => keepAliveRequest(port, { agent, token: KEY, path, idPrefix: 'shutdown-test' });

describe('rapport serve stops on SIGTERM under keep-alive load', { timeout: 300_000 }, () => {
  let tmp: string | undefined;
  let server: Server | undefined;
  let database: IsolatedDatabase | undefined;

  async function serve(): Promise<Server> {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm build\` first (the root \`pnpm test\` does)`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-serve-shutdown-'));
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', RAPPORT_BOOTSTRAP_KEY: KEY, LOG_LEVEL: 'info' };
    const settings: Record<string, unknown> = { tenantName: 'Stop Co', http: { shutdownGraceMs: GRACE_MS } };
    if (testDatabaseKind() === 'postgres') {
      // A fresh schema of its own.
      database = await isolatedDatabase('postgres');
      env.DATABASE_URL = database.config.url!;
      settings.database = { schema: database.config.schema };
    } else {
      // A new data directory is initialized at start, slowly on a loaded machine.
      settings.database = { dataDir: path.join(tmp, 'data'), pool: { acquireTimeoutMs: 240_000 } };
    }
    fs.writeFileSync(path.join(tmp, 'rapport.config.mjs'), CONFIG(settings));
    server = await Server.start(tmp, env);
    return server;
  }

  /** Sends SIGTERM and waits for the exit, failing if it takes longer than the grace period and the margin. */
  async function terminate(target: Server): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    target.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running ${GRACE_MS + MARGIN_MS} ms after SIGTERM:\n${target.output.slice(-4000)}`)), GRACE_MS + MARGIN_MS);
    });
    try {
      return await Promise.race([target.exit, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  afterEach(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exit;
    }
    server = undefined;
    await database?.dispose();
    database = undefined;
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  });

  it('answers what was sent, closes each connection after its answer, refuses new ones, logs stopped and exits 0', async () => {
    const target = await serve();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });

    // Six clients, each sending one request after another on its keep-alive connection.
    const outcomes: Array<{ outcome: Outcome; beforeSignal: boolean }> = [];
    let signalled = false;
    let done = false;
    const client = async () => {
      while (!done) {
        const beforeSignal = !signalled;
        const outcome = await request(target.port, agent);
        outcomes.push({ outcome, beforeSignal });
        // A refused connection means the server stopped listening: this client is done.
        if ('error' in outcome) return;
      }
    };
    const clients = Array.from({ length: 6 }, client);
    // Let the load run until each client has had answers on its connection.
    while (outcomes.length < 60) await new Promise((r) => setTimeout(r, 10));

    signalled = true;
    const { code, signal } = await terminate(target);
    done = true;
    await Promise.all(clients);
    agent.destroy();
    expect({ code, signal }).toEqual({ code: 0, signal: null });

    const answers = outcomes.map((o) => o.outcome).filter((o): o is Extract<Outcome, { status: number }> => 'status' in o);
    const failures = outcomes.filter((o) => 'error' in o.outcome).map((o) => ({ ...(o.outcome as { error: string }), beforeSignal: o.beforeSignal }));
    // Every request sent before the signal got an answer, none was reset; and every answer
    // is a whole, successful one.
    expect(failures.filter((f) => f.beforeSignal)).toEqual([]);
    expect(answers.length).toBeGreaterThanOrEqual(60);
    expect(answers.filter((a) => a.status !== 200 || !a.complete)).toEqual([]);
    // The answers the server finished after it began shutting down (its request log line comes
    // after the "shutting down" line: the drain begins in the same tick) close their
    // connection. The check is not vacuous: the clients kept sending, so some came late.
    const lines = target.lines();
    const shutdownAt = lines.findIndex((line) => /^shutting down/.test(String(line.msg)));
    expect(shutdownAt).toBeGreaterThan(0);
    const lateIds = new Set(
      lines
        .slice(shutdownAt)
        .filter((line) => line.msg === 'request')
        .map((line) => line.requestId),
    );
    const late = answers.filter((a) => lateIds.has(a.id));
    expect(late.length).toBeGreaterThan(0);
    expect(late.filter((a) => a.connection !== 'close')).toEqual([]);
    // Clients end by finding the server gone (refused), never by a reset.
    expect(failures.filter((f) => f.error !== 'ECONNREFUSED')).toEqual([]);
    // The port is closed: a new connection is refused.
    await expect(request(target.port, false)).resolves.toMatchObject({ error: 'ECONNREFUSED' });
    const messages = lines.map((line) => line.msg);
    expect(messages.slice(shutdownAt)).toContain('stopped');
    expect(messages.filter((m) => /gave up/.test(String(m)))).toEqual([]);
  });

  it('cuts a request that never finishes at the grace period, logs that it gave up, and still exits 0', async () => {
    const target = await serve();
    const stuck = request(target.port, false, '/api/v1/waiter/forever');
    await target.logged(/^waiter: in the handler/);

    const { code, signal } = await terminate(target);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // The stuck request was cut, not answered.
    expect(await stuck).toMatchObject({ error: 'ECONNRESET' });
    const lines = target.lines();
    const gaveUp = lines.find((line) => /gave up/.test(String(line.msg)));
    expect(gaveUp).toMatchObject({ connections: 1 });
    expect(lines.map((line) => line.msg)).toContain('stopped');
    // It gave up before it stopped.
    expect(lines.indexOf(gaveUp!)).toBeLessThan(lines.findIndex((line) => line.msg === 'stopped'));
  });
});
