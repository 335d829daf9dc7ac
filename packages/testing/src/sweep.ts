import type { Knex } from 'knex';
import type { Rapport } from '@rapport/core';
import fc from 'fast-check';
import type { TestClient } from './client.js';

/*
 * What route sweeps share: the route list read from the running system (so a route added
 * later is swept without anyone listing it), example inputs built from each route's own
 * OpenAPI schema, and a fingerprint of a tenant's rows to prove a refused request changed
 * nothing.
 */

/** A JSON Schema as the OpenAPI document carries it (zod's output: no `$ref`). */
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  propertyNames?: JsonSchema;
  [key: string]: unknown;
};

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: JsonSchema;
}

export interface OpenApiOperation {
  operationId?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: JsonSchema }> };
  responses: Record<string, unknown>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

/** One served route, with its OpenAPI operation. */
export interface SweptRoute {
  /** `METHOD /api/v1/koa/:path`, the key tests name routes by. */
  key: string;
  method: string;
  /** koa syntax, `/api/v1/deals/:id`. */
  path: string;
  /** OpenAPI syntax, `/api/v1/deals/{id}`. */
  template: string;
  owner: string;
  permission: string | null;
  audience: 'internal' | 'scoped' | 'any';
  /** Path parameter names, in order. */
  params: string[];
  operation: OpenApiOperation;
}

/** `METHOD /path` of every route the system serves, optionally of one owner (`core`, a plugin). */
export function routeKeys(app: Rapport, owner?: string): string[] {
  return app.http
    .routes()
    .filter((r) => owner === undefined || r.owner === owner)
    .map((r) => `${r.method.toUpperCase()} ${r.fullPath}`);
}

/** Every served route joined with its operation in the system's own OpenAPI document; a route missing there throws. */
export function sweptRoutes(app: Rapport, doc: OpenApiDocument): SweptRoute[] {
  return app.http.routes().map((r) => {
    const template = r.fullPath.replace(/:(\w+)/g, '{$1}');
    const operation = doc.paths[template]?.[r.method];
    if (!operation) throw new Error(`${r.method.toUpperCase()} ${r.fullPath} is served but not in the OpenAPI document`);
    return {
      key: `${r.method.toUpperCase()} ${r.fullPath}`,
      method: r.method.toUpperCase(),
      path: r.fullPath,
      template,
      owner: r.owner,
      permission: r.permission,
      audience: r.audience ?? 'internal',
      params: [...r.fullPath.matchAll(/:(\w+)/g)].map((m) => m[1]),
      operation,
    };
  });
}

/** The JSON body schema of an operation, if it takes one. */
export function bodySchema(operation: OpenApiOperation): JsonSchema | undefined {
  return operation.requestBody?.content['application/json']?.schema;
}

