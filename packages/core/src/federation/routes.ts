import { z } from 'zod';
import type Koa from 'koa';
import type { KernelModule } from '../app/module.js';
import type { PermissionDefinition } from '../kernel/types.js';
import { idParams, pageOf, pageQuery } from '../http/pagination.js';
import type { RequestContext, RouteBuilder } from '../http/routes.js';
import { LINK_ROLES } from './documents.js';
import { type Federation, MESSAGE_STATUSES, PEER_PATH, wireMessageSchema, type FederationHost } from './federation.js';
import { LINK_STATES, linkResource } from './links.js';
import { type LinkTransport, type TransportHost } from './transport.js';

export const FEDERATION_PERMISSIONS: readonly PermissionDefinition[] = [
  { key: 'federation:read', description: 'Read links to other systems, their health and their messages' },
  { key: 'federation:write', description: 'Send documents on links to other systems' },
  { key: 'federation:manage', description: 'Invite, accept, suspend, resume and revoke links; rotate their keys' },
];

const problemNote = 'Refusals are problem+json; nothing changes.';

const keySummary = z.object({ thumbprint: z.string(), createdAt: z.string(), retiresAt: z.string().nullable() });
export const linkSchema = z.object({
  id: z.uuid(),
  state: z.enum(LINK_STATES),
  stateBy: z.enum(['local', 'peer']).nullable(),
  localRole: z.enum(LINK_ROLES),
  peerRole: z.enum(LINK_ROLES),
  relationshipId: z.uuid().nullable(),
  relationshipType: z.string().nullable(),
  peerPartyId: z.uuid().nullable(),
  peerName: z.string().nullable(),
  peerBaseUrl: z.string().nullable(),
  documentTypes: z.array(z.string()),
  localKeys: z.array(keySummary).describe('This side’s public keys by RFC 7638 thumbprint, newest (signing) first'),
  peerKeys: z.array(z.object({ thumbprint: z.string(), notAfter: z.string().nullable() })).describe('The other side’s keys by RFC 7638 thumbprint: compare them out of band'),
  invitationExpiresAt: z.string().nullable(),
  health: z.object({
    lastSequenceSent: z.number(),
    lastSequenceAcknowledged: z.number(),
    lastSequenceApplied: z.number(),
    behind: z.number().describe('Messages sent and not yet answered by the other system'),
    behindSince: z.string().nullable(),
    lastError: z.string().nullable(),
    lastErrorAt: z.string().nullable(),
    lastPushedAt: z.string().nullable(),
    nextPushAt: z.string().nullable(),
  }),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const messageRowSchema = z.object({
  seq: z.number(),
  id: z.uuid(),
  type: z.string(),
  docId: z.uuid(),
  docVersion: z.number(),
  status: z.enum(['pending', ...MESSAGE_STATUSES]),
  problem: z.record(z.string(), z.unknown()).nullable(),
  outcome: z.record(z.string(), z.unknown()).nullable(),
  message: z.record(z.string(), z.unknown()).describe('The message exactly as sent or received'),
  at: z.string(),
});

const resultSchema = z.object({
  seq: z.number(),
  id: z.uuid(),
  status: z.enum(MESSAGE_STATUSES),
  repeated: z.boolean().optional(),
  problem: z.record(z.string(), z.unknown()).nullable().optional(),
  outcome: z.record(z.string(), z.unknown()).nullable().optional(),
});
const keyWire = z.object({ kid: z.string(), jwk: z.object({ kty: z.string(), crv: z.string(), x: z.string() }) });

export interface FederationModuleHost extends FederationHost, TransportHost {
  readonly federation: Federation;
  readonly linkTransport: LinkTransport;
}

/** Rapport Link: the links API for the firm's admins and the signed endpoints other systems call (docs/federation.md). */
export function federationModule(app: FederationModuleHost): KernelModule {
  return {
    name: 'federation',
    permissions: FEDERATION_PERMISSIONS,
    routes: (r) => {
      adminRoutes(r, app.federation, app.linkTransport);
      peerRoutes(r, app.federation);
    },
    start: () => {
      if (app.federation.settings.enabled) app.linkTransport.start();
    },
    stop: () => app.linkTransport.stop(),
  };
}

function adminRoutes(r: RouteBuilder, federation: Federation, transport: LinkTransport): void {
  const tags = ['Federation'];
  const transact = (ctx: { transaction: RequestContext['transaction'] }) => (work: Parameters<RequestContext['transaction']>[0]) => ctx.transaction(work, { storeResponse: false });

  r.post('/federation/invitations', {
    summary: 'Invite another system to a link',
    description:
      'Creates a link in state `invited` for one of the firm’s relationships and answers a one-time invitation URL carrying a secret (stored hashed, shown here only). ' +
      'The other system’s admin pastes it into `POST /federation/links`. `localRole` is the role this firm plays on the link (`buyer`, `supplier`, `vendor` or `partner`).',
    tags,
    permission: 'federation:manage',
    body: z.strictObject({
      relationshipId: z.uuid(),
      localRole: z.enum(LINK_ROLES),
      documentTypes: z.array(z.string().min(1).max(200)).min(1).max(100),
      expiresInHours: z.number().int().min(1).max(720).optional(),
    }),
    response: z.object({ link: linkSchema, invitationUrl: z.string(), expiresAt: z.string() }),
    handler: (ctx) => ctx.transaction((uow) => federation.invite(uow, ctx.body), { storeResponse: false }),
  });

  r.post('/federation/links', {
    summary: 'Accept another system’s invitation',
    description:
      'Fetches the invitation from the inviting system, then accepts it with a request signed by a new key of this side. `relationshipId` is this firm’s own relationship with the inviting firm ' +
      '(at a supplier: its `crm.customer` with the buyer). The answer shows both sides’ key thumbprints (RFC 7638) to compare out of band.',
    tags,
    permission: 'federation:manage',
    body: z.strictObject({ invitationUrl: z.string().min(1).max(2000), relationshipId: z.uuid() }),
    response: linkSchema,
    problems: [409, 422, 502, 503],
    handler: (ctx) => federation.acceptInvitation(ctx, transact(ctx), ctx.body),
  });

  r.get('/federation/links', {
    summary: 'List links to other systems',
    tags,
    permission: 'federation:read',
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(200).optional(), cursor: pageQuery.cursor, state: z.enum(LINK_STATES).optional() }),
    response: pageOf(linkSchema),
    handler: (ctx) => federation.list(ctx, ctx.query),
  });

  r.get('/federation/links/:id', {
    summary: 'Get a link with its keys and health',
    description: 'Health: last sequence sent, acknowledged by the other system and applied from it; messages behind; the last error.',
    tags,
    permission: 'federation:read',
    params: idParams,
    response: linkSchema,
    handler: async (ctx) => linkResource(await federation.get(ctx, ctx.params.id)),
  });

  for (const action of ['suspend', 'resume', 'revoke'] as const) {
    r.post(`/federation/links/:id/${action}`, {
      summary: `${action[0].toUpperCase()}${action.slice(1)} a link`,
      description:
        action === 'revoke'
          ? 'Final. Both directions stop: this side refuses the other’s messages and sends none; the other system is told (signed). Data already exchanged stays.'
          : action === 'suspend'
            ? 'Both directions stop until this side resumes: messages are refused and none are sent; the other system is told (signed).'
            : 'Lifts a suspension made by this side; the other system is told.',
      tags,
      permission: 'federation:manage',
      params: idParams,
      status: 200,
      response: z.object({ link: linkSchema, peerNotified: z.boolean() }),
      problems: [409],
      handler: (ctx) => federation.changeState(ctx, transact(ctx), ctx.params.id, action),
    });
  }

  r.post('/federation/links/:id/rotate-key', {
    summary: 'Rotate this side’s key of a link',
    description: 'A new Ed25519 key signs from now on; the other system learns it from a request signed with the current key and accepts the old one for the overlap (`federation.keyOverlapMs`).',
    tags,
    permission: 'federation:manage',
    params: idParams,
    status: 200,
    response: linkSchema,
    problems: [409, 502],
    handler: (ctx) => federation.rotateKey(ctx, transact(ctx), ctx.params.id),
  });

  r.post('/federation/links/:id/documents', {
    summary: 'Send a document on a link',
    description:
      'Queues a version of a declared document type in this transaction (its sequence too) and pushes it. Only the type’s author role sends it; `body` must match the type’s wire schema ' +
      '(`GET /federation/schemas`). Without `docId` a new document starts at version 1; with it, the next version.',
    tags,
    permission: 'federation:write',
    params: idParams,
    body: z.strictObject({
      type: z.string().min(1).max(200),
      docId: z.uuid().optional(),
      version: z.number().int().positive().optional(),
      body: z.record(z.string(), z.unknown()),
      inResponseTo: z.strictObject({ type: z.string(), docId: z.uuid() }).optional(),
    }),
    response: z.object({ linkId: z.uuid(), seq: z.number(), docId: z.uuid(), docVersion: z.number(), messageId: z.uuid() }),
    problems: [409],
    handler: async (ctx) => {
      const [sent] = await ctx.transaction((uow) => federation.send(uow, { linkId: ctx.params.id, ...ctx.body }));
      return sent;
    },
  });

  r.get('/federation/links/:id/messages', {
    summary: 'Messages of a link, in sequence order',
    description:
      '`direction=out`: what this side sent, with the other system’s answer (pending, applied, duplicate or rejected with its problem). `direction=in`: what this side received and applied.',
    tags,
    permission: 'federation:read',
    params: idParams,
    query: z.strictObject({ direction: z.enum(['out', 'in']), after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(500).optional() }),
    response: pageOf(messageRowSchema),
    handler: (ctx) => federation.messages(ctx, ctx.params.id, ctx.query),
  });

  r.post('/federation/links/:id/sync', {
    summary: 'Push and pull a link now',
    description: 'Pushes what the other system has not answered and pulls what it sent after the last applied sequence, without waiting for the back-off.',
    tags,
    permission: 'federation:manage',
    params: idParams,
    status: 200,
    response: linkSchema,
    handler: async (ctx) => {
      const link = await federation.get(ctx, ctx.params.id);
      if (link.state === 'active') {
        await transport.pushLink(link).catch(() => undefined);
        await transport.pullLink(await federation.get(ctx, ctx.params.id)).catch(() => undefined);
      }
      return linkResource(await federation.get(ctx, ctx.params.id));
    },
  });

  r.get('/federation/schemas', {
    summary: 'Wire schemas of the declared document types',
    description: 'Each document type’s allowlist as JSON Schema, with its author role, version, response types and UBL name. Only these fields leave the system.',
    tags,
    permission: 'federation:read',
    response: z.object({
      data: z.array(
        z.object({
          key: z.string(),
          version: z.number(),
          // A message either side writes names every role that may author it.
          author: z.union([z.enum(LINK_ROLES), z.array(z.enum(LINK_ROLES))]),
          relationshipTypes: z.array(z.string()),
          responses: z.array(z.string()),
          ubl: z.string().nullable(),
          description: z.string().nullable(),
          schema: z.record(z.string(), z.unknown()),
        }),
      ),
    }),
    handler: () => {
      const schemas = federation.types.jsonSchemas();
      return {
        data: federation.types.all().map((t) => ({
          key: t.key,
          version: t.version,
          author: t.author,
          relationshipTypes: t.relationshipTypes,
          responses: t.responses ?? [],
          ubl: t.ubl ?? null,
          description: t.description ?? null,
          schema: schemas[t.key] as Record<string, unknown>,
        })),
      };
    },
  });
}

