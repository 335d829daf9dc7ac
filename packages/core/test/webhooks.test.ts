import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestResponse } from '@rapport/testing';
import { createRapport, createTenant, Dispatcher, DISPATCHER_DEFAULTS, verifyWebhookSignature, type Rapport } from '@rapport/core';
import { samplePlugin } from './fixtures/test-plugin.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
  status: number;
}

/**
 * A local webhook receiver. Each path behaves differently:
 *  /flaky/…  500 for the first two attempts of each event, then 200
 *  /down     `downStatus` (500 until a test repairs it)
 *  /gated    held until `gate` opens (multi-dispatcher test), then 200
 *  anything else 200
 */
class Receiver {
  readonly requests: Received[] = [];
  downStatus = 500;
  gate: { open: boolean; waiting: Array<() => void>; maxWaiting: number; fallback?: NodeJS.Timeout } = { open: false, waiting: [], maxWaiting: 0 };
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly attemptsByEvent = new Map<string, number>();
  url = '';

  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop() {
    this.openGate();
    this.server.closeAllConnections();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  on(path: string) {
    return this.requests.filter((r) => r.path === path);
  }

  openGate() {
    this.gate.open = true;
    clearTimeout(this.gate.fallback);
    for (const release of this.gate.waiting.splice(0)) release();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      let status = 200;
      if (path.startsWith('/flaky')) {
        const key = `${path} ${String(req.headers['rapport-event-id'])}`;
        const seen = (this.attemptsByEvent.get(key) ?? 0) + 1;
        this.attemptsByEvent.set(key, seen);
        status = seen <= 2 ? 500 : 200;
      } else if (path === '/down') {
        status = this.downStatus;
      } else if (path === '/gated' && !this.gate.open) {
        await new Promise<void>((release) => {
          this.gate.waiting.push(release);
          this.gate.maxWaiting = Math.max(this.gate.maxWaiting, this.gate.waiting.length);
          // More requests waiting than one dispatcher may have in flight: a second one is at work.
          if (this.gate.waiting.length > DISPATCHER_DEFAULTS.concurrency) this.openGate();
          // Never hold a request until the dispatcher gives up on it; the test then fails on maxWaiting.
          this.gate.fallback ??= setTimeout(() => this.openGate(), 5000);
        });
      }
      this.requests.push({ path, headers: req.headers, raw, body: JSON.parse(raw), status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'nope');
    });
  }
}

/** Polls until `probe` returns something truthy; fails with `what` after the deadline. */
async function waitFor<T>(what: string, probe: () => Promise<T> | T, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function expectProblem(response: TestResponse, status: number) {
  expect(response.status, `${response.status} ${response.text}`).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.body.status).toBe(status);
}

