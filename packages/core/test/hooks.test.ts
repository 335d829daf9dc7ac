import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { definePlugin, type EventMeta } from '@rapport/core';
import { samplePlugin } from './fixtures/test-plugin.js';

declare module '@rapport/core' {
  interface HookMap {
    'hookprobe.noted': { name: string };
  }
}

/*
 * Filters run inside the write and may change or veto it; events leave only after commit,
 * once per changed record, each listener isolated from the others and from the write.
 */
describe('hooks and events', () => {
  let t: TestApp;
  const sample = samplePlugin();
  const committedSeen: Array<{ id: string; found: boolean }> = [];
  const healthy: string[] = [];
  const order: string[] = [];

  const probe = definePlugin({
    name: 'hookprobe',
    version: '1.0.0',
    setup(api) {
      api.hooks.filter('party.create', ({ input }) => {
        if (input.name === 'Explode Inc') throw new Error('connection string postgres://admin:hunter2@db leaked');
      });
      api.hooks.filter('party.create', ({ input }, ctx) => {
        if (input.name.startsWith('Noted')) ctx.emit('hookprobe.noted', { name: input.name });
      });
      // Priorities: lower runs first, whatever the registration order.
      api.hooks.filter(
        'interaction.create',
        ({ input }) => {
          if (input.subject?.startsWith('order:')) return { input: { ...input, subject: `${input.subject}>late` } };
        },
        { priority: 200 },
      );
      api.hooks.filter(
        'interaction.create',
        ({ input }) => {
          if (input.subject?.startsWith('order:')) return { input: { ...input, subject: `${input.subject}>early` } };
        },
        { priority: 10 },
      );
      api.hooks.on('party.created', () => {
        throw new Error('listener failure must stay here');
      });
      api.hooks.on('party.created', async ({ party }) => {
        // After commit, a fresh connection sees the row (inside the transaction it would not, and PGlite would deadlock).
        const row = await t.app.knex('rapport_parties').where({ tenant_id: t.tenantId, id: party.id }).first('id');
        committedSeen.push({ id: party.id, found: row !== undefined });
      });
      api.hooks.on('party.created', ({ party }) => {
        healthy.push(party.name);
      });
      api.hooks.on('interaction.created', ({ interaction }) => {
        order.push(interaction.subject ?? '');
      });
    },
  });

  const counts = async () => {
    const out: Record<string, number> = {};
    for (const table of ['rapport_parties', 'rapport_outbox', 'rapport_audit', 'rapport_contact_points']) {
      out[table] = Number((await t.app.knex(table).count({ n: '*' }).first())!.n);
    }
    return out;
  };

  beforeAll(async () => {
    t = await createTestApp({ plugins: [sample.plugin, probe] });
  });
  afterAll(() => t?.close());

  it('a vetoed write answers 422 naming the reason and leaves no row, event, outbox or audit row', async () => {
    const events = t.recordEvents('**');
    const before = await counts();
    const seenBefore = sample.seen.length;
    const vetoed = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Forbidden Corp', contactPoints: [{ kind: 'email', value: 'no@forbidden.example' }] });
    expect(vetoed.status).toBe(422);
    expect(vetoed.headers.get('content-type')).toContain('application/problem+json');
    expect(vetoed.body).toMatchObject({
      type: 'https://rapport.dev/problems/vetoed',
      title: 'Unprocessable Content',
      status: 422,
      detail: 'sample: that name is not allowed',
      plugin: 'sample',
    });
    await t.app.settled();
    expect(await counts()).toEqual(before);
    expect(await t.app.knex('rapport_parties').where({ name: 'Forbidden Corp' }).first()).toBeUndefined();
    expect(events).toEqual([]);
    expect(sample.seen.length).toBe(seenBefore);
  });

  it('a filter can change the payload', async () => {
    const created = await t.admin.post('/api/v1/parties', { kind: 'organization', name: '  Acme \t  Widgets   Ltd ' });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe('Acme Widgets Ltd');
    const stored = await t.app.knex('rapport_parties').where({ id: created.body.id }).first('name');
    expect(stored.name).toBe('Acme Widgets Ltd');
  });

  it('a filter that throws a plain error is a 500 that leaks nothing and writes nothing', async () => {
    const events = t.recordEvents('**');
    const before = await counts();
    const failed = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Explode Inc' });
    expect(failed.status).toBe(500);
    expect(failed.headers.get('content-type')).toContain('application/problem+json');
    expect(failed.body).toMatchObject({ type: 'https://rapport.dev/problems/internal', title: 'Internal Server Error', status: 500 });
    expect(failed.text).not.toContain('hunter2');
    expect(failed.text).not.toContain('hookprobe');
    expect(failed.text).not.toMatch(/at .*\.ts/); // no stack trace
    await t.app.settled();
    expect(await counts()).toEqual(before);
    expect(events).toEqual([]);
  });

  it('publishes only after commit; a failing listener affects neither the write nor the others', async () => {
    const created = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Committed Carl' });
    expect(created.status).toBe(201);
    await t.app.settled();
    expect(committedSeen).toContainEqual({ id: created.body.id, found: true });
    expect(committedSeen.every((s) => s.found)).toBe(true);
    expect(healthy).toContain('Committed Carl');
    expect(await t.app.knex('rapport_parties').where({ id: created.body.id }).first('id')).toBeDefined();
  });

  it('drops the events of a unit of work that rolls back, including those filters emitted', async () => {
    const events = t.recordEvents('**');
    const before = await counts();
    await expect(
      t.app.transaction(async (uow) => {
        await t.app.services.parties.create(uow, { kind: 'organization', name: 'Noted Rollback' });
        expect(uow.events.map((e) => e.name)).toEqual(['hookprobe.noted', 'party.created']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await t.app.settled();
    expect(events).toEqual([]);
    expect(await counts()).toEqual(before);
  });

  it('events a filter emits leave with the write, in the outbox too', async () => {
    const events = t.recordEvents('hookprobe.*');
    const created = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Noted Ltd' });
    expect(created.status).toBe(201);
    await t.app.settled();
    expect(events).toEqual([{ name: 'hookprobe.noted', payload: { name: 'Noted Ltd' } }]);
    expect((await t.outbox({ name: 'hookprobe.noted' })).map((e) => e.payload)).toEqual([{ name: 'Noted Ltd' }]);
  });

  it('listeners match eventemitter2 wildcards', async () => {
    const party = t.recordEvents('party.*');
    const everything = t.recordEvents('**');
    const exact = t.recordEvents('relationship.created');
    const created = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Wildcard Works' });
    const rel = await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: created.body.id, toPartyId: t.selfPartyId });
    expect(rel.status).toBe(201);
    await t.app.settled();
    expect(party.map((e) => e.name)).toEqual(['party.created']);
    expect(everything.map((e) => e.name)).toEqual(['party.created', 'relationship.created']);
    expect(exact).toEqual([{ name: 'relationship.created', payload: { relationship: rel.body } }]);
  });

  it('gives listeners the meta of the event, matching its outbox row', async () => {
    const metas: EventMeta[] = [];
    t.app.bus.on('hooks-test', 'party.created', (_payload, meta) => void metas.push(meta));
    const created = await t.admin.post('/api/v1/parties', { kind: 'unit', name: 'Meta Team' });
    await t.app.settled();
    expect(metas).toHaveLength(1);
    expect(metas[0]).toMatchObject({ name: 'party.created', tenantId: t.tenantId, actor: { kind: 'api-key', id: expect.any(String) } });
    const outbox = await t.app.knex('rapport_outbox').where({ id: metas[0].id }).first('name', 'payload');
    expect(outbox.name).toBe('party.created');
    expect(outbox.payload.party.id).toBe(created.body.id);
    const audit = await t.app.knex('rapport_audit').where({ event_id: metas[0].id }).first('action', 'record_type', 'record_id', 'actor_kind');
    expect(audit).toEqual({ action: 'party.created', record_type: 'party', record_id: created.body.id, actor_kind: 'api-key' });
  });

  it('runs filters by priority, then registration order', async () => {
    const created = await t.admin.post('/api/v1/interactions', { type: 'note', subject: 'order:', participants: [{ partyId: t.selfPartyId, role: 'author' }] });
    expect(created.status).toBe(201);
    expect(created.body.subject).toBe('order:>early>late');
  });

  it('creating an interaction with several participants emits one interaction.created', async () => {
    const other = await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Participant Pat' });
    const events = t.recordEvents('**');
    const outboxBefore = (await t.outbox()).length;
    const call = await t.admin.post('/api/v1/interactions', {
      type: 'sample.call',
      participants: [
        { partyId: t.selfPartyId, role: 'caller' },
        { partyId: other.body.id, role: 'callee' },
      ],
    });
    expect(call.status).toBe(201);
    await t.app.settled();
    expect(events.map((e) => e.name)).toEqual(['interaction.created']);
    expect((await t.outbox()).length).toBe(outboxBefore + 1);
  });

  it('a merge emits one event per changed record', async () => {
    const mk = async (name: string, email: string) => (await t.admin.post('/api/v1/parties', { kind: 'organization', name, contactPoints: [{ kind: 'email', value: email }] })).body;
    const survivor = await mk('Merge Survivor', 'ops@merge.example');
    const m1 = await mk('Merge One', 'ops@merge.example');
    const m2 = await mk('Merge Two', 'sales@merge.example');
    const third = await mk('Merge Third', 'x@third.example');
    const r1 = (await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: m1.id, toPartyId: third.id })).body;
    const r2 = (await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: third.id, toPartyId: m2.id })).body;
    // One interaction with both merged parties (one participation survives), one with m2 only.
    const both = (
      await t.admin.post('/api/v1/interactions', {
        type: 'note',
        participants: [
          { partyId: m1.id, role: 'a' },
          { partyId: m2.id, role: 'b' },
        ],
      })
    ).body;
    const single = (
      await t.admin.post('/api/v1/interactions', {
        type: 'note',
        participants: [
          { partyId: m2.id, role: 'a' },
          { partyId: third.id, role: 'b' },
        ],
      })
    ).body;
    const obs = (await t.admin.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: m1.id, value: 7 })).body;
    expect([r1.id, r2.id, both.id, single.id, obs.id].every(Boolean)).toBe(true);

    const events = t.recordEvents('**');
    const outboxBefore = (await t.outbox()).length;
    const merged = await t.admin.post('/api/v1/parties/merge', { survivorId: survivor.id, mergedIds: [m1.id, m2.id] });
    expect(merged.status).toBe(200);
    await t.app.settled();

    const byName = (name: string) => events.filter((e) => e.name === name);
    expect(
      byName('relationship.updated')
        .map((e) => e.payload.relationship.id)
        .sort(),
    ).toEqual([r1.id, r2.id].sort());
    expect(
      byName('interaction.updated')
        .map((e) => e.payload.interaction.id)
        .sort(),
    ).toEqual([both.id, single.id].sort());
    expect(byName('observation.updated').map((e) => e.payload.observation.id)).toEqual([obs.id]);
    expect(
      byName('party.merged')
        .map((e) => e.payload.mergedId)
        .sort(),
    ).toEqual([m1.id, m2.id].sort());
    expect(byName('party.updated').map((e) => e.payload.party.id)).toEqual([survivor.id]);
    expect(events).toHaveLength(2 + 2 + 1 + 2 + 1);
    expect((await t.outbox()).length).toBe(outboxBefore + events.length);

    // `previous` is the record before the merge, the payload the record after it.
    const moved = byName('relationship.updated').find((e) => e.payload.relationship.id === r1.id)!;
    expect(moved.payload.previous.fromPartyId).toBe(m1.id);
    expect(moved.payload.relationship.fromPartyId).toBe(survivor.id);
    const movedInteraction = byName('interaction.updated').find((e) => e.payload.interaction.id === single.id)!;
    expect(movedInteraction.payload.previous.participants.map((p: { partyId: string }) => p.partyId)).toContain(m2.id);
    expect(movedInteraction.payload.interaction.participants.map((p: { partyId: string }) => p.partyId)).toContain(survivor.id);
    expect(byName('observation.updated')[0].payload).toMatchObject({ previous: { subjectId: m1.id }, observation: { subjectId: survivor.id } });
  });
});
