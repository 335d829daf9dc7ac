import type { Knex } from 'knex';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { createHash } from 'node:crypto';
import { decodeCursor, encodeCursor, type Page } from '../util/cursor.js';
import type { FieldDefinition } from './definitions.js';
import type { CompiledField } from './service.js';

/** `field.<key>=v`, `field.<key>.gte=v`, `field.<key>.lte=v` in a list's query string. */
const FILTER_PARAM = /^field\.([a-z][a-zA-Z0-9_]{0,62})(?:\.(gte|lte))?$/;
/** `sort=field.<key>` (ascending) or `sort=-field.<key>`. */
const SORT_PARAM = /^(-)?field\.([a-z][a-zA-Z0-9_]{0,62})$/;

export interface FieldFilter {
  field: FieldDefinition;
  op: 'eq' | 'gte' | 'lte';
  value: string | number;
}

export interface FieldListQuery {
  filters: FieldFilter[];
  sort?: { field: FieldDefinition; direction: 'asc' | 'desc' };
}

/**
 * A list route's query schema with custom field filters: the route's own parameters, and
 * any `field.*` parameter (checked against the tenant's fields by `parseFieldQuery`).
 */
export function withFieldParams<S extends z.ZodRawShape>(shape: S) {
  return z
    .object({ ...shape, sort: z.string().max(100).optional() })
    .catchall(z.string().max(200))
    .superRefine((value, ctx) => {
      for (const key of Object.keys(value)) {
        if (key in shape || key === 'sort') continue;
        if (!FILTER_PARAM.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: `unknown parameter "${key}" (custom fields filter as field.<key>, field.<key>.gte, field.<key>.lte)` });
      }
    });
}

const NUMERIC = new Set(['number', 'money']);
const RANGED = new Set(['number', 'money', 'date']);

/** The filters and sort a list's query string asks for, against the fields of its record type. */
export function parseFieldQuery(fields: readonly CompiledField[], query: Record<string, unknown>): FieldListQuery | undefined {
  const byKey = new Map(fields.map((f) => [f.definition.key, f.definition]));
  const filters: FieldFilter[] = [];
  const unknownField = (param: string, key: string) => new ValidationError(`No custom field "${key}" here`, [{ path: param, message: `unknown field "${key}"` }]);
  for (const [param, raw] of Object.entries(query)) {
    const match = FILTER_PARAM.exec(param);
    if (!match || typeof raw !== 'string') continue;
    const [, key, op = 'eq'] = match;
    const field = byKey.get(key);
    if (!field) throw unknownField(param, key);
    if (op !== 'eq' && !RANGED.has(field.kind)) throw new ValidationError(`A ${field.kind} field has no range filter`, [{ path: param, message: 'use field.<key>=value' }]);
    let value: string | number = raw;
    if (NUMERIC.has(field.kind)) {
      value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) throw new ValidationError(`field.${key} takes a number`, [{ path: param, message: 'not a number' }]);
    } else if (field.kind === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
      throw new ValidationError(`field.${key} takes a date`, [{ path: param, message: 'YYYY-MM-DD' }]);
    }
    filters.push({ field, op: op as FieldFilter['op'], value });
  }
  let sort: FieldListQuery['sort'];
  if (typeof query.sort === 'string') {
    const match = SORT_PARAM.exec(query.sort);
    if (!match) throw new ValidationError('sort takes field.<key> or -field.<key>', [{ path: 'sort', message: 'unknown sort' }]);
    const field = byKey.get(match[2]);
    if (!field) throw unknownField('sort', match[2]);
    if (field.kind === 'multiChoice') throw new ValidationError('A multi-choice field cannot be sorted on', [{ path: 'sort', message: 'not sortable' }]);
    sort = { field, direction: match[1] ? 'desc' : 'asc' };
  }
  return filters.length || sort ? { filters, sort } : undefined;
}

/** The SQL value of a field in a row (keys are checked identifiers, so they are written inline). */
export function fieldExpression(alias: string, field: Pick<FieldDefinition, 'key' | 'kind'>, column = 'attributes'): string {
  const key = field.key;
  const values = alias ? `${alias}.${column}` : column;
  if (field.kind === 'number') return `(${values}->>'${key}')::numeric`;
  if (field.kind === 'money') return `(${values}->'${key}'->>'amount')::numeric`;
  return `(${values}->>'${key}')`;
}

