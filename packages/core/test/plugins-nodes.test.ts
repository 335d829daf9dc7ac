import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRapport, type Rapport } from '@rapport/core';
import { createTestApp, TestClient, type TestApp } from '@rapport/testing';
import { samplePlugin } from './fixtures/test-plugin.js';
import { listenerOf } from '../src/storage/listener.js';
import { PLUGINS_CHANNEL } from '../src/plugins/host.js';

/*
 * Two nodes on one database (the same PostgreSQL schema, or the same PGlite instance in one
 * process): a plugin enabled, disabled or uninstalled through one is enabled, disabled or
 * uninstalled on the other at once, without a restart.
 */
describe('plugin state across nodes', () => {
  let t: TestApp;
  let other: Rapport;
  let there: TestClient;
  const local = samplePlugin();
  const remote = samplePlugin();
  let partyId: string;
  let ticketId: string;

  /** What node B answers for the ticket route: 200 while the plugin is on there, 404 once off. */
  const ticketStatus = async () => (await there.get(`/api/v1/sample/tickets/${ticketId}`)).status;
  /** The sample plugin's state as node B reports it. */
  const stateThere = async () => (await there.get('/api/v1/plugins')).body.data.find((p: { name: string }) => p.name === 'sample')?.state;

  beforeAll(async () => {
    t = await createTestApp({ plugins: [local.plugin] });
    other = await createRapport({ database: t.app.config.database, plugins: [remote.plugin], logLevel: 'silent', dispatcher: { enabled: false } });
    const server = await other.listen(0, '127.0.0.1');
    there = new TestClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, t.adminToken);
    partyId = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Two Nodes Ltd' })).body.id;
    ticketId = (await t.admin.post('/api/v1/sample/tickets', { partyId, title: 'Seen from both' })).body.id;
  });
  afterAll(async () => {
    // On PGlite both apps share one instance; the first to close closes it.
    await other?.close().catch(() => undefined);
    await t?.close();
  });

  it('serves the plugin on both nodes', async () => {
    expect(await ticketStatus()).toBe(200);
    expect((await there.post('/api/v1/parties', { kind: 'organization', name: 'Forbidden Corp' })).status).toBe(422);
  });

  it('turns the plugin off on the other node when one disables it, and on again when it enables it', async () => {
    expect((await t.admin.post('/api/v1/plugins/sample/disable')).status).toBe(200);
    await expect.poll(ticketStatus, { timeout: 5000, interval: 20 }).toBe(404);
    // Its filters went with its routes: the veto no longer applies there.
    expect((await there.post('/api/v1/parties', { kind: 'organization', name: 'Forbidden Corp' })).status).toBe(201);
    expect(await stateThere()).toBe('disabled');

    expect((await t.admin.post('/api/v1/plugins/sample/enable')).status).toBe(200);
    await expect.poll(ticketStatus, { timeout: 5000, interval: 20 }).toBe(200);
    expect((await there.post('/api/v1/parties', { kind: 'organization', name: 'Forbidden Corp' })).status).toBe(422);
  });

  it('follows a change made through the other node too, and an uninstall', async () => {
    expect((await there.post('/api/v1/plugins/sample/disable')).status).toBe(200);
    await expect.poll(async () => (await t.admin.get(`/api/v1/sample/tickets/${ticketId}`)).status, { timeout: 5000, interval: 20 }).toBe(404);
    expect((await there.post('/api/v1/plugins/sample/enable')).status).toBe(200);
    await expect.poll(async () => (await t.admin.get(`/api/v1/sample/tickets/${ticketId}`)).status, { timeout: 5000, interval: 20 }).toBe(200);

    expect((await t.admin.post('/api/v1/plugins/sample/uninstall', {})).status).toBe(200);
    await expect.poll(ticketStatus, { timeout: 5000, interval: 20 }).toBe(404);
    await expect.poll(stateThere, { timeout: 5000, interval: 20 }).toBe('uninstalled');
    expect((await t.admin.post('/api/v1/plugins/sample/enable')).status).toBe(200);
    await expect.poll(ticketStatus, { timeout: 5000, interval: 20 }).toBe(200);
  });

  // Only PostgreSQL has a listening connection to lose, and sends a node its own NOTIFY (PGlite's nodes share one process).
  if (process.env.RAPPORT_TEST_DB === 'postgres') {
    it('applies a change it hears only after finishing its own, so a state read half-way never undoes it', async () => {
      const stateHere = async () => (await t.admin.get('/api/v1/plugins')).body.data.find((p: { name: string }) => p.name === 'sample');
      // Node A changes the state back and forth while NOTIFYs keep arriving (its own, and an operator's).
      let noisy = true;
      const noise = (async () => {
        while (noisy) await t.app.knex.raw('select pg_notify(?, ?)', [PLUGINS_CHANNEL, 'sample']);
      })();
      try {
        for (let round = 0; round < 30; round++) {
          const removed = await t.admin.post('/api/v1/plugins/sample/uninstall', {});
          expect(removed.body).toMatchObject({ state: 'uninstalled', installedVersion: null });
          const enabled = await t.admin.post('/api/v1/plugins/sample/enable');
          expect(enabled.body).toMatchObject({ state: 'enabled', installedVersion: '1.0.0' });
          const disabled = await t.admin.post('/api/v1/plugins/sample/disable');
          expect(disabled.body).toMatchObject({ state: 'disabled' });
          const again = await t.admin.post('/api/v1/plugins/sample/enable');
          expect(again.body).toMatchObject({ state: 'enabled' });
        }
      } finally {
        noisy = false;
        await noise;
      }
      await t.app.plugins.settled();
      expect(await stateHere()).toMatchObject({ state: 'enabled', installedVersion: '1.0.0' });
      expect((await t.app.knex('rapport_plugins').where({ name: 'sample' }).first()).state).toBe('enabled');
      await expect.poll(ticketStatus, { timeout: 5000, interval: 20 }).toBe(200);
    });

    it('reads every state again after its listening connection was lost, so a change it missed still applies', async () => {
      const connection = (listenerOf(other.knex) as unknown as { connection?: { processID?: number } }).connection;
      expect(connection?.processID, 'node B listens').toBeTypeOf('number');
      // Cut node B's listening connection, then change the state with no NOTIFY: B cannot hear it.
      await t.app.knex.raw('select pg_terminate_backend(?::integer)', [connection!.processID!]);
      await t.app.knex('rapport_plugins').where({ name: 'sample' }).update({ state: 'disabled' });
      // B reconnects within a second or so and reads every state again.
      await expect.poll(ticketStatus, { timeout: 10_000, interval: 50 }).toBe(404);
      // A NOTIFY from elsewhere (another process, an operator's script) is followed as well.
      await t.app.knex('rapport_plugins').where({ name: 'sample' }).update({ state: 'enabled' });
      await t.app.knex.raw('select pg_notify(?, ?)', [PLUGINS_CHANNEL, 'sample']);
      await expect.poll(ticketStatus, { timeout: 5000, interval: 20 }).toBe(200);
    });
  }
});
