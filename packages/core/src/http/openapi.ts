import { z } from 'zod';
import type { RegisteredRoute } from './routes.js';

type JsonSchema = Record<string, unknown>;

const problem = {
  description: 'An RFC 9457 problem',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

/**
 * OpenAPI 3.1 from the same zod schemas that validate each request, so the document and
 * the behaviour cannot drift. Covers the kernel and every enabled plugin.
 */
export function buildOpenApi(app: { readonly version: string }, routes: RegisteredRoute[]): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.fullPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const operation: Record<string, unknown> = {
      operationId: operationId(route),
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: route.tags ?? [route.owner === 'core' ? 'Kernel' : route.owner],
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query'), ...headers(route)],
      responses: responses(route),
      ...(route.permission ? { security: [{ bearer: [] }], 'x-permission': route.permission } : { security: [] }),
      ...(route.owner !== 'core' ? { 'x-plugin': route.owner } : {}),
    };
    if (route.body) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: toSchema(route.body, 'input') } } };
    } else if (route.requestBody) {
      const { contentType, description } = route.requestBody;
      operation.requestBody = { required: true, ...(description ? { description } : {}), content: { [contentType]: { schema: { type: 'string' } } } };
    }
    (paths[path] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Rapport API',
      version: app.version,
      license: { name: 'MIT', identifier: 'MIT' },
      description: 'Kernel and plugin routes of this Rapport system. Errors are application/problem+json (RFC 9457).',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key (rpk_…) or a login session token (rps_…)' } },
      schemas: {
        Problem: {
          type: 'object',
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            detail: { type: 'string' },
            requestId: { type: 'string' },
            errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
          },
          required: ['type', 'title', 'status'],
        },
      },
    },
  };
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const json = toSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

function headers(route: RegisteredRoute): unknown[] {
  const out: unknown[] = [];
  if (route.requireIfMatch) out.push({ name: 'If-Match', in: 'header', required: true, schema: { type: 'string' }, description: 'The version read (ETag)' });
  if (route.method === 'post' && route.permission) {
    out.push({ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 }, description: 'Retries with the same key return the first response' });
  }
  return out;
}

function responses(route: RegisteredRoute): Record<string, unknown> {
  const status = String(route.status ?? (route.method === 'post' ? 201 : 200));
  const ok = route.response
    ? { description: 'Success', content: { 'application/json': { schema: toSchema(route.response, 'output') } } }
    : route.responseContentType
      ? { description: 'Success', content: { [route.responseContentType]: { schema: { type: 'string' } } } }
      : { description: 'Success' };
  const out: Record<string, unknown> = { [status]: ok, '400': problem };
  if (route.permission) Object.assign(out, { '401': problem, '403': problem });
  if (route.params) out['404'] = problem;
  if (route.requireIfMatch) Object.assign(out, { '412': problem, '428': problem });
  if (route.body) Object.assign(out, { '409': problem, '413': problem, '415': problem, '422': problem });
  if (route.requestBody) Object.assign(out, { '413': problem, '415': problem });
  for (const status of route.problems ?? []) out[String(status)] = problem;
  return out;
}

function operationId(route: RegisteredRoute): string {
  const words = route.fullPath
    .replace(/^\/api\/v1\//, '')
    .split('/')
    .map((part) => (part.startsWith(':') ? `by-${part.slice(1)}` : part))
    .join('-');
  return `${route.method}-${words}`.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''));
}
