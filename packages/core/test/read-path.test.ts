import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createTenant, newId, NotFoundError, systemPrincipal, type Principal } from '@rapport/core';
import { preparedSelect, preparedSelects } from '../src/storage/prepared-select.js';
import { allAppliedMigrations, migrateUp, type Migration } from '../src/storage/migrations.js';

// The hot read of a party by id skips the query builder for tenant-wide callers; these
// prove it still keeps the tenant in SQL, sees the caller's own transaction, and leaves
// scoped callers on the scoped path. Also the boot's one-query migration check.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t?.close());

describe('party by id, tenant-wide read path', () => {
  it('answers the party with its contact points in order, and 404 for another tenant', async () => {
    const party = await t.app.transaction((uow) =>
      t.app.services.parties.create(uow, {
        kind: 'person',
        name: 'Ada',
        contactPoints: [
          { kind: 'email', value: 'ada@example.com' },
          { kind: 'phone', value: '+44 20 7946 0000' },
        ],
      }),
    );
    const read = await t.app.services.parties.get(t.app.systemContext(), party.id);
    expect(read).toEqual(party);
    expect(read.contactPoints.map((p) => p.kind)).toEqual(['email', 'phone']);

    const other = await createTenant(t.app.knex, 'Other Co');
    await expect(t.app.services.parties.get(t.app.systemContext(other.id), party.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(t.app.services.parties.get(t.app.systemContext(), newId())).rejects.toBeInstanceOf(NotFoundError);
  });

  it('inside a unit of work reads that transaction (rows not yet committed)', async () => {
    await t.app.transaction(async (uow) => {
      const party = await t.app.services.parties.create(uow, { kind: 'organization', name: 'Uncommitted Ltd' });
      const read = await t.app.services.parties.get(uow, party.id);
      expect(read.name).toBe('Uncommitted Ltd');
    });
  });

  it('keeps a scoped caller to its record scope', async () => {
    const [mine, stranger] = await t.app.transaction((uow) =>
      Promise.all([t.app.services.parties.create(uow, { kind: 'person', name: 'Mine' }), t.app.services.parties.create(uow, { kind: 'person', name: 'Stranger' })]),
    );
    const principal: Principal = { ...systemPrincipal(t.tenantId), kind: 'api-key', id: newId(), partyId: mine.id, scopePartyId: mine.id };
    const ctx = { ...t.app.systemContext(), principal };
    expect((await t.app.services.parties.get(ctx, mine.id)).id).toBe(mine.id);
    await expect(t.app.services.parties.get(ctx, stranger.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('preparedSelect emits the query event with positional SQL, like any knex query', async () => {
    const seen: string[] = [];
    const onQuery = (q: { sql: string }) => seen.push(q.sql);
    t.app.knex.on('query', onQuery);
    try {
      const rows = await preparedSelect<{ n: number }>(t.app.knex, 'select ?::int + ?::int as n', [2, 3]);
      expect(rows).toEqual([{ n: 5 }]);
    } finally {
      t.app.knex.off('query', onQuery);
    }
    expect(seen).toContain('select $1::int + $2::int as n');
  });

  it('a failed preparedSelect names its statement and emits query-error, like any knex query', async () => {
    const failed: Array<{ message: string; sql: string }> = [];
    const onError = (error: Error, q: { sql: string }) => failed.push({ message: error.message, sql: q.sql });
    t.app.knex.on('query-error', onError);
    try {
      await expect(preparedSelect(t.app.knex, 'select * from rapport_no_such_table where id = ?', ['x'])).rejects.toThrow(
        /^select \* from rapport_no_such_table where id = \$1 - .*rapport_no_such_table/,
      );
      // Knex's own statements fail with the same message shape.
      await expect(t.app.knex.raw('select * from rapport_no_such_table where id = ?', ['x'])).rejects.toThrow(/^select \* from rapport_no_such_table where id = \$1 - .*rapport_no_such_table/);
    } finally {
      t.app.knex.off('query-error', onError);
    }
    expect(failed).toHaveLength(2);
    expect(failed[0]).toEqual(failed[1]);
  });

  it('preparedSelects runs the statements of a read on one connection and gives it back, also when one fails', async () => {
    const pids = await preparedSelects(t.app.knex, async (select) => [
      (await select<{ pid: number }>('select pg_backend_pid() as pid', []))[0].pid,
      (await select<{ pid: number }>('select pg_backend_pid() as pid', []))[0].pid,
    ]);
    expect(pids[0]).toBe(pids[1]);
    // A failed statement releases the connection: more reads than the pool holds still answer.
    for (let i = 0; i < 12; i++) {
      await expect(preparedSelects(t.app.knex, (select) => select('select * from rapport_no_such_table', []))).rejects.toThrow(/rapport_no_such_table/);
    }
    const rows = await preparedSelects(t.app.knex, (select) => select<{ n: number }>('select ?::int as n', [7]));
    expect(rows).toEqual([{ n: 7 }]);
  });
});

describe('migrations checked in one query at boot', () => {
  it('knows every owner applied and runs only what is pending', async () => {
    const applied = await allAppliedMigrations(t.app.knex);
    expect(applied.get('core')?.size).toBeGreaterThan(0);

    const owner = `readpath${Date.now().toString(36)}`;
    const ran: string[] = [];
    const migration = (name: string): Migration => ({
      name,
      up: async (knex) => {
        ran.push(name);
        await knex.raw('select 1');
      },
    });
    // `known` says the first was applied: only the second runs, and is recorded.
    const known = new Map([[owner, new Set(['one'])]]);
    expect(await migrateUp(t.app.knex, owner, [migration('one'), migration('two')], known)).toEqual(['two']);
    expect(ran).toEqual(['two']);
    expect([...((await allAppliedMigrations(t.app.knex)).get(owner) ?? [])]).toEqual(['two']);
  });
});
