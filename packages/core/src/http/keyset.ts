import type { Knex } from 'knex';
import { z } from 'zod';
import { decodeCursor, encodeCursor, type Page } from '../util/cursor.js';

/** One sort key of a keyset page: a column, its type (for the cursor) and its direction. */
export interface KeysetKey {
  /** The column as the query names it (`d.created_at`). */
  column: string;
  type: 'uuid' | 'timestamp' | 'string' | 'number';
  direction?: 'asc' | 'desc';
  /** The row property holding the value, when not the column's name after its alias (`created_at`). */
  property?: string;
  /**
   * SQL to sort on instead of the bare column, written exactly as the index that serves it
   * (`lower(d.title) collate "C"`); select it as `property` so the cursor holds what the
   * database compared, not a client-side approximation of it.
   */
  expression?: string;
}

/** Newest first by a time-ordered (UUIDv7) id alone: most of core's own lists. */
export const BY_ID_DESC: readonly KeysetKey[] = [{ column: 'id', type: 'uuid', direction: 'desc' }];

/**
 * One page of `query` in keyset order: the cursor's position applied (a row-value comparison
 * when every key runs one way, so the index serves it), the order, `limit + 1` rows read to
 * know whether there is more, the next cursor from the last row kept and, when there is a
 * page before this one, a `prevCursor` from the first. A `prevCursor` reads the same index
 * the other way and answers the page before, in the list's order. The last key should be
 * unique (an id) so that no row is skipped or repeated across pages.
 *
 *   keysetPage(tables('crm_deals as d'), ctx.query, [{ column: 'd.created_at', type: 'timestamp', direction: 'desc' }, { column: 'd.id', type: 'uuid', direction: 'desc' }], (rows) => rows.map(toDeal))
 */
export async function keysetPage<R, T>(
  query: Knex.QueryBuilder,
  page: { limit: number; cursor?: string | undefined },
  keys: readonly KeysetKey[],
  map: (rows: R[]) => T[] | Promise<T[]>,
): Promise<Page<T>> {
  const { position, backward } = keysetWindow(query, page, keys);
  const rows = (await query) as R[];
  const more = rows.length > page.limit;
  const kept = more ? rows.slice(0, page.limit) : rows;
  if (backward) kept.reverse();
  const data = await map(kept);
  const first = kept[0] as Record<string, unknown> | undefined;
  const last = kept[kept.length - 1] as Record<string, unknown> | undefined;
  // Forward, a page reached by a cursor has one before it; backward, the page we came from follows.
  const hasNext = backward ? last !== undefined : more;
  const hasPrevious = backward ? more : position !== undefined && first !== undefined;
  const result: Page<T> = { data, nextCursor: hasNext && last ? encodeCursor(cursorOf(last, keys)) : null };
  if (hasPrevious && first) result.prevCursor = encodeCursor([BACKWARD, ...cursorOf(first, keys)]);
  return result;
}

/**
 * Narrows `query` to the rows a keyset page may take, the way `keysetPage` does (position,
 * order, `limit + 1`), without reading them. For a page over a union of sources: each source
 * gets the same window so that the outer `keysetPage` finds its page among their first rows.
 */
export function keysetWindow(query: Knex.QueryBuilder, page: { limit: number; cursor?: string | undefined }, keys: readonly KeysetKey[]): { position?: (string | number)[]; backward: boolean } {
  if (keys.length === 0) throw new Error('keysetPage needs at least one sort key');
  const decoded = decodePosition(page.cursor, keys);
  // Backward: the same keys, each the other way; the rows are put back in the list's order.
  const walk = decoded.backward ? keys.map((k) => ({ ...k, direction: (k.direction ?? 'asc') === 'asc' ? ('desc' as const) : ('asc' as const) })) : keys;
  if (decoded.position) whereAfter(query, walk, decoded.position);
  if (walk.some((k) => k.expression)) query.orderByRaw(walk.map((k) => `${sortTerm(k)} ${k.direction ?? 'asc'}`).join(', '));
  else query.orderBy(walk.map((k) => ({ column: k.column, order: k.direction ?? 'asc' })));
  query.limit(page.limit + 1);
  return decoded;
}

/** A backward cursor is the position with this marker in front (one element longer than a forward one). */
const BACKWARD = '<';

