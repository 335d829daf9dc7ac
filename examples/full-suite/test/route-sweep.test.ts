import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, hasPermission, type Principal } from '@rapport/core';
import crm from '@rapport/plugin-crm';
import prm from '@rapport/plugin-prm';
import hrm from '@rapport/plugin-hrm';
import {
  bodySchema,
  changedTables,
  createTestApp,
  exampleOf,
  fillPath,
  firstPage,
  listedIds,
  RecordFinder,
  sweptRoutes,
  tenantFingerprint,
  type OpenApiDocument,
  type SweptRoute,
  type TestApp,
  type TestClient,
} from '@rapport/testing';
import { body, loadFirm, PASSWORD, type Firm } from './firm-records.js';

/*
 * Every route of the running full system — read and write, kernel and plugins, taken from
 * its own route table and OpenAPI document, so a route added later is swept without anyone
 * listing it — called by every kind of principal with ids of records that exist but are
 * outside the caller's reach (docs/access.md, "The route sweep"):
 *
 * - refused before anything is read: 401 without a key, 403 without the permission or
 *   outside the route's audience;
 * - past those checks, a record out of reach is 404 — exactly the answer (status and problem
 *   type) a never-existing id gets, so no state message ("X is closed") tells that it exists —
 *   and never 2xx, never 5xx;
 * - a list answers without any out-of-reach record in it;
 * - nothing of the firm's tenant changed (every tenant table fingerprinted before and after).
 */

type SkipReason = 'peer route without a record' | 'reaches everything' | 'nothing out of reach' | 'aimed at nothing';

/** Routes whose every record is in the caller's reach, so there is nothing out of reach to aim at. */
const ALL_IN_REACH = new Set([
  // The firm's units, and its surveys (open to every employee), are all an employee's to read.
  'employee: GET /api/v1/hrm/units/:id',
  'employee: GET /api/v1/hrm/surveys/:id',
  'employee: POST /api/v1/hrm/surveys/:id/responses',
]);
/** Path parameters that are names in the caller's own tenant, not record ids. */
const NAME_PARAMS = new Set(['recordType', 'key', 'importer']);
/**
 * Calls aimed at nothing: 87 when this bound was set (creates and session routes for the two
 * callers of another tenant and a few for the scoped ones). A new create route adds to it;
 * raise the bound with it, knowing what it skips.
 */
const MAX_AIMED_AT_NOTHING = 100;

/** The principal kinds the sweep calls with. */
type Kind = 'no key' | 'admin of another tenant' | 'user session of another tenant' | 'partner admin' | 'supplier admin' | 'employee' | 'read-only role';

interface Caller {
  kind: Kind;
  client: TestClient;
  /** Null without a key. */
  principal: Pick<Principal, 'scopePartyId' | 'permissions'> | null;
  /** In the firm's tenant (its own records are then partly in reach). */
  inTenant: boolean;
  /** Reaches every record of the firm (an unscoped role of the firm): only its refusals are swept. */
  reachesAll?: boolean;
}

let t: TestApp;
let doc: OpenApiDocument;
let routes: SweptRoute[];
let callers: Caller[];
let records: RecordFinder;
/** Every record id of the firm's tenant the sweep may aim at. */
const firmIds = new Set<string>();
let firm: Firm;

beforeAll(async () => {
  t = await createTestApp({ plugins: [crm, prm, hrm] });
  ({ firm, records } = await loadFirm(t));
  doc = (await t.anonymous.get('/api/v1/openapi.json')).body;
  routes = sweptRoutes(t.app, doc);
  callers = await makeCallers();
  documentType = (await body(t.admin.get('/api/v1/federation/schemas'))).data[0].key;
}, 240_000);
afterAll(() => t?.close());

async function principalOf(client: TestClient): Promise<Caller['principal']> {
  const me = await body(client.get('/api/v1/auth/me'));
  return { scopePartyId: me.scopePartyId ?? null, permissions: new Set<string>(me.permissions) };
}

