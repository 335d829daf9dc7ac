import { randomUUID, createHash, createHmac } from 'node:crypto';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import koaCors from '@koa/cors';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { CorsSettings, RapportConfig } from '../app/config.js';
import type { KernelModule } from '../app/module.js';
import type { Transact } from '../hooks/unit-of-work.js';
import type { DatabaseKind } from '../storage/database.js';
import type { PermissionDefinition } from '../kernel/types.js';
import { authenticate, cachedPrincipal } from '../access/authenticate.js';
import { clientNetwork } from '../access/throttle.js';
import { hashToken, SESSION_PREFIX } from '../access/keys.js';
import { checkCsrf, SESSION_COOKIE } from '../access/cookies.js';
import { AUTHENTICATED, hasPermission, type Principal } from '../access/principal.js';
import { ConflictError, ForbiddenError, RapportError, UnauthorizedError, ValidationError } from '../errors.js';
import type { HttpMetrics } from './metrics.js';
import { sendProblem, toProblem, zodToValidation } from './problem.js';
import type { RegisteredRoute, RequestContext } from './routes.js';
import { RouteBuilder } from './routes.js';
import { buildOpenApi } from './openapi.js';
import { CONSOLE_PATH, consoleStatic } from './console-static.js';
import { addCustomFields } from '../fields/openapi.js';
import { queryContext } from '../kernel/context.js';
import type { FieldService } from '../fields/service.js';
import { API_REFERENCE_PATH, OPENAPI_PATH, apiReference } from './api-reference.js';
import { assertNoBody, assertNoQuery, assertPlainInput } from './input-guards.js';
import { checkResponse } from './response-check.js';
import type { ReadReplicas } from '../storage/replicas.js';
import { isConnectionError } from './database-errors.js';
import { OutageLog } from './outage.js';
import { ServerDrain } from './drain.js';
import { LimitExceededError, setRateLimitHeaders, type RequestLimits } from './limits.js';
import type { Server } from 'node:http';
import { CONNECTION, sql } from '../kernel/context.js';

export interface HttpApp {
  koa: Koa;
  metrics: HttpMetrics;
  /** Stops a server of this app gracefully (see ServerDrain); nothing else is started by it. */
  drain(server: Server, graceMs: number): Promise<void>;
  /** Every route currently served (kernel and enabled plugins), for OpenAPI and diagnostics. */
  routes(): RegisteredRoute[];
}

const API_PREFIX = '/api/v1/';
const PUBLIC_PATHS = new Set(['/health', '/ready', '/metrics']);
/** The methods whose JSON body is parsed (the body parser's own list). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The HTTP surface. Kernel routes live in one router; each plugin's routes in a router of
 * their own, chosen by the first path segment after /api/v1 (a Map lookup), so adding
 * plugins never lengthens the linear route scan of any request.
 */
/** What the HTTP layer needs of the system: the kernel modules' and plugins' routes, principals, units of work, metrics. */
export interface HttpHost {
  readonly config: Pick<RapportConfig, 'http'>;
  readonly logger: Logger;
  readonly knex: Knex;
  readonly databaseKind: DatabaseKind;
  readonly version: string;
  readonly defaultTenant: { readonly id: string };
  readonly metrics: HttpMetrics;
  readonly modules: readonly KernelModule[];
  readonly plugins: { readonly routers: ReadonlyMap<string, RouteBuilder>; isActive(owner: string): boolean };
  readonly transaction: Transact;
  readonly limits: RequestLimits;
  readonly webhookSecrets: { derivedKey(purpose: string): Buffer };
  readonly replicas?: Pick<ReadReplicas, 'pick' | 'noteWrite' | 'markDown'>;
  readonly fields: Pick<FieldService, 'tenantFields'>;
}

/** The permission of the server's own `/metrics` endpoint. */
export const HTTP_PERMISSIONS: readonly PermissionDefinition[] = [{ key: 'metrics:read', description: 'Scrape Prometheus metrics' }];