describe('webhooks', () => {
  let t: TestApp;
  const receiver = new Receiver();

  beforeAll(async () => {
    await receiver.start();
    t = await createTestApp({ plugins: [samplePlugin().plugin], config: { dispatcher: { maxAttempts: 4 } } });
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  const outboxDrained = async () => Number((await t.app.knex('rapport_outbox').whereNull('dispatched_at').count({ n: '*' }))[0].n) === 0;
  const pendingDeliveries = async (webhookId: string) => Number((await t.app.knex('rapport_webhook_deliveries').where({ webhook_id: webhookId, status: 'pending' }).count({ n: '*' }))[0].n);
  const settled = (webhookId: string) => waitFor(`deliveries of ${webhookId} to settle`, async () => (await outboxDrained()) && (await pendingDeliveries(webhookId)) === 0);
  const subscribe = async (body: Record<string, unknown>) => {
    const res = await t.admin.post('/api/v1/webhooks', body);
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; secret: string; version: number; events: string[] };
  };
  const createParty = async (name: string) => {
    const res = await t.admin.post('/api/v1/parties', { kind: 'organization', name });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; version: number };
  };
  const deliveriesOf = async (webhookId: string, query = 'limit=200') => {
    const res = await t.admin.get(`/api/v1/webhooks/${webhookId}/deliveries?${query}`);
    expect(res.status, res.text).toBe(200);
    return res.body as { data: any[]; nextCursor: string | null };
  };

  it('delivers every committed event, signed, despite two failed attempts; a vetoed write sends nothing', async () => {
    await waitFor('the outbox to drain', outboxDrained);
    const before = new Set((await t.outbox()).map((e) => e.id));

    const webhook = await subscribe({ url: `${receiver.url}/flaky/all`, events: ['**'], description: 'everything' });
    expect(webhook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{40,}$/);

    const acme = await createParty('Acme');
    const vetoed = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Forbidden Corp' });
    expectProblem(vetoed, 422);
    const renamed = await t.admin.patch(`/api/v1/parties/${acme.id}`, { name: 'Acme Ltd' }, { headers: { 'if-match': `"${acme.version}"` } });
    expect(renamed.status, renamed.text).toBe(200);
    const relationship = await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: acme.id, toPartyId: t.selfPartyId });
    expect(relationship.status, relationship.text).toBe(201);
    const ticket = await t.admin.post('/api/v1/sample/tickets', { partyId: acme.id, title: 'Broken widget' });
    expect(ticket.status, ticket.text).toBe(201);

    const committed = (await t.outbox()).filter((e) => !before.has(e.id));
    expect(committed.map((e) => e.name).sort()).toEqual(['party.created', 'party.updated', 'relationship.created', 'sample.ticket.opened', 'webhook.created']);
    // The vetoed write left no outbox row and no party.
    expect(JSON.stringify(await t.outbox())).not.toContain('Forbidden Corp');
    expect((await t.admin.get('/api/v1/parties?q=Forbidden')).body.data).toEqual([]);

    const expected = new Set(committed.map((e) => e.id));
    const delivered = () =>
      new Set(
        receiver
          .on('/flaky/all')
          .filter((r) => r.status === 200)
          .map((r) => r.body.id),
      );
    await waitFor('every committed event to be delivered', () => [...expected].every((id) => delivered().has(id)));
    await settled(webhook.id);

    const requests = receiver.on('/flaky/all');
    // Exactly the committed events: nothing from before, nothing from the vetoed write.
    expect(new Set(requests.map((r) => r.body.id))).toEqual(expected);
    expect(requests.map((r) => r.raw).join('\n')).not.toContain('Forbidden Corp');
    for (const id of expected) {
      expect(requests.filter((r) => r.body.id === id).map((r) => r.status)).toEqual([500, 500, 200]);
    }
    for (const request of requests) {
      const event = committed.find((e) => e.id === request.body.id)!;
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['user-agent']).toMatch(/^Rapport-Webhooks\/\d+\.\d+\.\d+/);
      expect(request.headers['rapport-event']).toBe(event.name);
      expect(request.headers['rapport-event-id']).toBe(event.id);
      expect(verifyWebhookSignature({ secret: webhook.secret, header: request.headers['rapport-signature'] as string, body: request.raw })).toBe(true);
      expect(request.body).toMatchObject({ id: event.id, name: event.name, tenantId: t.tenantId, payload: event.payload });
      expect(Object.keys(request.body).sort()).toEqual(['actor', 'id', 'name', 'occurredAt', 'payload', 'tenantId']);
      expect(request.body.actor).toMatchObject({ kind: 'api-key' });
      expect(Date.parse(request.body.occurredAt)).not.toBeNaN();
    }
    const created = requests.find((r) => r.body.name === 'party.created')!;
    expect(created.body.payload.party).toMatchObject({ id: acme.id, name: 'Acme' });
    // The webhook.created event describes the subscription without its secret.
    const subscribed = requests.find((r) => r.body.name === 'webhook.created')!;
    expect(subscribed.body.payload.webhook.id).toBe(webhook.id);
    expect(subscribed.raw).not.toContain(webhook.secret);

    // The delivery log shows the two failures, then the success.
    const log = await deliveriesOf(webhook.id);
    expect(log.data).toHaveLength(expected.size);
    for (const delivery of log.data) {
      expect(delivery).toMatchObject({ webhookId: webhook.id, status: 'delivered', attempts: 3, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
      expect(delivery.deliveredAt).not.toBeNull();
      expect(delivery.history.map((a: any) => a.statusCode)).toEqual([500, 500, 200]);
      expect(delivery.history.map((a: any) => a.error)).toEqual(['HTTP 500', 'HTTP 500', null]);
      for (const attempt of delivery.history) {
        expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
        expect(attempt.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
      expect(Date.parse(delivery.history[2].at)).toBeGreaterThanOrEqual(Date.parse(delivery.history[0].at));
    }
    // Newest first, keyset-paginated.
    const ids = log.data.map((d) => d.id);
    expect([...ids].sort().reverse()).toEqual(ids);
    const first = await deliveriesOf(webhook.id, 'limit=2');
    expect(first.data.map((d) => d.id)).toEqual(ids.slice(0, 2));
    const second = await deliveriesOf(webhook.id, `limit=2&cursor=${first.nextCursor}`);
    expect(second.data.map((d) => d.id)).toEqual(ids.slice(2, 4));

    // Stop this subscription so it stays out of the other tests.
    const paused = await t.admin.patch(`/api/v1/webhooks/${webhook.id}`, { active: false }, { headers: { 'if-match': `"${webhook.version}"` } });
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body).toMatchObject({ active: false, version: webhook.version + 1 });
  });

  it('matches event patterns with * and ** wildcards', async () => {
    const parties = await subscribe({ url: `${receiver.url}/parties`, events: ['party.*'] });
    const others = await subscribe({ url: `${receiver.url}/others`, events: ['sample.**', 'relationship.created'] });
    const party = await createParty('Wildcard Inc');
    await t.admin.post('/api/v1/sample/tickets', { partyId: party.id, title: 'Wildcards' });
    await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: party.id, toPartyId: t.selfPartyId });
    await settled(parties.id);
    await settled(others.id);

    expect((await deliveriesOf(parties.id)).data.map((d) => d.eventName)).toEqual(['party.created']);
    expect((await deliveriesOf(others.id)).data.map((d) => d.eventName).sort()).toEqual(['relationship.created', 'sample.ticket.opened']);
    expect(receiver.on('/parties').map((r) => r.body.name)).toEqual(['party.created']);
    expect(receiver.on('/parties')[0].body.payload.party.name).toBe('Wildcard Inc');
  });

  it('gives up after maxAttempts with the log of each attempt, and a manual retry delivers', async () => {
    receiver.downStatus = 500;
    const webhook = await subscribe({ url: `${receiver.url}/down`, events: ['party.created'] });
    await createParty('Unlucky');
    const [failed] = await waitFor('the delivery to fail for good', async () => {
      const { data } = await deliveriesOf(webhook.id);
      return data.length === 1 && data[0].status === 'failed' ? data : undefined;
    });
    expect(failed).toMatchObject({ status: 'failed', attempts: 4, lastStatusCode: 500, lastError: 'HTTP 500', deliveredAt: null, nextAttemptAt: null });
    expect(failed.history).toHaveLength(4);
    expect(receiver.on('/down')).toHaveLength(4);

    receiver.downStatus = 204;
    const retried = await t.admin.post(`/api/v1/webhooks/${webhook.id}/deliveries/${failed.id}/retry`);
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body).toMatchObject({ id: failed.id, status: 'pending', attempts: 0 });
    const done = await waitFor('the retried delivery', async () => {
      const { data } = await deliveriesOf(webhook.id);
      return data[0].status === 'delivered' ? data[0] : undefined;
    });
    expect(done).toMatchObject({ attempts: 1, lastStatusCode: 204 });
    expect(done.history.map((a: any) => a.statusCode)).toEqual([500, 500, 500, 500, 204]);
    // Only a failed delivery can be retried.
    expectProblem(await t.admin.post(`/api/v1/webhooks/${webhook.id}/deliveries/${failed.id}/retry`), 409);

    // Deleting the subscription removes its log too.
    const gone = await t.admin.delete(`/api/v1/webhooks/${webhook.id}`);
    expect(gone.status, gone.text).toBe(204);
    expectProblem(await t.admin.get(`/api/v1/webhooks/${webhook.id}`), 404);
    expectProblem(await t.admin.get(`/api/v1/webhooks/${webhook.id}/deliveries`), 404);
    expect(await t.app.knex('rapport_webhook_deliveries').where({ webhook_id: webhook.id })).toEqual([]);
    expect(await t.app.knex('rapport_webhook_attempts').where({ webhook_id: webhook.id })).toEqual([]);
  });

  it('records network errors as attempts without a status code', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const webhook = await subscribe({ url: `http://127.0.0.1:${port}/nobody-home`, events: ['party.created'] });
    await createParty('Unreachable');
    const delivery = await waitFor('a failed attempt', async () => (await deliveriesOf(webhook.id)).data.find((d) => d.history.length > 0));
    expect(delivery.history[0]).toMatchObject({ statusCode: null });
    expect(delivery.history[0].error).toEqual(expect.any(String));
    // One snapshot: the count and last error agree with the history even while attempts go on.
    expect(delivery.attempts).toBe(delivery.history.length);
    expect(delivery.lastError).toEqual(delivery.history.at(-1).error);
    await t.admin.delete(`/api/v1/webhooks/${webhook.id}`);
  });

  it('sends nothing to inactive subscriptions and signs with a rotated secret at once', async () => {
    const inactive = await subscribe({ url: `${receiver.url}/inactive`, events: ['**'], active: false });
    const webhook = await subscribe({ url: `${receiver.url}/rotated`, events: ['party.created'] });
    const rotated = await t.admin.post(`/api/v1/webhooks/${webhook.id}/rotate-secret`);
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(webhook.secret);
    expect(rotated.body.version).toBe(webhook.version + 1);

    await createParty('Rotated');
    await settled(webhook.id);
    const [request] = receiver.on('/rotated');
    const header = request.headers['rapport-signature'] as string;
    expect(verifyWebhookSignature({ secret: rotated.body.secret, header, body: request.raw })).toBe(true);
    expect(verifyWebhookSignature({ secret: webhook.secret, header, body: request.raw })).toBe(false);

    expect(receiver.on('/inactive')).toEqual([]);
    expect((await deliveriesOf(inactive.id)).data).toEqual([]);

    // Secrets are never read back.
    const read = await t.admin.get(`/api/v1/webhooks/${webhook.id}`);
    expect(read.body).not.toHaveProperty('secret');
    expect(read.headers.get('etag')).toBe(`"${rotated.body.version}"`);
    const list = await t.admin.get('/api/v1/webhooks?limit=200');
    expect(list.text).not.toContain('whsec_');
    expect(list.body.data.map((w: any) => w.id)).toEqual(expect.arrayContaining([webhook.id, inactive.id]));
    const onlyInactive = await t.admin.get('/api/v1/webhooks?active=false&limit=200');
    expect(onlyInactive.body.data.every((w: any) => w.active === false)).toBe(true);
  });

  it('answers bad input with 4xx problem+json and writes nothing', async () => {
    const webhook = await subscribe({ url: `${receiver.url}/ok`, events: ['party.created'] });
    const count = async () => Number((await t.app.knex('rapport_webhooks').count({ n: '*' }))[0].n);
    const before = await count();
    const url = `${receiver.url}/ok`;
    const badBodies: unknown[] = [
      { url: 'ftp://example.com/hook', events: ['**'] },
      { url: 'not a url', events: ['**'] },
      { url: 'http://user:pass@example.com/hook', events: ['**'] },
      { url, events: [] },
      { url, events: ['party..created'] },
      { url, events: ['par*ty'] },
      { url, events: [''] },
      { url, events: 'party.*' },
      { url, events: [42] },
      { url, events: ['**'], secret: 'whsec_mine' },
      { url, events: ['**'], active: 'yes' },
      { events: ['**'] },
      { url: 'http://example.com/' + 'x'.repeat(3000), events: ['**'] },
      { url, events: Array.from({ length: 51 }, (_, i) => `e${i}.created`) },
      [],
      null,
    ];
    for (const body of badBodies) expectProblem(await t.admin.post('/api/v1/webhooks', body), 400);
    expectProblem(await t.admin.post('/api/v1/webhooks', undefined, { rawBody: '{"url":' }), 400);

    const path = `/api/v1/webhooks/${webhook.id}`;
    const ifMatch = { headers: { 'if-match': `"${webhook.version}"` } };
    expectProblem(await t.admin.get('/api/v1/webhooks/not-a-uuid'), 400);
    expectProblem(await t.admin.get('/api/v1/webhooks/0190f7a2-0000-7000-8000-000000000000'), 404);
    expectProblem(await t.admin.get('/api/v1/webhooks?cursor=garbage'), 400);
    expectProblem(await t.admin.get('/api/v1/webhooks?limit=0'), 400);
    expectProblem(await t.admin.get('/api/v1/webhooks?secret=1'), 400);
    expectProblem(await t.admin.get(`${path}/deliveries?status=bogus`), 400);
    expectProblem(await t.admin.get(`${path}/deliveries?cursor=garbage`), 400);
    expectProblem(await t.admin.patch(path, { active: false }), 428);
    expectProblem(await t.admin.patch(path, { active: false }, { headers: { 'if-match': '"99"' } }), 412);
    expectProblem(await t.admin.patch(path, {}, ifMatch), 400);
    expectProblem(await t.admin.patch(path, { secret: 'whsec_mine' }, ifMatch), 400);
    expectProblem(await t.admin.patch(path, { url: 'javascript:alert(1)' }, ifMatch), 400);
    expectProblem(await t.admin.patch(path, { events: ['a.**.**x'] }, ifMatch), 400);
    expectProblem(await t.admin.delete('/api/v1/webhooks/0190f7a2-0000-7000-8000-000000000000'), 404);
    expectProblem(await t.admin.delete(path, { headers: { 'if-match': '"99"' } }), 412);
    expectProblem(await t.admin.post(`${path}/deliveries/0190f7a2-0000-7000-8000-000000000000/retry`), 404);
    expectProblem(await t.admin.post(`${path}/deliveries/nope/retry`), 400);

    // Authentication, permissions, scoped principals, other tenants.
    expectProblem(await t.anonymous.get('/api/v1/webhooks'), 401);
    const reader = await t.clientFor({ roles: [] });
    expectProblem(await reader.get('/api/v1/webhooks'), 403);
    expectProblem(await reader.post('/api/v1/webhooks', { url, events: ['**'] }), 403);
    const scoped = await t.clientFor({ roles: ['admin'], scopePartyId: t.selfPartyId });
    expect([403, 404]).toContain((await scoped.get('/api/v1/webhooks')).status);
    expect([403, 404]).toContain((await scoped.post('/api/v1/webhooks', { url, events: ['**'] })).status);
    const other = await createTenant(t.app.knex, 'Other Tenant');
    const stranger = await t.clientFor({ roles: ['admin'], tenantId: other.id });
    expectProblem(await stranger.get(path), 404);
    expectProblem(await stranger.patch(path, { active: false }, ifMatch), 404);
    expectProblem(await stranger.post(`${path}/rotate-secret`), 404);
    expectProblem(await stranger.get(`${path}/deliveries`), 404);
    expectProblem(await stranger.delete(path), 404);
    expect((await stranger.get('/api/v1/webhooks')).body.data).toEqual([]);

    expect(await count()).toBe(before);
    const unchanged = await t.admin.get(path);
    expect(unchanged.body).toMatchObject({ version: webhook.version, active: true, events: ['party.created'], url });
  });

  it('describes the webhook routes in the OpenAPI document', async () => {
    const res = await t.anonymous.get('/api/v1/openapi.json');
    expect(res.status, res.text).toBe(200);
    const paths = res.body.paths;
    expect(Object.keys(paths['/api/v1/webhooks']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(paths['/api/v1/webhooks/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
    expect(paths['/api/v1/webhooks/{id}/rotate-secret'].post).toBeDefined();
    expect(paths['/api/v1/webhooks/{id}/deliveries'].get).toBeDefined();
    expect(paths['/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry'].post).toBeDefined();
  });

  it('lets several dispatchers share one database and delivers each event once', async () => {
    // Only this test's subscription is active, so every request in flight is one of its own.
    const { data: others } = (await t.admin.get('/api/v1/webhooks?active=true&limit=200')).body;
    for (const other of others) {
      const res = await t.admin.patch(`/api/v1/webhooks/${other.id}`, { active: false }, { headers: { 'if-match': `"${other.version}"` } });
      expect(res.status, res.text).toBe(200);
    }
    const webhook = await subscribe({ url: `${receiver.url}/gated`, events: ['party.created'] });
    // A second node: on PostgreSQL a whole second Rapport with its own pool; PGlite has a
    // single connection and one process, so there a second dispatcher over the same app.
    let second: Rapport | undefined;
    let extra: Dispatcher | undefined;
    if (t.kind === 'postgres') {
      second = await createRapport({ ...t.app.config });
    } else {
      extra = new Dispatcher(t.app, { ...t.app.config.dispatcher });
      extra.start();
    }
    const dispatchers = [t.app.dispatcher, second?.dispatcher ?? extra!];
    const deliveredBefore = dispatchers.map((d) => d.stats.delivered);
    try {
      // More than one dispatcher claims at once (its requests and as many claimed ahead).
      const total = 3 * DISPATCHER_DEFAULTS.concurrency;
      const ids = await t.app.transaction(async (uow) => {
        const created: string[] = [];
        for (let i = 0; i < total; i++) created.push((await t.app.services.parties.create(uow, { kind: 'organization', name: `Bulk ${i}` })).id);
        return created;
      });
      await settled(webhook.id);
      const received = receiver.on('/gated').filter((r) => r.body.name === 'party.created');
      // Each event exactly once, none lost.
      expect(received.map((r) => r.body.payload.party.id).sort()).toEqual([...ids].sort());
      expect(new Set(received.map((r) => r.body.id)).size).toBe(total);
      // More requests were in flight at once than one dispatcher ever sends: both worked.
      expect(receiver.gate.maxWaiting).toBeGreaterThan(DISPATCHER_DEFAULTS.concurrency);
      const deliveredNow = dispatchers.map((d, i) => d.stats.delivered - deliveredBefore[i]);
      expect(deliveredNow[0] + deliveredNow[1]).toBe(total);
      expect(deliveredNow.every((n) => n > 0)).toBe(true);
      const log = await deliveriesOf(webhook.id);
      expect(log.data).toHaveLength(total);
      expect(log.data.every((d) => d.status === 'delivered' && d.attempts === 1 && d.history.length === 1)).toBe(true);
    } finally {
      receiver.openGate();
      await extra?.stop();
      await second?.close();
    }
  });

  it('drains a backlog of many fan-out batches in passes of its own, without waiting for a poll', async () => {
    const webhook = await subscribe({ url: `${receiver.url}/backlog`, events: ['party.created'] });
    // The system's own dispatcher steps aside, so the one under test does all the work; its
    // poll interval is an hour, so only the passes that follow a cut-short fan-out can drain it.
    await t.app.dispatcher.stop();
    const dispatcher = new Dispatcher(t.app, { ...t.app.config.dispatcher, fanOutBatchSize: 7, pollIntervalMs: 3_600_000 });
    try {
      const total = 7 * 4 + 3;
      const ids = await t.app.transaction(async (uow) => {
        const created: string[] = [];
        for (let i = 0; i < total; i++) created.push((await t.app.services.parties.create(uow, { kind: 'organization', name: `Backlog ${i}` })).id);
        return created;
      });
      dispatcher.start();
      await settled(webhook.id);
      const received = receiver.on('/backlog');
      expect(received.map((r) => r.body.payload.party.id).sort()).toEqual([...ids].sort());
      expect(dispatcher.stats.fannedOut).toBe(total);
    } finally {
      await dispatcher.stop();
      t.app.dispatcher.start();
    }
  });

  it('prunes dispatched outbox rows whose deliveries are done', async () => {
    await waitFor('the outbox to drain', outboxDrained);
    const rows = Number((await t.app.knex('rapport_outbox').count({ n: '*' }))[0].n);
    expect(rows).toBeGreaterThan(0);
    const pruned = await t.app.dispatcher.pruneOutbox(0);
    expect(pruned).toBeGreaterThan(0);
    const left: Array<{ tenant_id: string; id: string }> = await t.app.knex('rapport_outbox').select('tenant_id', 'id');
    // What stays is needed by a delivery that is not done yet (the unreachable receiver's was deleted).
    for (const row of left) {
      const open = await t.app.knex('rapport_webhook_deliveries').where({ tenant_id: row.tenant_id, event_id: row.id }).whereNot('status', 'delivered').first();
      expect(open).toBeDefined();
    }
  });
});