async function makeCallers(): Promise<Caller[]> {
  const a = t.admin;
  // Another tenant: its admin key, and a user of it signed in with a password.
  const other = await createTenant(t.app.knex, 'Sweep Other Tenant');
  const otherAdmin = await t.clientFor({ roles: ['admin'], tenantId: other.id });
  await body(otherAdmin.post('/api/v1/users', { email: 'other.admin@sweep.example', password: PASSWORD, roles: ['admin'] }), 201);
  const session = await body(t.anonymous.post('/api/v1/auth/login', { email: 'other.admin@sweep.example', password: PASSWORD }));
  const otherUser = t.anonymous.as(session.token);

  // A partner organization of the firm, in a program of its own, with the admin role.
  await body(a.post('/api/v1/prm/programs', { name: 'Sweep Program', tiers: [{ name: 'basic', criteria: {} }] }), 201);
  const partnerOrg = (await body(a.post('/api/v1/parties', { kind: 'organization', name: 'Sweep Partner Org' }), 201)).id;
  await body(
    a.post('/api/v1/relationships', {
      type: 'prm.partner',
      fromPartyId: t.selfPartyId,
      toPartyId: partnerOrg,
      status: 'active',
      attributes: { kind: 'reseller', program: 'Sweep Program', tier: 'basic' },
    }),
    201,
  );
  const partner = await t.clientFor({ roles: ['admin'], scopePartyId: partnerOrg });

  // A supplier of the firm, with the admin role.
  const supplierOrg = (await body(a.post('/api/v1/parties', { kind: 'organization', name: 'Sweep Supplier Org' }), 201)).id;
  await body(a.post('/api/v1/relationships', { type: 'prm.supplier', fromPartyId: supplierOrg, toPartyId: t.selfPartyId, status: 'approved' }), 201);
  const supplier = await t.clientFor({ roles: ['admin'], scopePartyId: supplierOrg });

  // An employee on self-service: scoped to their own person, with the role docs/plugins/hrm.md suggests.
  const units = await body(a.get('/api/v1/hrm/units?limit=200'));
  unit = units.data[0].id;
  const employee = await body(a.post('/api/v1/hrm/employees', { person: { name: 'Sweep Employee' }, unitId: units.data[0].id, start: '2025-01-01T00:00:00.000Z' }), 201);
  await body(
    a.post('/api/v1/roles', {
      name: 'employee',
      permissions: ['hrm.employees:read', 'hrm.private:read', 'hrm.timeline:write', 'hrm.org:read', 'hrm.surveys:read', 'hrm.surveys:respond', 'hrm.desk:read', 'hrm.desk:write'],
    }),
    201,
  );
  const self = await t.clientFor({ roles: ['employee'], scopePartyId: employee.id });

  // Read-only: every `:read` permission of the system, unscoped, in the firm's tenant.
  const permissions = (await body(a.get('/api/v1/meta/permissions'))).data ?? (await body(a.get('/api/v1/meta/permissions')));
  const reads = (permissions as Array<{ key: string }>).map((p) => p.key).filter((k) => k.endsWith(':read'));
  await body(a.post('/api/v1/roles', { name: 'reader', permissions: reads }), 201);
  const reader = await t.clientFor({ roles: ['reader'] });

  const made: Array<[Kind, TestClient, boolean]> = [
    ['admin of another tenant', otherAdmin, false],
    ['user session of another tenant', otherUser, false],
    ['partner admin', partner, true],
    ['supplier admin', supplier, true],
    ['employee', self, true],
    ['read-only role', reader, true],
  ];
  const out: Caller[] = [{ kind: 'no key', client: t.anonymous, principal: null, inTenant: false }];
  for (const [kind, client, inTenant] of made) out.push({ kind, client, principal: await principalOf(client), inTenant, reachesAll: kind === 'read-only role' });
  return out;
}

const collectionOf = (route: SweptRoute, param: string) => RecordFinder.collectionOf(route, param);
const poolFor = (route: SweptRoute, param: string, filled: Record<string, string>) => records.ids(route, param, filled);

/** What a caller sees of a collection itself (those records are in its reach). */
const seenBy = new Map<string, Set<string>>();
async function seen(caller: Caller, collection: string): Promise<Set<string>> {
  const key = `${caller.kind} ${collection}`;
  let ids = seenBy.get(key);
  if (!ids) {
    ids = new Set(listedIds(await firstPage(caller.client, collection)));
    seenBy.set(key, ids);
  }
  return ids;
}

