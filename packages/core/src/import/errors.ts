import { RapportError } from '../errors.js';

/*
 * Telling a bad row from a broken run. A constraint violation or a value PostgreSQL
 * refuses (SQLSTATE classes 22, 23) belongs to rows: the batch is bisected to find them.
 * A lost connection, a connection stuck in a failed transaction (25), exhausted resources,
 * a missing table or a bug in SQL fails every
 * row alike: bisecting would only repeat it thousands of times, so the run stops.
 */
const FATAL_SQLSTATE_CLASSES = new Set(['08', '25', '3D', '3F', '42', '53', '54', '57', '58', 'XX']);
const CITUS_ROW_VIOLATION = /violates (check|not-null|unique|foreign key|exclusion) constraint/;
const FATAL_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * Thrown to a batch waiting for its turn when a batch before it failed for good (or the
 * run was stopped): it must not write, and bisecting it would only repeat the refusal.
 */
export class ImportStoppedError extends Error {
  constructor() {
    super('the import stopped at an earlier batch');
    this.name = 'ImportStoppedError';
  }
}

export function isFatalError(error: unknown): boolean {
  if (error instanceof ImportStoppedError) return true;
  if (error instanceof RapportError) return false;
  if (!(error instanceof Error)) return false;
  if (error.name === 'KnexTimeoutError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  if (FATAL_NODE_CODES.has(code)) return true;
  // Citus passes a worker's constraint violation in a COPY or INSERT … SELECT on as XX000
  // (internal error) with PostgreSQL's own words: still a bad row, so it is bisected.
  if (code === 'XX000' && CITUS_ROW_VIOLATION.test(error.message)) return false;
  return /^[0-9A-Z]{5}$/.test(code) && FATAL_SQLSTATE_CLASSES.has(code.slice(0, 2));
}

/**
 * One line for a report. knex prefixes a database error with the whole statement and its
 * bindings (thousands of values in a bulk insert); only PostgreSQL's own words are kept.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof RapportError) {
    const issues = error.extensions.errors;
    if (Array.isArray(issues) && issues.length) {
      return `${error.message}: ${issues.map((i: { path?: string; message: string }) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`;
    }
    return error.message;
  }
  const database = error as Error & { code?: string; detail?: string };
  let message = error.message;
  if (typeof database.code === 'string') {
    const cut = message.lastIndexOf(' - ');
    if (cut >= 0) message = message.slice(cut + 3);
    if (database.detail) message += ` (${database.detail})`;
  }
  return message.length > 500 ? `${message.slice(0, 500)}…` : message;
}
