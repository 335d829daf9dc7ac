import type { Knex } from 'knex';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { decodeCursor, encodeCursor } from '../util/cursor.js';
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
export function fieldExpression(alias: string, field: FieldDefinition): string {
  const key = field.key;
  if (field.kind === 'number') return `(${alias}.attributes->>'${key}')::numeric`;
  if (field.kind === 'money') return `(${alias}.attributes->'${key}'->>'amount')::numeric`;
  return `(${alias}.attributes->>'${key}')`;
}

/**
 * Equality is containment (`attributes @> {"key": value}`), which the GIN index on
 * `attributes` serves for every field at once; ranges compare the typed value.
 */
export function applyFieldFilters(q: Knex.QueryBuilder, alias: string, query: FieldListQuery): void {
  for (const { field, op, value } of query.filters) {
    if (op === 'eq') {
      const contained = field.kind === 'multiChoice' ? [value] : field.kind === 'money' ? { amount: value } : value;
      q.whereRaw(`${alias}.attributes @> ?::jsonb`, [JSON.stringify({ [field.key]: contained })]);
    } else {
      q.whereRaw(`${fieldExpression(alias, field)} ${op === 'gte' ? '>=' : '<='} ?`, [value]);
    }
  }
}

/**
 * Orders by a field, records without a value last, ties by id; the cursor carries the last
 * row's value (as text), whether it had none, and its id.
 */
export function applyFieldSort(
  q: Knex.QueryBuilder,
  alias: string,
  sort: NonNullable<FieldListQuery['sort']>,
  cursor: string | undefined,
): (row: { id: string; attributes: Record<string, unknown> }) => string {
  const expression = fieldExpression(alias, sort.field);
  const numeric = NUMERIC.has(sort.field.kind);
  const typed = numeric ? '?::numeric' : '?::text';
  const dir = sort.direction;
  const cmp = dir === 'asc' ? '>' : '<';
  const after = decodeCursor(cursor, ['string', 'number', 'uuid']);
  if (after) {
    const [value, isNull, id] = after as [string, number, string];
    if (isNull) q.whereRaw(`${expression} is null and ${alias}.id ${cmp} ?`, [id]);
    else q.whereRaw(`(${expression} ${cmp} ${typed} or (${expression} = ${typed} and ${alias}.id ${cmp} ?) or ${expression} is null)`, [value, value, id]);
  }
  q.orderByRaw(`${expression} ${dir} nulls last, ${alias}.id ${dir}`);
  return (row) => {
    const stored = row.attributes[sort.field.key];
    const value = sort.field.kind === 'money' ? (stored as { amount?: number } | undefined)?.amount : stored;
    return encodeCursor(value === undefined || value === null ? ['', 1, row.id] : [typeof value === 'string' ? value : JSON.stringify(value), 0, row.id]);
  };
}
