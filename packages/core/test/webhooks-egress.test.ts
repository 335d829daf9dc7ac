import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { isPublicAddress, privateHostProblem, publicOnlyAgent } from '../src/webhooks/egress.js';
import { postWebhook } from '../src/webhooks/delivery.js';

/*
 * Webhooks go to the public internet only, unless dispatcher.allowPrivateNetworks: a tenant's
 * user picks the URL and reads the delivery log, so a webhook must not probe the server's network.
 */
describe('webhook egress', () => {
  let t: TestApp;
  let receiver: http.Server;
  let port: number;
  const received: string[] = [];

  beforeAll(async () => {
    t = await createTestApp({ config: { dispatcher: { enabled: false, allowPrivateNetworks: false } } });
    receiver = http.createServer((req, res) => {
      received.push(req.url ?? '');
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
    await t?.close();
  });

  it('tells public addresses from the rest', () => {
    for (const address of ['8.8.8.8', '2a00:1450:4001:80b::200e', '::ffff:8.8.4.4']) expect(isPublicAddress(address), address).toBe(true);
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '224.0.0.1',
      'nonsense',
    ]) {
      expect(isPublicAddress(address), address).toBe(false);
    }
    expect(privateHostProblem('http://169.254.169.254/latest/meta-data')).toBe('169.254.169.254 is not a public address');
    expect(privateHostProblem('http://[::1]:8080/')).toBe('::1 is not a public address');
    expect(privateHostProblem('http://api.localhost/')).toBe('api.localhost is this machine');
    expect(privateHostProblem('https://hooks.example.com/x')).toBeUndefined();
  });

  it('refuses a subscription to this machine or a private address, and writes nothing', async () => {
    const count = async () => Number((await t.app.knex('rapport_webhooks').count({ n: '*' }))[0].n);
    const before = await count();
    for (const url of [`http://127.0.0.1:${port}/hook`, 'http://localhost:5432/', 'http://10.0.0.5/hook', 'http://[fd12::1]/hook', 'http://169.254.169.254/latest']) {
      const res = await t.admin.post('/api/v1/webhooks', { url, events: ['**'] });
      expect(res.status, url).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ path: 'url' });
    }
    expect(await count()).toBe(before);
    const created = await t.admin.post('/api/v1/webhooks', { url: 'https://hooks.example.com/rapport', events: ['**'] });
    expect(created.status, created.text).toBe(201);
    const moved = await t.admin.patch(`/api/v1/webhooks/${created.body.id}`, { url: `http://127.0.0.1:${port}/hook` }, { headers: { 'if-match': String(created.body.version) } });
    expect(moved.status).toBe(400);
    expect((await t.app.knex('rapport_webhooks').where({ id: created.body.id }).first('url')).url).toBe('https://hooks.example.com/rapport');
  });

  it('refuses, as it connects, a name that resolves to a private address; sends nothing to it', async () => {
    const request = { secret: 'whsec_test', eventId: 'e1', eventName: 'party.created', body: '{}', timeoutMs: 5000 };
    // A name whose DNS answer points at this machine (DNS rebinding would switch it after a check at create time).
    const rebinding = ((_host: string, _options: unknown, callback: (e: null, a: Array<{ address: string; family: number }>) => void) =>
      callback(null, [{ address: '127.0.0.1', family: 4 }])) as unknown as Parameters<typeof publicOnlyAgent>[0];
    const agent = publicOnlyAgent(rebinding);
    try {
      const byName = await postWebhook({ ...request, url: `http://receiver.example:${port}/by-name`, agent });
      expect(byName).toMatchObject({ ok: false, statusCode: null });
      expect(byName.error).toContain('127.0.0.1, which is not a public address');
      const literal = await postWebhook({ ...request, url: `http://127.0.0.1:${port}/literal`, agent });
      expect(literal.error).toBe('not sent: 127.0.0.1 is not a public address (dispatcher.allowPrivateNetworks)');
    } finally {
      await agent.close();
    }
    expect(received).toEqual([]);
    // The receiver works: allowed private networks (no agent of ours) reach it.
    const allowed = await postWebhook({ ...request, url: `http://127.0.0.1:${port}/allowed` });
    expect(allowed).toMatchObject({ ok: true, statusCode: 204 });
    expect(received).toEqual(['/allowed']);
  });
});
