// 7. Search (PostgreSQL): GET /api/v1/search's query over 100k parties (each with a domain)
// and 1M interactions, p50 and p99 over a mix of queries people type — a name, a name with a
// typo, a name in capitals with a legal suffix, a web address, two words of a subject —
// beside the `lower(…) like '%q%'` scan the kernel had (over the same names, subjects and
// summaries). Seeded with set-based SQL; the search indexes are built after the seed, as a
// bulk load would.
import os from 'node:os';
import { databaseUrl, interleave, loadCore, now, pgSchema, stats } from './common.mjs';

const PAGE = 20;

/** Pronounceable made-up words: names and subjects drawn from them match nothing by accident. */
function vocabulary(n) {
  const consonants = 'bcdfgklmnprstvz';
  const vowels = 'aeiou';
  const words = new Set();
  // mulberry32: 32-bit integer steps (a float LCG loses precision and cycles early).
  let seed = 42;
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
  while (words.size < n) {
    let w = '';
    const syllables = 2 + Math.floor(next() * 2);
    for (let s = 0; s < syllables; s++) w += consonants[Math.floor(next() * consonants.length)] + vowels[Math.floor(next() * vowels.length)];
    if (next() < 0.5) w += consonants[Math.floor(next() * consonants.length)];
    words.add(w);
  }
  return [...words];
}

