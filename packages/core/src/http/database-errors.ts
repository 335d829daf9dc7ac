import { ConflictError, RapportError, ValidationError } from '../errors.js';

/*
 * What a database error means for the client. A constraint the database enforces (two
 * concurrent creates of one name, a reference to a record deleted meanwhile) is the client's
 * conflict, not the server's failure: 409 naming the fields, never their values (which may
 * be another tenant's). A lost connection is an outage: 503 with Retry-After.
 */

/** PostgreSQL error fields (node-pg and PGlite raise the same). */
interface DatabaseErrorFields {
  code?: string;
  detail?: string;
  constraint?: string;
  column?: string;
  table?: string;
  name?: string;
  message?: string;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', '57P01', '57P02', '57P03', '53300']);
const CONNECTION_MESSAGES =
  /Connection terminated|connection error|Timeout acquiring a connection|Client was closed|terminating connection|the database system is (starting up|shutting down)|Connection ended unexpectedly/i;

/** The database could not be reached (or dropped the connection): the request may succeed later. */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as DatabaseErrorFields;
  if (code && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  if (name === 'KnexTimeoutError') return true;
  return typeof message === 'string' && CONNECTION_MESSAGES.test(message);
}

/** The retry delay advertised while the database is unreachable, seconds. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

export class DatabaseUnavailableError extends RapportError {
  constructor() {
    super(503, 'database-unavailable', 'The database is not reachable right now; retry shortly', { retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS });
  }
}

const camel = (column: string) => column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** `Key (tenant_id, name)=(…) already exists.` → `['name']`: the fields of the key, the tenant left out. */
function keyFields(detail: string | undefined): string[] {
  const match = detail ? /^Key \(([^)]*)\)/.exec(detail) : null;
  if (!match) return [];
  return match[1]
    .split(',')
    .map((c) => c.trim().replace(/^"|"$/g, ''))
    .filter((c) => c && c !== 'tenant_id' && !/^\w+\(/.test(c))
    .map(camel);
}

/** The client-facing error for a database error, or undefined when it is the server's own failure. */
export function databaseProblem(error: unknown): RapportError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if (isConnectionError(error)) return new DatabaseUnavailableError();
  const { code, detail, constraint, column } = error as DatabaseErrorFields;
  if (!code || typeof code !== 'string') return undefined;
  switch (code) {
    case '23505': {
      const fields = keyFields(detail);
      const what = fields.length ? `the same ${fields.join(', ')}` : 'the same key';
      return new ConflictError(`A record with ${what} already exists (it may have been created at the same moment)`, { fields, constraint: constraint ?? null });
    }
    case '23503':
      return new ConflictError('The record refers to one that does not exist (or is referred to by another), perhaps changed at the same moment', {
        fields: keyFields(detail),
        constraint: constraint ?? null,
      });
    case '23P01':
      return new ConflictError('The record overlaps another one', { constraint: constraint ?? null });
    case '23514':
      return new ValidationError(`A value is outside what the field accepts${constraint ? ` (${constraint})` : ''}`, [{ path: constraint ?? 'body', message: 'check failed' }]);
    case '23502':
      return new ValidationError(`A required value is missing${column ? `: ${camel(column)}` : ''}`, [{ path: column ? camel(column) : 'body', message: 'required' }]);
    case '40001':
    case '40P01':
      // A serialization failure or deadlock: the write did nothing; retrying it is safe.
      return new RapportError(503, 'retry', 'The write collided with a concurrent one and was rolled back; retry it', { retryAfterSeconds: 1 });
    default:
      // Data exceptions: a value the database cannot represent (out of range, too long, a date past year 294276).
      if (code.startsWith('22')) return new ValidationError('A value is outside what the database can store', [{ path: 'body', message: 'out of range' }]);
      return undefined;
  }
}