function decodePosition(cursor: string | undefined, keys: readonly KeysetKey[]): { position?: (string | number)[]; backward: boolean } {
  const shape = keys.map((k) => k.type);
  if (cursor) {
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      raw = undefined;
    }
    if (Array.isArray(raw) && raw.length === keys.length + 1 && raw[0] === BACKWARD) return { position: decodeCursor(encodeCursor(raw.slice(1) as (string | number)[]), shape), backward: true };
  }
  return { position: decodeCursor(cursor, shape), backward: false };
}

function whereAfter(query: Knex.QueryBuilder, keys: readonly KeysetKey[], after: (string | number)[]): void {
  const direction = keys[0].direction ?? 'asc';
  const cast = (k: KeysetKey) => (k.type === 'uuid' ? '?::uuid' : k.type === 'timestamp' ? '?::timestamptz' : '?');
  if (keys.every((k) => (k.direction ?? 'asc') === direction)) {
    const columns = keys.map(sortTerm).join(', ');
    query.whereRaw(`(${columns}) ${direction === 'asc' ? '>' : '<'} (${keys.map(cast).join(', ')})`, after);
    return;
  }
  // Mixed directions: (a after x) or (a = x and b after y) or …
  query.where((outer) => {
    keys.forEach((key, i) => {
      outer.orWhere((branch) => {
        for (let j = 0; j < i; j++) branch.whereRaw(`${sortTerm(keys[j])} = ${cast(keys[j])}`, [after[j]]);
        branch.whereRaw(`${sortTerm(key)} ${(key.direction ?? 'asc') === 'asc' ? '>' : '<'} ${cast(key)}`, [after[i]]);
      });
    });
  });
}

function sortTerm(key: KeysetKey): string {
  return key.expression ?? quote(key.column);
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

/**
 * The query parameters of a list searchable by a name-like text field (`name`, `title`):
 * `q` (contains), `startsWith` (prefix), both case-insensitive, and `sort` by that field
 * either way (`sort=name`, `sort=-name`); without `sort` the list keeps its own order.
 */
export function textListQuery<F extends string>(field: F) {
  return {
    q: z.string().min(1).max(200).optional().describe(`Case-insensitive substring of the ${field}`),
    startsWith: z.string().min(1).max(200).optional().describe(`Case-insensitive prefix of the ${field}`),
    sort: z
      .enum([field, `-${field}`] as [F, `-${F}`])
      .optional()
      .describe(`Order by ${field} (a to z, or z to a with a leading -) instead of newest first`),
  };
}

/** What a list got from `textListQuery`, the field's name stripped from `sort`. */
export interface TextListFilter {
  q?: string | undefined;
  startsWith?: string | undefined;
  sort?: string | undefined;
}

/** The sort expression of a text field, exactly as its index is written: see `textIndexes`. */
export function textSortExpression(column: string): string {
  return `lower(${quote(column)}) collate "C"`;
}

/**
 * Applies `q` and `startsWith` to `query` on `column` and answers the keyset keys of the
 * list: by the text field (then `idColumn`) when `sort` asks for it, else `fallback`. The
 * pattern is lowered by the database (the same lower() as the index), its wildcards escaped;
 * "starts with" compares under "C", so it is one range of the index on
 * (tenant_id, lower(column) collate "C", id); "contains" is served by a trigram index on
 * lower(column). Accents are compared as written: "e" does not match "é".
 */
export function applyTextList(query: Knex.QueryBuilder, column: string, idColumn: string, filter: TextListFilter, fallback: readonly KeysetKey[]): readonly KeysetKey[] {
  if (filter.q) query.whereRaw(`lower(${quote(column)}) like '%' || lower(?) || '%'`, [escapeLikePattern(filter.q)]);
  if (filter.startsWith) query.whereRaw(`${textSortExpression(column)} like lower(?) || '%'`, [escapeLikePattern(filter.startsWith)]);
  if (!filter.sort) return fallback;
  const direction = filter.sort.startsWith('-') ? 'desc' : 'asc';
  query.select(query.client.raw(`${textSortExpression(column)} as keyset_text`));
  return [
    { column, type: 'string', direction, property: 'keyset_text', expression: textSortExpression(column) },
    { column: idColumn, type: 'uuid', direction },
  ];
}

/** A value matched literally inside a LIKE pattern: its %, _ and \\ escaped. */
export function escapeLikePattern(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
