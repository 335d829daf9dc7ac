import net from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createApiKey, createRapport, type Rapport } from '@rapport/core';
import { DEFAULT_TEST_DATABASE_URL, TestClient, isolatedDatabase, type IsolatedDatabase } from '@rapport/testing';

/*
 * A PostgreSQL outage, made by cutting a TCP proxy between Rapport and the database: every
 * request answers 503 problem+json with Retry-After (not 500), the outage is logged once, not
 * per request, and when the database is back the same process answers again — no restart.
 * Always PostgreSQL (an embedded database cannot go away), so this file runs once.
 */
class CuttableProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(port = 0): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Stops listening and drops every open connection: the database is "down". */
  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

describe('a database outage', () => {
  let database: IsolatedDatabase;
  let proxy: CuttableProxy;
  let app: Rapport;
  let client: TestClient;
  const logLines: Array<{ level: number; msg: string; failedRequests?: number }> = [];

  beforeAll(async () => {
    database = await isolatedDatabase('postgres');
    const url = new URL(process.env.RAPPORT_TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL);
    proxy = new CuttableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    await proxy.open();
    url.port = String(proxy.port);
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as (typeof logLines)[number]);
        done();
      },
    });
    app = await createRapport({
      // A small pool that gives up quickly: an outage is noticed in a second, not after knex's minute.
      database: { ...database.config, url: url.toString(), pool: { min: 0, max: 4, acquireTimeoutMs: 1500, connectTimeoutMs: 1500 } },
      logger: pino({ level: 'info' }, sink),
      tenantName: 'Outage Co',
      dispatcher: { enabled: false },
      scheduler: { enabled: false },
    });
    const server = await app.listen(0, '127.0.0.1');
    const { token } = await createApiKey(app.knex, app.defaultTenant.id, { name: 'outage', roles: ['admin'] });
    client = new TestClient(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, token);
  });
  afterAll(async () => {
    await app?.close();
    await database?.dispose();
  });

  it('answers 503 with Retry-After while the database is gone, logs it once, and recovers without a restart', { timeout: 120_000 }, async () => {
    const before = await client.post('/api/v1/parties', { kind: 'organization', name: 'Before the outage' });
    expect(before.status).toBe(201);

    await proxy.cut();
    const during = [];
    for (let i = 0; i < 8; i++) during.push(await client.post('/api/v1/parties', { kind: 'organization', name: `During ${i}` }));
    for (const res of during) {
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.body).toMatchObject({ status: 503, type: 'https://rapport.dev/problems/database-unavailable' });
    }
    expect((await client.get(`/api/v1/parties/${before.body.id}`)).status).toBe(503);
    const outageErrors = logLines.filter((l) => l.msg.startsWith('the database is unreachable'));
    expect(outageErrors).toHaveLength(1);
    expect(logLines.filter((l) => l.msg === 'request failed')).toEqual([]);

    // The database comes back on the same address; the same process serves again.
    await proxy.open(proxy.port);
    let after = await client.post('/api/v1/parties', { kind: 'organization', name: 'After the outage' });
    for (let attempt = 0; after.status === 503 && attempt < 100; attempt++) {
      await new Promise((r) => setTimeout(r, 200));
      after = await client.post('/api/v1/parties', { kind: 'organization', name: 'After the outage' });
    }
    expect(after.status).toBe(201);
    // Nothing sent during the outage was written.
    const names = (await app.knex('rapport_parties').select('name')).map((r: { name: string }) => r.name);
    expect(names.filter((n) => n.startsWith('During'))).toEqual([]);
    // The recovery is logged (by the probe) once.
    for (let attempt = 0; !logLines.some((l) => l.msg === 'the database is reachable again') && attempt < 100; attempt++) await new Promise((r) => setTimeout(r, 100));
    const recovered = logLines.filter((l) => l.msg === 'the database is reachable again');
    expect(recovered).toHaveLength(1);
    expect(recovered[0].failedRequests).toBeGreaterThanOrEqual(9);
  });
});
