import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { coreServices, definePlugin, newId } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';
import crm from '@rapport/plugin-crm';
import prm from '@rapport/plugin-prm';

/*
 * Answers the HTTP layer owes every route: a database constraint the write ran into is the
 * client's 409 (never a 500), a body a route cannot read is a 415 that changes nothing, an
 * error never grows with the input that caused it, and odd query keys are refused like others.
 */
const uniq = definePlugin({
  name: 'uniq',
  version: '1.0.0',
  deps: { db: coreServices.database },
  migrations: [
    {
      name: '0001_names',
      up: (knex) =>
        knex.schema.createTable('uniq_names', (t) => {
          t.uuid('tenant_id').notNullable();
          t.uuid('id').notNullable();
          t.text('display_name').notNullable();
          t.primary(['tenant_id', 'id']);
          t.unique(['tenant_id', 'display_name']);
        }),
      down: (knex) => knex.schema.dropTable('uniq_names'),
    },
  ],
  setup(api, { db }) {
    api.permissions.define({ key: 'uniq.names:write' });
    api.routes((r) =>
      r.post('/names', {
        summary: 'Create a name (no check of its own: the unique constraint decides)',
        permission: 'uniq.names:write',
        body: z.strictObject({ displayName: z.string().min(1).max(100) }),
        response: z.object({ id: z.uuid(), displayName: z.string() }),
        handler: (ctx) =>
          ctx.transaction(async (uow) => {
            const id = newId();
            await db.in(uow)('uniq_names').insert({ id, display_name: ctx.body.displayName });
            return { id, displayName: ctx.body.displayName };
          }),
      }),
    );
  },
});

describe('what the HTTP layer answers', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ plugins: [uniq] });
  });
  afterAll(() => t?.close());

  it('answers concurrent identical creates with one 201 and 409s naming the field, never a 500', async () => {
    const answers = await Promise.all([1, 2, 3, 4].map(() => t.admin.post('/api/v1/uniq/names', { displayName: 'Same name' })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409]);
    for (const conflict of answers.filter((a) => a.status === 409)) {
      expect(conflict.headers.get('content-type')).toContain('application/problem+json');
      expect(conflict.body).toMatchObject({ status: 409, fields: ['displayName'] });
      expect(conflict.body.detail).toContain('displayName');
      // The conflicting value is not echoed: in another design it could be another tenant's.
      expect(JSON.stringify(conflict.body)).not.toContain('Same name');
    }
    expect(Number((await t.app.knex('uniq_names').count({ n: '*' }).first())!.n)).toBe(1);
  });

  it('refuses a body a body-less action route would ignore (415) and changes nothing', async () => {
    const party = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Keep Me' })).body;
    const asText = await t.admin.request('POST', `/api/v1/parties/${party.id}/archive`, { rawBody: 'archive it', headers: { 'content-type': 'text/plain' } });
    expect(asText.status).toBe(415);
    expect(asText.headers.get('content-type')).toContain('application/problem+json');
    const asForm = await t.admin.request('POST', `/api/v1/parties/${party.id}/archive`, { rawBody: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(asForm.status).toBe(415);
    expect((await t.admin.get(`/api/v1/parties/${party.id}`)).body.archivedAt).toBeNull();
    // No body at all, or an empty JSON object, is what such a route takes.
    expect((await t.admin.post(`/api/v1/parties/${party.id}/archive`)).status).toBe(200);
  });

  it('refuses a __proto__ query key on a route that takes no query, like any other key', async () => {
    const res = await t.admin.get('/api/v1/tenant?__proto__=x');
    expect(res.status).toBe(400);
    expect(res.body.detail).toContain('__proto__');
  });

  it('keeps an error answer small whatever the size of the bad input', async () => {
    const many = Array.from({ length: 20_000 }, () => ({ kind: 'email', value: 'not an address' }));
    const res = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Ada', contactPoints: many });
    expect(res.status).toBe(400);
    expect(res.text.length).toBeLessThan(30_000);
    const huge = 'x'.repeat(600_000);
    const pattern = await t.admin.post('/api/v1/webhooks', { url: 'https://hooks.example.com/x', events: [huge] });
    expect(pattern.status).toBe(400);
    expect(pattern.text.length).toBeLessThan(10_000);
    expect(Number((await t.app.knex('rapport_webhooks').count({ n: '*' }).first())!.n)).toBe(0);
  });
});

describe('concurrent identical creates of the plugins', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ plugins: [crm, prm] });
  });
  afterAll(() => t?.close());

  // Each route checks for a duplicate and then inserts: two requests at once both pass the
  // check, and the unique constraint decides. The loser is the client's 409, never a 500.
  const creates: Array<[string, object, string]> = [
    ['/api/v1/crm/pipelines', { name: 'Same pipeline', stages: [{ name: 'Open' }, { name: 'Won', outcome: 'won' }, { name: 'Lost', outcome: 'lost' }] }, 'crm_pipelines'],
    ['/api/v1/crm/views', { resource: 'deals', name: 'Same view', filters: {} }, 'crm_saved_views'],
    ['/api/v1/prm/programs', { name: 'Same program', tiers: [{ name: 'silver', criteria: {} }] }, 'prm_programs'],
    ['/api/v1/prm/mdf/budgets', { program: 'Same program', period: '2030', currency: 'EUR', amount: 1000 }, 'prm_mdf_budgets'],
    ['/api/v1/prm/courses', { title: 'Same course' }, 'prm_courses'],
  ];

  it.each(creates)('POST %s four times at once: one 201, three 409 problem+json, one row', async (path, body, table) => {
    const answers = await Promise.all([1, 2, 3, 4].map(() => t.admin.post(path, body)));
    expect(answers.map((a) => a.status).sort(), answers.map((a) => a.text).join('\n')).toEqual([201, 409, 409, 409]);
    for (const conflict of answers.filter((a) => a.status === 409)) {
      expect(conflict.headers.get('content-type')).toContain('application/problem+json');
      expect(conflict.body.status).toBe(409);
    }
    expect(Number((await t.app.knex(table).where({ tenant_id: t.tenantId }).count({ n: '*' }).first())!.n)).toBe(1);
  });
});
