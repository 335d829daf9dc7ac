/** A failure the user can act on: printed as one line, exit code 1 (or the one given). */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? 1;
  }
}

/**
 * One clear line for any error that ends a command: start-up problems (a plugin that
 * fails to resolve, a locked data directory, a database that refuses the connection) are
 * the user's to fix, and a stack trace only buries the sentence that says how. The stack
 * comes back with LOG_LEVEL=debug.
 */
export function formatError(error: unknown, debug: boolean): string {
  if (!(error instanceof Error)) return `rapport: ${String(error)}`;
  if (debug) return `rapport: ${error.stack ?? error.message}${error.cause instanceof Error ? `\ncaused by: ${error.cause.stack ?? error.cause.message}` : ''}`;
  let message = error.message;
  // A database error from knex carries the whole statement before " - "; keep PostgreSQL's words.
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && message.includes(' - ')) message = message.slice(message.lastIndexOf(' - ') + 3);
  if (code === 'ECONNREFUSED') message = `cannot connect to the database (${message}); is PostgreSQL running and DATABASE_URL right?`;
  return `rapport: ${message.split('\n')[0]}`;
}
