import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import crm from '@rapport/plugin-crm';
import prm from '@rapport/plugin-prm';
import hrm from '@rapport/plugin-hrm';
import loyalty from '../../third-party-plugin/src/index.js';

/*
 * Every route of the whole system — the kernel, CRM, PRM, HRM and a third-party plugin —
 * says what it answers: a response schema (which the test kit parses every answer of every
 * test with, so the OpenAPI document and the typed client cannot drift from the server), a
 * raw media type (CSV), or 204 No Content. A new route without one fails here by name.
 */
describe('the route contract of the full suite', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ plugins: [crm, prm, hrm, loyalty] });
  });
  afterAll(() => t?.close());

  it('serves routes of every owner', () => {
    const owners = new Set(t.app.http.routes().map((r) => r.owner));
    expect([...owners].sort()).toEqual(['core', 'crm', 'hrm', 'loyalty', 'prm']);
  });

  it('declares a response schema, a raw media type or 204 for every route', () => {
    const undeclared = t.app.http
      .routes()
      .filter((r) => !r.response && !(r.raw && r.responseContentType) && r.status !== 204)
      .map((r) => `${r.method.toUpperCase()} ${r.fullPath}`);
    expect(undeclared).toEqual([]);
  });

  it('documents each declared response in OpenAPI', async () => {
    const doc = (await t.anonymous.get('/api/v1/openapi.json')).body as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>> };
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const success = Object.entries(operation.responses).filter(([status]) => status.startsWith('2'));
        if (success.length === 0) missing.push(`${method} ${path}: no success response`);
        for (const [status, response] of success) {
          if (status === '204') continue;
          const schemas = Object.values(response.content ?? {}).map((c) => c.schema);
          if (schemas.length === 0 || schemas.some((s) => s === undefined)) missing.push(`${method} ${path} ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
