import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRef } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';

const bulkEvents = { noted: eventRef<{ interactionId: string; note: string[] }>('bulk.test.noted'), big: eventRef<{ interactionId: string; blob: string }>('bulk.test.big') };

/*
 * Multi-row writes of interactions, their participants, the outbox and the audit log: a
 * few rows as one array parameter per column (unnest), and on PostgreSQL a bulk of them
 * (COPY_MIN_ROWS and more) by COPY. Values that array literals or COPY's text format must
 * escape (quotes, commas, braces, backslashes, tabs, line breaks, the word NULL, real
 * nulls) come back unchanged either way.
 */
const AWKWARD = ['a "quoted", {braced} value', 'back\\slash \\" and \\\\', 'NULL', '', 'ünïcødé ✓ 日本', "it's\ttabbed\nand new-lined"];

describe('bulk writes through unnest and COPY', () => {
  let t: TestApp;
  let partyId: string;

  beforeAll(async () => {
    t = await createTestApp();
    partyId = (await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Ada' })).body.id;
  });
  afterAll(() => t?.close());

  // 6 rows: unnest everywhere; 120 rows: COPY on PostgreSQL.
  it.each([1, 20])('stores awkward strings, nulls and times exactly, with their participants, outbox and audit rows (%i× the set)', async (copies) => {
    const occurredAt = '2024-05-01T14:30:00.123Z';
    const texts = Array.from({ length: copies }, () => AWKWARD).flat();
    const created = await t.app.transaction(async (uow) => {
      const interactions = await t.app.services.interactions.insertMany(
        uow,
        texts.map((text, i) => ({
          type: 'note',
          occurredAt,
          subject: text === '' ? undefined : text,
          summary: i % 2 ? text : undefined,
          attributes: {},
          participants: [{ partyId, role: 'participant' }],
        })),
      );
      // An event of our own carries the awkward strings through the outbox's jsonb columns.
      for (const interaction of interactions) uow.emit(bulkEvents.noted, { interactionId: interaction.id, note: AWKWARD }, { type: 'interaction', id: interaction.id });
      return interactions;
    });
    expect(created).toHaveLength(texts.length);

    const rows = await t.app
      .knex('rapport_interactions')
      .whereIn(
        'id',
        created.map((c) => c.id),
      )
      .select('id', 'subject', 'summary', 'occurred_at', 'tenant_id');
    const byId = new Map(rows.map((r: any) => [r.id, r]));
    texts.forEach((text, i) => {
      const row: any = byId.get(created[i].id);
      expect(row.subject).toBe(text === '' ? null : text);
      expect(row.summary).toBe(i % 2 ? text : null);
      expect(new Date(row.occurred_at).toISOString()).toBe(occurredAt);
      expect(row.tenant_id).toBe(t.tenantId);
    });

    const participants = await t.app
      .knex('rapport_interaction_participants')
      .whereIn(
        'interaction_id',
        created.map((c) => c.id),
      )
      .select('party_id', 'role', 'occurred_at');
    expect(participants).toHaveLength(texts.length);
    for (const p of participants) expect({ ...p, occurred_at: new Date(p.occurred_at).toISOString() }).toEqual({ party_id: partyId, role: 'participant', occurred_at: occurredAt });

    const outbox = (await t.outbox({ name: 'bulk.test.noted' })).filter((e) => created.some((c) => c.id === e.payload.interactionId));
    expect(outbox).toHaveLength(texts.length);
    for (const event of outbox) expect(event.payload.note).toEqual(AWKWARD);

    const audit = await t.app
      .knex('rapport_audit')
      .whereIn(
        'record_id',
        created.map((c) => c.id),
      )
      .select('action', 'record_type', 'actor_kind', 'actor_id');
    expect(audit).toHaveLength(texts.length);
    for (const row of audit) expect(row).toEqual({ action: 'bulk.test.noted', record_type: 'interaction', actor_kind: 'system', actor_id: null });

    // Read back through the API too: the timeline sees them.
    const timeline = await t.admin.get(`/api/v1/parties/${partyId}/timeline?limit=100`);
    expect(timeline.status).toBe(200);
    expect(timeline.body.data.map((i: any) => i.subject)).toEqual(expect.arrayContaining(AWKWARD.filter((s) => s !== '')));
  });

  it('keeps long multi-byte values whole across COPY chunks, rows larger than a chunk too', async () => {
    // 120 rows take COPY on PostgreSQL; its chunks are 256 KB, so summaries of 19,000 characters
    // (up to 3 bytes each) end mid-chunk, and an event payload of 300,000 characters is a row
    // larger than a chunk.
    const summary = (i: number) => `${i}:${'日本✓é'.repeat(4_750)}`;
    const big = (i: number) => `${i}\t${'x\\y\n'.repeat(75_000)}`;
    const created = await t.app.transaction(async (uow) => {
      const interactions = await t.app.services.interactions.insertMany(
        uow,
        Array.from({ length: 120 }, (_, i) => ({ type: 'note', summary: summary(i), attributes: {}, participants: [{ partyId, role: 'participant' }] })),
      );
      interactions.forEach((interaction, i) => uow.emit(bulkEvents.big, { interactionId: interaction.id, blob: big(i) }, { type: 'interaction', id: interaction.id }));
      return interactions;
    });
    const rows = await t.app
      .knex('rapport_interactions')
      .whereIn(
        'id',
        created.map((c) => c.id),
      )
      .select('id', 'summary');
    const summaries = new Map(rows.map((r: { id: string; summary: string }) => [r.id, r.summary]));
    created.forEach((c, i) => expect(summaries.get(c.id) === summary(i), `summary ${i}`).toBe(true));
    const events = (await t.outbox({ name: 'bulk.test.big' })).filter((e) => created.some((c) => c.id === e.payload.interactionId));
    expect(events).toHaveLength(120);
    for (const event of events) {
      const i = created.findIndex((c) => c.id === event.payload.interactionId);
      expect(event.payload.blob === big(i), `payload ${i}`).toBe(true);
    }
  });

  it('writes nothing when the batch fails', async () => {
    const before = await t.app.knex('rapport_interactions').count({ n: '*' }).first();
    await expect(
      t.app.transaction((uow) =>
        t.app.services.interactions.insertMany(uow, [
          { type: 'note', subject: 'fine', attributes: {}, participants: [{ partyId, role: 'participant' }] },
          { type: 'note', subject: 'nobody', attributes: {}, participants: [{ partyId: '0190c9a4-0000-7000-8000-00000000dead', role: 'participant' }] },
        ] as never),
      ),
    ).rejects.toThrow();
    expect(await t.app.knex('rapport_interactions').count({ n: '*' }).first()).toEqual(before);
  });
});
