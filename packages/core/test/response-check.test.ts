import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestApp, type TestApp } from '@rapport/testing';
import { AUTHENTICATED, definePlugin } from '@rapport/core';

/*
 * The response-schema check itself: a route whose answer breaks its declared schema (a wrong
 * type, a field the schema does not declare) is a 500 naming the route and the path while
 * responses are checked, and is sent as it is when they are not (production).
 */
const drifting = definePlugin({
  name: 'drift',
  version: '1.0.0',
  setup(api) {
    api.routes((r) => {
      const counter = z.object({ count: z.number(), items: z.array(z.object({ id: z.string() })) });
      r.get('/wrong-type', {
        summary: 'Answers text where the schema says a number',
        permission: AUTHENTICATED,
        audience: 'any',
        response: counter,
        handler: () => ({ count: 'three', items: [] }),
      });
      r.get('/extra-field', {
        summary: 'Answers a field the schema does not declare',
        permission: AUTHENTICATED,
        audience: 'any',
        response: counter,
        handler: () => ({ count: 1, items: [{ id: 'a', secret: 'leaks' }] }),
      });
      r.get('/faithful', {
        summary: 'Answers what its schema says',
        permission: AUTHENTICATED,
        audience: 'any',
        response: counter,
        handler: () => ({ count: 1, items: [{ id: 'a' }] }),
      });
    });
  },
});

describe('response schemas, checked', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ plugins: [drifting] });
  }, 60_000);
  afterAll(() => t?.close());

  it('a wrong type is a ResponseSchemaError naming the route and the path', async () => {
    const res = await t.admin.get('/api/v1/drift/wrong-type');
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.type).toContain('response-schema-mismatch');
    expect(res.body.route).toBe('GET /api/v1/drift/wrong-type');
    expect(res.body.detail).toContain('GET /api/v1/drift/wrong-type');
    expect(res.body.detail).toMatch(/count: .*number/);
  });

  it('a field the schema does not declare is one too, with its full path', async () => {
    const res = await t.admin.get('/api/v1/drift/extra-field');
    expect(res.status).toBe(500);
    expect(res.body.problems).toEqual(['items[0].secret: not in the response schema']);
    expect(res.body.detail).toContain('GET /api/v1/drift/extra-field');
  });

  it('an answer that matches its schema goes through unchanged', async () => {
    const res = await t.admin.get('/api/v1/drift/faithful');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ count: 1, items: [{ id: 'a' }] });
  });
});

describe('response schemas, unchecked', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ plugins: [drifting], config: { http: { checkResponses: false } } });
  }, 60_000);
  afterAll(() => t?.close());

  it('sends what the route answered, as production does', async () => {
    const wrong = await t.admin.get('/api/v1/drift/wrong-type');
    expect(wrong.status).toBe(200);
    expect(wrong.body).toEqual({ count: 'three', items: [] });
    const extra = await t.admin.get('/api/v1/drift/extra-field');
    expect(extra.status).toBe(200);
    expect(extra.body).toEqual({ count: 1, items: [{ id: 'a', secret: 'leaks' }] });
  });
});
