import type { Knex } from 'knex';

/**
 * The trigram operator class for GIN indexes that serve `lower(x) like '%…%'` (a "contains"
 * filter), schema-qualified, after making sure pg_trgm is installed; `null` when this
 * database cannot have it (a PGlite opened without the extension), so the index is left out
 * and the filter still answers, by reading more rows.
 *
 * An extension exists once per database, whatever the schema: it is created in `public`
 * when that is writable, so dropping one tenant schema (the test kit makes one per file)
 * never drops an extension other schemas' indexes depend on. Call it inside a migration:
 * the advisory lock, held to the migration's commit, keeps two migrating schemas from
 * racing to create it.
 */
export async function trigramOperatorClass(knex: Knex): Promise<string | null> {
  await knex.raw("select pg_advisory_xact_lock(hashtext('rapport:pg_trgm'))");
  const installed = await extensionSchema(knex);
  if (installed) return `${quoteIdent(installed)}.gin_trgm_ops`;
  const available = await knex.raw("select 1 from pg_available_extensions where name = 'pg_trgm'");
  if (available.rows.length === 0) return null;
  const publicWritable = await knex.raw("select 1 from pg_namespace where nspname = 'public' and has_schema_privilege(oid, 'CREATE')");
  try {
    // A savepoint: a role without the right to create extensions leaves the migration going.
    await knex.transaction((savepoint) => savepoint.raw(publicWritable.rows.length > 0 ? 'create extension if not exists pg_trgm with schema public' : 'create extension if not exists pg_trgm'));
  } catch {
    return null;
  }
  const created = await extensionSchema(knex);
  return created ? `${quoteIdent(created)}.gin_trgm_ops` : null;
}

async function extensionSchema(knex: Knex): Promise<string | undefined> {
  const result = await knex.raw("select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'");
  return (result.rows as Array<{ schema: string }>)[0]?.schema;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
