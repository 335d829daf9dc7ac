import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKey, createRapport, type Rapport } from '@rapport/core';
import { isolatedDatabase, keepAliveRequest, type IsolatedDatabase, type KeepAliveOutcome } from '@rapport/testing';

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
    // The request log, in the order the server wrote it: a line after the stop began is an
    // answer finished after it.
    const logged: Array<{ msg?: string; requestId?: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as { msg?: string; requestId?: string }) });
    const app: Rapport = await createRapport({ database: database.config, logger, tenantName: 'Stop Co', http: { shutdownGraceMs: 5_000 }, scheduler: { enabled: false } });
    const server = await app.listen(0, '127.0.0.1');
    const port = (server.address() as AddressInfo).port;
    const { token } = await createApiKey(app.knex, app.defaultTenant.id, { name: 'load', roles: ['admin'] });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });

    type Outcome = KeepAliveOutcome;
    const request = () => keepAliveRequest(port, { agent, token, idPrefix: 'stop' });

    // Six clients, each sending one request after another on its keep-alive connection.
    const outcomes: Outcome[] = [];
    let stopped = false;
    const client = async () => {
      while (!stopped) {
        const outcome = await request();
        outcomes.push(outcome);
        // A refused connection means the server stopped listening: this client is done.
        if ('error' in outcome) return;
      }
    };
    const clients = Array.from({ length: 6 }, client);
    // Let the load run until each client has had answers on its connection.
    while (outcomes.length < 60) await new Promise((r) => setTimeout(r, 10));

    // app.close() begins the drain in this same tick.
    const stopBeganAt = logged.length;
    await app.close();
    stopped = true;
    await Promise.all(clients);
    agent.destroy();

    const answered = outcomes.filter((o): o is Extract<Outcome, { status: number }> => 'status' in o);
    const failed = outcomes.filter((o): o is Extract<Outcome, { error: string }> => 'error' in o).map((o) => o.error);
    expect(answered.length).toBeGreaterThanOrEqual(60);
    // Every answer is a whole, successful one: no request was cut off in the middle.
    expect(answered.filter((a) => a.status !== 200 || !a.complete)).toEqual([]);
    // Answers finished after the stop began (those in flight then, and those sent after it)
    // close their connection, so a keep-alive client moves on; and there were some.
    const lateIds = new Set(
      logged
        .slice(stopBeganAt)
        .filter((line) => line.msg === 'request')
        .map((line) => line.requestId),
    );
    const late = answered.filter((a) => lateIds.has(a.id));
    expect(late.length).toBeGreaterThan(0);
    expect(late.filter((a) => a.connection !== 'close')).toEqual([]);
    // The clients end by finding the server gone (refused), never by a reset of a request they sent.
    expect(failed.filter((code) => code !== 'ECONNREFUSED')).toEqual([]);
    // The server is closed: a new connection is refused.
    await expect(request()).resolves.toMatchObject({ error: 'ECONNREFUSED' });
    // And the background work stopped with it.
    expect(app.dispatcher.isRunning).toBe(false);
  });
});
