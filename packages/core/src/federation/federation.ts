import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { UnitOfWork, Transact } from '../hooks/unit-of-work.js';
import { sql, type QueryContext } from '../kernel/context.js';
import { ConflictError, NotFoundError, RapportError, ValidationError } from '../errors.js';
import { newId } from '../util/ids.js';
import { iso } from '../util/time.js';
import { BY_ID_DESC, keysetPage } from '../http/keyset.js';
import { COUNTERPART, LINK_ROLES, authoredBy, type DocumentTypeRegistry, type LinkRole } from './documents.js';
import { INBOX, LINKS, MIRRORS, OUTBOX, linkById, linkResource, linkView, livePeerKeys, num, type LinkRow, type LocalKey, type PeerKey } from './links.js';
import { privateHostProblem, publicOnlyAgent } from '../webhooks/egress.js';
import type * as Undici from 'undici';
import type { Agent } from 'undici';
import { lazyModule } from '../util/lazy-module.js';
import { SignatureError, generateKeyPair, privateKeyOf, signRequest, signResponse, verifySigned, type PublicJwk, type SigningKey } from './signing.js';

// Loaded with the first message a link sends: a system without links never needs it.
const undici = lazyModule<typeof Undici>('undici');

/** Where the peer endpoints live under a system's base URL. */
export const PEER_PATH = '/api/v1/federation/peer';

/** One message on the wire (docs/federation.md, "Messages"). */
export const wireMessageSchema = z.strictObject({
  id: z.uuid(),
  seq: z.number().int().positive(),
  type: z.string().min(1).max(200),
  typeVersion: z.number().int().positive(),
  docId: z.uuid(),
  docVersion: z.number().int().positive(),
  author: z.enum(LINK_ROLES),
  sentAt: z.string(),
  inResponseTo: z.strictObject({ type: z.string(), docId: z.uuid() }).optional(),
  body: z.record(z.string(), z.unknown()),
});
export type WireMessage = z.infer<typeof wireMessageSchema>;

export const inboxBatchSchema = z.strictObject({ link: z.uuid(), messages: z.array(wireMessageSchema).min(1).max(500) });

