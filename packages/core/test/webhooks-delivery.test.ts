import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../src/webhooks/delivery.js';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../src/webhooks/signature.js';

/*
 * One POST to a receiver (postWebhook): what it sends, and how each kind of answer — or none —
 * becomes the outcome the dispatcher records. It never throws.
 */
describe('webhook request', () => {
  let receiver: http.Server;
  let base: string;
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  const hanging = new Set<http.ServerResponse>();

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
        if (req.url?.startsWith('/silent')) return void hanging.add(res);
        if (req.url?.startsWith('/large')) return void res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(512 * 1024));
        if (req.url?.startsWith('/gone')) return void res.writeHead(410).end('gone');
        if (req.url?.startsWith('/moved')) return void res.writeHead(302, { location: '/elsewhere' }).end();
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const res of hanging) res.destroy();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });

  const send = (path: string, timeoutMs = 10_000) => postWebhook({ url: `${base}${path}`, secret: 'whsec_request_test', eventId: 'evt_1', eventName: 'party.created', body: '{"seq":1}', timeoutMs });

  it('sends the signed body with its headers to the path and query of the URL', async () => {
    const outcome = await send('/hook/a?tag=1');
    expect(outcome).toMatchObject({ ok: true, statusCode: 204, error: null });
    const request = seen.find((s) => s.url === '/hook/a?tag=1');
    expect(request).toBeDefined();
    expect(request?.body).toBe('{"seq":1}');
    expect(request?.headers).toMatchObject({ 'content-type': 'application/json', 'rapport-event': 'party.created', 'rapport-event-id': 'evt_1' });
    expect(request?.headers['user-agent']).toMatch(/^Rapport-Webhooks\//);
    const header = request?.headers[SIGNATURE_HEADER.toLowerCase()] as string;
    expect(verifyWebhookSignature({ secret: 'whsec_request_test', header, body: '{"seq":1}' })).toBe(true);
  });

  it('records a non-2xx answer as its status, and does not follow a redirect', async () => {
    expect(await send('/gone')).toMatchObject({ ok: false, statusCode: 410, error: 'HTTP 410' });
    expect(await send('/moved')).toMatchObject({ ok: false, statusCode: 302, error: 'HTTP 302' });
    expect(seen.some((s) => s.url === '/elsewhere')).toBe(false);
  });

  it('keeps the status of an answer whose body is too large to read', async () => {
    expect(await send('/large')).toMatchObject({ ok: true, statusCode: 200, error: null });
    // The pool still works after the oversized answer was cut off.
    expect(await send('/after-large')).toMatchObject({ ok: true, statusCode: 204 });
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const outcome = await send('/silent', 300);
    expect(outcome).toMatchObject({ ok: false, statusCode: null, error: 'no response within 300 ms' });
  }, 30_000);

  it('turns a refused connection and a malformed URL into outcomes', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await postWebhook({ url: `http://127.0.0.1:${port}/`, secret: 's', eventId: 'e', eventName: 'n', body: '{}', timeoutMs: 10_000 });
    expect(refused).toMatchObject({ ok: false, statusCode: null });
    expect(refused.error).toContain('ECONNREFUSED');
    const malformed = await postWebhook({ url: 'not a url', secret: 's', eventId: 'e', eventName: 'n', body: '{}', timeoutMs: 10_000 });
    expect(malformed).toMatchObject({ ok: false, statusCode: null });
    expect(malformed.error).toBeTruthy();
  });
});
