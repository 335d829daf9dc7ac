import { iso } from '../util/time.js';
import type { Knex } from 'knex';
import type { LinkRole, LinkView } from './documents.js';
import type { PublicJwk } from './signing.js';

export const LINK_STATES = ['invited', 'active', 'suspended', 'revoked'] as const;
export type LinkState = (typeof LINK_STATES)[number];

export interface LocalKey {
  kid: string;
  publicJwk: PublicJwk;
  /** PKCS#8, sealed under the server's secret key. */
  privateKey: string;
  createdAt: string;
  /** After a rotation: the old key signs nothing new and the peer drops it at this time. */
  retiresAt?: string;
}

export interface PeerKey {
  kid: string;
  jwk: PublicJwk;
  /** A rotated-out key is accepted until then. */
  notAfter?: string;
}

export interface LinkRow {
  tenant_id: string;
  id: string;
  state: LinkState;
  state_by: 'local' | 'peer' | null;
  local_role: LinkRole;
  peer_role: LinkRole;
  relationship_id: string | null;
  relationship_type: string | null;
  peer_party_id: string | null;
  peer_name: string | null;
  peer_base_url: string | null;
  document_types: string[];
  local_keys: LocalKey[];
  peer_keys: PeerKey[];
  invitation_secret_hash: string | null;
  invitation_expires_at: Date | string | null;
  out_seq: string | number;
  out_acked_seq: string | number;
  in_applied_seq: string | number;
  push_attempts: number;
  next_push_at: Date | string | null;
  last_error: string | null;
  last_error_at: Date | string | null;
  last_pushed_at: Date | string | null;
  behind_since: Date | string | null;
  behind_reported_at: Date | string | null;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

export const LINKS = 'rapport_fed_links';
export const OUTBOX = 'rapport_fed_outbox';
export const INBOX = 'rapport_fed_inbox';
export const MIRRORS = 'rapport_fed_mirrors';

export function num(value: string | number): number {
  return typeof value === 'number' ? value : Number(value);
}

/** The peer keys still accepted now. */
export function livePeerKeys(link: LinkRow, now = Date.now()): PeerKey[] {
  return link.peer_keys.filter((k) => !k.notAfter || Date.parse(k.notAfter) > now);
}

export function linkView(link: LinkRow, selfPartyId: string): LinkView {
  return {
    id: link.id,
    localRole: link.local_role,
    peerRole: link.peer_role,
    relationshipId: link.relationship_id,
    relationshipType: link.relationship_type,
    peerPartyId: link.peer_party_id,
    selfPartyId,
    peerName: link.peer_name,
  };
}

/** A link row by its id alone (a peer's request names no tenant), locked for the rest of the transaction when asked. */
export async function linkById(knex: Knex, id: string, options: { lock?: boolean; tenantId?: string } = {}): Promise<LinkRow | undefined> {
  const query = knex(LINKS).where({ id });
  if (options.tenantId) query.andWhere({ tenant_id: options.tenantId });
  if (options.lock) query.forUpdate();
  const rows: LinkRow[] = await query.limit(2);
  // Two tenants of one database holding the same link id would make a peer's request ambiguous.
  if (rows.length > 1) throw new Error(`federation link ${id} exists in two tenants of this database; a link joins two systems`);
  return rows[0];
}

/** The link as the API shows it: keys by thumbprint (never a private key), health figures. */
export function linkResource(link: LinkRow) {
  const outSeq = num(link.out_seq);
  const acked = num(link.out_acked_seq);
  return {
    id: link.id,
    state: link.state,
    stateBy: link.state_by,
    localRole: link.local_role,
    peerRole: link.peer_role,
    relationshipId: link.relationship_id,
    relationshipType: link.relationship_type,
    peerPartyId: link.peer_party_id,
    peerName: link.peer_name,
    peerBaseUrl: link.peer_base_url,
    documentTypes: link.document_types,
    localKeys: link.local_keys.map((k) => ({ thumbprint: k.kid, createdAt: k.createdAt, retiresAt: k.retiresAt ?? null })),
    peerKeys: link.peer_keys.map((k) => ({ thumbprint: k.kid, notAfter: k.notAfter ?? null })),
    invitationExpiresAt: link.state === 'invited' ? iso(link.invitation_expires_at) : null,
    health: {
      lastSequenceSent: outSeq,
      lastSequenceAcknowledged: acked,
      lastSequenceApplied: num(link.in_applied_seq),
      behind: outSeq - acked,
      behindSince: iso(link.behind_since),
      lastError: link.last_error,
      lastErrorAt: iso(link.last_error_at),
      lastPushedAt: iso(link.last_pushed_at),
      nextPushAt: outSeq > acked ? iso(link.next_push_at) : null,
    },
    version: link.version,
    createdAt: iso(link.created_at)!,
    updatedAt: iso(link.updated_at)!,
  };
}

export type LinkResource = ReturnType<typeof linkResource>;