/** Every kernel module's routes, under /api/v1. */
function kernelRoutes(modules: readonly KernelModule[]): RouteBuilder {
  const r = new RouteBuilder('core', '/api/v1');
  for (const module of modules) module.routes(r);
  return r;
}

export function createHttpApp(app: HttpHost): HttpApp {
  const proxies = trustedProxies(process.env.RAPPORT_TRUST_PROXY);
  // Behind N proxies the client's address is the Nth entry of X-Forwarded-For from the right
  // (each proxy appends the address it saw); entries further left are whatever the client sent.
  const koa = new Koa({ proxy: proxies > 0, maxIpsCount: proxies });
  const metrics = app.metrics;
  const outage = new OutageLog(app.logger, () => app.knex.raw('select 1'));
  const drain = new ServerDrain();
  const httpConfig = app.config.http ?? {};
  const kernel = kernelRoutes(app.modules);
  const pluginRouters = new Map<string, Router>();
  for (const [name, builder] of app.plugins.routers) pluginRouters.set(name, mount(app, builder.routes));

  const servedRoutes = (): RegisteredRoute[] => [...kernel.routes, ...[...app.plugins.routers.entries()].filter(([name]) => app.plugins.isActive(name)).flatMap(([, builder]) => builder.routes)];

  // One Koa middleware for the whole stack (every layer costs each request): request id,
  // timing, problem answers and the request log around `dispatchRequest` below.
  koa.use(async (ctx, next) => {
    const sent = ctx.req.headers['x-request-id'];
    const requestId = typeof sent === 'string' && sent ? sent.slice(0, 100) : randomUUID();
    ctx.state.requestId = requestId;
    ctx.res.setHeader('X-Request-Id', requestId);
    // While the server drains, each answer closes its connection: a keep-alive client moves on.
    if (drain.closing()) ctx.res.setHeader('Connection', 'close');
    const started = performance.now();
    try {
      await dispatchRequest(ctx, next);
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404) sendProblem(ctx, toProblem(new RapportError(404, 'not-found', `No route for ${ctx.method} ${ctx.path}`), requestId));
        else if (ctx.status === 405)
          sendProblem(ctx, toProblem(new RapportError(405, 'method-not-allowed', `${ctx.method} is not allowed on ${ctx.path}; allowed: ${ctx.response.get('allow')}`), requestId));
        else if (ctx.status === 501) sendProblem(ctx, toProblem(new RapportError(501, 'not-implemented', `The method ${ctx.method} is not supported`), requestId));
      }
    } catch (error) {
      const problem = toProblem(error, requestId);
      if (error instanceof LimitExceededError) setRateLimitHeaders(ctx.res, error.limit);
      if (isConnectionError(error)) outage.failed(error);
      else if (problem.status >= 500) app.logger.error({ err: error, requestId, plugin: (error as { plugin?: string })?.plugin }, 'request failed');
      sendProblem(ctx, problem);
    } finally {
      // A request already in flight when the drain began closes its connection too: left
      // open, its client would send the next one on a socket about to be closed as idle.
      if (drain.closing() && !ctx.headerSent) ctx.res.setHeader('Connection', 'close');
      const seconds = (performance.now() - started) / 1000;
      const route = (ctx.state.routeTemplate as string | undefined) ?? 'unmatched';
      metrics.observeRequest(ctx.method, route, ctx.status, seconds);
      // One structured line per request; the request id ties it to any error logged above.
      const level = ctx.status >= 500 ? 'warn' : 'info';
      if (app.logger.isLevelEnabled(level)) app.logger[level]({ requestId, method: ctx.method, route, status: ctx.status, ms: Math.round(seconds * 10000) / 10 }, 'request');
    }
  });

  // Only methods that carry a body go through the body parser (the ones it parses).
  const parseBody = bodyParser({
    enableTypes: ['json'],
    jsonLimit: httpConfig.bodyLimit ?? '1mb',
    encoding: 'utf-8',
    onError: (error) => {
      throw Object.assign(error, { status: (error as { status?: number }).status ?? 400, expose: true });
    },
  });
  // GET /docs and its assets: public, like openapi.json.
  const docs = apiReference();
  // The console's files are public too: signing in is the first thing it shows.
  const consoleFiles = httpConfig.console?.dir ? consoleStatic(httpConfig.console.dir) : undefined;

  // Each router with its 405/501 answer (status and Allow header; the first middleware writes the problem).
  const dispatch = (router: Router) => {
    const routes = router.routes();
    const allowed = router.allowedMethods();
    return matchFirst(router, (ctx: Koa.Context, next: Koa.Next) => routes(ctx as never, () => allowed(ctx as never, next)));
  };
  // The whole kernel router answers what no group claims (404, 405 on odd paths): built on first use.
  let kernelAll: ReturnType<typeof dispatch> | undefined;
  const kernelDispatch = (ctx: Koa.Context, next: Koa.Next) => (kernelAll ??= dispatch(mount(app, kernel.routes)))(ctx, next);
  // Kernel routes grouped by their first segment too, so a request scans only its resource's
  // routes (a path's methods all share one group, so 405 answers are unchanged).
  const kernelBySegment = new Map([...groupBySegment(kernel.routes)].map(([segment, routes]) => [segment, dispatch(mount(app, routes))]));
  const pluginDispatch = new Map([...pluginRouters].map(([name, router]) => [name, dispatch(router)]));

  /**
   * Everything after the request id: the public endpoints, then the API routes. One
   * middleware rather than one per concern, since every layer costs each request.
   */
  const serve = (ctx: Koa.Context, next: Koa.Next): Promise<void> => {
    const path = ctx.path;
    if (!path.startsWith(API_PREFIX)) return servePublic(ctx, path, next);
    // Every API request counts against its address, before anything else (a flood of bad tokens too).
    if (app.limits.enabled) {
      const counted = app.limits.address(clientAddress(ctx));
      if (counted instanceof Promise) return counted.then(() => serveApi(ctx, path, next));
    }
    return serveApi(ctx, path, next);
  };
  const serveApi = (ctx: Koa.Context, path: string, next: Koa.Next): Promise<void> => {
    if (path === OPENAPI_PATH) {
      ctx.state.routeTemplate = OPENAPI_PATH;
      const document = buildOpenApi(app, servedRoutes());
      if (!ctx.get('authorization')) {
        ctx.body = document;
        return Promise.resolve();
      }
      // With a token, the caller's tenant's custom fields too: the document follows every change.
      return Promise.resolve(principalFor(app, ctx)).then(async (principal) => {
        if (hasPermission(principal, 'meta:read')) addCustomFields(document, await app.fields.tenantFields(queryContext(app.knex, principal.tenantId, principal)));
        ctx.body = document;
      });
    }
    const end = path.indexOf('/', API_PREFIX.length);
    const segment = path.slice(API_PREFIX.length, end === -1 ? undefined : end);
    const pluginRouter = pluginDispatch.get(segment);
    if (pluginRouter) {
      // A disabled plugin's routes answer as if they did not exist.
      if (!app.plugins.isActive(segment)) return next();
      return pluginRouter(ctx, next);
    }
    return (kernelBySegment.get(segment) ?? kernelDispatch)(ctx, next);
  };
  const servePublic = async (ctx: Koa.Context, path: string, next: Koa.Next): Promise<void> => {
    // The public endpoints by name in the metrics (every page and asset of the reference as one).
    if (PUBLIC_PATHS.has(path)) ctx.state.routeTemplate = path;
    else if (path.startsWith(API_REFERENCE_PATH)) ctx.state.routeTemplate = API_REFERENCE_PATH;
    switch (path) {
      case '/health':
        ctx.body = { status: 'ok' };
        return;
      case '/ready': {
        try {
          await app.knex.raw('select 1');
          ctx.body = { status: 'ready', database: app.databaseKind };
        } catch {
          ctx.status = 503;
          ctx.type = 'application/problem+json';
          ctx.body = { type: 'https://rapport.dev/problems/not-ready', title: 'Service Unavailable', status: 503, detail: 'The database does not answer' };
        }
        return;
      }
      case '/metrics': {
        const principal = await principalFor(app, ctx);
        if (!hasPermission(principal, 'metrics:read')) throw new ForbiddenError('metrics:read is required');
        ctx.type = metrics.registry.contentType;
        ctx.body = await metrics.registry.metrics();
        return;
      }
      default:
        if (path.startsWith(API_REFERENCE_PATH)) return docs(ctx, () => kernelDispatch(ctx, next));
        if (consoleFiles && (path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`))) return consoleFiles(ctx);
        return kernelDispatch(ctx, next);
    }
  };
  const parseAndServe = (ctx: Koa.Context, next: Koa.Next): Promise<void> => (BODY_METHODS.has(ctx.method) ? parseBody(ctx, () => serve(ctx, next)) : serve(ctx, next));
  // CORS only when origins are configured: otherwise no request pays for it.
  const cors = httpConfig.cors ? corsFor(httpConfig.cors) : undefined;
  const dispatchRequest = cors ? (ctx: Koa.Context, next: Koa.Next) => cors(ctx, () => parseAndServe(ctx, next)) as Promise<void> : parseAndServe;

  return {
    koa,
    metrics,
    routes: servedRoutes,
    drain: async (server, graceMs) => {
      try {
        await drain.drain(server, graceMs, app.logger);
      } finally {
        outage.stop();
      }
    },
  };
}

/**
 * CORS (@koa/cors) for the configured origins: a request from one of them gets the
 * Access-Control headers (its errors too, so a browser can read the problem), a preflight is
 * answered with the methods and headers the API takes; any other origin gets none.
 */
function corsFor(settings: CorsSettings): Koa.Middleware {
  const any = settings.origins.includes('*');
  const allowed = new Set(settings.origins.map((o) => o.replace(/\/+$/, '').toLowerCase()));
  if (any && settings.credentials) throw new Error('http.cors: credentials cannot be allowed for every origin ("*"); list the origins');
  return koaCors({
    origin: (ctx) => {
      const origin = ctx.get('Origin');
      if (!origin) return '';
      return any ? '*' : allowed.has(origin.toLowerCase()) ? origin : '';
    },
    credentials: settings.credentials === true,
    maxAge: settings.maxAgeSeconds ?? 600,
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowHeaders: ['Authorization', 'Content-Type', 'If-Match', 'Idempotency-Key', 'X-Request-Id', 'X-CSRF-Token'],
    exposeHeaders: ['ETag', 'Location', 'Retry-After', 'RateLimit', 'RateLimit-Policy', 'X-Request-Id', 'Idempotent-Replayed'],
    keepHeadersOnError: true,
  });
}

/** The client's address as the limits count it: IPv6 by its /64 (one host holds a whole /64), IPv4-mapped as IPv4. */
function clientAddress(ctx: Koa.Context): string {
  // With no proxy trusted Koa's `ctx.ip` is the socket's address, reached through an array of
  // forwarded addresses it builds per request.
  const ip = (ctx.app.proxy ? ctx.ip : undefined) || ctx.req.socket.remoteAddress || 'unknown';
  // A keep-alive connection sends from one address: parse it once per connection.
  const socket = ctx.req.socket as object;
  const known = lastAddress.get(socket);
  if (known?.ip === ip) return known.network;
  const network = clientNetwork(ip);
  lastAddress.set(socket, { ip, network });
  return network;
}
const lastAddress = new WeakMap<object, { ip: string; network: string }>();

/** RAPPORT_TRUST_PROXY: how many proxies in front of the server append to X-Forwarded-For. */
function trustedProxies(setting: string | undefined): number {
  if (!setting) return 0;
  const hops = Number(setting);
  if (!Number.isInteger(hops) || hops < 0 || hops > 10) {
    throw new Error(`RAPPORT_TRUST_PROXY must be the number of proxies in front of Rapport (0 to 10), not "${setting}"`);
  }
  return hops;
}

/**
 * Routes by the first path segment after /api/v1. Empty when any route starts with a
 * parameter (it could match any segment): then every request scans the whole router.
 */
function groupBySegment(routes: RegisteredRoute[]): Map<string, RegisteredRoute[]> {
  const groups = new Map<string, RegisteredRoute[]>();
  for (const route of routes) {
    const segment = route.fullPath.startsWith(API_PREFIX) ? route.fullPath.slice(API_PREFIX.length).split('/', 1)[0] : '';
    if (!segment || /[:(*?]/.test(segment)) return new Map();
    const group = groups.get(segment) ?? [];
    group.push(route);
    groups.set(segment, group);
  }
  return groups;
}

/** What `matchFirst` reads of a @koa/router layer. */
interface RouteLayer {
  methods: string[];
  regexp: RegExp;
  paramNames: ReadonlyArray<{ name: string }>;
  stack: ReadonlyArray<(ctx: Koa.Context, next: Koa.Next) => unknown>;
}

/**
 * A router's routes found without @koa/router on the way to a handler: per request it reads
 * the Host header and builds match lists, a reversed copy of one, a chain of closures and a
 * composed function, all garbage once the request is answered. Here a request tests the layers of its method in
 * the router's own order, with the router's own compiled patterns, and calls the first that
 * matches with the params the router would give it (decoded the same way) — the route
 * @koa/router would run, since no handler of ours calls `next`. Whatever matches no route
 * (404, 405 with its Allow header, 501) goes through the router itself, as before.
 */
function matchFirst(router: Router, viaRouter: (ctx: Koa.Context, next: Koa.Next) => Promise<void>): (ctx: Koa.Context, next: Koa.Next) => Promise<void> {
  const layers = router.stack as unknown as RouteLayer[];
  // Router-level middleware or a route of several handlers is left to the router.
  if (layers.some((layer) => layer.methods.length === 0 || layer.stack.length !== 1)) return viaRouter;
  const byMethod = new Map<string, RouteLayer[]>();
  for (const layer of layers) {
    for (const method of layer.methods) {
      const list = byMethod.get(method) ?? [];
      list.push(layer);
      byMethod.set(method, list);
    }
  }
  return (ctx, next) => {
    const candidates = byMethod.get(ctx.method);
    if (candidates !== undefined) {
      const path = ctx.path;
      for (const layer of candidates) {
        const match = layer.regexp.exec(path);
        if (match === null) continue;
        const params: Record<string, string> = {};
        for (let i = 1; i < match.length; i++) {
          const value = match[i];
          const name = layer.paramNames[i - 1]?.name;
          if (name !== undefined && value !== undefined && value.length > 0) params[name] = decodeParam(value);
        }
        ctx.params = params;
        (ctx.request as { params?: Record<string, string> }).params = params;
        return layer.stack[0](ctx, next) as Promise<void>;
      }
    }
    return viaRouter(ctx, next);
  };
}

/** A path parameter as @koa/router decodes it: a malformed escape stays as sent. */
function decodeParam(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function mount(app: HttpHost, routes: RegisteredRoute[]): Router {
  const router = new Router();
  // Tests (and a development run) parse every answer with its route's response schema.
  const checkResponses = app.config.http?.checkResponses ?? process.env.RAPPORT_CHECK_RESPONSES === '1';
  for (const route of routes) {
    router[route.method](route.fullPath, (ctx) => {
      ctx.state.routeTemplate = route.fullPath;
      return handle(app, route, ctx, checkResponses);
    });
  }
  return router;
}

interface Credential {
  header: string;
  token: string;
  /** The token's hash, the principal cache's key. */
  hash: string;
}

/**
 * The last bearer credential seen on each connection. A client on a keep-alive connection
 * sends the same Authorization header with every request: comparing it with the previous
 * one is cheaper than parsing and hashing it again. The header is kept only as long as its
 * connection (which holds it anyway while it reads a request), and only the hash is used to
 * look up a principal, so revocation and expiry work exactly as without this memo.
 */
const lastCredential = new WeakMap<object, Credential>();

function credentialOf(ctx: Koa.Context): Credential {
  const header = ctx.req.headers.authorization;
  // A browser (the console) signs in by cookie: only a session token, and only with the CSRF
  // token on a request that changes something. A bearer header, when sent, is what counts.
  if (header === undefined && ctx.req.headers.cookie) {
    const token = ctx.cookies.get(SESSION_COOKIE);
    if (token) {
      if (!token.startsWith(SESSION_PREFIX)) throw new UnauthorizedError('The session cookie is not valid, has expired or was ended');
      checkCsrf(ctx, token);
      return { header: '', token, hash: hashToken(token) };
    }
  }
  const socket = ctx.req.socket as object | null;
  const last = socket ? lastCredential.get(socket) : undefined;
  if (last !== undefined && last.header === header) return last;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match) throw new UnauthorizedError(header ? 'The Authorization header must be "Bearer <token>"' : 'Authentication is required: send "Authorization: Bearer <token>"');
  const credential = { header: header!, token: match[1], hash: hashToken(match[1]) };
  if (socket) lastCredential.set(socket, credential);
  return credential;
}

/** The caller: from the principal cache without a pause when it knows the token, else from the database. */
function principalFor(app: HttpHost, ctx: Koa.Context): Principal | Promise<Principal> {
  const credential = credentialOf(ctx);
  return cachedPrincipal(app.knex, credential.token, credential.hash) ?? authenticated(app, credential.token);
}

async function authenticated(app: HttpHost, token: string): Promise<Principal> {
  const principal = await authenticate(app.knex, token);
  if (!principal) throw new UnauthorizedError('The token is not valid, has expired or was revoked');
  return principal;
}

async function handle(app: HttpHost, route: RegisteredRoute, ctx: Koa.Context, checkResponses: boolean): Promise<void> {
  let principal: Principal | undefined;
  if (route.permission !== null) {
    const found = principalFor(app, ctx);
    principal = found instanceof Promise ? await found : found;
    if (route.permission !== AUTHENTICATED && !hasPermission(principal, route.permission)) {
      throw new ForbiddenError(`This requires the permission "${route.permission}"`);
    }
    checkAudience(route, principal);
    if (app.limits.enabled) {
      const counted = app.limits.principal(principal.tenantId, principal.id);
      const decision = counted instanceof Promise ? await counted : counted;
      // The headers once half the allowance is used (and on every 429): every response would pay for two headers nobody reads.
      if (decision && decision.remaining * 2 <= decision.max) setRateLimitHeaders(ctx.res, decision);
    }
  }
  // Most requests carry no query string: skip parsing one.
  const rawQuery = ctx.querystring ? normalizeQuery(ctx.query) : {};
  const rawBody = (ctx.request as { body?: unknown }).body;
  assertPlainInput(ctx.params, 'params');
  assertPlainInput(rawQuery, 'query');
  assertPlainInput(rawBody, 'body');
  const params = parse(route.params, ctx.params, 'params');
  const query = parse(route.query, rawQuery, 'query');
  const hasBody = route.body !== undefined;
  if (hasBody && ctx.request.length && !ctx.is('application/json')) {
    throw new RapportError(415, 'unsupported-media-type', 'Send the body as application/json');
  }
  // A route with a non-JSON `requestBody` reads the body itself and answers a wrong media type (415).
  if (!hasBody && !route.raw && !route.requestBody) {
    // A body the JSON parser left unread (text/plain, a form) would be ignored: refuse it rather than act.
    if (carriesBody(ctx) && !ctx.is('application/json')) throw new RapportError(415, 'unsupported-media-type', 'This route takes no request body; send none (or an empty JSON object)');
    assertNoBody(rawBody);
  }
  if (!route.query && !route.raw) assertNoQuery(rawQuery);
  const body = hasBody ? parse(route.body, rawBody, 'body') : undefined;

  let ifMatch: number | undefined;
  const ifMatchHeader = ctx.req.headers['if-match'];
  if (ifMatchHeader) {
    const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(ifMatchHeader.trim());
    if (!m) throw new ValidationError('If-Match must carry the record version, e.g. If-Match: "3"', [{ path: 'headers.if-match', message: 'not a version' }]);
    ifMatch = Number(m[1]);
  } else if (route.requireIfMatch) {
    throw new RapportError(428, 'precondition-required', 'Send If-Match with the version you read (the ETag) so concurrent changes are not lost');
  }

  const status = route.status ?? (route.method === 'post' ? 201 : 200);
  const anonymous = typeof route.anonymous === 'function' ? route.anonymous({ params, query, body }) === true : route.anonymous === true;
  const idempotency = route.method === 'post' && principal ? idempotencyFor(ctx, principal, anonymous ? app.webhookSecrets.derivedKey('idempotency') : undefined) : undefined;
  if (idempotency) {
    const stored = await app
      .knex('rapport_idempotency_keys')
      .where({ tenant_id: principal!.tenantId, principal_id: idempotency.principalId, key: idempotency.key })
      .first('request_hash', 'status_code', 'response');
    if (stored) {
      if (stored.request_hash !== idempotency.hash) {
        throw new RapportError(422, 'idempotency-key-reuse', 'This Idempotency-Key was used with a different request');
      }
      ctx.status = stored.status_code;
      ctx.set('Idempotent-Replayed', 'true');
      ctx.body = stored.response;
      setEtag(ctx, stored.response);
      return;
    }
  }

  const tenantId = principal?.tenantId ?? app.defaultTenant.id;
  const replica = route.reads === 'replica' && app.replicas ? app.replicas.pick(principal?.id) : undefined;
  const requestContext: RequestContext = {
    params: params as Record<string, string>,
    query: query as Record<string, unknown>,
    body,
    principal: principal!,
    tenantId,
    [CONNECTION]: replica?.knex ?? app.knex,
    ifMatch,
    koa: ctx,
    transaction: (work, options) =>
      transactionNoted(app, principal, () =>
        app.transaction(
          async (uow) => {
            const result = await work(uow);
            if (idempotency && options?.storeResponse !== false) {
              try {
                await sql(uow).raw('savepoint rapport_idempotency');
                await sql(uow)('rapport_idempotency_keys').insert({
                  tenant_id: tenantId,
                  principal_id: idempotency.principalId,
                  key: idempotency.key,
                  request_hash: idempotency.hash,
                  status_code: status,
                  response: JSON.stringify(result ?? null),
                });
                await sql(uow).raw('release savepoint rapport_idempotency');
              } catch (error) {
                if ((error as { code?: string }).code === '23505') {
                  throw new ConflictError('A request with this Idempotency-Key completed concurrently; retry to get its response');
                }
                throw error;
              }
            }
            return result;
          },
          { tenantId, principal, anonymous },
        ),
      ),
  };
  const answer = replica ? onReplica(app, replica.url, route, requestContext) : route.handler(requestContext);
  // Most handlers of reads answer with a promise, some with a value: skip the extra turn then.
  const result = typeof (answer as PromiseLike<unknown> | undefined)?.then === 'function' ? await answer : answer;
  if (route.raw) return;
  // Nothing to say (undefined or null) is 204 No Content.
  if (result === undefined || result === null) {
    ctx.status = 204;
    return;
  }
  if (checkResponses) checkResponse(route, result);
  ctx.status = status;
  ctx.body = result;
  setEtag(ctx, result);
}

/** A read on a replica; one that cannot reach it is read again on the primary, and the replica is skipped until it answers. */
async function onReplica(app: HttpHost, url: string, route: RegisteredRoute, ctx: RequestContext): Promise<unknown> {
  try {
    return await route.handler(ctx);
  } catch (error) {
    if (!isConnectionError(error)) throw error;
    app.replicas!.markDown(url, error);
    return route.handler({ ...ctx, [CONNECTION]: app.knex });
  }
}

/** After a committed write with replicas in use, the writer's reads stay on the primary until a replica has it. */
async function transactionNoted<T>(app: HttpHost, principal: Principal | undefined, write: () => Promise<T>): Promise<T> {
  const result = await write();
  if (app.replicas && principal) await app.replicas.noteWrite(principal.id);
  return result;
}

/** A caller outside the route's audience is refused before anything is read (see RouteAudience). */
function checkAudience(route: RegisteredRoute, principal: Principal): void {
  const audience = route.audience ?? 'internal';
  if (audience === 'any') return;
  const scoped = principal.scopePartyId !== null;
  if (audience === 'internal' && scoped) {
    throw new ForbiddenError(`${route.method.toUpperCase()} ${route.fullPath} is for the firm's own principals; a principal scoped to a party cannot call it`);
  }
  if (audience === 'scoped' && !scoped) {
    throw new ForbiddenError(`${route.method.toUpperCase()} ${route.fullPath} is for principals scoped to a party (a portal's users)`);
  }
}

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: any } } | undefined, value: unknown, where: 'params' | 'query' | 'body'): T | undefined {
  if (!schema) return where === 'body' ? undefined : (value as T);
  const result = schema.safeParse(value);
  if (!result.success) throw zodToValidation(result.error, where);
  return result.data;
}

