import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePlugin, runImport, VetoError } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';
import { samplePlugin } from './fixtures/test-plugin.js';

const csv = (lines: string[]) => Readable.from([lines.join('\n') + '\n']);

// A filter that fails like a lost connection (SQLSTATE class 08) on one subject: a fatal error, not a bad row.
const plugPuller = definePlugin({
  name: 'plugpuller',
  version: '1.0.0',
  setup(api) {
    api.hooks.filter('interaction.create', ({ input }) => {
      if (input.subject === 'pull the plug') throw Object.assign(new Error('the connection was lost'), { code: '08006' });
      // A veto refuses its row alone; a change is what gets written.
      if (input.subject === 'veto me') throw new VetoError('subject: no vetoed subjects here');
      if (input.subject === 'shout') return { input: { ...input, subject: 'SHOUT' } };
    });
  },
});

describe('import interactions', () => {
  let t: TestApp;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    // Webhooks play no part here; the dispatcher stays off so the statement counts are the import's own.
    t = await createTestApp({ plugins: [samplePlugin().plugin, plugPuller], config: { dispatcher: { enabled: false } } });
    const parties = await runImport(
      t.app,
      'parties',
      csv([
        'kind,name,email',
        'person,Alice,alice@example.com',
        'person,Bob,Bob@Example.com',
        'organization,Acme,sales@acme.example',
        'person,Dup One,dup@example.com',
        'person,Dup Two,dup@example.com',
      ]),
    );
    expect(parties.imported).toBe(5);
    const rows: Array<{ id: string; name: string }> = await t.app.knex('rapport_parties').where('tenant_id', t.tenantId).select('id', 'name');
    for (const row of rows) ids[row.name] = row.id;
  });
  afterAll(() => t?.close());

  it('resolves participants by e-mail and by id, keeps the good rows and reports the bad ones by column', async () => {
    const supply = await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: ids.Acme, toPartyId: t.selfPartyId, status: 'active' });
    expect(supply.status).toBe(201);
    const before = (await t.outbox({ name: 'interaction.created' })).length;
    const unknownId = '0190a0a0-0000-7000-8000-000000000001';
    const result = await runImport(
      t.app,
      'interactions',
      csv([
        'type,occurred_at,channel,direction,subject,summary,relationship_id,participant_emails,participant_ids,attributes',
        `sample.call,2024-05-01T10:00:00Z,phone,outbound,Intro,Talked,${supply.body.id},alice@example.com:caller;SALES@acme.example:callee,,`,
        'note,2024-05-02,,,A note,,,bob@example.com,,',
        `sample.call,2024-05-03T09:30:00+02:00,video,inbound,Follow-up,,,bob@example.com:callee,${ids.Alice}:caller,`,
        'note,2024-05-04T00:00:00Z,,,Lost,,,nobody@example.com,,',
        'sample.call,2024-05-04T00:00:00Z,phone,,Boss,,,alice@example.com:boss,,',
        'sample.call,2024-05-04T00:00:00Z,fax,,Fax,,,alice@example.com:caller,,',
        'sample.nope,2024-05-04T00:00:00Z,,,Nope,,,alice@example.com,,',
        'note,2024-05-04T00:00:00Z,,,Which one,,,dup@example.com,,',
        'note,yesterday,,,When,,,alice@example.com,,',
        `note,2024-05-04T00:00:00Z,,,Rel,,${unknownId},alice@example.com,,`,
        'note,2024-05-04T00:00:00Z,,,Twice,,,alice@example.com;ALICE@example.com,,',
        'note,2024-05-04T00:00:00Z,,,Alone,,,,,',
        'note,2024-05-04T00:00:00Z,,sideways,Where,,,alice@example.com,,',
        'note,2024-05-04T00:00:00Z,,,Attrs,,,alice@example.com,,"{""size"": 3}"',
        `note,2024-05-04T00:00:00Z,,,Ghost,,,,${unknownId}:participant,`,
      ]),
    );
    expect(result.completed).toBe(true);
    expect(result.imported).toBe(3);
    const byLine = Object.fromEntries(result.rejectedRows.map((r) => [r.line, r.errors]));
    expect(Object.keys(byLine).map(Number)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(byLine[5]).toEqual([{ column: 'participant_emails', message: 'no party has the e-mail address nobody@example.com' }]);
    expect(byLine[6]).toEqual([{ column: 'participant_emails', message: 'role "boss" is not one of caller, callee (type sample.call)' }]);
    expect(byLine[7]).toEqual([{ column: 'channel', message: '"fax" is not one of phone, video (type sample.call)' }]);
    expect(byLine[8]).toEqual([{ column: 'type', message: 'unknown interaction type "sample.nope" (or its plugin is disabled)' }]);
    expect(byLine[9][0]).toMatchObject({ column: 'participant_emails', message: expect.stringContaining('2 parties have the e-mail address dup@example.com') });
    expect(byLine[10][0].column).toBe('occurred_at');
    expect(byLine[11]).toEqual([{ column: 'relationship_id', message: `relationship ${unknownId} does not exist` }]);
    expect(byLine[12]).toEqual([{ column: 'participant_emails', message: `party ${ids.Alice} is listed twice` }]);
    expect(byLine[13][0].message).toMatch(/no participants/);
    expect(byLine[14]).toEqual([{ column: 'direction', message: '"sideways" is not one of inbound, outbound, internal' }]);
    expect(byLine[15][0].column).toBe('attributes');
    expect(byLine[16]).toEqual([{ column: 'participant_ids', message: `party ${unknownId} does not exist` }]);

    // One event per stored interaction, and the timelines show them newest first.
    const events = (await t.outbox({ name: 'interaction.created' })).slice(before);
    expect(events).toHaveLength(3);
    const timeline = await t.admin.get(`/api/v1/parties/${ids.Alice}/timeline`);
    expect(timeline.status).toBe(200);
    expect(timeline.body.data.map((i: { subject: string }) => i.subject)).toEqual(['Follow-up', 'Intro']);
    const intro = timeline.body.data[1];
    expect(intro).toMatchObject({ type: 'sample.call', channel: 'phone', direction: 'outbound', summary: 'Talked', relationshipId: supply.body.id, occurredAt: '2024-05-01T10:00:00.000Z' });
    expect(intro.participants).toEqual(
      expect.arrayContaining([
        { partyId: ids.Alice, role: 'caller' },
        { partyId: ids.Acme, role: 'callee' },
      ]),
    );
    const bob = await t.admin.get(`/api/v1/parties/${ids.Bob}/timeline`);
    expect(bob.body.data.map((i: { subject: string }) => i.subject)).toEqual(['Follow-up', 'A note']);
    expect(bob.body.data[1]).toMatchObject({ occurredAt: '2024-05-02T00:00:00.000Z', direction: 'internal', participants: [{ partyId: ids.Bob, role: 'participant' }] });
  });

  it('resolves a batch of 2,000 rows with a fixed number of queries (no N+1)', async () => {
    const people = ['kind,name,email'];
    for (let i = 0; i < 300; i++) people.push(`person,Crowd ${i},crowd${i}@example.com`);
    expect((await runImport(t.app, 'parties', csv(people))).imported).toBe(300);

    const lines = ['type,occurred_at,participant_emails,participant_ids'];
    for (let i = 0; i < 2000; i++) lines.push(`sample.call,2024-06-01T00:00:00Z,crowd${i % 300}@example.com:caller;crowd${(i + 1) % 300}@example.com:callee,${ids.Alice}:callee`);
    const statements: string[] = [];
    const listener = (q: { sql: string }) => statements.push(q.sql);
    t.app.knex.on('query', listener);
    let result;
    try {
      result = await runImport(t.app, 'interactions', csv(lines));
    } finally {
      t.app.knex.removeListener('query', listener);
    }
    expect(result.rejected).toBe(0);
    expect(result.imported).toBe(2000);
    // The e-mail lookup: per batch, not per row (the rows, outbox and audit go by COPY on PostgreSQL, unnest on PGlite).
    expect(statements.filter((s) => s.includes('rapport_contact_points')).length).toBeLessThanOrEqual(2);
    // The statistics refresh after the import (an ANALYZE and a GIN merge per table that grew)
    // depends on which tables crossed its threshold, not on the rows: counted apart.
    const refresh = statements.filter((s) => s.startsWith('analyze ') || s.includes('gin_clean_pending_list'));
    expect(refresh.length).toBeLessThanOrEqual(2 * 12);
    expect(statements.length - refresh.length).toBeLessThan(20);
    const [{ count }] = await t.app.knex('rapport_interaction_participants').where({ tenant_id: t.tenantId, party_id: ids.Alice }).count<{ count: number }[]>('* as count');
    expect(Number(count)).toBe(2002);
  });
  it('isolates a row the database refuses inside a bulk write, keeps every other row of the batches around it, and writes their events', async () => {
    const before = (await t.outbox({ name: 'interaction.created' })).length;
    const lines = ['type,occurred_at,subject,participant_ids'];
    // 3 batches of 150 (bulk writes: COPY on PostgreSQL); line 202 carries a NUL, which no text column accepts.
    for (let i = 0; i < 450; i++) lines.push(`note,2024-07-01T00:00:00Z,${i === 200 ? 'bad\u0000row' : `Bulk ${i}\tq {x} \\ end`},${ids.Bob}:participant`);
    const progress: number[] = [];
    const result = await runImport(t.app, 'interactions', csv(lines), { batchSize: 150, onProgress: (p) => progress.push(p.imported) });
    expect(result.completed).toBe(true);
    expect(result.imported).toBe(449);
    expect(result.rejectedRows.map((r) => r.line)).toEqual([202]);
    // Batches settle in file order, the one with the bad row after bisecting it.
    expect(progress).toEqual([150, 299, 449, 449]);
    const stored = await t.app.knex('rapport_interactions').where('tenant_id', t.tenantId).where('subject', 'like', 'Bulk %').select('subject');
    expect(stored).toHaveLength(449);
    expect(stored.map((r: { subject: string }) => r.subject)).toContain('Bulk 7\tq {x} \\ end');
    const events = (await t.outbox({ name: 'interaction.created' })).slice(before);
    expect(events).toHaveLength(449);
    expect(events.map((e) => e.payload.interaction.subject)).toContain('Bulk 449\tq {x} \\ end');
    const audited = await t.app
      .knex('rapport_audit')
      .where({ tenant_id: t.tenantId, action: 'interaction.created' })
      .whereIn(
        'record_id',
        events.map((e) => e.payload.interaction.id),
      )
      .count<{ n: number }[]>('* as n');
    expect(Number(audited[0].n)).toBe(449);
  });

  it('with summary events writes one interactions.imported event and audit entry per batch written, and still rejects the bad rows', async () => {
    const before = (await t.outbox({ name: 'interaction.created' })).length;
    const summariesBefore = (await t.outbox({ name: 'interactions.imported' })).length;
    const lines = ['type,occurred_at,subject,participant_ids'];
    // 3 batches of 150; line 202 carries a NUL and line 300 names no participant.
    for (let i = 0; i < 450; i++) lines.push(`note,2024-07-02T00:00:00Z,${i === 200 ? 'bad\u0000row' : `Summary ${i}`},${i === 298 ? '' : `${ids.Bob}:participant`}`);
    const result = await runImport(t.app, 'interactions', csv(lines), { batchSize: 150, summaryEvents: true });
    expect(result.completed).toBe(true);
    expect(result.imported).toBe(448);
    expect(result.rejectedRows.map((r) => r.line)).toEqual([202, 300]);
    const stored: Array<{ id: string }> = await t.app.knex('rapport_interactions').where('tenant_id', t.tenantId).where('subject', 'like', 'Summary %').select('id');
    expect(stored).toHaveLength(448);
    expect((await t.outbox({ name: 'interaction.created' })).length).toBe(before);
    const summaries = (await t.outbox({ name: 'interactions.imported' })).slice(summariesBefore);
    // One a batch; the batch the database refused in part was bisected, and each piece written has its own.
    const counts: number[] = summaries.map((e) => e.payload.count);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(448);
    expect(counts.filter((n) => n === 150)).toHaveLength(2);
    expect(summaries.length).toBeLessThan(20);
    expect(summaries.flatMap((e) => e.payload.interactionIds).sort()).toEqual(stored.map((r) => r.id).sort());
    for (const e of summaries) expect(e.payload.partyIds).toEqual([ids.Bob]);
    const audited = await t.app
      .knex('rapport_audit')
      .where({ tenant_id: t.tenantId, action: 'interactions.imported' })
      .whereIn(
        'event_id',
        summaries.map((e) => e.id),
      )
      .count<{ n: number }[]>('* as n');
    expect(Number(audited[0].n)).toBe(summaries.length);
  });

  it('stops at a batch that fails for good: the batches before it are kept, none after it is written, even while checked ahead', async () => {
    const lines = ['type,occurred_at,subject,participant_ids'];
    for (let i = 0; i < 500; i++) lines.push(`note,2024-08-01T00:00:00Z,${i === 250 ? 'pull the plug' : `Stop ${i}`},${ids.Bob}:participant`);
    const result = await runImport(t.app, 'interactions', csv(lines), { batchSize: 100 });
    expect(result.completed).toBe(false);
    expect(result.imported).toBe(200);
    expect(result.error).toEqual({ line: 202, message: expect.stringContaining('the connection was lost') });
    const stored = await t.app.knex('rapport_interactions').where('tenant_id', t.tenantId).where('subject', 'like', 'Stop %').select('subject');
    expect(stored.map((r: { subject: string }) => Number(r.subject.slice(5))).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('runs the interaction.create filters on every row: a veto refuses that row alone, a change is written', async () => {
    const result = await runImport(t.app, 'interactions', csv(['type,subject,participant_emails', 'note,veto me,alice@example.com', 'note,shout,alice@example.com', 'note,plain,bob@example.com']));
    expect(result.imported).toBe(2);
    expect(result.rejectedRows).toEqual([{ line: 2, errors: [expect.objectContaining({ message: expect.stringContaining('no vetoed subjects') })] }]);
    const subjects = await t.app.knex('rapport_interactions').where('tenant_id', t.tenantId).whereIn('subject', ['veto me', 'shout', 'SHOUT', 'plain']).pluck('subject');
    expect(subjects.sort()).toEqual(['SHOUT', 'plain']);
  });
});
