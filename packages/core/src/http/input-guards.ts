import { ValidationError } from '../errors.js';

/**
 * PostgreSQL text and jsonb cannot hold U+0000, so a NUL anywhere in the input would reach
 * the database as a 500. Refused up front, with the path of the offending value.
 */
export function assertNoNul(value: unknown, where: 'params' | 'query' | 'body'): void {
  const path = findNul(value, where);
  if (path) throw new ValidationError(`The request ${where} contains a NUL character (at ${path})`, [{ path, message: 'NUL characters are not accepted' }]);
}

function findNul(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  // Deeper than any schema goes; the body limit bounds the work.
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return `${path}.${key.replace(/\u0000/g, '\\0')}`;
    const found = findNul(item, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** A route without a body schema takes no body: fields sent to it would be silently ignored. */
export function assertNoBody(body: unknown): void {
  const empty = body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
  if (!empty) throw new ValidationError('This route takes no request body', [{ path: 'body', message: 'no body expected' }]);
}

/** Likewise a route without a query schema takes no query parameters. */
export function assertNoQuery(query: Record<string, unknown>): void {
  const keys = Object.keys(query);
  if (keys.length) throw new ValidationError(`This route takes no query parameters (got ${keys.join(', ')})`, keys.map((key) => ({ path: `query.${key}`, message: 'unknown parameter' })));
}
