import type { Knex } from 'knex';

/**
 * ANALYZEs the tables of the current schema that grew well past what the planner last
 * measured (their pages now against `relpages` at the last ANALYZE): after a bulk import the
 * planner otherwise plans for the old, small table — a bitmap scan and a sort of the whole
 * tenant instead of walking the list's index — until autovacuum comes by, which PGlite never
 * does. Cheap when nothing grew: one catalog query. Returns the tables analyzed.
 * Runs outside a transaction or inside one alike (no VACUUM).
 */
export async function refreshStatistics(knex: Knex): Promise<string[]> {
  const result = await knex.raw(
    `select c.oid::regclass::text as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = current_schema() and c.relkind = 'r'
       and pg_relation_size(c.oid) / current_setting('block_size')::int > c.relpages * 1.2 + 8`,
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