/**
 * Koa gives repeated query keys as arrays; single values stay strings. Into an object with
 * no prototype, so a key named `__proto__` is a key like any other (and is refused as one).
 */
function normalizeQuery(query: Koa.Context['query']): Record<string, string | string[]> {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const [key, value] of Object.entries(query)) if (value !== undefined) out[key] = value;
  return out;
}

/** Whether the request has a body at all (a length above zero, or chunks to come). */
function carriesBody(ctx: Koa.Context): boolean {
  const length = ctx.req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return ctx.req.headers['transfer-encoding'] !== undefined;
}

function setEtag(ctx: Koa.Context, body: unknown): void {
  if (body && typeof body === 'object' && typeof (body as { version?: unknown }).version === 'number') {
    ctx.set('ETag', `"${(body as { version: number }).version}"`);
  }
}

/** Where an anonymous write's idempotency record is filed: no principal's id. */
const NO_PRINCIPAL = '00000000-0000-0000-0000-000000000000';

/**
 * The idempotency record's key and request hash. For an anonymous route both are keyed hashes
 * (HMAC under a key derived from the server's secret key) and the record names no principal:
 * someone who can read the database cannot tell whose request it was, nor try the few
 * possible answers against its hash.
 */
function idempotencyFor(ctx: Koa.Context, principal: Principal, anonymousKey?: Buffer): { key: string; hash: string; principalId: string } | undefined {
  const key = ctx.get('idempotency-key');
  if (!key) return undefined;
  if (key.length > 200) throw new ValidationError('Idempotency-Key is longer than 200 characters', [{ path: 'headers.idempotency-key', message: 'too long' }]);
  const request = `${ctx.method} ${ctx.path}\n${principal.id}\n${JSON.stringify((ctx.request as { body?: unknown }).body ?? null)}`;
  if (anonymousKey) {
    return {
      key: createHmac('sha256', anonymousKey).update(`key\n${principal.id}\n${key}`).digest('hex'),
      hash: createHmac('sha256', anonymousKey).update(`request\n${request}`).digest('hex'),
      principalId: NO_PRINCIPAL,
    };
  }
  return { key, hash: createHash('sha256').update(request).digest('hex'), principalId: principal.id };
}
