import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createTenant, encodeCursor } from '@rapport/core';
import { samplePlugin } from './fixtures/test-plugin.js';

/*
 * Bad input on every kernel route answers 4xx application/problem+json and writes nothing.
 * The table below is checked against the routes the server actually serves, so a kernel
 * route added without bad-input cases fails this file.
 */

interface Case {
  /** `METHOD /api/v1/template` of the route under test. */
  route: string;
  name: string;
  method: string;
  path: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  status?: number;
}

const KERNEL_PREFIXES = /^\/api\/v1\/(parties|relationships|interactions|observations|indicators|duplicates|meta|tenant|plugins)(\/|$)/;
const UNKNOWN = '01890000-0000-7000-8000-0000000000ff';
const NUL = '\u0000';
const LONE_SURROGATE = '\ud800';

describe('bad input on every kernel route', () => {
  let t: TestApp;
  const mine: Record<string, string> = {};
  const foreign: Record<string, string> = {};
  const cases: Case[] = [];

  beforeAll(async () => {
    t = await createTestApp({ plugins: [samplePlugin().plugin] });
    const { app } = t;

    // Records of the caller's tenant, to aim well-formed but wrong requests at.
    const org = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Mine Org', contactPoints: [{ kind: 'email', value: 'mine@org.example' }] })).body;
    const person = (await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Mine Person' })).body;
    const rel = (await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: org.id, toPartyId: t.selfPartyId })).body;
    const interaction = (await t.admin.post('/api/v1/interactions', { type: 'sample.call', participants: [{ partyId: org.id, role: 'caller' }] })).body;
    const observation = (await t.admin.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: org.id, value: 5 })).body;
    Object.assign(mine, { party: org.id, person: person.id, relationship: rel.id, interaction: interaction.id, observation: observation.id });

    // The same kinds of record in another tenant: always invisible.
    const other = await createTenant(app.knex, 'Other Tenant');
    await app.transaction(
      async (uow) => {
        const p = await app.services.parties.create(uow, { kind: 'organization', name: 'Foreign Org', contactPoints: [{ kind: 'email', value: 'mine@org.example' }] });
        const r = await app.services.relationships.create(uow, { type: 'sample.supply', fromPartyId: p.id, toPartyId: other.selfPartyId });
        const i = await app.services.interactions.create(uow, { type: 'sample.call', relationshipId: r.id, participants: [{ partyId: p.id, role: 'caller' }] });
        const o = await app.services.observations.record(uow, { indicator: 'sample.nps', subjectId: p.id, value: 1 });
        Object.assign(foreign, { party: p.id, self: other.selfPartyId, relationship: r.id, interaction: i.id, observation: o.id });
      },
      { tenantId: other.id },
    );

    buildCases();
  });
  afterAll(() => t?.close());

  function add(route: string, name: string, request: Omit<Case, 'route' | 'name' | 'method'>) {
    cases.push({ route, name, method: route.split(' ')[0], ...request });
  }

  /** Cases every route with a body gets. */
  function bodyCases(route: string, path: string, valid: object, headers: Record<string, string> = {}) {
    const json = { 'content-type': 'application/json', ...headers };
    add(route, 'malformed JSON', { path, rawBody: '{"kind": "person", "name": ', headers: json, status: 400 });
    add(route, 'JSON that is not an object', { path, rawBody: '"just a string"', headers: json, status: 400 });
    add(route, 'JSON null', { path, rawBody: 'null', headers: json, status: 400 });
    add(route, 'an array', { path, body: [valid], headers, status: 400 });
    add(route, 'an unknown field', { path, body: { ...valid, tenantId: UNKNOWN }, headers, status: 400 });
    add(route, 'a body over 1 MB', { path, body: { ...valid, padding: 'x'.repeat(1_100_000) }, headers, status: 413 });
    add(route, 'a non-JSON content type', { path, rawBody: JSON.stringify(valid), headers: { ...headers, 'content-type': 'text/plain' }, status: 415 });
    add(route, 'form encoding', { path, rawBody: 'kind=person&name=x', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, status: 415 });
    add(route, 'a NUL character in a string', { path, body: charInto(valid, NUL), headers, status: 400 });
    add(route, 'a lone surrogate in a string', { path, body: charInto(valid, LONE_SURROGATE), headers, status: 400 });
  }

  function charInto(valid: object, char: string): object {
    // The first string value gets the character: PostgreSQL cannot store a NUL, and stores U+FFFD for a lone surrogate (json refuses it).
    const copy = structuredClone(valid) as Record<string, unknown>;
    for (const [key, value] of Object.entries(copy)) {
      if (typeof value === 'string') {
        copy[key] = `${value}${char}`;
        return copy;
      }
    }
    return { ...copy, attributes: { 'sample.industry': `a${char}b` } };
  }

  /** Cases every route with `:id` gets: malformed, unknown, another tenant's. */
  function idCases(route: string, pathFor: (id: string) => string, foreignId: string, extra: Omit<Case, 'route' | 'name' | 'method' | 'path'> = {}) {
    add(route, 'a malformed uuid', { path: pathFor('not-a-uuid'), ...extra, status: 400 });
    add(route, 'a uuid with a NUL', { path: pathFor('%00'), ...extra, status: 400 });
    add(route, 'an unknown id', { path: pathFor(UNKNOWN), ...extra, status: 404 });
    add(route, 'an id of another tenant', { path: pathFor(foreignId), ...extra, status: 404 });
  }

  /** Cases every list route gets. */
  function queryCases(route: string, path: string) {
    add(route, 'an unknown query parameter', { path: `${path}?bogus=1`, status: 400 });
    add(route, 'a limit that is not a number', { path: `${path}?limit=many`, status: 400 });
    add(route, 'a zero limit', { path: `${path}?limit=0`, status: 400 });
    add(route, 'a repeated limit', { path: `${path}?limit=1&limit=2`, status: 400 });
    add(route, 'a garbage cursor', { path: `${path}?cursor=%%%`, status: 400 });
    add(route, 'a cursor of the wrong shape', { path: `${path}?cursor=${encodeCursor(['x', 'y', 'z'])}`, status: 400 });
    add(route, 'a cursor with a bad timestamp', { path: `${path}?cursor=${encodeCursor(['1', UNKNOWN])}`, status: 400 });
    add(route, 'a NUL in a parameter', { path: `${path}?cursor=%00`, status: 400 });
  }

  /** Routes that take neither body nor query. */
  function noInputCases(route: string, path: string) {
    add(route, 'an unexpected query parameter', { path: `${path}?admin=true`, status: 400 });
    if (route.startsWith('POST')) add(route, 'an unexpected body', { path, body: { force: true }, status: 400 });
  }

  function buildCases() {
    const ifMatch = { 'if-match': '"1"' };

    // Parties
    queryCases('GET /api/v1/parties', '/api/v1/parties');
    add('GET /api/v1/parties', 'an unknown kind', { path: '/api/v1/parties?kind=robot', status: 400 });
    add('GET /api/v1/parties', 'archived that is not a boolean', { path: '/api/v1/parties?archived=maybe', status: 400 });
    add('GET /api/v1/parties', 'an invalid e-mail', { path: '/api/v1/parties?email=not-an-email', status: 400 });
    add('GET /api/v1/parties', 'an invalid phone', { path: '/api/v1/parties?phone=abc', status: 400 });
    add('GET /api/v1/parties', 'an empty q', { path: '/api/v1/parties?q=', status: 400 });
    add('GET /api/v1/parties', 'a NUL in q', { path: '/api/v1/parties?q=a%00b', status: 400 });

    const newParty = { kind: 'person', name: 'Valid Name' };
    bodyCases('POST /api/v1/parties', '/api/v1/parties', newParty);
    for (const [name, body] of [
      ['no body', undefined],
      ['a missing name', { kind: 'person' }],
      ['a numeric name', { kind: 'person', name: 42 }],
      ['a blank name', { kind: 'person', name: '   ' }],
      ['an overlong name', { kind: 'person', name: 'n'.repeat(301) }],
      ['an unknown kind', { kind: 'robot', name: 'R2' }],
      ['contact points as a string', { ...newParty, contactPoints: 'a@b.example' }],
      ['an unknown contact point kind', { ...newParty, contactPoints: [{ kind: 'fax', value: '123' }] }],
      ['an invalid e-mail', { ...newParty, contactPoints: [{ kind: 'email', value: 'nope' }] }],
      ['an invalid domain', { ...newParty, contactPoints: [{ kind: 'domain', value: 'not a domain' }] }],
      ['too many contact points', { ...newParty, contactPoints: Array.from({ length: 51 }, (_, i) => ({ kind: 'email', value: `a${i}@b.example` })) }],
      ['attributes as an array', { ...newParty, attributes: ['x'] }],
      ['an unknown attribute', { ...newParty, attributes: { 'nobody.x': 1 } }],
      ['an attribute of the wrong type', { kind: 'organization', name: 'x', attributes: { 'sample.industry': 7 } }],
      ['an attribute on the wrong kind', { ...newParty, attributes: { 'sample.industry': 'retail' } }],
      ['a NUL in an attribute key', { ...newParty, attributes: { [`sample.industry${NUL}`]: 'retail' } }],
      ['a vetoed name', { kind: 'organization', name: 'Forbidden Corp' }],
    ] as const) {
      add('POST /api/v1/parties', name, { path: '/api/v1/parties', body, status: name === 'a vetoed name' ? 422 : 400 });
    }

    idCases('GET /api/v1/parties/:id', (id) => `/api/v1/parties/${id}`, foreign.party);
    noInputCases('GET /api/v1/parties/:id', `/api/v1/parties/${mine.party}`);

    idCases('PATCH /api/v1/parties/:id', (id) => `/api/v1/parties/${id}`, foreign.party, { body: { name: 'x' }, headers: ifMatch });
    bodyCases('PATCH /api/v1/parties/:id', `/api/v1/parties/${mine.party}`, { name: 'New Name' }, ifMatch);
    for (const [name, body] of [
      ['a null name', { name: null }],
      ['a kind change', { kind: 'person' }],
      ['a version field', { version: 9 }],
      ['an invalid contact point', { contactPoints: [{ kind: 'email', value: 'bad' }] }],
      ['an unknown attribute', { attributes: { 'nobody.x': 1 } }],
    ] as const) {
      add('PATCH /api/v1/parties/:id', name, { path: `/api/v1/parties/${mine.party}`, body, headers: ifMatch, status: 400 });
    }
    add('PATCH /api/v1/parties/:id', 'a missing If-Match', { path: `/api/v1/parties/${mine.party}`, body: { name: 'x' }, status: 428 });
    add('PATCH /api/v1/parties/:id', 'a stale If-Match', { path: `/api/v1/parties/${mine.party}`, body: { name: 'x' }, headers: { 'if-match': '"99"' }, status: 412 });
    add('PATCH /api/v1/parties/:id', 'a malformed If-Match', { path: `/api/v1/parties/${mine.party}`, body: { name: 'x' }, headers: { 'if-match': '"v1"' }, status: 400 });

    for (const action of ['archive', 'restore']) {
      const route = `POST /api/v1/parties/:id/${action}`;
      idCases(route, (id) => `/api/v1/parties/${id}/${action}`, foreign.party);
      noInputCases(route, `/api/v1/parties/${mine.party}/${action}`);
      add(route, 'a stale If-Match', { path: `/api/v1/parties/${mine.party}/${action}`, headers: { 'if-match': '"42"' }, status: action === 'archive' ? 412 : 412 });
    }
    add('POST /api/v1/parties/:id/archive', 'the self party', { path: `/api/v1/parties/${t.selfPartyId}/archive`, status: 409 });

    idCases('GET /api/v1/parties/:id/timeline', (id) => `/api/v1/parties/${id}/timeline`, foreign.party);
    queryCases('GET /api/v1/parties/:id/timeline', `/api/v1/parties/${mine.party}/timeline`);
    add('GET /api/v1/parties/:id/timeline', 'an overlong type', { path: `/api/v1/parties/${mine.party}/timeline?type=${'t'.repeat(101)}`, status: 400 });

    idCases('GET /api/v1/parties/:id/relationships', (id) => `/api/v1/parties/${id}/relationships`, foreign.party);
    queryCases('GET /api/v1/parties/:id/relationships', `/api/v1/parties/${mine.party}/relationships`);
    add('GET /api/v1/parties/:id/relationships', 'active that is not a boolean', { path: `/api/v1/parties/${mine.party}/relationships?active=1`, status: 400 });

    idCases('GET /api/v1/parties/:id/duplicates', (id) => `/api/v1/parties/${id}/duplicates`, foreign.party);
    noInputCases('GET /api/v1/parties/:id/duplicates', `/api/v1/parties/${mine.party}/duplicates`);

    const merge = { survivorId: mine.party, mergedIds: [UNKNOWN], dryRun: true };
    bodyCases('POST /api/v1/parties/merge', '/api/v1/parties/merge', merge);
    for (const [name, body, status] of [
      ['no mergedIds', { survivorId: mine.party }, 400],
      ['empty mergedIds', { survivorId: mine.party, mergedIds: [] }, 400],
      ['mergedIds as a string', { survivorId: mine.party, mergedIds: mine.person }, 400],
      ['a malformed survivor', { survivorId: 'x', mergedIds: [mine.person] }, 400],
      ['dryRun as a string', { ...merge, dryRun: 'yes' }, 400],
      ['too many mergedIds', { survivorId: mine.party, mergedIds: Array.from({ length: 51 }, () => UNKNOWN) }, 400],
      ['an unknown merged party', { survivorId: mine.party, mergedIds: [UNKNOWN] }, 404],
      ['a survivor of another tenant', { survivorId: foreign.party, mergedIds: [mine.party] }, 404],
      ['a merged party of another tenant', { survivorId: mine.party, mergedIds: [foreign.party] }, 404],
      ['the survivor merged into itself', { survivorId: mine.party, mergedIds: [mine.party] }, 400],
      ['parties of different kinds', { survivorId: mine.party, mergedIds: [mine.person] }, 400],
      ['the self party merged away', { survivorId: mine.party, mergedIds: [t.selfPartyId] }, 409],
    ] as const) {
      add('POST /api/v1/parties/merge', name, { path: '/api/v1/parties/merge', body, status });
    }

    add('GET /api/v1/duplicates', 'no parameters', { path: '/api/v1/duplicates', status: 400 });
    add('GET /api/v1/duplicates', 'an unknown kind', { path: '/api/v1/duplicates?kind=fax&value=1', status: 400 });
    add('GET /api/v1/duplicates', 'an invalid e-mail', { path: '/api/v1/duplicates?kind=email&value=nope', status: 400 });
    add('GET /api/v1/duplicates', 'an unknown parameter', { path: '/api/v1/duplicates?kind=email&value=a@b.example&limit=5', status: 400 });
    add('GET /api/v1/duplicates', 'a NUL in the value', { path: '/api/v1/duplicates?kind=other&value=a%00', status: 400 });

    // Relationships
    queryCases('GET /api/v1/relationships', '/api/v1/relationships');
    add('GET /api/v1/relationships', 'a malformed partyId', { path: '/api/v1/relationships?partyId=abc', status: 400 });
    add('GET /api/v1/relationships', 'active that is not a boolean', { path: '/api/v1/relationships?active=yes', status: 400 });

    const newRel = { type: 'sample.supply', fromPartyId: mine.party, toPartyId: mine.person };
    bodyCases('POST /api/v1/relationships', '/api/v1/relationships', newRel);
    for (const [name, body] of [
      ['a missing type', { fromPartyId: mine.party, toPartyId: mine.person }],
      ['an unknown type', { ...newRel, type: 'nobody.knows' }],
      ['a malformed party id', { ...newRel, fromPartyId: 'abc' }],
      ['an unknown party', { ...newRel, toPartyId: UNKNOWN }],
      ['a party of another tenant', { ...newRel, toPartyId: foreign.party }],
      ['both ends of another tenant', { ...newRel, fromPartyId: foreign.party, toPartyId: foreign.self }],
      ['one party at both ends', { ...newRel, toPartyId: mine.party }],
      ['the wrong kind at an end', { ...newRel, fromPartyId: mine.person, toPartyId: mine.party }],
      ['an unknown status', { ...newRel, status: 'dreaming' }],
      ['a numeric status', { ...newRel, status: 3 }],
      ['a validFrom that is not a timestamp', { ...newRel, validFrom: 'yesterday' }],
      ['a validFrom on February 31', { ...newRel, validFrom: '2024-02-31T00:00:00Z' }],
      ['a validFrom in year 0', { ...newRel, validFrom: '0000-01-01T00:00:00Z' }],
      ['a validFrom without an offset', { ...newRel, validFrom: '2024-01-01T00:00:00' }],
      ['an inverted window', { ...newRel, validFrom: '2024-06-01T00:00:00Z', validTo: '2024-01-01T00:00:00Z' }],
      ['an attribute off the schema', { ...newRel, attributes: { tier: 'bronze' } }],
      ['an unknown attribute', { ...newRel, attributes: { colour: 'red' } }],
      ['roles in the body', { ...newRel, fromRole: 'customer' }],
    ] as const) {
      add('POST /api/v1/relationships', name, { path: '/api/v1/relationships', body, status: 400 });
    }

    idCases('GET /api/v1/relationships/:id', (id) => `/api/v1/relationships/${id}`, foreign.relationship);
    noInputCases('GET /api/v1/relationships/:id', `/api/v1/relationships/${mine.relationship}`);

    idCases('PATCH /api/v1/relationships/:id', (id) => `/api/v1/relationships/${id}`, foreign.relationship, { body: { status: 'active' }, headers: ifMatch });
    bodyCases('PATCH /api/v1/relationships/:id', `/api/v1/relationships/${mine.relationship}`, { status: 'active' }, ifMatch);
    for (const [name, body] of [
      ['an unknown status', { status: 'dreaming' }],
      ['a null status', { status: null }],
      ['an end change', { toPartyId: mine.person }],
      ['a type change', { type: 'note' }],
      ['a validTo on February 31', { validTo: '2024-02-31T00:00:00Z' }],
      ['a validFrom in year 0', { validFrom: '0000-06-01T00:00:00Z' }],
      ['a validTo before validFrom', { validFrom: '2024-06-01T00:00:00Z', validTo: '2024-01-01T00:00:00Z' }],
      ['an attribute off the schema', { attributes: { tier: 1 } }],
    ] as const) {
      add('PATCH /api/v1/relationships/:id', name, { path: `/api/v1/relationships/${mine.relationship}`, body, headers: ifMatch, status: 400 });
    }
    add('PATCH /api/v1/relationships/:id', 'a missing If-Match', { path: `/api/v1/relationships/${mine.relationship}`, body: { status: 'active' }, status: 428 });

    idCases('GET /api/v1/relationships/:id/timeline', (id) => `/api/v1/relationships/${id}/timeline`, foreign.relationship);
    queryCases('GET /api/v1/relationships/:id/timeline', `/api/v1/relationships/${mine.relationship}/timeline`);

    // Interactions
    queryCases('GET /api/v1/interactions', '/api/v1/interactions');
    add('GET /api/v1/interactions', 'an overlong type', { path: `/api/v1/interactions?type=${'t'.repeat(101)}`, status: 400 });

    const newCall = { type: 'sample.call', participants: [{ partyId: mine.party, role: 'caller' }] };
    bodyCases('POST /api/v1/interactions', '/api/v1/interactions', newCall);
    for (const [name, body] of [
      ['no participants', { type: 'sample.call' }],
      ['participants as an object', { ...newCall, participants: { partyId: mine.party, role: 'caller' } }],
      ['a participant without a role', { ...newCall, participants: [{ partyId: mine.party }] }],
      ['an unknown participant field', { ...newCall, participants: [{ partyId: mine.party, role: 'caller', weight: 2 }] }],
      ['an unknown participant', { ...newCall, participants: [{ partyId: UNKNOWN, role: 'caller' }] }],
      ['a participant of another tenant', { ...newCall, participants: [{ partyId: foreign.party, role: 'caller' }] }],
      [
        'a duplicate participant',
        {
          ...newCall,
          participants: [
            { partyId: mine.party, role: 'caller' },
            { partyId: mine.party, role: 'callee' },
          ],
        },
      ],
      ['a role the type does not know', { ...newCall, participants: [{ partyId: mine.party, role: 'spy' }] }],
      ['a channel the type does not know', { ...newCall, channel: 'fax' }],
      ['an unknown type', { ...newCall, type: 'sample.nothing' }],
      ['an unknown direction', { ...newCall, direction: 'sideways' }],
      ['an occurredAt that is not a timestamp', { ...newCall, occurredAt: 'now' }],
      ['an occurredAt as a number', { ...newCall, occurredAt: 1700000000000 }],
      ['a relationship of another tenant', { ...newCall, relationshipId: foreign.relationship }],
      ['an unknown relationship', { ...newCall, relationshipId: UNKNOWN }],
      ['attributes the type does not declare', { ...newCall, attributes: { x: 1 } }],
      ['too many participants', { ...newCall, participants: Array.from({ length: 201 }, () => ({ partyId: UNKNOWN, role: 'caller' })) }],
    ] as const) {
      add('POST /api/v1/interactions', name, { path: '/api/v1/interactions', body, status: 400 });
    }

    idCases('GET /api/v1/interactions/:id', (id) => `/api/v1/interactions/${id}`, foreign.interaction);
    noInputCases('GET /api/v1/interactions/:id', `/api/v1/interactions/${mine.interaction}`);

    idCases('PATCH /api/v1/interactions/:id', (id) => `/api/v1/interactions/${id}`, foreign.interaction, { body: { summary: 'x' }, headers: ifMatch });
    bodyCases('PATCH /api/v1/interactions/:id', `/api/v1/interactions/${mine.interaction}`, { summary: 'A summary' }, ifMatch);
    for (const [name, body] of [
      ['participants', { participants: [] }],
      ['a type change', { type: 'note' }],
      ['a channel the type does not know', { channel: 'fax' }],
      ['a numeric subject', { subject: 7 }],
      ['an occurredAt that is not a timestamp', { occurredAt: 'tomorrow' }],
    ] as const) {
      add('PATCH /api/v1/interactions/:id', name, { path: `/api/v1/interactions/${mine.interaction}`, body, headers: ifMatch, status: 400 });
    }
    add('PATCH /api/v1/interactions/:id', 'a missing If-Match', { path: `/api/v1/interactions/${mine.interaction}`, body: { summary: 'x' }, status: 428 });

    // Observations and indicators
    queryCases('GET /api/v1/observations', '/api/v1/observations');
    add('GET /api/v1/observations', 'an unknown subject type', { path: '/api/v1/observations?subjectType=planet', status: 400 });
    add('GET /api/v1/observations', 'a malformed subject id', { path: '/api/v1/observations?subjectId=abc', status: 400 });

    const newObs = { indicator: 'sample.nps', subjectId: mine.party, value: 5 };
    bodyCases('POST /api/v1/observations', '/api/v1/observations', newObs);
    for (const [name, body] of [
      ['no indicator', { subjectId: mine.party, value: 5 }],
      ['an unknown indicator', { ...newObs, indicator: 'nobody.score' }],
      ['a value as a string', { ...newObs, value: '5' }],
      ['a value above the scale', { ...newObs, value: 11 }],
      ['a value below the scale', { ...newObs, value: -1 }],
      ['no value for a quantitative indicator', { indicator: 'sample.nps', subjectId: mine.party }],
      ['a label off the scale', { indicator: 'sample.mood', subjectId: mine.relationship, label: 'ecstatic' }],
      ['a subject of the wrong type', { indicator: 'sample.mood', subjectId: mine.party, label: 'good' }],
      ['an unknown subject', { ...newObs, subjectId: UNKNOWN }],
      ['a subject of another tenant', { ...newObs, subjectId: foreign.party }],
      ['a relationship subject of another tenant', { indicator: 'sample.mood', subjectId: foreign.relationship, label: 'good' }],
      ['an observer of another tenant', { ...newObs, observerPartyId: foreign.party }],
      ['an interaction of another tenant', { ...newObs, interactionId: foreign.interaction }],
      ['an unknown interaction', { ...newObs, interactionId: UNKNOWN }],
      ['an observedAt that is not a timestamp', { ...newObs, observedAt: '01/02/2024' }],
      ['details as an array', { ...newObs, details: [1] }],
    ] as const) {
      add('POST /api/v1/observations', name, { path: '/api/v1/observations', body, status: 400 });
    }
    add('POST /api/v1/observations', 'details nested 5,000 deep', {
      path: '/api/v1/observations',
      rawBody: `{"indicator":"sample.nps","subjectId":"${mine.party}","value":1,"details":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
      headers: { 'content-type': 'application/json' },
      status: 400,
    });
    add('POST /api/v1/observations', 'a value beyond double precision', {
      path: '/api/v1/observations',
      rawBody: `{"indicator":"sample.nps","subjectId":"${mine.party}","value":1e400}`,
      headers: { 'content-type': 'application/json' },
      status: 400,
    });

    idCases('GET /api/v1/observations/:id', (id) => `/api/v1/observations/${id}`, foreign.observation);
    noInputCases('GET /api/v1/observations/:id', `/api/v1/observations/${mine.observation}`);

    const summary = 'GET /api/v1/indicators/:key/summary';
    add(summary, 'no subjectId', { path: '/api/v1/indicators/sample.nps/summary', status: 400 });
    add(summary, 'a malformed subjectId', { path: '/api/v1/indicators/sample.nps/summary?subjectId=abc', status: 400 });
    add(summary, 'an unknown parameter', { path: `/api/v1/indicators/sample.nps/summary?subjectId=${mine.party}&from=2020`, status: 400 });
    add(summary, 'an unknown indicator', { path: `/api/v1/indicators/nobody.score/summary?subjectId=${mine.party}`, status: 404 });
    add(summary, 'an overlong key', { path: `/api/v1/indicators/${'k'.repeat(101)}/summary?subjectId=${mine.party}`, status: 400 });
    add(summary, 'a NUL in the key', { path: `/api/v1/indicators/sample%00/summary?subjectId=${mine.party}`, status: 400 });
    add(summary, 'an unknown subject', { path: `/api/v1/indicators/sample.nps/summary?subjectId=${UNKNOWN}`, status: 404 });
    add(summary, 'a subject of another tenant', { path: `/api/v1/indicators/sample.nps/summary?subjectId=${foreign.party}`, status: 404 });

    // Meta and tenant: they take no input at all.
    for (const path of [
      '/api/v1/tenant',
      '/api/v1/meta/relationship-types',
      '/api/v1/meta/interaction-types',
      '/api/v1/meta/indicators',
      '/api/v1/meta/party-attributes',
      '/api/v1/meta/permissions',
    ]) {
      noInputCases(`GET ${path}`, path);
    }

    // Plugins
    noInputCases('GET /api/v1/plugins', '/api/v1/plugins');
    for (const action of ['enable', 'disable', 'uninstall']) {
      const route = `POST /api/v1/plugins/:name/${action}`;
      add(route, 'an unknown plugin', { path: `/api/v1/plugins/nothing/${action}`, status: 404 });
      add(route, 'a malformed name', { path: `/api/v1/plugins/Not_A_Name/${action}`, status: 400 });
      add(route, 'an overlong name', { path: `/api/v1/plugins/${'p'.repeat(41)}/${action}`, status: 400 });
      add(route, 'an unexpected query parameter', { path: `/api/v1/plugins/sample/${action}?now=1`, status: 400 });
    }
    noInputCases('POST /api/v1/plugins/:name/enable', '/api/v1/plugins/sample/enable');
    noInputCases('POST /api/v1/plugins/:name/disable', '/api/v1/plugins/sample/disable');
    bodyCases('POST /api/v1/plugins/:name/uninstall', '/api/v1/plugins/nothing/uninstall', { purge: false });
    add('POST /api/v1/plugins/:name/uninstall', 'purge as a string', { path: '/api/v1/plugins/sample/uninstall', body: { purge: 'yes' }, status: 400 });
  }

  const snapshot = async () => {
    const result = await t.app.knex.raw(`select
      (select count(*) from rapport_parties) as parties,
      (select coalesce(sum(version), 0) from rapport_parties) as party_versions,
      (select count(*) from rapport_parties where archived_at is not null) as archived,
      (select count(*) from rapport_contact_points) as contact_points,
      (select count(*) from rapport_relationships) as relationships,
      (select coalesce(sum(version), 0) from rapport_relationships) as relationship_versions,
      (select count(*) from rapport_interactions) as interactions,
      (select coalesce(sum(version), 0) from rapport_interactions) as interaction_versions,
      (select count(*) from rapport_interaction_participants) as participants,
      (select count(*) from rapport_observations) as observations,
      (select count(*) from rapport_outbox) as outbox,
      (select count(*) from rapport_audit) as audit,
      (select count(*) from rapport_idempotency_keys) as idempotency,
      (select string_agg(name || ':' || state || ':' || version, ',' order by name) from rapport_plugins) as plugins`);
    const row = result.rows[0] as Record<string, unknown>;
    return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' ? v : Number(v)]));
  };

  it('covers every kernel route', () => {
    const served = t.app.http
      .routes()
      .filter((r) => r.owner === 'core' && KERNEL_PREFIXES.test(r.fullPath))
      .map((r) => `${r.method.toUpperCase()} ${r.fullPath}`);
    const covered = new Set(cases.map((c) => c.route));
    expect(served.filter((route) => !covered.has(route))).toEqual([]);
    expect([...covered].filter((route) => !served.includes(route))).toEqual([]);
  });

  it('answers each case with a 4xx problem and writes nothing', async () => {
    const failures: string[] = [];
    const before = await snapshot();
    for (const c of cases) {
      const res = await t.admin.request(c.method, c.path, { body: c.body, rawBody: c.rawBody, headers: c.headers });
      const label = `${c.route} with ${c.name}`;
      const problem = res.body as { type?: unknown; title?: unknown; status?: unknown };
      if (res.status < 400 || res.status > 499) failures.push(`${label}: ${res.status} ${res.text.slice(0, 200)}`);
      else if (c.status !== undefined && res.status !== c.status) failures.push(`${label}: expected ${c.status}, got ${res.status} ${res.text.slice(0, 200)}`);
      else if (!(res.headers.get('content-type') ?? '').startsWith('application/problem+json')) failures.push(`${label}: content-type ${res.headers.get('content-type')}`);
      else if (typeof problem.type !== 'string' || typeof problem.title !== 'string' || problem.status !== res.status) failures.push(`${label}: not a problem document ${res.text.slice(0, 200)}`);
      const after = await snapshot();
      if (JSON.stringify(after) !== JSON.stringify(before)) {
        failures.push(`${label}: wrote something: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
        Object.assign(before, after);
      }
    }
    expect(failures).toEqual([]);
    expect(cases.length).toBeGreaterThan(250);
  });

  it('leaves the well-formed requests working (the cases fail for the stated reason)', async () => {
    // Each route's baseline succeeds, so the failures above come from the bad input alone.
    expect((await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Valid Name' })).status).toBe(201);
    expect((await t.admin.post('/api/v1/relationships', { type: 'sample.supply', fromPartyId: mine.party, toPartyId: mine.person })).status).toBe(201);
    expect((await t.admin.patch(`/api/v1/relationships/${mine.relationship}`, { status: 'active' }, { headers: { 'if-match': '"1"' } })).status).toBe(200);
    expect((await t.admin.patch(`/api/v1/interactions/${mine.interaction}`, { summary: 'A summary' }, { headers: { 'if-match': '"1"' } })).status).toBe(200);
    expect((await t.admin.post('/api/v1/interactions', { type: 'sample.call', participants: [{ partyId: mine.party, role: 'caller' }] })).status).toBe(201);
    expect((await t.admin.post('/api/v1/observations', { indicator: 'sample.nps', subjectId: mine.party, value: 5 })).status).toBe(201);
    expect((await t.admin.post('/api/v1/parties/merge', { survivorId: mine.party, mergedIds: [mine.person], dryRun: true })).status).toBe(400);
    expect((await t.admin.get(`/api/v1/indicators/sample.nps/summary?subjectId=${mine.party}`)).status).toBe(200);
    expect((await t.admin.get('/api/v1/duplicates?kind=email&value=mine@org.example')).body.data).toHaveLength(1);
    expect((await t.admin.patch(`/api/v1/parties/${mine.party}`, { name: 'New Name' }, { headers: { 'if-match': '"1"' } })).status).toBe(200);
  });
});
