import { TENANT_DISCOVERY } from '@rapport/core';

/** A statement on a tenant-owned table that a cluster sharded by tenant could not route to one shard. */
export interface SingleShardViolation {
  sql: string;
  tables: string[];
  why: string;
}

const ONE_TENANT = /"?tenant_id"?\s*=\s*(\?|\$\d+|'[0-9a-f-]{36}')/i;
const ROW_LOCK = /\bfor\s+(update|share|no\s+key\s+update|key\s+share)\b/i;

/**
 * Checks captured SQL against the rule that every statement touching a tenant-owned table
 * works within one tenant: reads, updates and deletes filter `tenant_id = ?`, inserts write a
 * `tenant_id` column. The one exception is a read that opens with TENANT_DISCOVERY (finding
 * which tenants have work), which must lock nothing and change nothing.
 */
export function singleShardViolations(statements: readonly string[], tenantTables: ReadonlySet<string>): SingleShardViolation[] {
  const violations: SingleShardViolation[] = [];
  for (const sql of statements) {
    const tables = tablesIn(sql).filter((table) => tenantTables.has(table));
    if (tables.length === 0) continue;
    const text = sql.trim();
    if (text.startsWith(TENANT_DISCOVERY)) {
      const body = text.slice(TENANT_DISCOVERY.length).trim();
      if (!/^select\b/i.test(body) || ROW_LOCK.test(body)) violations.push({ sql, tables, why: 'a tenant discovery must be a read that locks nothing' });
      continue;
    }
    if (/^insert\b/i.test(text)) {
      if (!/^insert\s+into\s+\S+\s*(as\s+\S+\s*)?\([^)]*"?tenant_id"?/i.test(text)) violations.push({ sql, tables, why: 'an insert into a tenant-owned table must write tenant_id' });
      continue;
    }
    if (!ONE_TENANT.test(text)) violations.push({ sql, tables, why: 'no tenant_id = ? filter: it would visit every shard' });
  }
  return violations;
}

/** Table names a statement reads or writes (after from, join, into, update). */
function tablesIn(sql: string): string[] {
  const names = new Set<string>();
  for (const match of sql.matchAll(/\b(?:from|join|into|update)\s+("?[a-z_][a-z0-9_]*"?(?:\."?[a-z_][a-z0-9_]*"?)?)/gi)) {
    names.add(match[1].split('.').at(-1)!.replaceAll('"', ''));
  }
  return [...names];
}
