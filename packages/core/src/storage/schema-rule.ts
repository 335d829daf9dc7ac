import type { Knex } from 'knex';
import { kernelGlobalTables, type GlobalTable } from './sharding.js';

/** A key, constraint or index of a tenant-owned table that does not lead with `tenant_id`, or a table with no tenant that is not declared global. */
export interface SchemaRuleViolation {
  table: string;
  /** The index or constraint at fault; the table itself for an undeclared global table. */
  object: string;
  kind: 'primary key' | 'unique' | 'index' | 'foreign key' | 'undeclared global table';
  /** Its definition, as the catalog prints it. */
  definition: string;
}

/**
 * Checks the schema the connection's search path points at against the rule that lets every
 * tenant's rows live on one shard: every primary key, unique constraint, index and foreign key
 * of a table with a `tenant_id` column leads with `tenant_id`, and every table without one is
 * declared global with its placement. Reads the catalog, so it sees what the migrations made.
 * Non-unique GIN and GiST indexes are exempt (see below). A table declared global is exempt whether or not it has a tenant column (the credential
 * tables have one but are found before the tenant is known). `tablePrefix` limits the check
 * to one plugin's tables (`loyalty_`).
 */
export async function schemaRuleViolations(knex: Knex | Knex.Transaction, options: { globalTables: readonly GlobalTable[]; tablePrefix?: string }): Promise<SchemaRuleViolation[]> {
  const prefix = options.tablePrefix ?? '';
  const declared = new Set(options.globalTables.map((t) => t.table));
  const tables = await schemaTables(knex, prefix);
  const tenantOwned = new Set(tables.filter((t) => t.tenant && !declared.has(t.table)).map((t) => t.table));
  const violations: SchemaRuleViolation[] = [];
  for (const t of tables) {
    if (!t.tenant && !declared.has(t.table)) violations.push({ table: t.table, object: t.table, kind: 'undeclared global table', definition: 'no tenant_id column and not declared global' });
  }
  const indexes = rows<{ table: string; name: string; primary: boolean; unique: boolean; constraint: boolean; lead: string | null; definition: string; method: string }>(
    await knex.raw(
      `select t.relname as "table", ic.relname as name, i.indisprimary as "primary", i.indisunique as "unique",
              exists (select 1 from pg_constraint k where k.conindid = i.indexrelid and k.contype in ('p', 'u')) as "constraint",
              (select a.attname from pg_attribute a where a.attrelid = t.oid and a.attnum = i.indkey[0]) as lead,
              pg_get_indexdef(i.indexrelid) as definition, (select am.amname from pg_am am where am.oid = ic.relam) as method
         from pg_index i join pg_class t on t.oid = i.indrelid join pg_class ic on ic.oid = i.indexrelid
         join pg_namespace n on n.oid = t.relnamespace
        where n.nspname = current_schema() and t.relname like ? order by 1, 2`,
      [`${prefix}%`],
    ),
  );
  for (const index of indexes) {
    if (!tenantOwned.has(index.table) || index.lead === 'tenant_id') continue;
    // A non-unique GIN or GiST index (trigrams, jsonb) is built per shard and used beside the
    // tenant's btree filter; leading it with a uuid would need btree_gin, which not every
    // PostgreSQL (nor the embedded one) has.
    if (!index.unique && index.method !== 'btree') continue;
    const kind = index.primary ? 'primary key' : index.unique ? 'unique' : 'index';
    violations.push({ table: index.table, object: index.name, kind, definition: index.definition });
  }
  const foreignKeys = rows<{ table: string; name: string; lead: string | null; target: string; definition: string }>(
    await knex.raw(
      `select t.relname as "table", k.conname as name, (select a.attname from pg_attribute a where a.attrelid = t.oid and a.attnum = k.conkey[1]) as lead,
              f.relname as target, pg_get_constraintdef(k.oid) as definition
         from pg_constraint k join pg_class t on t.oid = k.conrelid join pg_class f on f.oid = k.confrelid
         join pg_namespace n on n.oid = t.relnamespace
        where k.contype = 'f' and n.nspname = current_schema() and t.relname like ? order by 1, 2`,
      [`${prefix}%`],
    ),
  );
  for (const fk of foreignKeys) {
    // A reference from a tenant's row to a global table (the tenants table itself) routes anywhere.
    if (!tenantOwned.has(fk.table) || !tenantOwned.has(fk.target) || fk.lead === 'tenant_id') continue;
    violations.push({ table: fk.table, object: fk.name, kind: 'foreign key', definition: fk.definition });
  }
  return violations;
}

/** The tables of the connection's current schema (optionally by name prefix), and whether each has a `tenant_id` column. */
export async function schemaTables(knex: Knex | Knex.Transaction, prefix = ''): Promise<Array<{ table: string; tenant: boolean }>> {
  return rows(
    await knex.raw(
      `select c.relname as "table", exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped) as tenant
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relkind in ('r', 'p') and c.relname like ? order by 1`,
      [`${prefix}%`],
    ),
  );
}

function rows<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/** The kernel's global tables and those the given plugins declare. */
export function globalTablesOf(plugins: ReadonlyArray<{ globalTables?: readonly GlobalTable[] }>): GlobalTable[] {
  return [...kernelGlobalTables, ...plugins.flatMap((plugin) => plugin.globalTables ?? [])];
}
