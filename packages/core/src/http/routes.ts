import type Koa from 'koa';
import type { z } from 'zod';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import type { QueryContext } from '../kernel/context.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call a route, besides holding its permission:
 * - `internal`: principals of the firm (not scoped to a party). The default: a route is
 *   closed to partners, suppliers and employees' self-service keys unless it says otherwise.
 * - `scoped`: only principals scoped to a party (a portal's own routes, "my tier").
 * - `any`: both; the route must then restrict what it reads and writes by record scopes.
 * A caller outside the audience gets 403 before the route reads anything.
 */
export type RouteAudience = 'internal' | 'scoped' | 'any';

/**
 * What a route handler gets: validated input, the caller, and a way to write. It is the
 * read context of the request (tenant, caller, connection) for services: `parties.get(ctx, id)`.
 */
export interface RequestContext<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> extends QueryContext {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** Version from `If-Match`, when the route reads it. */
  readonly ifMatch: number | undefined;
  /**
   * Runs a write as one unit of work (transaction + events + outbox + audit + idempotency
   * record). `storeResponse: false` for an answer that must not be kept for replays (it
   * carries a secret shown once): the request's Idempotency-Key is then not honoured.
   */
  transaction<T>(work: (uow: UnitOfWork) => Promise<T>, options?: { storeResponse?: boolean }): Promise<T>;
  readonly koa: Koa.Context;
}

export interface RouteSpec<P = any, Q = any, B = any> {
  method: HttpMethod;
  /** koa-router path relative to the router's prefix, e.g. `/deals/:id`. */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  /**
   * `resource:action` the caller needs; `'authenticated'` for any valid principal (e.g.
   * `/auth/me`); `null` for public routes (login). Deny by default: there is no other way
   * to skip authentication.
   */
  permission: string | null;
  /** Who may call it besides holding the permission; `internal` by default (see RouteAudience). */
  audience?: RouteAudience;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Schema of a successful response body, for the OpenAPI document. */
  response?: z.ZodType;
  /** Status of a successful response; 200 by default, 201 for POST that creates. */
  status?: number;
  /**
   * An anonymous write (an anonymous survey's answer, an upward review): its events carry no
   * actor, its audit entries name no one, and its Idempotency-Key is kept as a keyed hash
   * (HMAC under the server's secret key) that names neither the caller nor the request. The
   * route still authenticates and authorizes the caller; its own records must not name them.
   * A function decides per request, from its validated input, before anything is read or
   * written (a review route anonymous for upward reviews only).
   */
  anonymous?: boolean | ((input: { params: P; query: Q; body: B }) => boolean);
  /**
   * `replica`: a read that a streaming replica may answer (lists, timelines, reports,
   * search), when `database.replicas` is set. The caller's own writes are never missed: until
   * a replica has replayed them, the primary answers. Declare it only on reads that write
   * nothing.
   */
  reads?: 'replica';
  /** PATCH routes that use optimistic concurrency require `If-Match`. */
  requireIfMatch?: boolean;
  /** Free-form responses (CSV, HTML): the handler sets ctx.koa.body itself. */
  raw?: boolean;
  /**
   * A non-JSON request body the handler streams from `ctx.koa.req` itself (e.g. `text/csv`);
   * only documents it in OpenAPI. The JSON body parser leaves other media types unread.
   */
  requestBody?: { contentType: string; description?: string };
  /** Media type of a `raw` response (e.g. `text/csv`), for OpenAPI. */
  responseContentType?: string;
  /**
   * Problem statuses the route may answer beyond those its shape implies (400, 401/403 with a
   * permission, 404 with params, …), e.g. 429 for a throttled login. Documented in OpenAPI.
   */
  problems?: number[];
  handler(ctx: RequestContext<P, Q, B>): Promise<unknown> | unknown;
}

export interface RegisteredRoute extends RouteSpec {
  /** Owner: "core" or the plugin name. */
  owner: string;
  /** Full path including /api/v1 prefix, koa syntax. */
  fullPath: string;
}

/** Collects route specs; the HTTP layer mounts them and the OpenAPI document describes them. */
export class RouteBuilder {
  readonly routes: RegisteredRoute[] = [];

  constructor(
    readonly owner: string,
    readonly prefix: string,
  ) {}

  route<P, Q, B>(spec: RouteSpec<P, Q, B>): this {
    const duplicate = this.routes.find((r) => r.method === spec.method && r.path === spec.path);
    if (duplicate) throw new Error(`${this.owner}: route ${spec.method.toUpperCase()} ${spec.path} is declared twice`);
    this.routes.push({ ...(spec as RouteSpec), owner: this.owner, fullPath: this.prefix + spec.path });
    return this;
  }

  get<P, Q, B>(path: string, spec: Omit<RouteSpec<P, Q, B>, 'method' | 'path'>): this {
    return this.route({ ...spec, method: 'get', path });
  }

  post<P, Q, B>(path: string, spec: Omit<RouteSpec<P, Q, B>, 'method' | 'path'>): this {
    return this.route({ ...spec, method: 'post', path });
  }

  put<P, Q, B>(path: string, spec: Omit<RouteSpec<P, Q, B>, 'method' | 'path'>): this {
    return this.route({ ...spec, method: 'put', path });
  }

  patch<P, Q, B>(path: string, spec: Omit<RouteSpec<P, Q, B>, 'method' | 'path'>): this {
    return this.route({ ...spec, method: 'patch', path });
  }

  delete<P, Q, B>(path: string, spec: Omit<RouteSpec<P, Q, B>, 'method' | 'path'>): this {
    return this.route({ ...spec, method: 'delete', path });
  }
}