/** Where a list's values live: the jsonb column (`attributes` by default) of the query's `alias`. */
export interface FieldColumnOptions {
  /** The jsonb column of values; `attributes` by default. */
  column?: string;
  /** The record's id column under the alias; `id` by default. */
  id?: string;
}

/**
 * Equality is containment (`attributes @> {"key": value}`), which the GIN index on
 * `attributes` serves for every field at once; ranges compare the typed value.
 */
export function applyFieldFilters(q: Knex.QueryBuilder, alias: string, query: FieldListQuery, options: FieldColumnOptions = {}): void {
  const column = options.column ?? 'attributes';
  for (const { field, op, value } of query.filters) {
    if (op === 'eq') {
      const contained = field.kind === 'multiChoice' ? [value] : field.kind === 'money' ? { amount: value } : value;
      q.whereRaw(`${alias}.${column} @> ?::jsonb`, [JSON.stringify({ [field.key]: contained })]);
    } else {
      q.whereRaw(`${fieldExpression(alias, field, column)} ${op === 'gte' ? '>=' : '<='} ?`, [value]);
    }
  }
}

const BACKWARD = '<';
const NUMERIC_TEXT = /^-?\d+(\.\d+)?$/;

function invalidCursor(): ValidationError {
  return new ValidationError('The cursor is not valid; use the nextCursor of a previous page', [{ path: 'cursor', message: 'invalid cursor' }]);
}

/** A cursor of `fieldSortPage`: `[value, 0, id]` in the records with a value, `['', 1, id]` past them; `'<'` in front to go back. */
function decodeFieldCursor(cursor: string | undefined, numeric: boolean): { value: string; isNull: boolean; id: string; backward: boolean } | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const backward = Array.isArray(raw) && raw.length === 4 && raw[0] === BACKWARD;
  const position = decodeCursor(backward ? encodeCursor((raw as (string | number)[]).slice(1)) : cursor, ['string', 'number', 'uuid']) as [string, number, string];
  const [value, isNull, id] = position;
  if (isNull !== 0 && isNull !== 1) throw invalidCursor();
  // A cursor we wrote holds what the database returned; anything else would fail the cast (500).
  if (isNull === 0 && numeric && !NUMERIC_TEXT.test(value)) throw invalidCursor();
  return { value, isNull: isNull === 1, id, backward };
}

/**
 * One keyset page of `query` ordered by a custom field, either way, records without a value
 * last, ties by id; a `prevCursor` answers the page before. The list is two runs — the
 * records with a value, then those without — each read as one range of an index on
 * `(tenant_id, <field expression>, id)` (`createFieldSortIndex`) in its order, or the other
 * way for a `prevCursor`; a page that straddles the two reads the rest of the page from the
 * second. `query` carries the list's conditions and columns, and no order.
 */
