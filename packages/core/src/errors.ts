/**
 * Errors that carry their own HTTP meaning. The HTTP layer turns any RapportError into an
 * RFC 9457 problem document; anything else becomes a 500 with no detail leaked.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

const TYPE_BASE = 'https://rapport.dev/problems/';

export class RapportError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extensions: Record<string, unknown>;

  constructor(status: number, code: string, message: string, extensions: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.extensions = extensions;
  }

  toProblem(): ProblemDetails {
    return {
      type: TYPE_BASE + this.code,
      title: titleFor(this.status),
      status: this.status,
      detail: this.message,
      ...this.extensions,
    };
  }
}

export interface ValidationIssue {
  path: string;
  message: string;
}

export class ValidationError extends RapportError {
  constructor(message: string, issues: ValidationIssue[] = []) {
    super(400, 'validation', message, issues.length ? { errors: issues } : {});
  }
}

export class NotFoundError extends RapportError {
  constructor(resource: string, id?: string) {
    super(404, 'not-found', id ? `${resource} ${id} was not found` : `${resource} was not found`);
  }
}

export class ConflictError extends RapportError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(409, 'conflict', message, extensions);
  }
}

export class PreconditionFailedError extends RapportError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super(412, 'precondition-failed', message, extensions);
  }
}

export class UnauthorizedError extends RapportError {
  constructor(message = 'Authentication is required') {
    super(401, 'unauthorized', message);
  }
}

export class ForbiddenError extends RapportError {
  constructor(message: string) {
    super(403, 'forbidden', message);
  }
}

/**
 * Thrown by a filter hook to refuse a write. The whole unit of work rolls back and the
 * client gets a 422 (or the status the plugin chose) naming the plugin that vetoed.
 */
export class VetoError extends RapportError {
  constructor(message: string, options: { status?: number; code?: string; extensions?: Record<string, unknown> } = {}) {
    super(options.status ?? 422, options.code ?? 'vetoed', message, options.extensions ?? {});
  }
}

/** A plugin set-up problem found at start: always names the plugin. */
export class PluginError extends Error {
  readonly plugin: string;
  constructor(plugin: string, message: string) {
    super(`Plugin "${plugin}": ${message}`);
    this.name = 'PluginError';
    this.plugin = plugin;
  }
}

function titleFor(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    409: 'Conflict',
    412: 'Precondition Failed',
    413: 'Content Too Large',
    415: 'Unsupported Media Type',
    422: 'Unprocessable Content',
    428: 'Precondition Required',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    501: 'Not Implemented',
    503: 'Service Unavailable',
  };
  return titles[status] ?? 'Error';
}

export { titleFor as problemTitle };