/** What a peer request's signature covers: this system's public URL and the path as sent. */
function peerRequest(federation: Federation, koa: Koa.Context) {
  return {
    url: `${federation.baseUrl()}${koa.originalUrl}`,
    headers: koa.req.headers as Record<string, string | string[] | undefined>,
    rawBody: (koa.request as { rawBody?: string }).rawBody ?? '',
  };
}

function peerRoutes(r: RouteBuilder, federation: Federation): void {
  const tags = ['Federation (system to system)'];
  const signed = 'Signed with HTTP Message Signatures (RFC 9421, `ed25519`) by the other system’s link key; see docs/federation.md. ' + problemNote;
  const jsonBody = { contentType: 'application/json', description: 'The exact bytes are covered by Content-Digest (RFC 9530)' };
  const linkParams = z.strictObject({ id: z.uuid() });
  const base = PEER_PATH.replace('/api/v1', '');

  r.get(`${base}/invitations/:id`, {
    summary: 'Fetch an invitation (called by the invited system)',
    description: 'Answers what the invitation offers when `Rapport-Invitation-Secret` carries its secret. ' + problemNote,
    tags,
    permission: null,
    params: linkParams,
    response: z.object({
      link: z.uuid(),
      role: z.enum(LINK_ROLES),
      baseUrl: z.string(),
      name: z.string().nullable(),
      documentTypes: z.array(z.string()),
      keys: z.array(keyWire),
      expiresAt: z.string(),
    }),
    problems: [404, 410],
    handler: (ctx) => federation.peerInvitation(ctx.params.id, ctx.koa.get('rapport-invitation-secret') || undefined),
  });

  r.post(`${base}/links/:id/accept`, {
    summary: 'Accept an invitation (called by the invited system)',
    description: 'The body carries the secret and the invited side’s key; the request is signed with that key. ' + signed,
    tags,
    permission: null,
    params: linkParams,
    requestBody: jsonBody,
    status: 200,
    response: z.object({ link: z.uuid(), keys: z.array(keyWire), documentTypes: z.array(z.string()) }),
    problems: [401, 404, 410, 422],
    handler: (ctx) => federation.peerAccept(ctx.params.id, peerRequest(federation, ctx.koa)),
  });

  r.post(`${base}/links/:id/inbox`, {
    summary: 'Deliver messages (called by the other system)',
    description:
      'Applies the batch in sequence order, each message in its own transaction. A message already answered gets its stored answer (`repeated: true`). ' +
      'A gap answers 409 with `expected`. A rejected message is final. ' +
      signed,
    tags,
    permission: null,
    params: linkParams,
    requestBody: jsonBody,
    status: 200,
    response: z.object({ appliedThrough: z.number(), results: z.array(resultSchema), expected: z.number().optional() }),
    problems: [401, 403, 404, 409, 410],
    handler: (ctx) => federation.peerInbox(ctx.params.id, peerRequest(federation, ctx.koa)),
  });

  r.get(`${base}/links/:id/outbox`, {
    summary: 'Pull messages after a sequence (called by the other system)',
    description: 'The messages this side sent on the link after `after`, in order; the response is signed too (`@status`, Content-Digest, Content-Type). ' + signed,
    tags,
    permission: null,
    params: linkParams,
    query: z.strictObject({ after: z.coerce.number().int().min(0), limit: z.coerce.number().int().min(1).max(500).default(100) }),
    raw: true,
    response: z.object({ link: z.uuid(), messages: z.array(wireMessageSchema), lastSeq: z.number() }),
    problems: [401, 403, 404, 410],
    handler: async (ctx) => {
      const page = await federation.peerOutbox(ctx.params.id, peerRequest(federation, ctx.koa), ctx.query.after, ctx.query.limit);
      ctx.koa.status = 200;
      ctx.koa.body = page.body;
      // After the body: Koa would otherwise add a charset to the signed Content-Type.
      for (const [name, value] of Object.entries(page.headers)) ctx.koa.set(name, value);
    },
  });

  r.post(`${base}/links/:id/state`, {
    summary: 'Tell of a link state change (called by the other system)',
    description: 'The other system suspended, resumed or revoked the link on its side; this side stops (or resumes) both directions too. ' + signed,
    tags,
    permission: null,
    params: linkParams,
    requestBody: jsonBody,
    status: 200,
    response: z.object({ state: z.enum(LINK_STATES) }),
    problems: [401, 404, 410],
    handler: (ctx) => federation.peerState(ctx.params.id, peerRequest(federation, ctx.koa)),
  });

  r.post(`${base}/links/:id/keys`, {
    summary: 'Announce a rotated key (called by the other system)',
    description: 'Signed with the current key; the new key is accepted from now on and the previous one until `previous.notAfter`. ' + signed,
    tags,
    permission: null,
    params: linkParams,
    requestBody: jsonBody,
    status: 200,
    response: z.object({ keys: z.array(z.object({ kid: z.string(), notAfter: z.string().nullable() })) }),
    problems: [401, 403, 404, 410],
    handler: (ctx) => federation.peerKeys(ctx.params.id, peerRequest(federation, ctx.koa)),
  });
}