/** Fills a route template with values (encoded). */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${path}`);
    return encodeURIComponent(value);
  });
}

export interface ExampleOptions {
  /** A value for a uuid-formatted string at `field` (the property name, `''` for an array item's parent). */
  uuid(field: string): string;
  /** Include optional properties too (a PATCH body with nothing required would say nothing). */
  optional?: boolean;
}

const NOW = new Date('2030-06-15T10:00:00.000Z');

/**
 * A small value the schema accepts, deterministic: required properties only (unless
 * `optional`), the lowest number allowed, the first enum member, a string matching its
 * pattern. Good enough to get past a route's input validation, so a sweep reaches the checks
 * behind it (permission, reach, state).
 */
export function exampleOf(schema: JsonSchema, options: ExampleOptions, field = ''): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s) => exampleOf(s, options, field)));
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    const chosen = alternatives.find((s) => s.type !== 'null') ?? alternatives[0];
    return exampleOf(chosen, options, field);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      for (const [name, property] of Object.entries(properties)) {
        if (required.has(name) || options.optional) out[name] = exampleOf(property, options, name);
      }
      return out;
    }
    case 'array': {
      const count = Math.max(schema.minItems ?? 0, options.optional ? 1 : 0);
      return Array.from({ length: Math.min(count, schema.maxItems ?? count) }, () => exampleOf(schema.items ?? {}, options, field));
    }
    case 'string':
      return exampleString(schema, options, field);
    case 'integer':
    case 'number':
      return exampleNumber(schema, type === 'integer');
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return 'x';
  }
}

function exampleString(schema: JsonSchema, options: ExampleOptions, field: string): string {
  switch (schema.format) {
    case 'uuid':
      return options.uuid(field);
    case 'date-time':
      return NOW.toISOString();
    case 'date':
      return NOW.toISOString().slice(0, 10);
    case 'email':
      return 'sweep@example.com';
    case 'uri':
      return 'https://hooks.example.com/sweep';
  }
  if (schema.pattern) {
    // The first sample of a fixed seed: the same string every run.
    const [sample] = fc.sample(fc.stringMatching(new RegExp(schema.pattern)), { seed: 1, numRuns: 1 });
    return clamp(sample, schema);
  }
  return clamp('sweep', schema);
}

function clamp(value: string, schema: JsonSchema): string {
  let out = value;
  if (schema.minLength !== undefined && out.length < schema.minLength) out = out.padEnd(schema.minLength, 'x');
  if (schema.maxLength !== undefined && out.length > schema.maxLength) out = out.slice(0, schema.maxLength);
  return out;
}

function exampleNumber(schema: JsonSchema, integer: boolean): number {
  let value = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 1);
  if (schema.maximum !== undefined && value > schema.maximum) value = schema.maximum;
  if (schema.multipleOf) value = Math.ceil(value / schema.multipleOf) * schema.multipleOf;
  return integer ? Math.ceil(value) : value;
}

/**
 * A digest of every row of one tenant, per table (each table with a `tenant_id`), to compare
 * before and after requests that must change nothing. Tables in `exclude` are left out.
 */
export async function tenantFingerprint(knex: Knex, tenantId: string, exclude: readonly string[] = []): Promise<Record<string, string>> {
  const tables: { rows: Array<{ table_name: string }> } = await knex.raw(
    "select table_name from information_schema.columns where column_name = 'tenant_id' and table_schema = current_schema() order by table_name",
  );
  const names = tables.rows.map((r) => r.table_name).filter((table) => !exclude.includes(table));
  // One round trip for every table: a sweep fingerprints often.
  const parts = names.map(() => `select ? as t, count(*)::int as n, md5(coalesce(string_agg(r::text, '|' order by r::text), '')) as digest from ?? as r where r.tenant_id = ?`);
  const result: { rows: Array<{ t: string; n: number; digest: string }> } = await knex.raw(
    parts.join(' union all '),
    names.flatMap((table) => [table, table, tenantId]),
  );
  return Object.fromEntries(result.rows.map((r) => [r.t, `${r.n}:${r.digest}`]));
}

/** The tables whose fingerprint differs. */
export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((table) => before[table] !== after[table]).sort();
}

/** The ids of a list answer (`{ data: [...] }`): each item's `id`, or its `party.id` for rows that pair a party with a relationship. */
export function listedIds(list: unknown): string[] {
  const data = (list as { data?: unknown[] } | null)?.data;
  if (!Array.isArray(data)) return [];
  return data.map((x) => (x as { id?: unknown; party?: { id?: unknown } })?.id ?? (x as { party?: { id?: unknown } })?.party?.id).filter((id): id is string => typeof id === 'string');
}

/** The first page (up to 200) of a list, or null when the caller cannot list it; a list that takes no query is asked without one. */
export async function firstPage(client: TestClient, path: string): Promise<unknown> {
  let res = await client.get(`${path}${path.includes('?') ? '&' : '?'}limit=200`);
  if (res.status === 400) res = await client.get(path);
  return res.status === 200 ? res.body : null;
}

/** Where a route's records are listed when it is not the path up to the parameter: a list path, or a function giving the ids. */
export type RecordSource = string | ((filled: Record<string, string>) => Promise<string[]>);

/**
 * Finds records of a running system for the path parameters of its routes: a parameter names
 * a member of the collection before it (`/deals/:id/move` → `GET /deals`), unless `sources`
 * says where else (keyed by the collection, koa syntax, or `collection:param`). Ids given with
 * `set` win; `exclude` is never returned.
 */
export class RecordFinder {
  private readonly found = new Map<string, string[]>();

  constructor(
    private readonly client: TestClient,
    private readonly sources: Record<string, RecordSource> = {},
    private readonly exclude: ReadonlySet<string> = new Set(),
  ) {}

  /** The collection a path parameter names a member of: the path up to the parameter. */
  static collectionOf(route: Pick<SweptRoute, 'path'>, param: string): string {
    return route.path.slice(0, route.path.indexOf(`:${param}`) - 1);
  }

  /** Ids of a collection (or `collection:param`) known beforehand. */
  set(collection: string, ids: string[]): void {
    this.found.set(collection, ids);
  }

  /** Record ids for `param` of `route`, its earlier parameters filled with `filled`. */
  async ids(route: Pick<SweptRoute, 'path'>, param: string, filled: Record<string, string>): Promise<string[]> {
    const template = RecordFinder.collectionOf(route, param);
    const collection = fillPath(template, filled);
    const known = this.found.get(`${collection}:${param}`) ?? this.found.get(collection);
    if (known) return known;
    const source = this.sources[`${template}:${param}`] ?? this.sources[template] ?? collection;
    const listed = typeof source === 'function' ? await source(filled) : listedIds(await firstPage(this.client, source));
    const ids = listed.filter((id) => !this.exclude.has(id));
    this.found.set(`${collection}:${param}`, ids);
    return ids;
  }

  /** The first record of each path parameter of a route (null when one has none). */
  async first(route: Pick<SweptRoute, 'path' | 'params'>): Promise<Record<string, string> | null> {
    const filled: Record<string, string> = {};
    for (const param of route.params) {
      const [id] = await this.ids(route, param, filled);
      if (id === undefined) return null;
      filled[param] = id;
    }
    return filled;
  }
}
