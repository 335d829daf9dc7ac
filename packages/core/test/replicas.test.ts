import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createRapport, type Rapport } from '@rapport/core';
import { TestClient, isolatedDatabase, type IsolatedDatabase } from '@rapport/testing';
import { startStreamingReplica, type StreamingReplica } from './support/streaming-replica.js';

/*
 * Reads on a real streaming replica of the test PostgreSQL (made with pg_basebackup, removed
 * afterwards): list reads of a caller that did not just write go to the replica, a write is
 * always visible to its author's next read, and killing the replica under load fails no
 * request. Always PostgreSQL (the embedded database has no replicas), so this file runs once.
 */
describe('read replicas', { timeout: 300_000 }, () => {
  let database: IsolatedDatabase;
  let replica: StreamingReplica;
  let app: Rapport;
  let writer: TestClient;
  let reader: TestClient;

  beforeAll(async () => {
    database = await isolatedDatabase('postgres');
    replica = await startStreamingReplica();
    app = await createRapport({
      // Generous: a paused replica stays in use long enough to show a stale read.
      database: { ...database.config, replicas: [replica.url], replicaMaxLagMs: 120_000 },
      logLevel: 'silent',
      tenantName: 'Replica Co',
      dispatcher: { enabled: false },
      scheduler: { enabled: false },
    });
    const server = await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writer = new TestClient(base, (await createApiKey(app.knex, app.defaultTenant.id, { name: 'writer', roles: ['admin'] })).token);
    reader = new TestClient(base, (await createApiKey(app.knex, app.defaultTenant.id, { name: 'reader', roles: ['admin'] })).token);
    // The schema and the keys made on the primary have reached the replica.
    for (let waited = 0; !app.replicas!.state()[0].healthy; waited += 200) {
      if (waited > 60_000) throw new Error('the replica did not catch up within a minute');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  afterAll(async () => {
    await app?.close();
    replica?.remove();
    await database?.dispose();
  });

  const names = async (client: TestClient) => {
    const res = await client.get('/api/v1/parties?limit=200');
    expect(res.status, res.text).toBe(200);
    return (res.body.data as Array<{ name: string }>).map((p) => p.name);
  };

  it('answers other callers from the replica, and the writer from the primary until the replica has its write', async () => {
    await replica.pauseReplay(true);
    try {
      const created = await writer.post('/api/v1/parties', { kind: 'organization', name: 'Written while the replica waits' });
      expect(created.status).toBe(201);
      const before = app.replicas!.state()[0].reads;
      // The writer sees its write at once (the primary answers it) ...
      expect(await names(writer)).toContain('Written while the replica waits');
      // ... while the replica, which has not replayed it, answers the other caller: proof that it serves reads.
      expect(await names(reader)).not.toContain('Written while the replica waits');
      expect(app.replicas!.state()[0].reads).toBe(before + 1);
    } finally {
      await replica.pauseReplay(false);
    }
    await expect.poll(() => names(reader), { timeout: 60_000, interval: 200 }).toContain('Written while the replica waits');
    // Replayed: the writer's reads may go to the replica again.
    await expect
      .poll(
        async () => {
          const before = app.replicas!.state()[0].reads;
          await names(writer);
          return app.replicas!.state()[0].reads - before;
        },
        { timeout: 60_000, interval: 200 },
      )
      .toBe(1);
  });

  it('a write is visible to its author on the very next read, every time', async () => {
    for (let i = 0; i < 20; i++) {
      const name = `Read your writes ${i}`;
      expect((await writer.post('/api/v1/parties', { kind: 'organization', name })).status).toBe(201);
      expect(await names(writer)).toContain(name);
    }
  });

  it('killing the replica under load fails no request', async () => {
    let stop = false;
    const statuses: number[] = [];
    const load = Promise.all(
      [reader, writer, reader, reader].map(async (client) => {
        while (!stop) statuses.push((await client.get('/api/v1/parties?limit=20')).status);
      }),
    );
    await expect.poll(() => statuses.length, { timeout: 60_000 }).toBeGreaterThan(20);
    replica.kill();
    const atKill = statuses.length;
    await expect.poll(() => statuses.length - atKill, { timeout: 60_000 }).toBeGreaterThan(50);
    stop = true;
    await load;
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(app.replicas!.state()[0].healthy).toBe(false);
  });
});
