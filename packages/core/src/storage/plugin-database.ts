import type { Knex } from 'knex';
import type { PluginDatabase } from '../contract/core-services.js';
import { PluginError } from '../errors.js';
import { sql } from '../kernel/context.js';
import { TENANT_DISCOVERY_COMMENT } from './sharding.js';
import { TENANT_COLUMN, tablePrefixOf, tenantTables } from './tenant-tables.js';

/** The database handle of one plugin (`coreServices.database`): its own tables, tenant by tenant. */
export function pluginDatabase(owner: string, root: () => Knex): PluginDatabase {
  const prefix = tablePrefixOf(owner);
  return {
    prefix,
    in: (ctx) => (typeof ctx === 'string' ? tenantTables(root(), ctx, owner) : tenantTables(sql(ctx), ctx.tenantId, owner)),
    async tenantsWith(table, where) {
      if (!/^[a-z][a-z0-9_]*$/.test(table) || !table.startsWith(prefix)) {
        throw new PluginError(owner, `tenantsWith("${table}"): not one of this plugin's tables ("${prefix}…")`);
      }
      // Marked as a discovery: the one kind of statement allowed to read across tenants (storage/sharding.ts).
      const query = root()(table).comment(TENANT_DISCOVERY_COMMENT).distinct(TENANT_COLUMN).orderBy(TENANT_COLUMN);
      where?.(query);
      const rows: Array<Record<string, string>> = await query;
      return rows.map((row) => row[TENANT_COLUMN]);
    },
    unsafeKnex: (ctx) => (ctx ? sql(ctx) : root()),
  };
}
