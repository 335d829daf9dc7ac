import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestClient } from '@rapport/testing';
import crm, { type Deal, type Pipeline } from '../src/index.js';

// CRM deals opt into custom fields: values checked on create and change, filtered and sorted
// in GET /crm/deals (keyset pages both ways), and a rep's list still shows only its own deals.

let t: TestApp;
let pipeline: Pipeline;
let account: string;
let rep: string;
let repClient: TestClient;
const deals: Deal[] = [];

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm] });
  account = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Acme Ltd' })).body.id;
  rep = (await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Rita Rep' })).body.id;
  await t.admin.post('/api/v1/roles', { name: 'sales-rep', permissions: ['crm.deals:read', 'crm.deals:write', 'crm.pipelines:read', 'parties:read'] });
  repClient = await t.clientFor({ roles: ['sales-rep'], partyId: rep });
  pipeline = (await t.admin.post('/api/v1/crm/pipelines', { name: 'New business', stages: [{ name: 'Qualify' }, { name: 'Won', outcome: 'won' }] })).body;
  for (const body of [
    { recordType: 'crm.deal', key: 'region', kind: 'choice', label: 'Region', choices: ['north', 'south'] },
    { recordType: 'crm.deal', key: 'margin', kind: 'number', label: 'Margin', min: 0, max: 100 },
  ]) {
    const res = await t.admin.post('/api/v1/fields', body);
    expect(res.status, res.text).toBe(201);
  }
});
afterAll(() => t?.close());

const open = (client: TestClient, title: string, attributes?: Record<string, unknown>, owner: string | null = null) =>
  client.post('/api/v1/crm/deals', { title, pipelineId: pipeline.id, amount: 1000, currency: 'EUR', accountId: account, ownerPartyId: owner, ...(attributes ? { attributes } : {}) });

describe('custom fields on CRM deals', () => {
  it('checks values on create and change, like every record', async () => {
    expect((await open(t.admin, 'Bad', { region: 'west' })).status).toBe(400);
    expect((await open(t.admin, 'Bad', { margin: 'high' })).status).toBe(400);
    expect((await open(t.admin, 'Bad', { nope: 1 })).status).toBe(400);
    expect(Number((await t.app.knex('crm_deals').count({ n: '*' }))[0].n)).toBe(0);
    for (const [i, margin] of [30, 10, undefined, 30, 55, undefined, 5].entries()) {
      const res = await open(i % 2 ? t.admin : repClient, `Deal ${i}`, { region: i % 2 ? 'north' : 'south', ...(margin === undefined ? {} : { margin }) }, i % 2 ? null : rep);
      expect(res.status, res.text).toBe(201);
      expect(res.body.attributes).toEqual({ region: i % 2 ? 'north' : 'south', ...(margin === undefined ? {} : { margin }) });
      deals.push(res.body);
    }
    const first = deals[0];
    const changed = await t.admin.patch(`/api/v1/crm/deals/${first.id}`, { attributes: { margin: 40, region: null } }, { headers: { 'if-match': `"${first.version}"` } });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body.attributes).toEqual({ margin: 40 });
    expect((await t.admin.patch(`/api/v1/crm/deals/${first.id}`, { attributes: { margin: 400 } }, { headers: { 'if-match': `"${changed.body.version}"` } })).status).toBe(400);
    expect((await t.admin.get(`/api/v1/crm/deals/${first.id}`)).body.attributes).toEqual({ margin: 40 });
    deals[0] = changed.body;
    const updated = await t.outbox({ name: 'crm.deal.updated' });
    expect(updated.at(-1)?.payload.deal.attributes).toEqual({ margin: 40 });
  });

  it('filters and sorts the deal list on fields, pages forward and back, within the caller’s reach', async () => {
    const ids = (res: { body: { data: Deal[] } }) => res.body.data.map((d) => d.id);
    const margin = (d: Deal) => d.attributes.margin as number | undefined;
    const byMargin = [...deals].sort((a, b) => {
      const [x, y] = [margin(a), margin(b)];
      if (x === undefined || y === undefined) return x === y ? (a.id < b.id ? 1 : -1) : x === undefined ? 1 : -1;
      return x === y ? (a.id < b.id ? 1 : -1) : y - x;
    });
    const first = await t.admin.get('/api/v1/crm/deals?sort=-field.margin&limit=4');
    expect(first.status, first.text).toBe(200);
    const second = await t.admin.get(`/api/v1/crm/deals?sort=-field.margin&limit=4&cursor=${first.body.nextCursor}`);
    expect([...ids(first), ...ids(second)]).toEqual(byMargin.map((d) => d.id));
    expect(second.body.nextCursor).toBeNull();
    const back = await t.admin.get(`/api/v1/crm/deals?sort=-field.margin&limit=4&cursor=${second.body.prevCursor}`);
    expect(ids(back)).toEqual(ids(first));

    const north = await t.admin.get('/api/v1/crm/deals?field.region=north&field.margin.gte=10');
    expect(ids(north).sort()).toEqual(
      deals
        .filter((d) => d.attributes.region === 'north' && (margin(d) ?? -1) >= 10)
        .map((d) => d.id)
        .sort(),
    );
    // With the deal list's own filters and the title's.
    const titled = await t.admin.get('/api/v1/crm/deals?startsWith=deal%204&sort=field.margin');
    expect(ids(titled)).toEqual([deals[4].id]);
    // A rep sees its own deals only, however it sorts.
    const own = await repClient.get('/api/v1/crm/deals?sort=field.margin&limit=50');
    expect(own.status, own.text).toBe(200);
    expect(own.body.data.every((d: Deal) => d.ownerPartyId === rep)).toBe(true);
    expect(own.body.data.length).toBe(deals.filter((d) => d.ownerPartyId === rep).length);

    for (const query of ['sort=field.nope', 'sort=margin', 'field.region.gte=a', 'field.margin=x', 'sort=title&field.nope=1']) {
      const res = await t.admin.get(`/api/v1/crm/deals?${query}`);
      expect(res.status, query).toBe(400);
    }
    expect((await t.admin.get('/api/v1/crm/deals?sort=-title&field.region=south')).status).toBe(200);
  });

  it('lists crm.deal among the record types that take fields, and in the OpenAPI document', async () => {
    const types = await t.admin.get('/api/v1/fields/record-types');
    expect(types.body.data.map((r: { recordType: string }) => r.recordType)).toContain('crm.deal');
    const doc = await t.admin.get('/api/v1/openapi.json');
    const schemas = doc.body.components.schemas as Record<string, { properties?: Record<string, unknown> }>;
    const dealFields = Object.entries(schemas).find(([name]) => /Deal.*CustomFields/.test(name));
    expect(dealFields?.[1].properties).toHaveProperty('margin');
  });
});
