import { RapportError } from '../errors.js';
import type { RegisteredRoute } from './routes.js';

/**
 * A route answered what its response schema does not describe: a bug of the route (or of its
 * schema). Only raised while responses are checked (tests, development), so its detail says
 * what differs.
 */
export class ResponseSchemaError extends RapportError {
  constructor(route: string, problems: string[]) {
    super(
      500,
      'response-schema-mismatch',
      `${route} answered a body its response schema does not describe: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`,
      { route, problems: problems.slice(0, 50) },
    );
  }
}

/**
 * Parses what a route is about to send, as a client receives it (JSON), with its response
 * schema, and lists the fields the schema does not declare: a field the schema leaves out is
 * as much a drift as a wrong type, since the OpenAPI document and the typed client miss it.
 */
export function checkResponse(route: RegisteredRoute, body: unknown): void {
  const name = `${route.method.toUpperCase()} ${route.fullPath}`;
  if (!route.response) throw new ResponseSchemaError(name, ['the route declares no response schema']);
  const wire: unknown = JSON.parse(JSON.stringify(body));
  const parsed = route.response.safeParse(wire);
  if (!parsed.success) {
    throw new ResponseSchemaError(
      name,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`),
    );
  }
  const extra = undeclared(wire, parsed.data, '');
  if (extra.length)
    throw new ResponseSchemaError(
      name,
      extra.map((path) => `${path}: not in the response schema`),
    );
}

/** Paths of object keys present in what was sent and dropped by the parse. */
function undeclared(sent: unknown, kept: unknown, path: string): string[] {
  if (Array.isArray(sent) && Array.isArray(kept)) return sent.flatMap((item, i) => undeclared(item, kept[i], `${path}[${i}]`));
  if (!isObject(sent) || !isObject(kept)) return [];
  const out: string[] = [];
  for (const key of Object.keys(sent)) {
    const at = path ? `${path}.${key}` : key;
    if (!(key in kept)) out.push(at);
    else out.push(...undeclared(sent[key], kept[key], at));
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