export async function searchBenchmarks({ quick }) {
  const parties = quick ? 5_000 : 100_000;
  const interactions = quick ? 50_000 : 1_000_000;
  const words = vocabulary(quick ? 500 : 5_000);
  const core = await loadCore();
  const pg = await pgSchema('search');
  const app = await core.createRapport({ database: { url: databaseUrl, schema: pg.schema }, plugins: [], logLevel: 'silent', dispatcher: { enabled: false } });
  try {
    const tenantId = app.defaultTenant.id;
    const seedStarted = now();
    // Bulk load first, indexes after (as pg_restore does): building a GIN index once is far cheaper than growing it row by row.
    // The name's trigram index is the list's own or search's, whichever was made first.
    for (const index of [
      'rapport_parties_name_trgm_idx',
      'rapport_parties_search_title_idx',
      'rapport_parties_search_document_idx',
      'rapport_interactions_search_document_idx',
      'rapport_contact_points_search_idx',
    ]) {
      await app.knex.raw(`drop index if exists ${index}`);
    }
    const n = words.length;
    await app.knex.raw(
      `with src as materialized (
         select gen_random_uuid() as id, g, (?::text[])[1 + (g::bigint * 7919) % ?] as a, (?::text[])[1 + (g::bigint * 104729) % ?] as b from generate_series(1, ?) g
       ), parties as (
         insert into rapport_parties (tenant_id, id, kind, name)
         select ?, id, 'organization', initcap(a) || ' ' || initcap(b) || (array[' GmbH', ' Ltd', ' Inc', ''])[1 + g % 4] from src
       )
       insert into rapport_contact_points (tenant_id, party_id, kind, value, normalized)
       select ?, id, 'domain', a || b || '.example', a || b || '.example' from src`,
      [words, n, words, n, parties, tenantId, tenantId],
    );
    await app.knex.raw(
      `insert into rapport_interactions (tenant_id, id, type, occurred_at, direction, subject, summary)
       select ?, gen_random_uuid(), 'note', timestamptz '2026-01-01T00:00:00Z' - g * interval '1 second', 'internal',
         'Call with ' || initcap(w[1 + (g * 31) % ?]) || ' about ' || w[1 + (g * 17) % ?],
         w[1 + (g * 13) % ?] || ' ' || w[1 + (g * 7) % ?] || ' ' || w[1 + (g * 3) % ?] || ' and ' || w[1 + (g * 11) % ?] || ' ' || w[1 + (g * 19) % ?]
       from generate_series(1, ?) g, (select ?::text[] as w) v`,
      [tenantId, n, n, n, n, n, n, n, interactions, words],
    );
    const seedSeconds = (now() - seedStarted) / 1000;
    const indexStarted = now();
    await core.createSearchIndexes(app.knex, 'rapport_parties', { title: 'name' });
    await app.knex.raw('create index rapport_interactions_search_document_idx on rapport_interactions using gin (search_document)');
    await app.knex.raw('create index rapport_contact_points_search_idx on rapport_contact_points using gin (normalized gin_trgm_ops)');
    for (const table of ['rapport_parties', 'rapport_contact_points', 'rapport_interactions']) await app.knex.raw(`analyze ${table}`);
    const indexSeconds = (now() - indexStarted) / 1000;

    // What people type: a name word, a typo of one, capitals with a suffix, a web address, two subject words.
    const pick = (i) => words[(i * 2654435761) % n];
    const queries = [];
    for (let i = 1; queries.length < 50; i++) {
      const [a, b] = [pick(i), pick(i + 1000)];
      queries.push(a, `${a}${a.at(-1)}`, `${a.toUpperCase()} GmbH`, `www.${a}${b}.example`, `${a} ${b}`);
    }
    const ctx = app.systemContext();
    const likeSql = `(select 'party' as type, id from rapport_parties where tenant_id = ? and lower(name) like ? order by id desc limit ${PAGE})
      union all (select 'interaction', id from rapport_interactions where tenant_id = ? and (lower(subject) like ? or lower(summary) like ?) order by id desc limit ${PAGE})`;
    const like = (q) => {
      const pattern = `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      return app.knex.raw(likeSql, [tenantId, pattern, tenantId, pattern, pattern]);
    };
    if (process.env.BENCH_SEARCH_EXPLAIN) {
      for (const q of queries.slice(0, 5)) {
        const started = now();
        await app.search.search(ctx, { q, limit: PAGE });
        process.stderr.write(`\n${q}: ${(now() - started).toFixed(1)} ms\n`);
        for (const sql of app.search.explainable(ctx, { q, limit: PAGE })) {
          const plan = await app.knex.raw(`explain (analyze, buffers off, timing on) ${sql.sql}`, sql.bindings);
          process.stderr.write(plan.rows.map((r) => r['QUERY PLAN']).join('\n') + '\n');
        }
      }
    }
    let hits = 0;
    const timed = async (fn, list = queries) => {
      const samples = [];
      for (const q of list) {
        const t0 = now();
        await fn(q);
        samples.push(now() - t0);
      }
      return samples;
    };
    const measured = await interleave(
      {
        search: () =>
          timed(async (q) => {
            const page = await app.search.search(ctx, { q, limit: PAGE });
            hits += page.data.length;
          }),
        // The scan takes seconds a query: 10 of the 50 (two of each kind) keep the run in minutes.
        like: () => timed((q) => like(q), queries.slice(0, 10)),
      },
      { rounds: quick ? 2 : 4, warmup: 1 },
    );
    if (hits === 0) throw new Error('search found nothing: the benchmark measures an empty answer');
    const search = stats(measured.search.flat());
    const scan = stats(measured.like.flat());
    const detail = {
      parties,
      interactions,
      vocabulary: n,
      queries: queries.length,
      pageSize: PAGE,
      seedSeconds,
      indexSeconds,
      search,
      like: scan,
      loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    };
    return [
      {
        name: `search: ${parties.toLocaleString('en-US')} parties + ${interactions.toLocaleString('en-US')} interactions, p99 (goal < 50 ms)`,
        db: 'postgres',
        baseline: 50,
        measured: search.p99,
        unit: 'ms',
        ratio: search.p99 / 50,
        goal: '<= 1',
        detail,
      },
      { name: 'search vs like scan, p50', db: 'postgres', baseline: scan.p50, measured: search.p50, unit: 'ms', ratio: search.p50 / scan.p50, goal: 'reference', detail },
      { name: 'search vs like scan, p99', db: 'postgres', baseline: scan.p99, measured: search.p99, unit: 'ms', ratio: search.p99 / scan.p99, goal: 'reference', detail },
    ];
  } finally {
    await app.close();
    await pg.drop();
  }
}