export async function fieldSortPage<R extends { id: string }, T>(
  query: Knex.QueryBuilder,
  alias: string,
  sort: NonNullable<FieldListQuery['sort']>,
  page: { limit: number; cursor?: string | undefined },
  map: (rows: R[]) => T[] | Promise<T[]>,
  options: FieldColumnOptions = {},
): Promise<Page<T>> {
  const expression = fieldExpression(alias, sort.field, options.column);
  const id = `${alias}.${options.id ?? 'id'}`;
  const numeric = NUMERIC.has(sort.field.kind);
  const typed = numeric ? '?::numeric' : '?::text';
  const position = decodeFieldCursor(page.cursor, numeric);
  const backward = position?.backward === true;
  const flip = (d: 'asc' | 'desc') => (d === 'asc' ? 'desc' : 'asc');
  const direction = backward ? flip(sort.direction) : sort.direction;
  const after = direction === 'asc' ? '>' : '<';
  query.select(query.client.raw(`${expression} as keyset_field`));
  // Both runs order by (expression, id), as the index is written: in the run without a value
  // the expression is null throughout, so the index still yields the rows by id.
  const run = (withValue: boolean, from: { value: string; id: string } | undefined, limit: number) => {
    const q = query.clone().whereRaw(`${expression} is ${withValue ? 'not ' : ''}null`);
    if (from && withValue) q.whereRaw(`(${expression}, ${id}) ${after} (${typed}, ?::uuid)`, [from.value, from.id]);
    else if (from) q.whereRaw(`${id} ${after} ?::uuid`, [from.id]);
    return q.orderByRaw(`${expression} ${direction}, ${id} ${direction}`).limit(limit) as unknown as Promise<Array<R & { keyset_field: string | number | null }>>;
  };
  const want = page.limit + 1;
  let rows: Array<R & { keyset_field: string | number | null }>;
  if (!backward) {
    // Forward: the records with a value (from the cursor), then those without.
    rows = position?.isNull ? [] : await run(true, position, want);
    if (rows.length < want) rows = rows.concat(await run(false, position?.isNull ? position : undefined, want - rows.length));
  } else {
    // Backward: the records without a value (from the cursor), then those with one.
    rows = position.isNull ? await run(false, position, want) : [];
    if (rows.length < want) rows = rows.concat(await run(true, position.isNull ? undefined : position, want - rows.length));
  }
  const more = rows.length > page.limit;
  const kept = more ? rows.slice(0, page.limit) : rows;
  if (backward) kept.reverse();
  const cursorOf = (row: R & { keyset_field: string | number | null }) => (row.keyset_field === null || row.keyset_field === undefined ? ['', 1, row.id] : [String(row.keyset_field), 0, row.id]);
  const first = kept[0];
  const last = kept[kept.length - 1];
  const hasNext = backward ? last !== undefined : more;
  const hasPrevious = backward ? more : position !== undefined && first !== undefined;
  const result: Page<T> = { data: await map(kept), nextCursor: hasNext && last ? encodeCursor(cursorOf(last)) : null };
  if (hasPrevious && first) result.prevCursor = encodeCursor([BACKWARD, ...cursorOf(first)]);
  return result;
}

/** The name of the sort index of a field on a table (at most 63 characters, PostgreSQL's limit). */
export function fieldSortIndexName(table: string, key: string): string {
  const name = `${table}_field_${key}_idx`;
  if (name.length <= 63) return name;
  return `${table.slice(0, 30)}_field_${createHash('sha256').update(`${table}.${key}`).digest('hex').slice(0, 16)}_idx`;
}

/**
 * Creates the index that serves `sort=field.<key>` on a table: `(tenant_id, <field
 * expression>, id)`, the expression exactly as `fieldSortPage` writes it. On PostgreSQL it is
 * built `concurrently` (writes go on meanwhile; it cannot run inside a transaction), on PGlite
 * plainly. Idempotent. For an operator's script or a migration: see docs/custom-fields.md.
 */
export async function createFieldSortIndex(knex: Knex, options: { table: string; field: Pick<FieldDefinition, 'key' | 'kind'>; column?: string; concurrently?: boolean }): Promise<string> {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(options.table) || !/^[a-z][a-z0-9_]{0,62}$/.test(options.column ?? 'attributes')) throw new Error('createFieldSortIndex: not a table or column name');
  if (!/^[a-z][a-zA-Z0-9_]{0,62}$/.test(options.field.key)) throw new Error(`createFieldSortIndex: "${options.field.key}" is not a field key`);
  if (options.field.kind === 'multiChoice') throw new Error('createFieldSortIndex: a multi-choice field is not sortable');
  const name = fieldSortIndexName(options.table, options.field.key);
  const concurrently = options.concurrently ?? !isEmbedded(knex);
  await knex.raw(`create index ${concurrently ? 'concurrently ' : ''}if not exists "${name}" on "${options.table}" (tenant_id, (${fieldExpression('', options.field, options.column)}), id)`);
  return name;
}

function isEmbedded(knex: Knex): boolean {
  // knex-pglite's client holds its PGlite (see storage/database.ts).
  return (knex.client as { pglite?: unknown }).pglite !== undefined;
}

/**
 * The GIN index that serves every equality filter (`field.<key>=v`, containment) on a table's
 * jsonb column of values, for every field at once: what migration 0010 gives the kernel's
 * tables, for a plugin's migration. Idempotent.
 */
export async function createFieldFilterIndex(knex: Knex, options: { table: string; column?: string }): Promise<string> {
  const column = options.column ?? 'attributes';
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(options.table) || !/^[a-z][a-z0-9_]{0,62}$/.test(column)) throw new Error('createFieldFilterIndex: not a table or column name');
  const name = `${options.table}_${column}_idx`.slice(0, 63);
  await knex.raw(`create index if not exists "${name}" on "${options.table}" using gin ("${column}" jsonb_path_ops)`);
  return name;
}
