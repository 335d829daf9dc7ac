import { ValidationError } from '../errors.js';

/**
 * Keyset cursors are opaque to clients: base64url JSON of the last row's sort key.
 * A cursor that does not decode to the expected shape is a 400, never a 500.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, shape: readonly ('string' | 'number' | 'uuid' | 'timestamp')[]): (string | number)[] | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) throw invalid();
  shape.forEach((kind, i) => {
    const value = parsed[i];
    const ok =
      kind === 'number'
        ? typeof value === 'number' && Number.isFinite(value)
        : typeof value === 'string' &&
          // A string PostgreSQL cannot compare (NUL, a lone surrogate) is not a cursor we wrote.
          ((kind === 'string' && !value.includes('\u0000') && (value as unknown as { isWellFormed(): boolean }).isWellFormed()) ||
            (kind === 'uuid' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) ||
            (kind === 'timestamp' && isCursorTimestamp(value)));
    if (!ok) throw invalid();
  });
  return parsed as (string | number)[];
}

/*
 * Cursors carry what toISOString() wrote. Anything else is refused here rather than by
 * PostgreSQL, which rejects strings Date.parse accepts ("1", "2024-02-31") with a 500.
 */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function isCursorTimestamp(value: string): boolean {
  if (!ISO_UTC.test(value) || value.startsWith('0000')) return false; // PostgreSQL has no year 0
  const time = Date.parse(value);
  return !Number.isNaN(time) && new Date(time).toISOString() === value;
}

function invalid(): ValidationError {
  return new ValidationError('The cursor is not valid; use the nextCursor of a previous page', [{ path: 'cursor', message: 'invalid cursor' }]);
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
  /** The page before this one, where a list pages both ways (keysetPage) and there is one. */
  prevCursor?: string;
}

/** Takes limit+1 rows, returns `limit` and a cursor when there are more. */
export function toPage<R, T>(rows: R[], limit: number, map: (row: R) => T, keyOf: (row: R) => (string | number)[]): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { data: kept.map(map), nextCursor: more ? encodeCursor(keyOf(kept[kept.length - 1])) : null };
}