/** Path values of the firm's records out of the caller's reach (null when a parameter has none). */
async function aimFor(route: SweptRoute, caller: Caller): Promise<Record<string, string> | null> {
  const filled: Record<string, string> = {};
  for (const param of route.params) {
    const pool = await poolFor(route, param, filled);
    const visible = caller.inTenant ? await seen(caller, fillPath(collectionOf(route, param), filled)) : new Set<string>();
    const own = caller.principal?.scopePartyId;
    const pick = pool.find((id) => !visible.has(id) && id !== own);
    if (!pick) return null;
    filled[param] = pick;
  }
  return filled;
}

/** A record id of the firm for a body or query field, by its name. */
function idForField(field: string, path: Record<string, string>, caller?: Caller): string {
  const name = field.toLowerCase();
  // Colleagues are in an employee's reach (to name them in kudos and requests): aim at a customer instead.
  if (/employee|manager|requester|interviewer|recipient|subject|reviewer|with|from|to|person|assignee|member|staff/.test(name)) return caller?.kind === 'employee' ? firm.customer : firm.employee;
  if (/partner|contributor/.test(name)) return firm.partner;
  if (/supplier|vendor/.test(name)) return firm.supplier;
  if (/part|customer|account|contact|owner/.test(name)) return firm.customer;
  return path.id ?? firm.customer;
}

/** The request a caller sends to a route: the path, the body and query built from the route's schema, aimed at the firm's records. */
function requestFor(route: SweptRoute, caller: Caller, path: Record<string, string>, twin = false) {
  // The twin asks the same with ids that never existed (one stand-in per id, so "the same id twice" stays so).
  const standIns = new Map<string, string>();
  const swap = (id: string) => {
    if (!twin) return id;
    if (!standIns.has(id)) standIns.set(id, isUuid(id) ? randomUUID() : `unknown${randomUUID().slice(0, 8)}`);
    return standIns.get(id)!;
  };
  const url = fillPath(route.path, Object.fromEntries(Object.entries(path).map(([k, v]) => [k, swap(v)])));
  const query = new URLSearchParams();
  for (const p of route.operation.parameters ?? []) {
    if (p.in !== 'query') continue;
    if (p.schema.format === 'uuid' || p.required) {
      const value = exampleOf(p.schema, { uuid: (f) => swap(idForField(f || p.name, path, caller)) }, p.name);
      query.set(p.name, String(value));
    }
  }
  const schema = bodySchema(route.operation);
  const options: { body?: unknown; headers: Record<string, string> } = { headers: {} };
  const given = bodies[route.key];
  if (given) options.body = JSON.parse(JSON.stringify(given(path, caller)), (_k, v) => (typeof v === 'string' && firmIds.has(v) ? swap(v) : v));
  else if (schema) options.body = exampleOf(schema, { uuid: (f) => swap(idForField(f, path, caller)), optional: route.method === 'PATCH' });
  if (route.method === 'PATCH' || route.method === 'PUT') options.headers['if-match'] = '"1"';
  const qs = query.toString();
  return { url: qs ? `${url}?${qs}` : url, ...options };
}

/** The endpoints other systems call (Rapport Link): no permission, signed requests only. */
const isPeer = (route: SweptRoute) => route.path.startsWith('/api/v1/federation/peer/');

/** An invitation's acceptance as the invited system sends it, with a secret guessed and a key of its own. */
const guessedAcceptance = (link: string) => ({
  link,
  secret: 'guessed secret',
  role: 'supplier',
  baseUrl: 'https://peer.sweep.example',
  name: null,
  keys: [{ kid: 'sweep-guessed-key-0000000', jwk: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) } }],
  documentTypes: [],
});

