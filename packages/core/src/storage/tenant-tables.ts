import knexFactory, { type Knex } from 'knex';
import { PluginError } from '../errors.js';
import { insertUnnest } from '../import/bulk-insert.js';

/**
 * A plugin's tables in one tenant, on one connection (the open transaction inside a write).
 * `tables('crm_deals as d')` is a knex query builder that is already limited to the tenant:
 *
 * - reads, updates and deletes carry `d.tenant_id = <tenant>`;
 * - every row inserted is stamped with the tenant (a row naming another tenant is refused),
 *   and `onConflict(columns)` gets `tenant_id` in front of its columns;
 * - a join of another of the plugin's tables gets the same condition; a join of a subquery
 *   accepts only subqueries made by `tables()` or by a kernel view, which carry their own;
 * - tables outside the plugin's prefix (`crm_`), `from()`, `joinRaw()`, raw CTEs, `truncate()`
 *   and a change of `tenant_id` are refused with an error naming the plugin.
 *
 * What it cannot see: SQL written by hand inside `raw()` fragments, and `from()` called on the
 * fresh builder a knex callback receives (`whereExists(function () { this.from(…) })`); build
 * such subqueries with `tables()` instead. SQL that must go past the wall uses the database
 * handle's `unsafeKnex()`, which is named so that a reviewer sees it.
 */
export interface TenantTables {
  (table: string): Knex.QueryBuilder;
  readonly tenantId: string;
  /**
   * One INSERT of any number of rows, each column as one array parameter (`unnest`): the bulk
   * path of an importer. `columns` maps each column to its SQL type (`{ id: 'uuid', title:
   * 'text' }`); every row is stamped with the tenant.
   */
  bulkInsert(table: string, columns: Record<string, string>, rows: ReadonlyArray<Record<string, unknown>>): Promise<void>;
  /**
   * Holds a lock on `key` (a customer's name, a party id) until the write's transaction ends:
   * two writes on the same key in this plugin and tenant run one after the other (a check
   * then an insert that must not race). Inside a unit of work only.
   */
  lock(key: string): Promise<void>;
  /** SQL fragments (an expression, a cast, an aggregate) for select lists and conditions; they cannot run on their own. */
  readonly raw: Knex.RawBuilder;
  readonly ref: Knex.RefBuilder;
  readonly fn: Knex.FunctionHelper;
}

/** The tenant column every tenant-owned table has; plugins never write its name. */
export const TENANT_COLUMN = 'tenant_id';

/** Builders a wall or a kernel view made: the only subqueries a walled query may join. */
const tenantBound = new WeakSet<object>();

/** Marks a kernel view's builder as limited to one tenant, so a walled query may join it. */
export function markTenantBound<Q extends object>(query: Q): Q {
  tenantBound.add(query);
  return query;
}

export function isTenantBound(query: unknown): boolean {
  return typeof query === 'object' && query !== null && tenantBound.has(query);
}

/** A client without a connection: what it builds can be embedded in a query but never runs alone. */
const fragments: Knex = knexFactory({ client: 'pg' });

/** `crm` → `crm_`; `acme-audits` → `acme_audits_`. */
export function tablePrefixOf(plugin: string): string {
  return `${plugin.replace(/-/g, '_')}_`;
}

const TABLE = /^([a-z][a-z0-9_]*)(?:\s+as\s+([a-z_][a-z0-9_]*))?$/i;

