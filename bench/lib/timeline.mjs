// 3. Timeline depth (PostgreSQL): a party with 100k interactions in a table of 1M. The
// first page and a page 90k deep through the keyset cursor, p50 and p99; the figure is
// deep/first. An OFFSET query at the same depth is timed beside it for reference.
// Seeded with set-based SQL (generate_series), not through the API.
import { databaseUrl, interleave, loadCore, now, pgSchema, stats } from './common.mjs';

const PAGE = 50;

export async function timelineBenchmarks({ quick }) {
  const total = quick ? 20_000 : 1_000_000;
  const every = 10; // one interaction in ten is the party's: 100k of 1M
  const depth = quick ? 1_800 : 90_000;
  const otherParties = quick ? 100 : 1000;
  const core = await loadCore();
  const pg = await pgSchema('timeline');
  const app = await core.createRapport({ database: { url: databaseUrl, schema: pg.schema }, plugins: [], logLevel: 'silent', dispatcher: { enabled: false } });
  try {
    const tenantId = app.defaultTenant.id;
    const party = await app.transaction((uow) => app.services.parties.create(uow, { kind: 'person', name: 'Busy Bee' }));
    const seedStarted = now();
    const others = (
      await app.knex.raw(
        `insert into rapport_parties (tenant_id, id, kind, name)
         select ?, gen_random_uuid(), 'person', 'Other ' || g from generate_series(1, ?) g returning id`,
        [tenantId, otherParties],
      )
    ).rows.map((r) => r.id);
    await app.knex.raw(
      `with src as materialized (
         select gen_random_uuid() as id, g, timestamptz '2026-01-01T00:00:00Z' - g * interval '1 second' as at
         from generate_series(1, ?) g
       ), interactions as (
         insert into rapport_interactions (tenant_id, id, type, occurred_at, direction, subject)
         select ?, id, 'note', at, 'internal', 'Note ' || g from src
       )
       insert into rapport_interaction_participants (tenant_id, interaction_id, party_id, role, occurred_at)
       select ?, id, case when g % ? = 0 then ?::uuid else (?::uuid[])[1 + g % ?] end, 'participant', at from src`,
      [total, tenantId, tenantId, every, party.id, others, others.length],
    );
    await app.knex.raw('analyze rapport_interactions');
    await app.knex.raw('analyze rapport_interaction_participants');
    const seedSeconds = (now() - seedStarted) / 1000;

    const ctx = app.systemContext();
    const [at] = (
      await app.knex.raw(
        `select occurred_at, interaction_id from rapport_interaction_participants where tenant_id = ? and party_id = ?
         order by occurred_at desc, interaction_id desc offset ? limit 1`,
        [tenantId, party.id, depth - 1],
      )
    ).rows;
    const cursor = core.encodeCursor([new Date(at.occurred_at).toISOString(), at.interaction_id]);
    const offsetSql = `select i.* from rapport_interaction_participants tp
      join rapport_interactions i on i.tenant_id = tp.tenant_id and i.id = tp.interaction_id
      where tp.tenant_id = ? and tp.party_id = ? order by tp.occurred_at desc, tp.interaction_id desc limit ? offset ?`;

    const check = (page) => {
      if (page.data.length !== PAGE) throw new Error(`timeline page has ${page.data.length} rows, not ${PAGE}`);
    };
    const timed = async (n, fn) => {
      const samples = [];
      for (let i = 0; i < n; i++) {
        const t0 = now();
        await fn();
        samples.push(now() - t0);
      }
      return samples;
    };
    const perRound = quick ? 20 : 100;
    const measured = await interleave(
      {
        first: () => timed(perRound, async () => check(await app.services.interactions.partyTimeline(ctx, party.id, { limit: PAGE }))),
        deep: () => timed(perRound, async () => check(await app.services.interactions.partyTimeline(ctx, party.id, { limit: PAGE, cursor }))),
        offset: () => timed(quick ? 5 : 20, async () => app.knex.raw(offsetSql, [tenantId, party.id, PAGE + 1, depth])),
      },
      { rounds: quick ? 3 : 5, warmup: 1 },
    );
    const first = stats(measured.first.flat());
    const deep = stats(measured.deep.flat());
    const offset = stats(measured.offset.flat());
    const detail = { total, partyInteractions: total / every, depth, pageSize: PAGE, seedSeconds, first, deep, offset };
    return [
      {
        name: `timeline: page ${depth.toLocaleString('en-US')} deep vs first page, p50`,
        db: 'postgres',
        baseline: first.p50,
        measured: deep.p50,
        unit: 'ms',
        ratio: deep.p50 / first.p50,
        goal: '<= 1.5',
        detail,
      },
      {
        name: `timeline: page ${depth.toLocaleString('en-US')} deep vs first page, p99`,
        db: 'postgres',
        baseline: first.p99,
        measured: deep.p99,
        unit: 'ms',
        ratio: deep.p99 / first.p99,
        goal: '<= 1.5',
        detail,
      },
      {
        name: `timeline: OFFSET ${depth.toLocaleString('en-US')} vs first page (reference), p50`,
        db: 'postgres',
        baseline: first.p50,
        measured: offset.p50,
        unit: 'ms',
        ratio: offset.p50 / first.p50,
        goal: 'reference',
        detail,
      },
    ];
  } finally {
    await app.close();
    await pg.drop();
  }
}
