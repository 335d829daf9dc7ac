import type { Knex } from 'knex';
import { decodeCursor, encodeCursor, type Page } from '../util/cursor.js';

/** One sort key of a keyset page: a column, its type (for the cursor) and its direction. */
export interface KeysetKey {
  /** The column as the query names it (`d.created_at`). */
  column: string;
  type: 'uuid' | 'timestamp' | 'string' | 'number';
  direction?: 'asc' | 'desc';
  /** The row property holding the value, when not the column's name after its alias (`created_at`). */
  property?: string;
}

/**
 * One page of `query` in keyset order: the cursor's position applied (a row-value comparison
 * when every key runs one way, so the index serves it), the order, `limit + 1` rows read to
 * know whether there is more, and the next cursor from the last row kept. The last key should
 * be unique (an id) so that no row is skipped or repeated across pages.
 *
 *   keysetPage(tables('crm_deals as d'), ctx.query, [{ column: 'd.created_at', type: 'timestamp', direction: 'desc' }, { column: 'd.id', type: 'uuid', direction: 'desc' }], (rows) => rows.map(toDeal))
 */
export async function keysetPage<R, T>(
  query: Knex.QueryBuilder,
  page: { limit: number; cursor?: string | undefined },
  keys: readonly KeysetKey[],
  map: (rows: R[]) => T[] | Promise<T[]>,
): Promise<Page<T>> {
  if (keys.length === 0) throw new Error('keysetPage needs at least one sort key');
  const after = decodeCursor(
    page.cursor,
    keys.map((k) => k.type),
  );
  if (after) whereAfter(query, keys, after);
  query.orderBy(keys.map((k) => ({ column: k.column, order: k.direction ?? 'asc' })));
  const rows = (await query.limit(page.limit + 1)) as R[];
  const more = rows.length > page.limit;
  const kept = more ? rows.slice(0, page.limit) : rows;
  const data = await map(kept);
  return { data, nextCursor: more ? encodeCursor(cursorOf(kept[kept.length - 1] as Record<string, unknown>, keys)) : null };
}

function whereAfter(query: Knex.QueryBuilder, keys: readonly KeysetKey[], after: (string | number)[]): void {
  const direction = keys[0].direction ?? 'asc';
  const cast = (k: KeysetKey) => (k.type === 'uuid' ? '?::uuid' : k.type === 'timestamp' ? '?::timestamptz' : '?');
  if (keys.every((k) => (k.direction ?? 'asc') === direction)) {
    const columns = keys.map((k) => quote(k.column)).join(', ');
    query.whereRaw(`(${columns}) ${direction === 'asc' ? '>' : '<'} (${keys.map(cast).join(', ')})`, after);
    return;
  }
  // Mixed directions: (a after x) or (a = x and b after y) or …
  query.where((outer) => {
    keys.forEach((key, i) => {
      outer.orWhere((branch) => {
        for (let j = 0; j < i; j++) branch.whereRaw(`${quote(keys[j].column)} = ${cast(keys[j])}`, [after[j]]);
        branch.whereRaw(`${quote(key.column)} ${(key.direction ?? 'asc') === 'asc' ? '>' : '<'} ${cast(key)}`, [after[i]]);
      });
    });
  });
}

function quote(column: string): string {
  return column
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}

function cursorOf(row: Record<string, unknown>, keys: readonly KeysetKey[]): (string | number)[] {
  return keys.map((key) => {
    const value = row[key.property ?? key.column.slice(key.column.lastIndexOf('.') + 1)];
    if (value instanceof Date) return value.toISOString();
    if (value === null || value === undefined) throw new Error(`keysetPage: the row has no value for sort key ${key.column}; select it`);
    if (key.type === 'number') return Number(value);
    if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`keysetPage: sort key ${key.column} is neither text nor a number`);
    return key.type === 'timestamp' ? new Date(value).toISOString() : `${value}`;
  });
}