export function tenantTables(connection: Knex, tenantId: string, owner: string): TenantTables {
  const prefix = tablePrefixOf(owner);
  const refuse = (message: string): never => {
    throw new PluginError(owner, message);
  };
  const parse = (table: unknown): { name: string; alias: string } => {
    const match = typeof table === 'string' ? TABLE.exec(table.trim()) : null;
    if (!match) return refuse(`"${String(table)}" is not a table name ("${prefix}things" or "${prefix}things as t")`);
    const [, name, alias] = match;
    if (!name.startsWith(prefix)) {
      return refuse(`table "${name}" is outside this plugin's tables ("${prefix}…"); reach kernel data through the kernel's services and views, and another plugin's through its contract`);
    }
    return { name, alias: alias ?? name };
  };

  const wall = (builder: Knex.QueryBuilder, alias: string): Knex.QueryBuilder => {
    const qb = builder as Knex.QueryBuilder & Record<string, unknown>;
    const scope = () => builder.where(`${alias}.${TENANT_COLUMN}`, tenantId);
    const original = <F extends (...args: any[]) => any>(name: string) => (qb[name] as F).bind(qb) as F;
    const join = original<(...args: any[]) => Knex.QueryBuilder>('join');
    const insert = original<(...args: any[]) => Knex.QueryBuilder>('insert');
    const update = original<(...args: any[]) => Knex.QueryBuilder>('update');
    const onConflict = original<(...args: any[]) => any>('onConflict');
    const clone = original<() => Knex.QueryBuilder>('clone');
    const clearWhere = original<() => Knex.QueryBuilder>('clearWhere');
    const clear = original<(statement: string) => Knex.QueryBuilder>('clear');
    const withCte = original<(...args: any[]) => Knex.QueryBuilder>('with');

    qb.join = (table: unknown, ...on: unknown[]) => {
      if (typeof table === 'string') {
        const joined = parse(table);
        return join(table, function (this: Knex.JoinClause) {
          const [first, operator, second] = on;
          // The caller's conditions in a group of their own: an `or` among them cannot escape the tenant condition.
          if (typeof first === 'function')
            this.on(function (this: Knex.JoinClause) {
              (first as (join: Knex.JoinClause) => void).call(this, this);
            });
          else if (first !== null && typeof first === 'object') this.on(first as Record<string, string>);
          else if (second === undefined) this.on(first as string, operator as string);
          else this.on(first as string, operator as string, second as string);
          this.andOnVal(`${joined.alias}.${TENANT_COLUMN}`, '=', tenantId);
        });
      }
      if (!isTenantBound(table)) refuse('a walled query may join only its own tables, subqueries made by tables() and kernel views');
      return join(table, ...on);
    };
    qb.insert = (values: unknown, ...rest: unknown[]) => {
      const stamp = (row: unknown) => {
        if (row === null || typeof row !== 'object' || Array.isArray(row) || isTenantBound(row)) refuse('insert takes rows (objects); an insert from a query needs unsafeKnex()');
        const given = (row as Record<string, unknown>)[TENANT_COLUMN];
        if (given !== undefined && given !== tenantId) refuse(`a row for another tenant (${JSON.stringify(given)}) cannot be inserted here`);
        return { ...(row as object), [TENANT_COLUMN]: tenantId };
      };
      return insert(Array.isArray(values) ? values.map(stamp) : stamp(values), ...rest);
    };
    qb.update = (values: unknown, ...rest: unknown[]) => {
      const changesTenant = typeof values === 'string' ? values === TENANT_COLUMN : values !== null && typeof values === 'object' && TENANT_COLUMN in values;
      if (changesTenant) refuse('a record cannot move to another tenant');
      return update(values, ...rest);
    };
    qb.onConflict = ((columns?: string | readonly string[]) => {
      if (columns !== undefined && typeof columns !== 'string' && !Array.isArray(columns)) refuse('onConflict() takes column names');
      const list: string[] = columns === undefined ? [] : typeof columns === 'string' ? [columns] : [...columns];
      return onConflict(list.includes(TENANT_COLUMN) ? list : [TENANT_COLUMN, ...list]);
    }) as Knex.QueryBuilder['onConflict'];
    qb.clone = () => wall(clone(), alias);
    qb.clearWhere = () => {
      clearWhere();
      return scope();
    };
    qb.clear = (statement: string) => {
      clear(statement);
      return statement === 'where' ? scope() : qb;
    };
    qb.with = (name: string, ...rest: unknown[]) => {
      const query = rest[rest.length - 1];
      if (!isTenantBound(query)) refuse('a CTE of a walled query must be a query made by tables() or a kernel view');
      return withCte(name, ...rest);
    };
    for (const name of ['from', 'table', 'into', 'joinRaw', 'truncate', 'withRecursive', 'withRaw', 'fromRaw', 'withSchema']) {
      qb[name] = () => refuse(`${name}() is not available on a walled query; use tables() for another of this plugin's tables, or unsafeKnex()`);
    }
    markTenantBound(qb);
    return scope();
  };

  const tables = ((table: string) => {
    const { alias } = parse(table);
    return wall(connection(table), alias);
  }) as TenantTables;
  const bulkInsert = async (table: string, columns: Record<string, string>, rows: ReadonlyArray<Record<string, unknown>>) => {
    const { name } = parse(table);
    if (TENANT_COLUMN in columns) refuse(`bulkInsert(${name}): the tenant column is stamped by the wall; leave it out of the columns`);
    for (const row of rows) if (row[TENANT_COLUMN] !== undefined && row[TENANT_COLUMN] !== tenantId) refuse(`a row for another tenant (${JSON.stringify(row[TENANT_COLUMN])}) cannot be inserted here`);
    return insertUnnest(
      connection,
      name,
      { [TENANT_COLUMN]: 'uuid', ...columns },
      rows.map((row) => ({ ...row, [TENANT_COLUMN]: tenantId })),
    );
  };
  const lock = async (key: string) => {
    if (!(connection as { isTransaction?: boolean }).isTransaction) refuse('lock() holds until the transaction ends: take it on the tables of a unit of work, db.in(uow)');
    await connection.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`${owner}:${tenantId}:${key}`]);
  };
  Object.defineProperties(tables, {
    tenantId: { value: tenantId, enumerable: true },
    bulkInsert: { value: bulkInsert },
    lock: { value: lock },
    raw: { value: fragments.raw.bind(fragments) },
    ref: { value: fragments.ref.bind(fragments) },
    fn: { value: fragments.fn },
  });
  return tables;
}
