import type { Knex } from 'knex';

/**
 * ANALYZEs the tables of the current schema whose statistics no longer describe them, so the
 * planner does not plan for the old, small table after a bulk import (a bitmap scan and a sort
 * of the whole tenant instead of walking the list's index) until autovacuum comes by, which
 * PGlite never does. A table counts as stale when it grew well past the pages the planner last
 * measured (`relpages`), or when it holds rows but was never analyzed (no column statistics
 * at all): a table bulk-loaded and then indexed passes the first test, because CREATE INDEX
 * updates `relpages` too. (`n_mod_since_analyze` is not used: PGlite keeps no such counters,
 * and on PostgreSQL they arrive late from other connections, re-analyzing what was just done.)
 * Cheap when nothing is stale: one catalog query. Returns the tables analyzed.
 * Runs outside a transaction or inside one alike (no VACUUM).
 */
export async function refreshStatistics(knex: Knex): Promise<string[]> {
  const result = await knex.raw(
    `select c.oid::regclass::text as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = current_schema() and c.relkind = 'r'
       and (pg_relation_size(c.oid) / current_setting('block_size')::int > c.relpages * 1.2 + 8
         or (c.relpages > 8 and c.reltuples > 0
             and not exists (select 1 from pg_stats st where st.schemaname = n.nspname and st.tablename = c.relname)))`,
  );
  const tables = (result.rows as Array<{ name: string }>).map((r) => r.name);
  for (const table of tables) {
    // regclass text is already quoted where it needs to be.
    await knex.raw(`analyze ${table}`);
    // A GIN index (the trigram "contains" index) takes bulk inserts into a pending list that
    // only VACUUM merges; until then every search reads that list and the planner, pricing it,
    // prefers a sequential scan. Merge it now.
    await knex.raw(
      `select gin_clean_pending_list(i.indexrelid) from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am a on a.oid = c.relam
       where i.indrelid = ?::regclass and a.amname = 'gin'`,
      [table],
    );
  }
  return tables;
}
