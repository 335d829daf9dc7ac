import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, type TestResponse } from '@rapport/testing';
import { encodeCursor } from '@rapport/core';
import { samplePlugin } from './fixtures/test-plugin.js';

function expectProblem(res: TestResponse, status: number, label = '') {
  expect(res.status, `${label} ${res.text}`).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body).toMatchObject({ type: expect.stringMatching(/^https:\/\/rapport\.dev\/problems\//), title: expect.any(String), status });
}

describe('HTTP contract', () => {
  let t: TestApp;
  const count = async (table: string) => Number((await t.app.knex(table).count({ n: '*' }).first())!.n);

  beforeAll(async () => {
    t = await createTestApp({ plugins: [samplePlugin().plugin] });
  });
  afterAll(() => t?.close());

  describe('If-Match on PATCH', () => {
    let id: string;

    beforeAll(async () => {
      const created = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Versioned' });
      id = created.body.id;
      expect(created.headers.get('etag')).toBe('"1"');
    });

    it('serves the version as the ETag', async () => {
      const read = await t.admin.get(`/api/v1/parties/${id}`);
      expect(read.headers.get('etag')).toBe('"1"');
    });

    it('requires If-Match (428)', async () => {
      const res = await t.admin.patch(`/api/v1/parties/${id}`, { name: 'No Precondition' });
      expectProblem(res, 428);
      expect((await t.admin.get(`/api/v1/parties/${id}`)).body.name).toBe('Versioned');
    });

    it('refuses a stale version with 412 and the current version', async () => {
      const res = await t.admin.patch(`/api/v1/parties/${id}`, { name: 'Stale' }, { headers: { 'if-match': '"7"' } });
      expectProblem(res, 412);
      expect(res.body.currentVersion).toBe(1);
      expect((await t.admin.get(`/api/v1/parties/${id}`)).body.name).toBe('Versioned');
    });

    it('refuses an If-Match that is not a version (400)', async () => {
      expectProblem(await t.admin.patch(`/api/v1/parties/${id}`, { name: 'x' }, { headers: { 'if-match': 'yesterday' } }), 400);
    });

    it('applies a current version and bumps the ETag (weak or strong)', async () => {
      const first = await t.admin.patch(`/api/v1/parties/${id}`, { name: 'Versioned Two' }, { headers: { 'if-match': '"1"' } });
      expect(first.status).toBe(200);
      expect(first.body.version).toBe(2);
      expect(first.headers.get('etag')).toBe('"2"');
      const second = await t.admin.patch(`/api/v1/parties/${id}`, { name: 'Versioned Three' }, { headers: { 'if-match': 'W/"2"' } });
      expect(second.status).toBe(200);
      expect(second.headers.get('etag')).toBe('"3"');
      // The version read before the second change is now stale.
      expectProblem(await t.admin.patch(`/api/v1/parties/${id}`, { name: 'Lost Update' }, { headers: { 'if-match': '"2"' } }), 412);
    });

    it('applies If-Match to archive when sent', async () => {
      expectProblem(await t.admin.post(`/api/v1/parties/${id}/archive`, undefined, { headers: { 'if-match': '"1"' } }), 412);
      const archived = await t.admin.post(`/api/v1/parties/${id}/archive`, undefined, { headers: { 'if-match': '"3"' } });
      expect(archived.status).toBe(200);
      expect(archived.headers.get('etag')).toBe('"4"');
    });
  });

  describe('Idempotency-Key on POST', () => {
    it('replays the first response for the same key and body, creating one row', async () => {
      const before = await count('rapport_parties');
      const body = { kind: 'organization', name: 'Idempotent Inc' };
      const headers = { 'idempotency-key': 'create-idempotent-inc' };
      const first = await t.admin.post('/api/v1/parties', body, { headers });
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const again = await t.admin.post('/api/v1/parties', body, { headers });
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(await count('rapport_parties')).toBe(before + 1);
      expect((await t.outbox({ name: 'party.created' })).filter((e) => e.payload.party.id === first.body.id)).toHaveLength(1);
    });

    it('refuses the same key with a different body (422)', async () => {
      const headers = { 'idempotency-key': 'reused-key' };
      expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: 'First' }, { headers })).status).toBe(201);
      const before = await count('rapport_parties');
      const reuse = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Second' }, { headers });
      expectProblem(reuse, 422);
      expect(reuse.body.type).toBe('https://rapport.dev/problems/idempotency-key-reuse');
      expect(await count('rapport_parties')).toBe(before);
    });

    it('keeps keys per principal and per route', async () => {
      const other = await t.clientFor({ roles: ['admin'] });
      const headers = { 'idempotency-key': 'shared-key' };
      const mine = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Mine' }, { headers });
      const theirs = await other.post('/api/v1/parties', { kind: 'person', name: 'Mine' }, { headers });
      expect(theirs.status).toBe(201);
      expect(theirs.body.id).not.toBe(mine.body.id);
      expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    });

    it('does not record a failed request, so a corrected retry runs', async () => {
      const headers = { 'idempotency-key': 'fix-and-retry' };
      expectProblem(await t.admin.post('/api/v1/parties', { kind: 'person' }, { headers }), 400);
      const fixed = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Fixed' }, { headers });
      expect(fixed.status).toBe(201);
    });

    it('refuses an overlong key (400)', async () => {
      expectProblem(await t.admin.post('/api/v1/parties', { kind: 'person', name: 'x' }, { headers: { 'idempotency-key': 'k'.repeat(201) } }), 400);
    });
  });

  describe('pagination', () => {
    beforeAll(async () => {
      // 205 more parties than the cap, in one multi-row write.
      await t.app.transaction((uow) =>
        t.app.services.parties.insertMany(
          uow,
          Array.from({ length: 205 }, (_, i) => ({ kind: 'person' as const, name: `Bulk ${i}` })),
        ),
      );
    });

    it('caps limit at 200 and pages the rest', async () => {
      const first = await t.admin.get('/api/v1/parties?kind=person&limit=1000');
      expect(first.status).toBe(200);
      expect(first.body.data).toHaveLength(200);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const rest = await t.admin.get(`/api/v1/parties?kind=person&limit=200&cursor=${first.body.nextCursor}`);
      expect(rest.body.data.length).toBeGreaterThan(0);
      const all = [...first.body.data, ...rest.body.data].map((p: { id: string }) => p.id);
      expect(new Set(all).size).toBe(all.length);
      const defaults = await t.admin.get('/api/v1/parties?kind=person');
      expect(defaults.body.data).toHaveLength(50);
    });

    it('refuses a limit that is not a positive integer', async () => {
      for (const limit of ['0', '-1', 'abc', '2.5', '']) expectProblem(await t.admin.get(`/api/v1/parties?limit=${limit}`), 400);
    });

    it('refuses a cursor that is not one of ours (400)', async () => {
      const party = (await t.admin.get('/api/v1/parties?limit=1')).body.data[0];
      const timelineShape = encodeCursor(['2024-01-01T00:00:00.000Z', party.id]);
      const cursors = [
        'garbage!!',
        encodeCursor(['not-a-uuid']),
        encodeCursor([1, 2, 3]),
        Buffer.from('{"a":1}').toString('base64url'),
        encodeCursor(['1', party.id]), // Date.parse accepts "1", PostgreSQL does not
        encodeCursor(['2024-02-31T00:00:00Z', party.id]),
        encodeCursor(['+275760-09-13T00:00:00.000Z', party.id]),
        encodeCursor(['0000-01-01T00:00:00.000Z', party.id]),
        encodeCursor(['2024-01-01 00:00:00', party.id]),
        'x'.repeat(600),
      ];
      for (const cursor of cursors) {
        expectProblem(await t.admin.get(`/api/v1/parties?cursor=${encodeURIComponent(cursor)}`), 400, cursor);
        expectProblem(await t.admin.get(`/api/v1/parties/${party.id}/timeline?cursor=${encodeURIComponent(cursor)}`), 400, cursor);
        expectProblem(await t.admin.get(`/api/v1/interactions?cursor=${encodeURIComponent(cursor)}`), 400, cursor);
        expectProblem(await t.admin.get(`/api/v1/observations?cursor=${encodeURIComponent(cursor)}`), 400, cursor);
      }
      // A well-formed cursor of another list.
      expectProblem(await t.admin.get(`/api/v1/parties?cursor=${timelineShape}`), 400);
      expect((await t.admin.get(`/api/v1/parties/${party.id}/timeline?cursor=${timelineShape}`)).status).toBe(200);
      expectProblem(await t.admin.get(`/api/v1/parties/${party.id}/timeline?cursor=${encodeCursor([party.id])}`), 400);
    });
  });

  describe('infrastructure routes and errors', () => {
    it('answers /health and /ready without authentication', async () => {
      const health = await t.anonymous.get('/health');
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: 'ok' });
      const ready = await t.anonymous.get('/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({ status: 'ready', database: t.kind });
    });

    it('answers an unknown route with a 404 problem', async () => {
      for (const path of ['/api/v1/nothing-here', '/api/v1/parties/extra/segments/here', '/favicon.ico', '/api/v2/parties', '/api/v1/sample/unknown']) {
        const res = await t.admin.get(path);
        expectProblem(res, 404);
        expect(res.body.detail).toContain(path);
      }
    });

    it('answers a wrong method with a 405 problem and Allow', async () => {
      const res = await t.admin.delete('/api/v1/parties');
      expectProblem(res, 405);
      expect(res.headers.get('allow')).toContain('GET');
      expect(res.headers.get('allow')).toContain('POST');
      const plugin = await t.admin.delete('/api/v1/sample/tickets');
      expectProblem(plugin, 405);
      expect(plugin.headers.get('allow')).toContain('POST');
      expectProblem(await t.admin.put(`/api/v1/parties/${t.selfPartyId}`, { name: 'x' }), 405);
      // A method no route knows is a 501, not a 500.
      expectProblem(await t.admin.request('PROPFIND', '/api/v1/parties'), 501);
    });

    it('matches paths as the router does: escapes decoded, any letter case, a trailing slash, HEAD for GET', async () => {
      const id = t.selfPartyId;
      for (const path of [`/api/v1/parties/${id.replace(/-/g, '%2D')}`, `/api/v1/parties/${id}/`, `/api/v1/Parties/${id}`, `/API/V1/PARTIES/${id}`]) {
        const res = await t.admin.get(path);
        expect(res.status, `${path}: ${res.text}`).toBe(200);
        expect(res.body.id, path).toBe(id);
      }
      const head = await t.admin.request('HEAD', `/api/v1/parties/${id}`);
      expect(head.status).toBe(200);
      expect(head.headers.get('etag')).toMatch(/^"\d+"$/);
      // A plugin's route with a parameter gets it decoded too (the 404 names the id its handler looked for).
      const ticket = crypto.randomUUID();
      const missing = await t.admin.get(`/api/v1/sample/tickets/${ticket.replace(/-/g, '%2d')}`);
      expectProblem(missing, 404);
      expect(missing.body.detail).toContain(ticket);
      // Matched routes and unmatched ones are told apart as before.
      expectProblem(await t.admin.get(`/api/v1/parties/${id}/nothing`), 404);
      expectProblem(await t.admin.post(`/api/v1/parties/${id}`, {}), 405);
    });

    it('requires authentication and permissions, deny by default', async () => {
      expectProblem(await t.anonymous.get('/api/v1/parties'), 401);
      expectProblem(await t.admin.get('/api/v1/parties', { token: 'rpk_not-a-real-key' }), 401);
      expectProblem(await t.admin.get('/api/v1/parties', { headers: { authorization: 'Basic abc' }, token: null }), 401);
      const viewer = await t.clientFor({ roles: ['viewer'] });
      expect((await viewer.get('/api/v1/parties')).status).toBe(200);
      expectProblem(await viewer.post('/api/v1/parties', { kind: 'person', name: 'Nope' }), 403);
      expectProblem(await viewer.post('/api/v1/plugins/sample/disable'), 403);
      const nobody = await t.clientFor({ roles: [] });
      expectProblem(await nobody.get('/api/v1/parties'), 403);
    });

    it('answers odd requests without a 5xx', async () => {
      const odd: Array<[string, Promise<TestResponse>, number]> = [
        [
          'gzip that is not gzip',
          t.admin.request('POST', '/api/v1/parties', { rawBody: '{"kind":"person","name":"x"}', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }),
          400,
        ],
        [
          'an unknown content encoding',
          t.admin.request('POST', '/api/v1/parties', { rawBody: '{"kind":"person","name":"x"}', headers: { 'content-type': 'application/json', 'content-encoding': 'rot13' } }),
          415,
        ],
        ['a malformed percent-encoding in the path', t.admin.get('/api/v1/parties/%E0%A4%A'), 400],
        ['deeply nested JSON', t.admin.request('POST', '/api/v1/parties', { rawBody: `{"kind":"person","name":"x","attributes":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}` }), 400],
      ];
      for (const [what, pending, status] of odd) {
        const res = await pending;
        expect(res.status, `${what}: ${res.text}`).toBe(status);
        expect(res.headers.get('content-type'), what).toContain('application/problem+json');
      }
      const head = await t.admin.request('HEAD', '/api/v1/parties');
      expect(head.status).toBe(200);
      const options = await t.admin.request('OPTIONS', '/api/v1/parties');
      expect(options.status).toBe(200);
      expect(options.headers.get('allow')).toContain('POST');
    });

    it('names where a NUL character or too deep nesting was found, and writes nothing', async () => {
      const before = await count('rapport_parties');
      const nul = await t.admin.post('/api/v1/parties', {
        kind: 'person',
        name: 'Nul',
        contactPoints: [
          { kind: 'email', value: 'a@b.example' },
          { kind: 'email', value: 'c\u0000@d.example' },
        ],
      });
      expectProblem(nul, 400);
      expect(nul.body.errors).toEqual([{ path: 'body.contactPoints.1.value', message: 'contains a NUL character' }]);
      const surrogate = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Half \ud83d', attributes: { ['key\udc00']: 1 } });
      expectProblem(surrogate, 400);
      expect(surrogate.body.errors).toEqual([{ path: 'body.name', message: 'contains a lone UTF-16 surrogate (not a Unicode character)' }]);
      const inKey = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Whole 😀', attributes: { ['key\udc00']: 1 } });
      expect(inKey.body.errors).toEqual([{ path: 'body.attributes.key\\udc00', message: 'contains a lone UTF-16 surrogate (not a Unicode character)' }]);
      let deep: unknown = 'bottom';
      for (let i = 0; i < 40; i++) deep = { next: deep };
      const nested = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Deep', attributes: deep });
      expectProblem(nested, 400);
      expect(nested.body.errors[0].path).toBe(`body.attributes${'.next'.repeat(31)}`);
      expect(await count('rapport_parties')).toBe(before);
      // Cursors are input too: a string key PostgreSQL cannot compare is a 400, not a 500.
      for (const key of ['a\u0000', 'b\ud800']) {
        const cursor = Buffer.from(JSON.stringify([key])).toString('base64url');
        expectProblem(await t.admin.get(`/api/v1/roles?cursor=${cursor}`), 400);
      }
    });

    it('counts committed events by name in rapport_events_total, and nothing for a refused write', async () => {
      const scrape = async () => {
        const res = await t.admin.get('/metrics');
        expect(res.status).toBe(200);
        return (name: string) => Number(new RegExp(`^rapport_events_total\\{name="${name.replace(/\./g, '\\.')}"\\} (\\d+)$`, 'm').exec(res.text)?.[1] ?? 0);
      };
      const before = await scrape();
      const created = await Promise.all(['Counted one', 'Counted two'].map(async (name) => (await t.admin.post('/api/v1/parties', { kind: 'organization', name })).body as { id: string }));
      expect((await t.admin.patch(`/api/v1/parties/${created[0].id}`, { name: 'Counted once more' }, { headers: { 'if-match': '"1"' } })).status).toBe(200);
      // Refused before commit (stale version): no event, so no count.
      expect((await t.admin.patch(`/api/v1/parties/${created[1].id}`, { name: 'Stale' }, { headers: { 'if-match': '"7"' } })).status).toBe(412);
      const after = await scrape();
      expect(after('party.created') - before('party.created')).toBe(2);
      expect(after('party.updated') - before('party.updated')).toBe(1);
      expect((await t.admin.get('/metrics')).text).toContain('# TYPE rapport_events_total counter');
    });

    it('counts requests by route template, status and method for Prometheus (metrics:read)', async () => {
      const scrape = async () => {
        const res = await t.admin.get('/metrics');
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain('text/plain');
        return (labels: string) => Number(new RegExp(`^rapport_http_request_duration_seconds_count\\{${labels}\\} (\\d+)$`, 'm').exec(res.text)?.[1] ?? 0);
      };
      const party = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Measured' })).body;
      const before = await scrape();
      for (let i = 0; i < 3; i++) expect((await t.admin.get(`/api/v1/parties/${party.id}`)).status).toBe(200);
      expect((await t.admin.get('/api/v1/parties/0190c9a4-0000-7000-8000-00000000abcd')).status).toBe(404);
      expect((await t.admin.request('PROPFIND', '/api/v1/parties')).status).toBe(501);
      expect((await t.anonymous.get('/health')).status).toBe(200);
      expect((await t.anonymous.get('/api/v1/openapi.json')).status).toBe(200);
      expect((await t.anonymous.get('/docs')).status).toBe(200);
      const after = await scrape();
      const added = (labels: string) => after(labels) - before(labels);
      // Raw paths (ids) never become labels; any method a client invents is OTHER.
      expect(added('method="GET",route="/api/v1/parties/:id",status="200"')).toBe(3);
      expect(added('method="GET",route="/api/v1/parties/:id",status="404"')).toBe(1);
      expect(added('method="OTHER",route="unmatched",status="501"')).toBe(1);
      // The public endpoints by name, not as "unmatched".
      expect(added('method="GET",route="/health",status="200"')).toBe(1);
      expect(added('method="GET",route="/api/v1/openapi.json",status="200"')).toBe(1);
      expect(added('method="GET",route="/docs",status="200"')).toBe(1);
      const text = (await t.admin.get('/metrics')).text;
      expect(text).not.toContain(party.id);
      expect(text).toMatch(/^rapport_process_cpu_seconds_total /m);
      // A Prometheus histogram: cumulative buckets in order of `le`, the last (+Inf) equal to
      // the count, and a sum, for each series.
      const series = 'method="GET",route="/api/v1/parties/:id",status="200"';
      expect(text).toContain('# TYPE rapport_http_request_duration_seconds histogram');
      const buckets = [...text.matchAll(new RegExp(`^rapport_http_request_duration_seconds_bucket\\{le="([^"]+)",${series}\\} (\\d+)$`, 'gm'))].map((m) => [m[1], Number(m[2])] as const);
      expect(buckets.map(([le]) => le)).toEqual(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '+Inf']);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i][1]).toBeGreaterThanOrEqual(buckets[i - 1][1]);
      const count = Number(new RegExp(`^rapport_http_request_duration_seconds_count\\{${series}\\} (\\d+)$`, 'm').exec(text)?.[1]);
      expect(count).toBeGreaterThanOrEqual(3);
      expect(buckets.at(-1)![1]).toBe(count);
      const sum = Number(new RegExp(`^rapport_http_request_duration_seconds_sum\\{${series}\\} ([\\d.e-]+)$`, 'm').exec(text)?.[1]);
      expect(sum).toBeGreaterThan(0);

      expectProblem(await t.anonymous.get('/metrics'), 401);
      expectProblem(await (await t.clientFor({ roles: ['viewer'] })).get('/metrics'), 403);
    });

    it('carries a request id in the header and in problems', async () => {
      const res = await t.admin.get('/api/v1/nothing', { headers: { 'x-request-id': 'trace-123' } });
      expect(res.headers.get('x-request-id')).toBe('trace-123');
      expect(res.body.requestId).toBe('trace-123');
      const generated = await t.admin.get('/health');
      expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});