export const MESSAGE_STATUSES = ['applied', 'duplicate', 'rejected'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface MessageResult {
  seq: number;
  id: string;
  status: MessageStatus;
  /** True when this message (seq or id) was answered before: the status is the stored one. */
  repeated?: boolean;
  problem?: Record<string, unknown> | null;
  outcome?: Record<string, unknown> | null;
}

export interface FederationSettings {
  /** This system's public base URL, as peers reach it (`https://buyer.example`); peers sign against it. */
  baseUrl?: string;
  /** Push and pull from this process (default true). */
  enabled?: boolean;
  /** Longest pause between two looks for messages to push (default 1000 ms). */
  pollIntervalMs?: number;
  /** Base of the exponential back-off between pushes to a peer that does not answer (default 1000 ms). */
  retryBaseMs?: number;
  /** Longest back-off (default 300000 ms). */
  maxBackoffMs?: number;
  /** How often each active link pulls the peer's outbox to catch up (default 60000 ms). */
  pullIntervalMs?: number;
  /** A link with unacknowledged messages for longer than this emits `federation.link.behind` (default 900000 ms). */
  behindAfterMs?: number;
  /** Messages per push or pulled page (default 100). */
  batchSize?: number;
  /** Links pushed at once (default 20). */
  concurrency?: number;
  /** Timeout of one request to a peer (default 10000 ms). */
  requestTimeoutMs?: number;
  /** How long a rotated-out key is still accepted by the peer (default 86400000 ms: one day). */
  keyOverlapMs?: number;
}

export interface FederationHost {
  readonly knex: Knex;
  readonly logger: Logger;
  readonly transaction: Transact;
  readonly defaultTenant: { readonly id: string; readonly selfPartyId: string };
  readonly documentTypes: DocumentTypeRegistry;
  readonly webhookSecrets: { box(): { seal(plain: string, context: string): string; open(stored: string, context: string): string } | null };
  /** `dispatcher.allowPrivateNetworks` decides where links may go as it does for webhooks. */
  readonly config: { federation?: FederationSettings; dispatcher?: { allowPrivateNetworks?: boolean } };
}

/** A refusal of a peer's request (signature, state, unknown link): a problem, and nothing changes. */
export class PeerRequestError extends RapportError {}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A row of the inbox as a message result (what a repeated delivery is answered with). */
function storedResult(row: { seq: string | number; message_id: string; status: MessageStatus; problem: unknown; outcome: unknown }): MessageResult {
  return {
    seq: num(row.seq),
    id: row.message_id,
    status: row.status,
    repeated: true,
    problem: (row.problem as Record<string, unknown>) ?? null,
    outcome: (row.outcome as Record<string, unknown>) ?? null,
  };
}

/**
 * Rapport Link, both halves: what the firm's admins do (invite, accept, suspend, revoke,
 * rotate keys, send) and what a peer system's signed requests do (fetch an invitation,
 * accept it, deliver messages, pull an outbox, change a link's state). Push and pull loops
 * are in `transport.ts`; docs/federation.md describes the protocol.
 */
export class Federation {
  readonly settings: Required<Omit<FederationSettings, 'baseUrl'>> & { baseUrl?: string };
  private readonly logger: Logger;
  /**
   * Public addresses only unless `dispatcher.allowPrivateNetworks` (webhooks/egress.ts): a peer
   * URL comes from another firm (an invitation pasted by an admin, a peer's acceptance), so it
   * must not let that firm make this server call its own network.
   */
  private agent: Agent | undefined;
  /** Peers at public addresses only; the pool itself is made with the first message (undici loads then). */
  private publicOnly: boolean;
  /** Called after a message is queued: the pusher wakes. */
  onQueued: () => void = () => undefined;

  constructor(private readonly host: FederationHost) {
    const s = host.config.federation ?? {};
    this.settings = {
      baseUrl: s.baseUrl?.replace(/\/+$/, ''),
      enabled: s.enabled ?? true,
      pollIntervalMs: s.pollIntervalMs ?? 1000,
      retryBaseMs: s.retryBaseMs ?? 1000,
      maxBackoffMs: s.maxBackoffMs ?? 300_000,
      pullIntervalMs: s.pullIntervalMs ?? 60_000,
      behindAfterMs: s.behindAfterMs ?? 900_000,
      batchSize: s.batchSize ?? 100,
      concurrency: s.concurrency ?? 20,
      requestTimeoutMs: s.requestTimeoutMs ?? 10_000,
      keyOverlapMs: s.keyOverlapMs ?? 86_400_000,
    };
    this.logger = host.logger.child({ component: 'federation' });
    this.publicOnly = !host.config.dispatcher?.allowPrivateNetworks;
  }

  /**
   * From now on, peers are reached at public addresses only, names resolved by `resolve`
   * (tests point a name at this machine to show a rebinding answer is refused).
   */
  useEgressLookup(resolve: Parameters<typeof publicOnlyAgent>[0]): void {
    this.publicOnly = true;
    this.agent = publicOnlyAgent(resolve);
  }

  /** Why a peer URL may not be called (a non-public address named in it); undefined when it may, or private networks are allowed. */
  peerUrlProblem(url: string): string | undefined {
    return this.publicOnly ? privateHostProblem(url) : undefined;
  }

  get types(): DocumentTypeRegistry {
    return this.host.documentTypes;
  }

  /** Sets the public URL once it is known (a server listening on a port chosen at start). */
  setBaseUrl(url: string): void {
    this.settings.baseUrl = url.replace(/\/+$/, '');
  }

  /** This system's base URL; the links API answers 503 without one. */
  baseUrl(): string {
    const url = this.settings.baseUrl ?? process.env.RAPPORT_PUBLIC_URL?.replace(/\/+$/, '');
    if (!url)
      throw new RapportError(503, 'federation-base-url-missing', 'Rapport Link needs this system’s public URL: set `federation.baseUrl` (or RAPPORT_PUBLIC_URL) to the address peers reach it at');
    return url;
  }

  // ---------------------------------------------------------------- keys

  private sealContext(tenantId: string, linkId: string, kid: string): string {
    return `rapport_fed_links:${tenantId}:${linkId}:${kid}`;
  }

  private async newLocalKey(tenantId: string, linkId: string): Promise<LocalKey> {
    const box = this.host.webhookSecrets.box();
    if (!box) throw new RapportError(503, 'secret-key-missing', 'Link keys are stored encrypted and this server has no key: set RAPPORT_SECRET_KEY (config `secretKey`), then retry');
    const pair = await generateKeyPair();
    return { kid: pair.kid, publicJwk: pair.publicJwk, privateKey: box.seal(pair.privatePkcs8, this.sealContext(tenantId, linkId, pair.kid)), createdAt: new Date().toISOString() };
  }

  /** The key that signs: the newest one. */
  signingKey(link: LinkRow): SigningKey {
    const key = link.local_keys[0];
    if (!key) throw new Error(`federation link ${link.id} has no key`);
    const box = this.host.webhookSecrets.box();
    if (!box) throw new RapportError(503, 'secret-key-missing', 'Link keys are encrypted and RAPPORT_SECRET_KEY (config `secretKey`) is not set');
    return { kid: key.kid, privateKey: privateKeyOf(box.open(key.privateKey, this.sealContext(link.tenant_id, link.id, key.kid))) };
  }

  private publicKeys(link: LinkRow): Array<{ kid: string; jwk: PublicJwk }> {
    return link.local_keys.filter((k) => !k.retiresAt || Date.parse(k.retiresAt) > Date.now()).map((k) => ({ kid: k.kid, jwk: k.publicJwk }));
  }

  // ---------------------------------------------------------------- admin side

  private async relationshipEnds(ctx: QueryContext, relationshipId: string): Promise<{ type: string; peerPartyId: string }> {
    const row = await sql(ctx)('rapport_relationships').where({ tenant_id: ctx.tenantId, id: relationshipId }).first('type', 'from_party_id', 'to_party_id');
    if (!row) throw new NotFoundError(`Relationship ${relationshipId} not found`);
    const self = await sql(ctx)('rapport_tenants').where({ id: ctx.tenantId }).first('self_party_id');
    const selfId = self?.self_party_id;
    if (row.from_party_id !== selfId && row.to_party_id !== selfId) {
      throw new ValidationError('A link stands for a relationship of the firm itself: one end must be the self party', [{ path: 'relationshipId', message: 'the firm is at neither end' }]);
    }
    return { type: row.type, peerPartyId: row.from_party_id === selfId ? row.to_party_id : row.from_party_id };
  }

  private checkDocumentTypes(types: string[], path = 'documentTypes'): void {
    const unknown = types.filter((t) => !this.types.get(t));
    if (unknown.length)
      throw new ValidationError(
        `Unknown document type(s): ${unknown.join(', ')}; declared: ${
          this.types
            .all()
            .map((t) => t.key)
            .join(', ') || 'none'
        }`,
        [{ path, message: 'not a declared document type' }],
      );
  }

  /** Creates a link in state `invited` and its one-time invitation URL (the secret is shown here only). */
  async invite(uow: UnitOfWork, input: { relationshipId: string; localRole: LinkRole; documentTypes: string[]; expiresInHours?: number }) {
    const baseUrl = this.baseUrl();
    this.checkDocumentTypes(input.documentTypes);
    const ends = await this.relationshipEnds(uow, input.relationshipId);
    const id = newId();
    const secret = randomBytes(32).toString('base64url');
    const key = await this.newLocalKey(uow.tenantId, id);
    const expiresAt = new Date(Date.now() + (input.expiresInHours ?? 72) * 3_600_000);
    const [row] = await sql(uow)(LINKS)
      .insert({
        tenant_id: uow.tenantId,
        id,
        state: 'invited',
        local_role: input.localRole,
        peer_role: COUNTERPART[input.localRole],
        relationship_id: input.relationshipId,
        relationship_type: ends.type,
        peer_party_id: ends.peerPartyId,
        document_types: JSON.stringify([...new Set(input.documentTypes)]),
        local_keys: JSON.stringify([key]),
        invitation_secret_hash: hashSecret(secret),
        invitation_expires_at: expiresAt,
      })
      .returning('*');
    const link = linkResource(row as LinkRow);
    uow.emit('federation.link.invited' as never, { link } as never, { type: 'federation.link', id });
    return { link, invitationUrl: `${baseUrl}${PEER_PATH}/invitations/${id}#${secret}`, expiresAt: expiresAt.toISOString() };
  }

  /**
   * Accepts a peer's invitation: fetches it with its secret, then sends a signed acceptance
   * carrying this side's key. The local link is written once the peer has accepted.
   */
  async acceptInvitation(ctx: QueryContext, transact: (work: (uow: UnitOfWork) => Promise<unknown>) => Promise<unknown>, input: { invitationUrl: string; relationshipId: string }) {
    const baseUrl = this.baseUrl();
    const ends = await this.relationshipEnds(ctx, input.relationshipId);
    let url: URL;
    try {
      url = new URL(input.invitationUrl);
    } catch {
      throw new ValidationError('invitationUrl is not a URL', [{ path: 'invitationUrl', message: 'not a URL' }]);
    }
    const secret = decodeURIComponent(url.hash.slice(1));
    const match = /^(.*)\/api\/v1\/federation\/peer\/invitations\/([0-9a-f-]{36})$/i.exec(url.origin + url.pathname);
    if (!secret || !match)
      throw new ValidationError('invitationUrl must be an invitation link: <base>/api/v1/federation/peer/invitations/<id>#<secret>', [{ path: 'invitationUrl', message: 'not an invitation link' }]);
    const [, peerBase, linkId] = match;
    const refused = this.peerUrlProblem(peerBase);
    if (refused) throw new ValidationError(`invitationUrl: ${refused}; links go to public addresses unless dispatcher.allowPrivateNetworks is set`, [{ path: 'invitationUrl', message: refused }]);
    const existing = await linkById(sql(ctx), linkId);
    if (existing) throw new ConflictError(`Link ${linkId} is already known to this system (state ${existing.state})`);
    const invitation = await this.peerFetch(`${peerBase}${PEER_PATH}/invitations/${linkId}`, { method: 'GET', headers: { 'rapport-invitation-secret': secret } });
    if (invitation.status !== 200) throw new RapportError(422, 'invitation-refused', `The inviting system refused the invitation (${invitation.status}): ${invitation.detail}`);
    const offered = invitationSchema.safeParse(invitation.json);
    if (!offered.success) throw new RapportError(502, 'invitation-malformed', 'The inviting system answered with something that is not an invitation');
    const localRole = COUNTERPART[offered.data.role];
    const documentTypes = offered.data.documentTypes.filter((t) => this.types.get(t));
    const key = await this.newLocalKey(ctx.tenantId, linkId);
    const tenantName = await sql(ctx)('rapport_tenants').where({ id: ctx.tenantId }).first('name');
    const body = JSON.stringify({ link: linkId, secret, role: localRole, baseUrl, name: tenantName?.name ?? null, keys: [{ kid: key.kid, jwk: key.publicJwk }], documentTypes });
    const target = `${peerBase}${PEER_PATH}/links/${linkId}/accept`;
    const box = this.host.webhookSecrets.box()!;
    const signing = { kid: key.kid, privateKey: privateKeyOf(box.open(key.privateKey, this.sealContext(ctx.tenantId, linkId, key.kid))) };
    const answer = await this.peerFetch(target, { method: 'POST', body, headers: await signRequest(signing, { method: 'POST', url: target, body }) });
    if (answer.status !== 200) throw new RapportError(422, 'acceptance-refused', `The inviting system refused the acceptance (${answer.status}): ${answer.detail}`);
    const accepted = acceptedSchema.safeParse(answer.json);
    if (!accepted.success) throw new RapportError(502, 'acceptance-malformed', 'The inviting system answered the acceptance with something unexpected');
    let created: unknown;
    await transact(async (uow) => {
      const [row] = await sql(uow)(LINKS)
        .insert({
          tenant_id: uow.tenantId,
          id: linkId,
          state: 'active',
          local_role: localRole,
          peer_role: offered.data.role,
          relationship_id: input.relationshipId,
          relationship_type: ends.type,
          peer_party_id: ends.peerPartyId,
          peer_name: offered.data.name,
          peer_base_url: peerBase,
          document_types: JSON.stringify(accepted.data.documentTypes),
          local_keys: JSON.stringify([key]),
          peer_keys: JSON.stringify(accepted.data.keys),
        })
        .returning('*');
      created = linkResource(row as LinkRow);
      uow.emit('federation.link.accepted' as never, { link: created } as never, { type: 'federation.link', id: linkId });
    });
    return created as ReturnType<typeof linkResource>;
  }

  async list(ctx: QueryContext, query: { state?: string; limit?: number; cursor?: string }) {
    const q = sql(ctx)(LINKS).where({ tenant_id: ctx.tenantId });
    if (query.state) q.andWhere({ state: query.state });
    return keysetPage(q, { limit: Math.min(query.limit ?? 50, 200), cursor: query.cursor }, BY_ID_DESC, (rows: LinkRow[]) => rows.map(linkResource));
  }

  async get(ctx: QueryContext, id: string): Promise<LinkRow> {
    const row = await linkById(sql(ctx), id, { tenantId: ctx.tenantId });
    if (!row) throw new NotFoundError(`Federation link ${id} not found`);
    return row;
  }

  /**
   * Suspends, resumes or revokes a link on this side, then tells the peer (signed). Whatever
   * the peer does with it, this side refuses the peer's messages and sends none while the
   * link is not active: both directions stop.
   */
  async changeState(ctx: QueryContext, transact: (work: (uow: UnitOfWork) => Promise<unknown>) => Promise<unknown>, id: string, action: 'suspend' | 'resume' | 'revoke') {
    const current = await this.get(ctx, id);
    if (current.state === 'revoked') throw new ConflictError(`Link ${id} is revoked; a revoked link cannot change`);
    if (current.state === 'invited' && action !== 'revoke') throw new ConflictError(`Link ${id} is still an open invitation; revoke it or wait for its acceptance`);
    if (action === 'resume' && current.state === 'suspended' && current.state_by === 'peer') throw new ConflictError(`Link ${id} was suspended by the other system; only it can resume the link`);
    const state = action === 'suspend' ? 'suspended' : action === 'resume' ? 'active' : 'revoked';
    let updated!: LinkRow;
    await transact(async (uow) => {
      [updated] = await sql(uow)(LINKS)
        .where({ tenant_id: uow.tenantId, id })
        .update({ state, state_by: state === 'active' ? null : 'local', invitation_secret_hash: null, updated_at: new Date(), version: sql(uow).raw('version + 1') })
        .returning('*');
      uow.emit(`federation.link.${state === 'active' ? 'resumed' : state}` as never, { link: linkResource(updated) } as never, { type: 'federation.link', id });
    });
    let peerNotified = false;
    if (current.peer_base_url && current.state !== 'invited') {
      try {
        const answer = await this.signedPeerRequest(updated.state === 'revoked' ? { ...current, state: 'active' } : updated, 'POST', `/links/${id}/state`, { state });
        peerNotified = answer.status === 200;
      } catch (error) {
        this.logger.warn({ err: error, link: id }, 'the peer could not be told of the link state');
      }
    }
    return { link: linkResource(updated), peerNotified };
  }

  /**
   * A new key pair for this side. The peer learns it from a request signed with the current
   * key; the old key is then accepted by the peer until the overlap ends, and signs nothing new.
   */
  async rotateKey(ctx: QueryContext, transact: (work: (uow: UnitOfWork) => Promise<unknown>) => Promise<unknown>, id: string) {
    const link = await this.get(ctx, id);
    if (link.state !== 'active') throw new ConflictError(`Link ${id} is ${link.state}: keys rotate on an active link`);
    const key = await this.newLocalKey(ctx.tenantId, id);
    const retiresAt = new Date(Date.now() + this.settings.keyOverlapMs).toISOString();
    const keys: LocalKey[] = [key, ...link.local_keys.slice(0, 1).map((k) => ({ ...k, retiresAt: k.retiresAt ?? retiresAt }))];
    const announce = await this.signedPeerRequest(link, 'POST', `/links/${id}/keys`, { keys: [{ kid: key.kid, jwk: key.publicJwk }], previous: { kid: link.local_keys[0].kid, notAfter: retiresAt } });
    if (announce.status !== 200)
      throw new RapportError(502, 'key-rotation-refused', `The other system did not take the new key (${announce.status}): ${announce.detail}; the current key stays in use`);
    let updated!: LinkRow;
    await transact(async (uow) => {
      [updated] = await sql(uow)(LINKS)
        .where({ tenant_id: uow.tenantId, id })
        .update({ local_keys: JSON.stringify(keys), updated_at: new Date(), version: sql(uow).raw('version + 1') })
        .returning('*');
      uow.emit('federation.link.key-rotated' as never, { link: linkResource(updated) } as never, { type: 'federation.link', id });
    });
    return linkResource(updated);
  }

  async messages(ctx: QueryContext, id: string, query: { direction: 'out' | 'in'; after?: number; limit?: number }) {
    await this.get(ctx, id);
    const limit = Math.min(query.limit ?? 50, 500);
    const table = query.direction === 'out' ? OUTBOX : INBOX;
    const rows = await sql(ctx)(table)
      .where({ tenant_id: ctx.tenantId, link_id: id })
      .andWhere('seq', '>', query.after ?? 0)
      .orderBy('seq')
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    return {
      data: page.map((r: any) => ({
        seq: num(r.seq),
        id: r.message_id,
        type: r.type,
        docId: r.doc_id,
        docVersion: r.doc_version,
        status: r.status,
        problem: r.problem ?? null,
        outcome: r.outcome ?? null,
        message: typeof r.message === 'string' ? JSON.parse(r.message) : r.message,
        at: iso(r.created_at ?? r.received_at)!,
      })),
      nextCursor: rows.length > limit ? String(num(page[page.length - 1].seq)) : null,
    };
  }

  /** The local record a document of a link became (or was sent from), from the mirror map. */
  async mirrorOf(ctx: QueryContext, linkId: string, type: string, docId: string): Promise<string | null> {
    const row = await sql(ctx)(MIRRORS).where({ tenant_id: ctx.tenantId, link_id: linkId, type, doc_id: docId }).first('local_record_id');
    return row?.local_record_id ?? null;
  }

  /** The documents a local record was sent as or received from (`{ linkId, type, docId }`). */
  async documentsOf(ctx: QueryContext, type: string, localRecordId: string) {
    const rows = await sql(ctx)(MIRRORS).where({ tenant_id: ctx.tenantId, type, local_record_id: localRecordId }).select('link_id', 'doc_id', 'direction', 'latest_version');
    return rows.map((r: any) => ({ linkId: r.link_id as string, docId: r.doc_id as string, direction: r.direction as 'sent' | 'received', latestVersion: r.latest_version as number }));
  }

  /** Active links to a party carrying a document type. */
  async linksTo(ctx: QueryContext, peerPartyId: string, type?: string): Promise<LinkRow[]> {
    const rows = (await sql(ctx)(LINKS).where({ tenant_id: ctx.tenantId, peer_party_id: peerPartyId, state: 'active' })) as LinkRow[];
    return type ? rows.filter((r) => r.document_types.includes(type)) : rows;
  }

  // ---------------------------------------------------------------- sending

  /**
   * Queues a version of a document on a link, in the caller's transaction: the sequence is
   * allocated here (the link row is locked until commit, so sequences are gap-free), the
   * body is the declared schema's allowlist of `toWire(record)` (or of `body` as given).
   */
  async send(
    uow: UnitOfWork,
    input: {
      linkId?: string;
      peerPartyId?: string;
      type: string;
      docId?: string;
      version?: number;
      record?: unknown;
      body?: unknown;
      localRecordId?: string;
      inResponseTo?: { type: string; docId: string };
    },
  ): Promise<Array<{ linkId: string; seq: number; docId: string; docVersion: number; messageId: string }>> {
    const def = this.types.get(input.type);
    if (!def) throw new ValidationError(`Unknown document type "${input.type}"`, [{ path: 'type', message: 'not declared' }]);
    let links: LinkRow[];
    if (input.linkId) {
      const link = await linkById(sql(uow), input.linkId, { tenantId: uow.tenantId });
      if (!link) throw new NotFoundError(`Federation link ${input.linkId} not found`);
      if (link.state !== 'active') throw new ConflictError(`Link ${link.id} is ${link.state}: nothing is sent on it`);
      if (!link.document_types.includes(def.key))
        throw new ValidationError(`Link ${link.id} does not carry ${def.key} (it carries ${link.document_types.join(', ') || 'nothing'})`, [{ path: 'type', message: 'not on this link' }]);
      links = [link];
    } else if (input.peerPartyId) {
      links = await this.linksTo(uow, input.peerPartyId, def.key);
    } else throw new ValidationError('Name the link or the peer party', [{ path: 'linkId', message: 'required' }]);
    const results = [];
    for (const link of links) {
      if (!authoredBy(def, link.local_role)) {
        throw new ValidationError(`${def.owner}: ${def.key} is authored by the ${String(def.author)}; on link ${link.id} this system is the ${link.local_role}`, [
          { path: 'type', message: 'not the author' },
        ]);
      }
      const raw = input.body !== undefined ? input.body : def.toWire(input.record);
      const parsed = def.schema.safeParse(raw);
      if (!parsed.success)
        throw new ValidationError(
          `${def.owner}: the ${def.key} body does not match its wire schema: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`,
          [],
        );
      const docId = input.docId ?? newId();
      const mirror = await sql(uow)(MIRRORS).where({ tenant_id: uow.tenantId, link_id: link.id, type: def.key, doc_id: docId }).first('latest_version', 'direction');
      if (mirror && mirror.direction !== 'sent') throw new ConflictError(`Document ${docId} (${def.key}) on link ${link.id} was authored by the other system; answer it with a response document`);
      const docVersion = input.version ?? (mirror ? mirror.latest_version + 1 : 1);
      if (mirror && docVersion <= mirror.latest_version) throw new ConflictError(`Version ${docVersion} of ${def.key} ${docId} is not newer than version ${mirror.latest_version} already sent`);
      const at = new Date();
      // The time as a value, not now(): Citus refuses a non-immutable function inside COALESCE when it updates a reference table.
      const [{ out_seq }] = await sql(uow)(LINKS)
        .where({ tenant_id: uow.tenantId, id: link.id })
        .update({ out_seq: sql(uow).raw('out_seq + 1'), behind_since: sql(uow).raw('coalesce(behind_since, ?::timestamptz)', [at]), updated_at: at })
        .returning('out_seq');
      const seq = num(out_seq);
      const message: WireMessage = {
        id: newId(),
        seq,
        type: def.key,
        typeVersion: def.version,
        docId,
        docVersion,
        author: link.local_role,
        sentAt: new Date().toISOString(),
        ...(input.inResponseTo ? { inResponseTo: input.inResponseTo } : {}),
        body: parsed.data as Record<string, unknown>,
      };
      await sql(uow)(OUTBOX).insert({
        tenant_id: uow.tenantId,
        link_id: link.id,
        seq,
        message_id: message.id,
        type: def.key,
        doc_id: docId,
        doc_version: docVersion,
        message: JSON.stringify(message),
        created_at: message.sentAt,
      });
      const localRecordId = input.localRecordId ?? null;
      await upsertMirror(uow, link.id, def.key, docId, 'sent', localRecordId, docVersion);
      const selfPartyId = await this.selfPartyOf(uow);
      await def.recordSent?.(
        { type: def.key, docId, docVersion, messageId: message.id, sentAt: message.sentAt, body: parsed.data, inResponseTo: input.inResponseTo, localRecordId },
        { uow, link: linkView(link, selfPartyId), mirrorOf: (type, id) => this.mirrorOf(uow, link.id, type, id) },
      );
      uow.emit('federation.document.sent' as never, { linkId: link.id, seq, type: def.key, docId, docVersion, messageId: message.id } as never, { type: 'federation.link', id: link.id });
      results.push({ linkId: link.id, seq, docId, docVersion, messageId: message.id });
    }
    return results;
  }

  /** Sends what declarations with `emitOn` pick out of a write's events (the unit of work's commit hook). */
  async sendEmitted(uow: UnitOfWork): Promise<void> {
    const snapshot = [...uow.events];
    for (const event of snapshot) {
      if (event.name.startsWith('federation.')) continue;
      for (const def of this.types.emittedOn(event.name)) {
        const selected = await def.emitOn!.select(event.payload, {
          uow,
          documentOf: async (type, localRecordId) => {
            const [doc] = await this.documentsOf(uow, type, localRecordId);
            return doc ? { linkId: doc.linkId, docId: doc.docId } : null;
          },
        });
        if (!selected) continue;
        for (const picked of Array.isArray(selected) ? selected : [selected]) {
          const links = await this.linksTo(uow, picked.peerPartyId, def.key);
          for (const link of links) {
            if (!authoredBy(def, link.local_role)) continue;
            await this.send(uow, {
              linkId: link.id,
              type: def.key,
              docId: picked.docId,
              version: picked.version,
              record: picked.record,
              localRecordId: picked.docId,
              inResponseTo: picked.inResponseTo,
            });
          }
        }
      }
    }
  }

  private selfParty = new Map<string, string>();
  private async selfPartyOf(ctx: QueryContext): Promise<string> {
    const known = this.selfParty.get(ctx.tenantId);
    if (known) return known;
    const row = await sql(ctx)('rapport_tenants').where({ id: ctx.tenantId }).first('self_party_id');
    this.selfParty.set(ctx.tenantId, row.self_party_id);
    return row.self_party_id;
  }

  // ---------------------------------------------------------------- peer side

  /** GET of an invitation by a system holding its URL: what is offered. The secret is burnt by the acceptance, not here. */
  async peerInvitation(linkId: string, secret: string | undefined) {
    const link = await linkById(this.host.knex, linkId);
    if (!link || link.state !== 'invited' || !link.invitation_secret_hash || !secret || !secretMatches(secret, link.invitation_secret_hash)) {
      throw new PeerRequestError(404, 'invitation-not-found', 'No open invitation with this id and secret');
    }
    if (Date.parse(iso(link.invitation_expires_at)!) < Date.now()) throw new PeerRequestError(410, 'invitation-expired', 'This invitation has expired; ask for a new one');
    const tenant = await this.host.knex('rapport_tenants').where({ id: link.tenant_id }).first('name');
    return {
      link: link.id,
      role: link.local_role,
      baseUrl: this.baseUrl(),
      name: tenant?.name ?? null,
      documentTypes: link.document_types,
      keys: this.publicKeys(link),
      expiresAt: iso(link.invitation_expires_at)!,
    };
  }

  /** The signed acceptance of an invitation: the secret binds the first contact, the signature proves the key. */
  async peerAccept(linkId: string, request: { url: string; headers: Record<string, string | string[] | undefined>; rawBody: string }) {
    const body = acceptanceSchema.safeParse(safeJson(request.rawBody));
    if (!body.success) throw new PeerRequestError(400, 'acceptance-malformed', 'The acceptance body is not valid');
    const { data } = body;
    return this.host.transaction(
      async (uow) => {
        const link = await linkById(sql(uow), linkId, { lock: true });
        if (!link || link.state !== 'invited' || !link.invitation_secret_hash || !secretMatches(data.secret, link.invitation_secret_hash)) {
          throw new PeerRequestError(404, 'invitation-not-found', 'No open invitation with this id and secret');
        }
        if (Date.parse(iso(link.invitation_expires_at)!) < Date.now()) throw new PeerRequestError(410, 'invitation-expired', 'This invitation has expired; ask for a new one');
        if (data.role !== link.peer_role) throw new PeerRequestError(422, 'role-mismatch', `This invitation is for the ${link.peer_role}`);
        const refused = this.peerUrlProblem(data.baseUrl);
        if (refused) throw new PeerRequestError(422, 'peer-address-refused', `baseUrl: ${refused}; this system links to public addresses only`);
        await this.verify(request, 'POST', data.keys);
        const documentTypes = link.document_types.filter((t) => data.documentTypes.includes(t));
        const [updated] = await sql(uow)(LINKS)
          .where({ tenant_id: link.tenant_id, id: linkId })
          .update({
            state: 'active',
            invitation_secret_hash: null,
            peer_base_url: data.baseUrl.replace(/\/+$/, ''),
            peer_name: data.name,
            peer_keys: JSON.stringify(data.keys),
            document_types: JSON.stringify(documentTypes),
            updated_at: new Date(),
            version: sql(uow).raw('version + 1'),
          })
          .returning('*');
        uow.emit('federation.link.accepted' as never, { link: linkResource(updated) } as never, { type: 'federation.link', id: linkId });
        return { link: linkId, keys: this.publicKeys(updated), documentTypes };
      },
      { tenantId: (await linkById(this.host.knex, linkId))?.tenant_id ?? this.host.defaultTenant.id },
    );
  }

  private async verify(request: { url: string; headers: Record<string, string | string[] | undefined>; rawBody?: string }, method: string, keys: PeerKey[] | Array<{ kid: string; jwk: PublicJwk }>) {
    try {
      return await verifySigned({ method, url: request.url, headers: request.headers, body: request.rawBody }, keys);
    } catch (error) {
      if (error instanceof SignatureError) throw new PeerRequestError(401, `signature-${error.reason}`, error.message);
      throw error;
    }
  }

  /** A peer's link, active, with the request verified against its keys. */
  private async verifiedLink(
    linkId: string,
    method: string,
    request: { url: string; headers: Record<string, string | string[] | undefined>; rawBody?: string },
    options: { allowInactive?: boolean } = {},
  ) {
    const link = await linkById(this.host.knex, linkId);
    if (!link || link.state === 'invited') throw new PeerRequestError(404, 'link-not-found', `No link ${linkId} here`);
    const verified = await this.verify(request, method, livePeerKeys(link));
    if (!options.allowInactive) assertActive(link);
    return { link, signature: verified.signature };
  }

  /** A batch pushed by the peer: applied in order, each message in its own transaction. */
  async peerInbox(linkId: string, request: { url: string; headers: Record<string, string | string[] | undefined>; rawBody: string }) {
    const { link, signature } = await this.verifiedLink(linkId, 'POST', request);
    const batch = inboxBatchSchema.safeParse(safeJson(request.rawBody));
    if (!batch.success) throw new PeerRequestError(400, 'batch-malformed', `The batch is not valid: ${batch.error.issues[0]?.path.join('.')}: ${batch.error.issues[0]?.message}`);
    if (batch.data.link !== linkId) throw new PeerRequestError(400, 'batch-malformed', 'The batch names another link');
    return this.applyBatch(link, batch.data.messages, signature);
  }

  /**
   * Applies messages in sequence order. An already-answered seq (or message id) gets its
   * stored answer; a gap stops the batch: 409 with the expected seq when nothing applied,
   * else what was applied (the sender goes on from `appliedThrough + 1`).
   */
  async applyBatch(link: LinkRow, messages: WireMessage[], signature: string | null): Promise<{ appliedThrough: number; results: MessageResult[]; expected?: number }> {
    const sorted = [...messages].sort((a, b) => a.seq - b.seq);
    const results: MessageResult[] = [];
    let appliedThrough = num(link.in_applied_seq);
    for (const message of sorted) {
      const outcome = await this.applyOne(link.tenant_id, link.id, message, signature);
      if ('gap' in outcome) {
        if (results.length === 0) throw new PeerRequestError(409, 'sequence-gap', `Expected sequence ${outcome.gap}, got ${message.seq}: send from ${outcome.gap}`, { expected: outcome.gap });
        return { appliedThrough, results, expected: outcome.gap };
      }
      results.push(outcome);
      appliedThrough = Math.max(appliedThrough, outcome.repeated ? appliedThrough : outcome.seq);
    }
    const fresh = await linkById(this.host.knex, link.id);
    return { appliedThrough: fresh ? num(fresh.in_applied_seq) : appliedThrough, results };
  }

  private async applyOne(tenantId: string, linkId: string, message: WireMessage, signature: string | null): Promise<MessageResult | { gap: number }> {
    return this.host.transaction(
      async (uow) => {
        const db = sql(uow);
        const link = (await linkById(db, linkId, { lock: true, tenantId }))!;
        assertActive(link);
        const applied = num(link.in_applied_seq);
        const byId = await db(INBOX).where({ tenant_id: tenantId, link_id: linkId, message_id: message.id }).first();
        if (byId) return storedResult(byId);
        if (message.seq <= applied) {
          const bySeq = await db(INBOX).where({ tenant_id: tenantId, link_id: linkId, seq: message.seq }).first();
          if (bySeq) return storedResult(bySeq);
        }
        if (message.seq !== applied + 1) return { gap: applied + 1 };
        const { status, problem, outcome } = await this.applyDocument(uow, link, message);
        await db(INBOX).insert({
          tenant_id: tenantId,
          link_id: linkId,
          seq: message.seq,
          message_id: message.id,
          type: message.type,
          doc_id: message.docId,
          doc_version: message.docVersion,
          message: JSON.stringify(message),
          signature,
          status,
          problem: problem ? JSON.stringify(problem) : null,
          outcome: outcome ? JSON.stringify(outcome) : null,
          received_at: new Date(),
        });
        await db(LINKS).where({ tenant_id: tenantId, id: linkId }).update({ in_applied_seq: message.seq });
        const event = status === 'rejected' ? 'federation.document.rejected' : 'federation.document.received';
        uow.emit(event as never, { linkId, seq: message.seq, type: message.type, docId: message.docId, docVersion: message.docVersion, status, problem: problem ?? null } as never, {
          type: 'federation.link',
          id: linkId,
        });
        return { seq: message.seq, id: message.id, status, problem: problem ?? null, outcome: outcome ?? null };
      },
      { tenantId },
    );
  }

  /** Checks a message against the link and its declaration, then runs `applyLocally` (in a savepoint, so a refusal keeps nothing). */
  private async applyDocument(uow: UnitOfWork, link: LinkRow, message: WireMessage): Promise<{ status: MessageStatus; problem?: Record<string, unknown>; outcome?: Record<string, unknown> }> {
    const reject = (code: string, detail: string) => ({ status: 'rejected' as const, problem: { type: `https://rapport.dev/problems/${code}`, title: 'Rejected', status: 422, detail } });
    const def = this.types.get(message.type);
    if (!def || !link.document_types.includes(message.type)) return reject('document-type-not-accepted', `This link does not carry ${message.type}`);
    if (message.typeVersion > def.version) return reject('document-version-unknown', `${message.type} version ${message.typeVersion} is newer than version ${def.version} known here`);
    if (message.author !== link.peer_role || !authoredBy(def, link.peer_role))
      return reject('not-the-author', `${message.type} is authored by the ${String(def.author)}; the sender is the ${link.peer_role}`);
    const parsed = def.schema.safeParse(message.body);
    if (!parsed.success)
      return reject('document-invalid', `${def.owner}: ${message.type} does not match its wire schema: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
    const db = sql(uow);
    const mirror = await db(MIRRORS).where({ tenant_id: link.tenant_id, link_id: link.id, type: message.type, doc_id: message.docId }).first('latest_version', 'local_record_id', 'direction');
    if (mirror && mirror.direction !== 'received') return reject('not-the-author', `Document ${message.docId} was authored here`);
    if (mirror && message.docVersion <= mirror.latest_version)
      return { status: 'duplicate', outcome: { reason: `version ${message.docVersion} is not newer than version ${mirror.latest_version} already applied` } };
    const selfPartyId = await this.selfPartyOf(uow);
    const mark = uow.events.length;
    await db.raw('savepoint rapport_fed_apply');
    try {
      const received = {
        type: message.type,
        docId: message.docId,
        docVersion: message.docVersion,
        messageId: message.id,
        sentAt: message.sentAt,
        body: parsed.data,
        inResponseTo: message.inResponseTo,
        localRecordId: mirror?.local_record_id ?? null,
      };
      const applyContext = { uow, link: linkView(link, selfPartyId), mirrorOf: (type: string, docId: string) => this.mirrorOf(uow, link.id, type, docId) };
      const result = (await def.applyLocally(received, applyContext)) ?? {};
      // Other plugins' effects of the same document (CRM's won deal for a PO that PRM declares).
      for (const receiver of this.types.receiversOf(message.type)) {
        const more = (await receiver({ ...received, localRecordId: result.localRecordId ?? received.localRecordId }, applyContext)) ?? {};
        result.outcome = { ...result.outcome, ...more.outcome };
      }
      await db.raw('release savepoint rapport_fed_apply');
      await upsertMirror(uow, link.id, message.type, message.docId, 'received', result.localRecordId ?? mirror?.local_record_id ?? null, message.docVersion);
      return { status: 'applied', outcome: { ...(result.localRecordId ? { localRecordId: result.localRecordId } : {}), ...result.outcome } };
    } catch (error) {
      if (error instanceof RapportError && error.status >= 400 && error.status < 500) {
        await db.raw('rollback to savepoint rapport_fed_apply');
        uow.events.length = mark;
        return { status: 'rejected', problem: error.toProblem() as unknown as Record<string, unknown> };
      }
      throw error;
    }
  }

  /** A signed pull of this side's outbox after a sequence, the response signed too. */
  async peerOutbox(linkId: string, request: { url: string; headers: Record<string, string | string[] | undefined> }, after: number, limit: number) {
    const { link } = await this.verifiedLink(linkId, 'GET', request);
    const rows = await this.host.knex(OUTBOX).where({ tenant_id: link.tenant_id, link_id: linkId }).andWhere('seq', '>', after).orderBy('seq').limit(Math.min(limit, 500)).select('message');
    const body = JSON.stringify({ link: linkId, messages: rows.map((r: any) => (typeof r.message === 'string' ? JSON.parse(r.message) : r.message)), lastSeq: num(link.out_seq) });
    return { body, headers: await signResponse(this.signingKey(link), 200, body) };
  }

  /** The peer suspended, resumed or revoked the link on its side. */
  async peerState(linkId: string, request: { url: string; headers: Record<string, string | string[] | undefined>; rawBody: string }) {
    const { link } = await this.verifiedLink(linkId, 'POST', request, { allowInactive: true });
    const parsed = z.strictObject({ state: z.enum(['active', 'suspended', 'revoked']) }).safeParse(safeJson(request.rawBody));
    if (!parsed.success) throw new PeerRequestError(400, 'state-malformed', 'state must be active, suspended or revoked');
    const wanted = parsed.data.state;
    if (link.state === 'revoked') throw new PeerRequestError(410, 'link-revoked', `Link ${linkId} is revoked`);
    // A suspension made here is lifted here only.
    if (wanted === 'active' && link.state === 'suspended' && link.state_by === 'local') return { state: link.state };
    return this.host.transaction(
      async (uow) => {
        const [updated] = await sql(uow)(LINKS)
          .where({ tenant_id: link.tenant_id, id: linkId })
          .update({ state: wanted, state_by: wanted === 'active' ? null : 'peer', updated_at: new Date(), version: sql(uow).raw('version + 1') })
          .returning('*');
        uow.emit(`federation.link.${wanted === 'active' ? 'resumed' : wanted}` as never, { link: linkResource(updated), by: 'peer' } as never, { type: 'federation.link', id: linkId });
        return { state: updated.state };
      },
      { tenantId: link.tenant_id },
    );
  }

  /** The peer's new key, announced with a request signed by its current key. */
  async peerKeys(linkId: string, request: { url: string; headers: Record<string, string | string[] | undefined>; rawBody: string }) {
    const { link, signature } = await this.verifiedLink(linkId, 'POST', request);
    void signature;
    const parsed = keysAnnouncementSchema.safeParse(safeJson(request.rawBody));
    if (!parsed.success) throw new PeerRequestError(400, 'keys-malformed', 'The key announcement is not valid');
    const keys: PeerKey[] = [
      ...parsed.data.keys,
      ...livePeerKeys(link)
        .filter((k) => !parsed.data.keys.some((n) => n.kid === k.kid))
        .map((k) => (k.kid === parsed.data.previous.kid ? { ...k, notAfter: parsed.data.previous.notAfter } : k)),
    ];
    await this.host.transaction(
      async (uow) => {
        await sql(uow)(LINKS)
          .where({ tenant_id: link.tenant_id, id: linkId })
          .update({ peer_keys: JSON.stringify(keys), updated_at: new Date(), version: sql(uow).raw('version + 1') });
        uow.emit('federation.link.peer-key-rotated' as never, { linkId, thumbprints: keys.map((k) => k.kid) } as never, { type: 'federation.link', id: linkId });
      },
      { tenantId: link.tenant_id },
    );
    return { keys: keys.map((k) => ({ kid: k.kid, notAfter: k.notAfter ?? null })) };
  }

  // ---------------------------------------------------------------- requests to a peer

  /** A signed request to the peer of a link. */
  async signedPeerRequest(link: LinkRow, method: 'GET' | 'POST', path: string, payload?: unknown) {
    const url = `${link.peer_base_url}${PEER_PATH}${path}`;
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const headers = await signRequest(this.signingKey(link), { method, url, body });
    return this.peerFetch(url, { method, body, headers });
  }

  async peerFetch(url: string, init: { method: string; body?: string; headers: Record<string, string> }) {
    const refused = this.peerUrlProblem(url);
    if (refused) throw new RapportError(502, 'peer-address-refused', `Not sent to ${new URL(url).origin}: ${refused} (dispatcher.allowPrivateNetworks)`);
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await undici().fetch(url, {
        method: init.method,
        body: init.body,
        headers: init.headers,
        signal: AbortSignal.timeout(this.settings.requestTimeoutMs),
        redirect: 'error',
        // The address DNS answers is checked as the connection is made (rebinding).
        dispatcher: this.publicOnly ? (this.agent ??= publicOnlyAgent()) : undefined,
      });
    } catch (error) {
      throw new RapportError(
        502,
        'peer-unreachable',
        `The other system did not answer at ${new URL(url).origin}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`,
      );
    }
    const text = await response.text();
    const json = safeJson(text);
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    const detail = (json as { detail?: string } | undefined)?.detail ?? text.slice(0, 200);
    return { status: response.status, json, text, headers, detail };
  }
}

/** What a plugin gets as `coreServices.federation`: sending and the mirror map, never the links' keys. */
export interface FederationService {
  /** Queues a version of a document in the caller's transaction (see `Federation.send`). */
  send: Federation['send'];
  mirrorOf(ctx: QueryContext, linkId: string, type: string, docId: string): Promise<string | null>;
  documentsOf: Federation['documentsOf'];
  /** Active links to a party (carrying `type` when given). */
  linksTo(ctx: QueryContext, peerPartyId: string, type?: string): Promise<Array<ReturnType<typeof linkResource>>>;
}

export function federationService(federation: Federation): FederationService {
  return {
    send: (uow, input) => federation.send(uow, input),
    mirrorOf: (ctx, linkId, type, docId) => federation.mirrorOf(ctx, linkId, type, docId),
    documentsOf: (ctx, type, id) => federation.documentsOf(ctx, type, id),
    linksTo: async (ctx, peerPartyId, type) => (await federation.linksTo(ctx, peerPartyId, type)).map(linkResource),
  };
}

function assertActive(link: LinkRow): void {
  if (link.state === 'revoked') throw new PeerRequestError(410, 'link-revoked', `Link ${link.id} is revoked`);
  if (link.state !== 'active')
    throw new PeerRequestError(403, 'link-suspended', `Link ${link.id} is ${link.state}${link.state_by ? ` (by ${link.state_by === 'local' ? 'the receiving' : 'the sending'} system)` : ''}`);
}

async function upsertMirror(uow: UnitOfWork, linkId: string, type: string, docId: string, direction: 'sent' | 'received', localRecordId: string | null, version: number): Promise<void> {
  await sql(uow)(MIRRORS)
    .insert({ tenant_id: uow.tenantId, link_id: linkId, type, doc_id: docId, direction, local_record_id: localRecordId, latest_version: version, updated_at: new Date() })
    .onConflict(['tenant_id', 'link_id', 'type', 'doc_id'])
    .merge({ latest_version: version, updated_at: new Date(), ...(localRecordId ? { local_record_id: localRecordId } : {}) });
}

function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const jwkSchema = z.strictObject({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().regex(/^[A-Za-z0-9_-]{43}$/) });
const keySchema = z.strictObject({ kid: z.string().min(20).max(100), jwk: jwkSchema, notAfter: z.string().optional() });
const invitationSchema = z.object({
  link: z.uuid(),
  role: z.enum(LINK_ROLES),
  baseUrl: z.string(),
  name: z.string().nullable(),
  documentTypes: z.array(z.string()),
  keys: z.array(keySchema).min(1),
  expiresAt: z.string(),
});
const acceptanceSchema = z.strictObject({
  link: z.uuid(),
  secret: z.string().min(1).max(200),
  role: z.enum(LINK_ROLES),
  baseUrl: z.url(),
  name: z.string().max(300).nullable(),
  keys: z.array(keySchema).min(1).max(2),
  documentTypes: z.array(z.string()),
});
const acceptedSchema = z.object({ link: z.uuid(), keys: z.array(keySchema).min(1), documentTypes: z.array(z.string()) });
const keysAnnouncementSchema = z.strictObject({ keys: z.array(keySchema).min(1).max(2), previous: z.strictObject({ kid: z.string(), notAfter: z.string() }) });
