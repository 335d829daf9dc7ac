import type { z } from 'zod';
import { calendarDay, isoRequired } from '../util/time.js';

/**
 * One record, declared once. The zod object is the API shape (response schema, OpenAPI,
 * `z.infer` for the TypeScript type); the row mapper and the column list derive from it:
 * each field is the snake_case column of its camelCase name unless `columns` says otherwise,
 * and is converted as its schema reads — ISO timestamps from timestamptz, calendar days from
 * date, numbers from numeric and bigint, JSON from json text — so the three cannot drift.
 *
 *   export const dealRecord = defineRecord(z.object({ id: z.uuid(), amount: z.number(), … }),
 *     { columns: { contactIds: null } });            // computed, not a column
 *   export type Deal = z.infer<typeof dealRecord.schema>;
 *   dealRecord.fromRow(row, { contactIds })
 */
export interface RecordDefinition<T> {
  readonly schema: z.ZodType<T>;
  /** The columns to select, in field order (`alias.column`), leaving computed fields out. */
  columns(alias?: string): string[];
  /** The API object of a row; `computed` supplies the fields that are no column. */
  fromRow(row: object, computed?: Partial<T>): T;
}

type Conversion = 'timestamp' | 'date' | 'number' | 'json' | 'boolean' | 'none';

interface Field {
  key: string;
  column: string | null;
  convert: Conversion;
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** What a field's schema expects, under its optional/nullable/default wrappers. */
function conversionOf(schema: z.ZodType): Conversion {
  let def = (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
  while (def.innerType && (def.type === 'optional' || def.type === 'nullable' || def.type === 'default' || def.type === 'readonly' || def.type === 'catch')) {
    def = def.innerType._zod.def;
  }
  if (def.type === 'pipe' && def.in) def = def.in._zod.def;
  switch (def.type) {
    case 'string':
      return def.format === 'datetime' ? 'timestamp' : def.format === 'date' ? 'date' : 'none';
    case 'number':
    case 'int':
    case 'bigint':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'object':
    case 'record':
    case 'array':
    case 'tuple':
    case 'unknown':
    case 'any':
      return 'json';
    default:
      return 'none';
  }
}

interface ZodDef {
  type: string;
  format?: string;
  innerType?: { _zod: { def: ZodDef } };
  in?: { _zod: { def: ZodDef } };
}

function convert(value: unknown, how: Conversion): unknown {
  if (value === null || value === undefined) return value;
  switch (how) {
    case 'timestamp':
      return isoRequired(value as Date | string);
    case 'date':
      return calendarDay(value as Date | string);
    case 'number':
      return typeof value === 'number' ? value : Number(value);
    case 'boolean':
      return Boolean(value);
    case 'json':
      return typeof value === 'string' ? JSON.parse(value) : value;
    default:
      return value;
  }
}

export function defineRecord<S extends z.ZodObject>(schema: S, options: { columns?: { readonly [K in keyof z.infer<S>]?: string | null } } = {}): RecordDefinition<z.infer<S>> {
  const overrides = (options.columns ?? {}) as Record<string, string | null | undefined>;
  const fields: Field[] = Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, field]) => ({
    key,
    column: key in overrides ? (overrides[key] ?? null) : snake(key),
    convert: conversionOf(field),
  }));
  const stored = fields.filter((f) => f.column !== null);
  return {
    schema: schema as unknown as z.ZodType<z.infer<S>>,
    columns: (alias) => stored.map((f) => (alias ? `${alias}.${f.column}` : f.column!)),
    fromRow(row, computed) {
      const source = row as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const field of fields) {
        out[field.key] = field.column === null ? (computed as Record<string, unknown> | undefined)?.[field.key] : convert(source[field.column], field.convert);
      }
      return out as z.infer<S>;
    },
  };
}
