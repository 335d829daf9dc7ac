import type { z } from 'zod';
import { RapportError } from '../errors.js';
import type { RowError } from './importer.js';

/** A cell that reads as JSON (an object, array, number, boolean, null or quoted string) is parsed; anything else stays a string. */
export function parseCell(value: string): unknown {
  if (!/^(?:[[{"]|-?\d|true$|false$|null$)/.test(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

const TRUE = new Set(['1', 'true', 'yes', 'y', 'x']);
const FALSE = new Set(['', '0', 'false', 'no', 'n']);

export function parseFlag(value: string | undefined, column: string): boolean | RowError {
  const v = (value ?? '').toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return { column, message: `"${value}" is not yes or no` };
}

/** Non-empty cells of the columns `prefix*`, keyed by the rest of the column name. */
export function prefixedCells(record: Record<string, string>, prefix: string): Array<[key: string, column: string, value: string]> {
  const out: Array<[string, string, string]> = [];
  for (const [column, value] of Object.entries(record)) {
    if (column.startsWith(prefix) && value !== '') out.push([column.slice(prefix.length), column, value]);
  }
  return out;
}

/** Turns a schema path into the CSV column it came from (`column(['attributes','x'])`). */
export type ColumnOf = (path: ReadonlyArray<PropertyKey>) => string | undefined;

export function zodRowErrors(error: z.ZodError, columnOf: ColumnOf): RowError[] {
  return error.issues.map((issue) => ({ column: columnOf(issue.path), message: issue.message }));
}

/** A RapportError (validation, veto) as row errors, its issue paths (`attributes.x`) mapped to columns. */
export function rapportRowErrors(error: unknown, columnOf: ColumnOf): RowError[] {
  if (!(error instanceof RapportError)) throw error;
  const issues = error.extensions.errors;
  if (Array.isArray(issues) && issues.length) {
    return issues.map((issue: { path: string; message: string }) => {
      const column = columnOf(issue.path.split('.'));
      return { column, message: column ? issue.message : `${issue.path}: ${issue.message}` };
    });
  }
  return [{ message: error.message }];
}
