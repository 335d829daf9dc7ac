import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';

/*
 * CORS: off unless origins are configured; a listed origin gets the headers (errors too),
 * a preflight is answered with what the API takes, any other origin gets none.
 */
describe('CORS', () => {
  let t: TestApp;
  let plain: TestApp;
  const origin = 'https://console.acme.example';

  beforeAll(async () => {
    t = await createTestApp({ config: { http: { cors: { origins: [origin], maxAgeSeconds: 300 } } } });
    plain = await createTestApp();
  });
  afterAll(async () => {
    await t?.close();
    await plain?.close();
  });

  it('answers a preflight from a listed origin with the methods and headers the API takes', async () => {
    const res = await fetch(`${t.baseUrl}/api/v1/parties`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'authorization, content-type, if-match' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('if-match');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');
    expect(res.headers.get('access-control-max-age')).toBe('300');
  });

  it('lets a listed origin read answers and their headers, errors included', async () => {
    const ok = await t.admin.get('/api/v1/tenant', { headers: { origin } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
    expect(ok.headers.get('vary')?.toLowerCase()).toContain('origin');
    expect(ok.headers.get('access-control-expose-headers')).toContain('ETag');
    expect(ok.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    const refused = await t.anonymous.get('/api/v1/tenant', { headers: { origin } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it('gives another origin no CORS header, so its browser blocks the call', async () => {
    const res = await t.admin.get('/api/v1/tenant', { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${t.baseUrl}/api/v1/parties`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('is off by default', async () => {
    const res = await plain.admin.get('/api/v1/tenant', { headers: { origin } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
