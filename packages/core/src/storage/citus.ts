import type { Knex } from 'knex';
import { schemaTables } from './schema-rule.js';
import type { GlobalTable } from './sharding.js';

/** How one table is placed on a Citus cluster, and the statement that places it (null: it stays a plain table on the coordinator). */
export interface CitusPlacement {
  table: string;
  placement: 'distributed' | 'reference' | 'coordinator';
  statement: string | null;
  /** Placed by an earlier run: nothing to do. */
  done: boolean;
}

/** The anchor of the co-location group: every tenant-owned table is colocated with it. */
const ANCHOR = 'rapport_parties';

/**
 * The statements that shard this database by tenant, read from its catalog after the
 * migrations: reference tables first (any shard may join them, and distributed tables may
 * refer to them), then every tenant-owned table distributed by `tenant_id` and colocated with
 * the parties, referenced tables before the tables that refer to them. Tables a previous run
 * placed are marked done, so the plan applied twice changes nothing.
 */
export async function citusDistributionPlan(knex: Knex, globalTables: readonly GlobalTable[]): Promise<CitusPlacement[]> {
  const schema = String(((await knex.raw('select current_schema() as schema')).rows as Array<{ schema: string }>)[0].schema);
  const tables = await schemaTables(knex);
  const global = new Map(globalTables.map((g) => [g.table, g]));
  const placed = await alreadyPlaced(knex);
  const references: Array<{ from: string; to: string }> = (
    await knex.raw(
      `select t.relname as "from", f.relname as "to" from pg_constraint k
         join pg_class t on t.oid = k.conrelid join pg_class f on f.oid = k.confrelid join pg_namespace n on n.oid = t.relnamespace
        where k.contype = 'f' and n.nspname = current_schema()`,
    )
  ).rows;
  const name = (table: string) => `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const literal = (table: string) => `'${name(table).replaceAll("'", "''")}'`;

  const plan: CitusPlacement[] = [];
  for (const t of tables) {
    const declared = global.get(t.table);
    if (!declared) continue;
    if (declared.placement === 'reference') plan.push({ table: t.table, placement: 'reference', statement: `SELECT create_reference_table(${literal(t.table)});`, done: placed.has(t.table) });
    else plan.push({ table: t.table, placement: 'coordinator', statement: null, done: true });
  }
  const distributed = orderByReferences(
    tables.filter((t) => t.tenant && !global.has(t.table)).map((t) => t.table),
    references,
  );
  // The anchor first: the others name it as their co-location group.
  distributed.sort((a, b) => Number(b === ANCHOR) - Number(a === ANCHOR));
  const hasAnchor = distributed.includes(ANCHOR);
  for (const table of distributed) {
    const colocate = table === ANCHOR || !hasAnchor ? '' : `, colocate_with => ${literal(ANCHOR)}`;
    plan.push({ table, placement: 'distributed', statement: `SELECT create_distributed_table(${literal(table)}, 'tenant_id'${colocate});`, done: placed.has(table) });
  }
  return plan;
}

/** Tables Citus already knows, or none when the extension is not there. */
async function alreadyPlaced(knex: Knex): Promise<Set<string>> {
  const citus = (await knex.raw("select 1 from pg_extension where extname = 'citus'")).rows.length > 0;
  if (!citus) return new Set();
  const rows: Array<{ table: string }> = (
    await knex.raw(`select c.relname as "table" from pg_dist_partition p join pg_class c on c.oid = p.logicalrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = current_schema()`)
  ).rows;
  return new Set(rows.map((row) => row.table));
}

/** Referenced tables before the tables that refer to them; otherwise by name. */
function orderByReferences(tables: string[], references: ReadonlyArray<{ from: string; to: string }>): string[] {
  const pending = new Set(tables);
  const ordered: string[] = [];
  while (pending.size > 0) {
    const ready = [...pending].filter((table) => !references.some((r) => r.from === table && r.to !== table && pending.has(r.to))).sort();
    // A cycle of references cannot be ordered; Citus takes such tables in any order.
    const next = ready.length > 0 ? ready : [...pending].sort();
    for (const table of next) {
      ordered.push(table);
      pending.delete(table);
    }
  }
  return ordered;
}

function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}
