import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { samplePlugin } from './fixtures/test-plugin.js';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ plugins: [samplePlugin().plugin] });
  });
  afterAll(() => t?.close());

  it('creates and reads a party', async () => {
    const created = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Acme', contactPoints: [{ kind: 'domain', value: 'acme.example' }] });
    expect(created.status).toBe(201);
    const read = await t.admin.get(`/api/v1/parties/${created.body.id}`);
    expect(read.body.name).toBe('Acme');
    const tenant = await t.admin.get('/api/v1/tenant');
    expect(tenant.body.selfPartyId).toBe(t.selfPartyId);
  });
});