const isUuid = (value: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

/** Bodies for routes whose schema alone cannot say what a valid one is (a choice between fields). */
const bodies: Record<string, (path: Record<string, string>, caller: Caller) => unknown> = {
  'POST /api/v1/hrm/openings/:id/candidates': () => ({ person: { name: 'Sweep Candidate' } }),
  // A declared document type: an unknown one is refused (400) before the link is looked up.
  'POST /api/v1/federation/links/:id/documents': () => ({ type: documentType, body: {} }),
  'POST /api/v1/hrm/employees': (_path, caller) => ({ partyId: idForField('partyId', {}, caller), unitId: firmUnit(), start: '2030-01-01T00:00:00.000Z' }),
};
let unit: string | undefined;
let documentType: string;
const firmUnit = () => unit;

const send = (caller: Caller, route: SweptRoute, request: ReturnType<typeof requestFor>) => caller.client.request(route.method, request.url, { body: request.body, headers: request.headers });

/** What a caller is refused before anything is read, if anything: 401 without a key, 403 without the permission or outside the audience. */
function refusal(route: SweptRoute, caller: Caller): 401 | 403 | null {
  if (!caller.principal) return 401;
  if (route.permission !== 'authenticated' && !hasPermission(caller.principal as Principal, route.permission!)) return 403;
  const scoped = caller.principal.scopePartyId !== null;
  if ((route.audience === 'internal' && scoped) || (route.audience === 'scoped' && !scoped)) return 403;
  return null;
}

/** The firm's record ids in a request, to tell whether it is aimed at anything. */
const aimedAt = (request: ReturnType<typeof requestFor>): string[] => [...firmIds].filter((id) => request.url.includes(encodeURIComponent(id)) || JSON.stringify(request.body ?? null).includes(id));

describe('every route, every principal', () => {
  it('resolves a record of the firm for every path parameter of every route', async () => {
    const unresolved: string[] = [];
    for (const route of routes) {
      const filled: Record<string, string> = {};
      for (const param of route.params) {
        const pool = await poolFor(route, param, filled);
        if (pool.length === 0) {
          unresolved.push(`${route.key} :${param}`);
          break;
        }
        filled[param] = pool[0];
        for (const id of pool) if (isUuid(id)) firmIds.add(id);
      }
    }
    for (const id of Object.values(firm)) firmIds.add(id);
    expect(unresolved).toEqual([]);
  });

  it('answers 401/403 before reading, 404 for what is out of reach (as for what does not exist), never 2xx or 5xx, and changes nothing', async () => {
    const exclude = ['rapport_outbox', 'rapport_webhook_deliveries', 'rapport_webhook_attempts', 'rapport_api_keys', 'rapport_sessions'];
    const before = await tenantFingerprint(t.app.knex, t.tenantId, exclude);
    const failures: string[] = [];
    let sent = 0;
    // Calls not sent, by why: each is a place a route could hide from the sweep (bounded below).
    const skipped: Record<SkipReason, string[]> = { 'peer route without a record': [], 'reaches everything': [], 'nothing out of reach': [], 'aimed at nothing': [] };
    for (const caller of callers) {
      const callerBefore = await tenantFingerprint(t.app.knex, t.tenantId, exclude);
      for (const route of routes) {
        if (route.permission === null && !isPeer(route)) continue; // login: public, aimed at nothing
        if (isPeer(route)) {
          // Authenticated by the other system's signature or the invitation secret, not by a key: an unsigned call is refused whoever sends it.
          const path = await firstRecords(route);
          if (!path) {
            skipped['peer route without a record'].push(`${caller.kind}: ${route.key}`);
            continue;
          }
          sent++;
          const request = requestFor(route, caller, path);
          // A well-formed body (an acceptance with a guessed secret), so the refusal is the missing signature's or secret's, not the body's.
          if (route.method === 'POST') request.body = route.path.endsWith('/accept') ? guessedAcceptance(path.id) : {};
          const res = await send(caller, route, request);
          if (![401, 404].includes(res.status) || !String(res.headers.get('content-type')).includes('application/problem+json'))
            failures.push(`${caller.kind}: ${route.key}: unsigned, expected 401/404 problem+json, got ${res.status} — ${res.text.slice(0, 160)}`);
          continue;
        }
        const refused = refusal(route, caller);
        // Out of reach where the caller has a reach; a caller that reaches everything is swept for its refusals only.
        const path = caller.reachesAll ? (refused ? await firstRecords(route) : null) : ((await aimFor(route, caller)) ?? (refused ? await firstRecords(route) : null));
        if (!path) {
          skipped[caller.reachesAll ? 'reaches everything' : 'nothing out of reach'].push(`${caller.kind}: ${route.key}`);
          continue;
        }
        const request = requestFor(route, caller, path);
        // Plugins are the whole system's: acting on one is aimed at every tenant.
        const aimed = route.params.some((p) => path[p] === firm.role || firmIds.has(path[p]) || route.path.startsWith('/api/v1/plugins/')) || aimedAt(request).length > 0;
        // A list is read whatever it is aimed at (it must show nothing out of reach); any other call aimed at
        // nothing that the caller may make is its own business (its own tenant's or its own records).
        const list = route.method === 'GET' && route.params.length === 0;
        if (!refused && !aimed && !list) {
          skipped['aimed at nothing'].push(`${caller.kind}: ${route.key}`);
          continue;
        }
        sent++;
        const res = await send(caller, route, request);
        const problems: string[] = [];
        if (res.status >= 500) problems.push(`${res.status}`);
        if (refused) {
          if (res.status !== refused) problems.push(`expected ${refused}, got ${res.status}`);
        } else if (route.params.length > 0 || route.method !== 'GET') {
          // Aimed at a record out of reach: refused, and exactly as for an id that never existed.
          if (res.status < 400) problems.push(`expected 404, got ${res.status}`);
          // Names anyone may list (plugins, importers, indicators) have no twin; record ids and role names do.
          const named = route.params.some((p) => !isUuid(path[p]) && path[p] !== firm.role);
          const twin = named ? res : await send(caller, route, requestFor(route, caller, path, true));
          if (twin.status !== res.status || twin.body?.type !== res.body?.type)
            problems.push(`answers ${res.status} ${res.body?.type ?? ''} for an out-of-reach id, ${twin.status} ${twin.body?.type ?? ''} for an unknown one`);
          else if (route.params.length > 0 && ![403, 404].includes(res.status)) problems.push(`expected 403/404, got ${res.status}`);
        } else if (res.status < 300) {
          // A list or report filtered by the firm's ids: nothing out of reach in it.
          // Another tenant's caller sees nothing of the firm at all (the firm's own party is its tenant's too).
          const leaked = caller.inTenant ? [] : [...firmIds].filter((id) => res.text.includes(id));
          if (leaked.length) problems.push(`shows ${leaked.length} record(s) of the firm: ${leaked.slice(0, 3).join(', ')}`);
        }
        if (res.status >= 400 && !String(res.headers.get('content-type')).includes('application/problem+json')) problems.push('not problem+json');
        if (problems.length) {
          failures.push(`${caller.kind}: ${route.key}: ${problems.join('; ')} — ${res.text.slice(0, 160)}`);
        }
      }
      const changed = changedTables(callerBefore, await tenantFingerprint(t.app.knex, t.tenantId, exclude));
      if (changed.length) failures.push(`${caller.kind}: changed ${changed.join(', ')}`);
    }
    console.log(
      `route sweep: ${routes.length} routes × ${callers.length} principals, ${sent} aimed or refused calls (each aimed one twinned with an unknown id), skipped: ${Object.entries(skipped)
        .map(([reason, calls]) => `${calls.length} ${reason}`)
        .join(', ')}`,
    );
    expect(failures).toEqual([]);
    // Each skipped call is a place a route could hide from the sweep: a change that stops
    // aiming calls (an id pool gone empty, a body no longer naming the firm's records) fails here.
    expect(skipped['peer route without a record']).toEqual([]);
    expect(skipped['nothing out of reach'].filter((call) => !ALL_IN_REACH.has(call))).toEqual([]);
    // Aimed at nothing: calls that name no record of the firm — creates, the caller's own
    // session, another tenant's own field names. Never a read of a record by id.
    const byKey = new Map(routes.map((route) => [route.key, route]));
    const readsById = skipped['aimed at nothing'].filter((call) => {
      const route = byKey.get(call.slice(call.indexOf(': ') + 2))!;
      return route.method === 'GET' && route.params.some((p) => !NAME_PARAMS.has(p));
    });
    expect(readsById).toEqual([]);
    expect(skipped['aimed at nothing'].length).toBeLessThanOrEqual(MAX_AIMED_AT_NOTHING);
    expect(changedTables(before, await tenantFingerprint(t.app.knex, t.tenantId, exclude))).toEqual([]);
  }, 600_000);
});

/** The first record of each path parameter, in reach or not (for callers refused before any lookup). */
async function firstRecords(route: SweptRoute): Promise<Record<string, string> | null> {
  return records.first(route);
}
