import { ValidationError } from '../errors.js';

/** Deeper than any schema of ours; deeper input would overflow the stack of structuredClone or JSON.stringify. */
const MAX_DEPTH = 32;

/**
 * Input every route refuses before its schema sees it: a NUL character anywhere (PostgreSQL
 * text and jsonb cannot hold U+0000, so it would reach the database as a 500), a lone UTF-16
 * surrogate (text would store U+FFFD in its place, silently, and json refuses it with a 500),
 * and JSON nested deeper than MAX_DEPTH.
 */
export function assertPlainInput(value: unknown, where: 'params' | 'query' | 'body'): void {
  const problem = inspect(value, 0);
  if (problem) {
    const path = [where, ...problem.keys.reverse()].join('.');
    throw new ValidationError(`The request ${where} ${problem.message} (at ${path})`, [{ path, message: problem.message }]);
  }
}

/** The first problem found, with the keys leading to it innermost first (built only when there is one). */
function inspect(value: unknown, depth: number): { keys: string[]; message: string } | undefined {
  if (typeof value === 'string') return textProblem(value);
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_DEPTH) return { keys: [], message: `is nested deeper than ${MAX_DEPTH} levels` };
  for (const key of Object.keys(value)) {
    const keyProblem = textProblem(key);
    if (keyProblem)
      return {
        keys: [
          JSON.stringify(key)
            .slice(1, -1)
            .replace(/\\u0000/g, '\\0'),
        ],
        message: keyProblem.message,
      };
    const found = inspect((value as Record<string, unknown>)[key], depth + 1);
    if (found) {
      found.keys.push(key);
      return found;
    }
  }
  return undefined;
}

function textProblem(text: string): { keys: string[]; message: string } | undefined {
  if (text.includes('\u0000')) return { keys: [], message: 'contains a NUL character' };
  if (!isWellFormed(text)) return { keys: [], message: 'contains a lone UTF-16 surrogate (not a Unicode character)' };
  return undefined;
}

// Node 20 has String.prototype.isWellFormed; the ES2023 lib does not type it yet.
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/** A route without a body schema takes no body: fields sent to it would be silently ignored. */
export function assertNoBody(body: unknown): void {
  const empty = body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
  if (!empty) throw new ValidationError('This route takes no request body', [{ path: 'body', message: 'no body expected' }]);
}

/** Likewise a route without a query schema takes no query parameters. */
export function assertNoQuery(query: Record<string, unknown>): void {
  const keys = Object.keys(query);
  if (keys.length)
    throw new ValidationError(
      `This route takes no query parameters (got ${keys.join(', ')})`,
      keys.map((key) => ({ path: `query.${key}`, message: 'unknown parameter' })),
    );
}
