import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRapportClient, ok, RapportProblemError, type RapportClient } from '@rapport/client';
import { createTestApp, type TestApp } from '@rapport/testing';
import crm from '@rapport/plugin-crm';
import { firstDeal } from '../src/first-deal.js';
import config from '../rapport.config.js';

describe('examples/crm-only', () => {
  let t: TestApp;
  let client: RapportClient;
  let result: Awaited<ReturnType<typeof firstDeal>>;

  beforeAll(async () => {
    t = await createTestApp({ plugins: [crm] });
    client = createRapportClient({ baseUrl: t.baseUrl, apiKey: t.adminToken });
    result = await firstDeal(client);
  });
  afterAll(() => t?.close());

  it('is the kernel and the CRM plugin, nothing else', async () => {
    expect(config.plugins).toEqual(['@rapport/plugin-crm']);
    // Typed in the client: the route's response schema is checked against every answer in tests.
    const plugins = ok(await client.GET('/api/v1/plugins'));
    expect(plugins.data.map((p) => [p.name, p.state])).toEqual([['crm', 'enabled']]);
    const doc = (await (await fetch(`${t.baseUrl}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    const owners = new Set(Object.keys(doc.paths).map((p) => p.split('/')[3]));
    expect(owners.has('crm')).toBe(true);
    expect([...owners].filter((o) => o === 'prm' || o === 'hrm')).toEqual([]);
  });

  it('wins a deal, turns the lead into a customer, and shows it all on the account timeline', async () => {
    expect(result.deal.status).toBe('won');
    expect(result.customer.status).toBe('customer');
    const customers = ok(await client.GET('/api/v1/crm/customers', { params: { query: { status: 'customer' } } })).data;
    expect(customers.map((c) => c.party.name)).toEqual(['Contoso Bakeries']);
    const timeline = ok(await client.GET('/api/v1/parties/{id}/timeline', { params: { path: { id: result.account.id } } })).data;
    expect(timeline.map((i) => i.type).sort()).toEqual(['crm.call', 'crm.deal-update', 'crm.deal-update']);
    const winRate = ok(await client.GET('/api/v1/crm/reports/win-rate', { params: { query: { pipelineId: result.pipeline.id } } }));
    expect(winRate).toMatchObject({ won: 1, lost: 0, winRate: 1 });
  });

  it('reports a refused change as a problem and changes nothing', async () => {
    // customer → lead is not an allowed transition of crm.customer.
    const attempt = client
      .PATCH('/api/v1/relationships/{id}', {
        params: { path: { id: result.customer.id }, header: { 'If-Match': `"${result.customer.version}"` } },
        body: { status: 'lead' },
      })
      .then(ok);
    await expect(attempt).rejects.toBeInstanceOf(RapportProblemError);
    await expect(attempt).rejects.toMatchObject({ status: 400 });
    const kept = ok(await client.GET('/api/v1/relationships/{id}', { params: { path: { id: result.customer.id } } }));
    expect(kept).toMatchObject({ status: 'customer', version: result.customer.version });
  });
});
