import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKey, createRapport, type Rapport } from '@rapport/core';
import { isolatedDatabase, type IsolatedDatabase } from '@rapport/testing';

/*
 * A graceful stop under keep-alive load: clients keep sending on their open connections
 * while the server stops. Every request that got an answer got a whole one; answers after
 * the stop began close their connection; nothing hangs; the stop completes and the kernel's
 * background work stops after the connections are gone.
 */
describe('graceful stop under keep-alive load', () => {
  let database: IsolatedDatabase | undefined;
  afterAll(() => database?.dispose());

  it('answers what arrives with Connection: close, closes every connection, then stops', { timeout: 120_000 }, async () => {
    database = await isolatedDatabase();
    const app: Rapport = await createRapport({ database: database.config, logLevel: 'silent', tenantName: 'Stop Co', http: { shutdownGraceMs: 5_000 }, scheduler: { enabled: false } });
    const server = await app.listen(0, '127.0.0.1');
    const port = (server.address() as AddressInfo).port;
    const { token } = await createApiKey(app.knex, app.defaultTenant.id, { name: 'load', roles: ['admin'] });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });

    type Outcome = { status: number; connection: string | undefined; complete: boolean } | { error: string };
    const request = () =>
      new Promise<Outcome>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/parties?limit=5', agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => {
            let complete: boolean;
            try {
              complete = Array.isArray((JSON.parse(body) as { data?: unknown }).data);
            } catch {
              complete = false;
            }
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, complete });
          });
          res.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
        });
        req.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
      });

    // Six clients, each sending one request after another on its keep-alive connection.
    const outcomes: Array<{ outcome: Outcome; afterStop: boolean }> = [];
    let stopping = false;
    let stopped = false;
    const client = async () => {
      while (!stopped) {
        const afterStop = stopping;
        const outcome = await request();
        outcomes.push({ outcome, afterStop });
        // A refused connection means the server stopped listening: this client is done.
        if ('error' in outcome) return;
      }
    };
    const clients = Array.from({ length: 6 }, client);
    // Let the load run until each client has had answers on its connection.
    while (outcomes.length < 60) await new Promise((r) => setTimeout(r, 10));

    stopping = true;
    await app.close();
    stopped = true;
    await Promise.all(clients);
    agent.destroy();

    const answered = outcomes.filter((o) => !('error' in o.outcome)).map((o) => ({ ...(o.outcome as { status: number; connection?: string; complete: boolean }), afterStop: o.afterStop }));
    const failed = outcomes.filter((o) => 'error' in o.outcome).map((o) => (o.outcome as { error: string }).error);
    expect(answered.length).toBeGreaterThanOrEqual(60);
    // Every answer is a whole, successful one: no request was cut off in the middle.
    expect(answered.filter((a) => a.status !== 200 || !a.complete)).toEqual([]);
    // After the stop began, answers close their connection (a keep-alive client moves on).
    const late = answered.filter((a) => a.afterStop);
    for (const answer of late) expect(answer.connection).toBe('close');
    // The clients end by finding the server gone (refused), never by a reset of a request they sent.
    expect(failed.filter((code) => code !== 'ECONNREFUSED')).toEqual([]);
    // The server is closed: a new connection is refused.
    await expect(request()).resolves.toMatchObject({ error: 'ECONNREFUSED' });
    // And the background work stopped with it.
    expect(app.dispatcher.isRunning).toBe(false);
  });
});
