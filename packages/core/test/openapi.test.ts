import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createTestApp, type TestApp } from '@rapport/testing';
import { samplePlugin } from './fixtures/test-plugin.js';

type Operation = { operationId?: string; responses?: Record<string, unknown>; parameters?: Array<{ name: string; in: string; required?: boolean }>; requestBody?: unknown; 'x-plugin'?: string };
type Document = { openapi: string; info: { version: string; license?: unknown }; paths: Record<string, Record<string, Operation>> };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const toOpenApiPath = (koaPath: string) => koaPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: Document;

  const operations = (d: Document) =>
    Object.entries(d.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([m]) => METHODS.includes(m))
        .map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
    );

  beforeAll(async () => {
    t = await createTestApp({ plugins: [samplePlugin().plugin] });
    const res = await t.anonymous.get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    doc = res.body;
  });
  afterAll(() => t?.close());

  it('is a valid OpenAPI 3.1 document for this core version', async () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.version).toBe(t.app.version);
    // A linter's first complaint about an API document: whose licence it is under.
    expect(doc.info.license).toEqual({ name: 'MIT', identifier: 'MIT' });
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every kernel route and the sample plugin’s routes', () => {
    const keys = new Set(operations(doc).map((o) => o.key));
    const served = t.app.http.routes().map((r) => `${r.method.toUpperCase()} ${toOpenApiPath(r.fullPath)}`);
    expect(served.filter((k) => !keys.has(k))).toEqual([]);
    expect([...keys].filter((k) => !served.includes(k))).toEqual([]);
    for (const k of [
      'GET /api/v1/parties',
      'POST /api/v1/parties',
      'PATCH /api/v1/parties/{id}',
      'GET /api/v1/parties/{id}/timeline',
      'GET /api/v1/parties/{id}/relationships',
      'POST /api/v1/parties/merge',
      'GET /api/v1/relationships/{id}/timeline',
      'POST /api/v1/interactions',
      'POST /api/v1/observations',
      'GET /api/v1/indicators/{key}/summary',
      'GET /api/v1/meta/relationship-types',
      'GET /api/v1/tenant',
      'POST /api/v1/plugins/{name}/disable',
      'POST /api/v1/sample/tickets',
      'GET /api/v1/sample/tickets/{id}',
    ]) {
      expect(keys, k).toContain(k);
    }
    expect(doc.paths['/api/v1/sample/tickets'].post['x-plugin']).toBe('sample');
  });

  it('gives every operation responses and a unique operationId', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(30);
    const ids = ops.map((o) => o.op.operationId);
    for (const { key, op } of ops) {
      expect(op.operationId, key).toMatch(/^[A-Za-z][A-Za-z0-9]*$/);
      expect(Object.keys(op.responses ?? {}).length, key).toBeGreaterThan(0);
      expect(
        Object.keys(op.responses ?? {}).some((s) => /^2\d\d$/.test(s)),
        key,
      ).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents parameters, bodies and preconditions from the route schemas', () => {
    const list = doc.paths['/api/v1/parties'].get;
    expect(list.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(['limit', 'cursor', 'kind', 'q', 'email']));
    const patch = doc.paths['/api/v1/parties/{id}'].patch;
    expect(patch.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'id', in: 'path', required: true }), expect.objectContaining({ name: 'If-Match', in: 'header', required: true })]),
    );
    expect(patch.responses).toHaveProperty('412');
    expect(patch.responses).toHaveProperty('428');
    const create = doc.paths['/api/v1/parties'].post as Operation & { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown>; additionalProperties?: unknown } }> } };
    const schema = create.requestBody.content['application/json'].schema;
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['kind', 'name', 'contactPoints', 'attributes']));
    expect(schema.additionalProperties).toBe(false);
    expect(doc.paths['/api/v1/parties'].post.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]));
    // A public route lists the problems it answers besides its shape's: login refuses (401) and throttles (429).
    expect(Object.keys(doc.paths['/api/v1/auth/login'].post.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '429']));
  });

  it('drops a disabled plugin’s routes and brings them back on enable', async () => {
    expect((await t.admin.post('/api/v1/plugins/sample/disable')).status).toBe(200);
    try {
      const off = (await t.anonymous.get('/api/v1/openapi.json')).body as Document;
      expect(Object.keys(off.paths).filter((p) => p.startsWith('/api/v1/sample/'))).toEqual([]);
      expect(off.paths['/api/v1/parties']).toBeDefined();
    } finally {
      expect((await t.admin.post('/api/v1/plugins/sample/enable')).status).toBe(200);
    }
    const on = (await t.anonymous.get('/api/v1/openapi.json')).body as Document;
    expect(on.paths['/api/v1/sample/tickets']).toBeDefined();
  });
});
