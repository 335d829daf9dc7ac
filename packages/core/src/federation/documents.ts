import { z } from 'zod';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import { keyName, type EventKey } from '../hooks/types.js';

/** The roles a link's two ends play on the wire (UBL's BuyerCustomerParty / SellerSupplierParty, and the channel's two). */
export const LINK_ROLES = ['buyer', 'supplier', 'vendor', 'partner'] as const;
export type LinkRole = (typeof LINK_ROLES)[number];

/** The other end of a role: who a buyer's link talks to, and so on. */
export const COUNTERPART: Record<LinkRole, LinkRole> = { buyer: 'supplier', supplier: 'buyer', vendor: 'partner', partner: 'vendor' };

/** What the receiving side knows when a document arrives (or the sending side when it leaves). */
export interface LinkView {
  readonly id: string;
  readonly localRole: LinkRole;
  readonly peerRole: LinkRole;
  /** The local relationship the link stands for (`prm.supplier` at a buyer, `crm.customer` at its supplier). */
  readonly relationshipId: string | null;
  readonly relationshipType: string | null;
  /** The local party that stands for the other firm. */
  readonly peerPartyId: string | null;
  /** This system's own party (the tenant's self party). */
  readonly selfPartyId: string;
  readonly peerName: string | null;
}

export interface ReceivedDocument<B> {
  readonly type: string;
  readonly docId: string;
  readonly docVersion: number;
  readonly messageId: string;
  readonly sentAt: string;
  readonly body: B;
  /** The response this document answers, when it is one (`{ type: 'prm.quote', docId }`). */
  readonly inResponseTo?: { type: string; docId: string } | undefined;
  /** The local record a previous version (or the document answered) became, from the mirror map. */
  readonly localRecordId: string | null;
}

export interface ApplyContext {
  readonly uow: UnitOfWork;
  readonly link: LinkView;
  /** The local record id the mirror map holds for another document of this link (`{ type, docId }`). */
  mirrorOf(type: string, docId: string): Promise<string | null>;
}

/** What `applyLocally` returns: the local record the document became (kept in the mirror map) and an outcome the sender sees. */
export interface ApplyResult {
  localRecordId?: string;
  outcome?: Record<string, unknown>;
}

/**
 * One federated document type, declared by the plugin that owns it (`api.federation.documentType`).
 * Only the author role sends versions of it; the other side answers with `responses`.
 */
export interface DocumentTypeDefinition<S extends z.ZodType = z.ZodType, R = unknown> {
  /** Namespaced like every registration: `prm.purchase-order`. */
  key: string;
  /** Wire-schema version: a receiver refuses a version newer than it knows (a final rejection). */
  version: number;
  /** The role that authors (and alone sends versions of) this document; a list for a document either side writes (a message). */
  author: LinkRole | LinkRole[];
  /** Relationship types the document travels on, either side's view (`['prm.supplier', 'crm.customer']`). */
  relationshipTypes: string[];
  /** The allowlist: only these fields leave. A zod object; exported as JSON Schema. */
  schema: S;
  /** Types the other side may answer with. */
  responses?: string[];
  /** A UBL 2.x document name (`Order`), for a later gateway. */
  ubl?: string;
  description?: string;
  /**
   * Sends the document when the owning plugin's event is emitted, in the same transaction:
   * `select` picks the record and the link out of the payload (or null: nothing to send).
   */
  emitOn?: {
    event: EventKey | string;
    select(payload: any, ctx: EmitContext): Promise<EmitSelection<R> | EmitSelection<R>[] | null> | EmitSelection<R> | EmitSelection<R>[] | null;
  };
  /** A local record as the wire body; what it returns beyond the schema is dropped. */
  toWire(record: R): unknown;
  /** Applies a received version locally, in the inbox transaction. A VetoError (or any 4xx) is a final, recorded rejection. */
  applyLocally(document: ReceivedDocument<z.output<S>>, ctx: ApplyContext): Promise<ApplyResult | void> | ApplyResult | void;
  /** After a version leaves (same transaction): record it on the sender's own timeline. */
  recordSent?(document: ReceivedDocument<z.output<S>>, ctx: ApplyContext): Promise<ApplyResult | void> | ApplyResult | void;
}

/** What `emitOn.select` picks: the peer party whose links carry the document, the document and its record. */
export interface EmitSelection<R> {
  peerPartyId: string;
  docId: string;
  version?: number;
  record: R;
  inResponseTo?: { type: string; docId: string };
}

export interface EmitContext {
  readonly uow: UnitOfWork;
  /** The link document a local record was sent as or received from (`{ linkId, docId }`), from the mirror map. */
  documentOf(type: string, localRecordId: string): Promise<{ linkId: string; docId: string } | null>;
}

/** A plugin's own effect of a document type declared elsewhere (CRM landing a received PO as a won deal). */
export type ReceiveHandler = (document: ReceivedDocument<any>, ctx: ApplyContext) => Promise<ApplyResult | void> | ApplyResult | void;

/** Whether a role may author a type. */
export function authoredBy(definition: { author: LinkRole | LinkRole[] }, role: LinkRole): boolean {
  return Array.isArray(definition.author) ? definition.author.includes(role) : definition.author === role;
}

/** A typed document-type declaration (the plugin contract's way to say what it federates). */
export function defineDocumentType<S extends z.ZodType, R = unknown>(definition: DocumentTypeDefinition<S, R>): DocumentTypeDefinition<S, R> {
  return definition;
}

export interface RegisteredDocumentType extends DocumentTypeDefinition {
  owner: string;
}

/** Every declared document type, by key; the federation module reads it. */
export class DocumentTypeRegistry {
  private readonly types = new Map<string, RegisteredDocumentType>();

  constructor(private readonly isActive: (owner: string) => boolean = () => true) {}

  define(owner: string, definition: DocumentTypeDefinition<any, any>): void {
    if (!definition.key.startsWith(`${owner}.`)) throw new Error(`document type "${definition.key}" must be namespaced "${owner}.…"`);
    if (this.types.has(definition.key)) throw new Error(`document type "${definition.key}" is declared twice (by ${this.types.get(definition.key)!.owner} and ${owner})`);
    const authors = Array.isArray(definition.author) ? definition.author : [definition.author];
    if (authors.length === 0 || authors.some((a) => !LINK_ROLES.includes(a))) throw new Error(`document type "${definition.key}": author must be one of ${LINK_ROLES.join(', ')}`);
    if (!Number.isInteger(definition.version) || definition.version < 1) throw new Error(`document type "${definition.key}": version must be a positive integer`);
    this.types.set(definition.key, { ...definition, owner });
  }

  private readonly receivers = new Map<string, Array<{ owner: string; handler: ReceiveHandler }>>();

  /** Adds `owner`'s effect to received documents of `key` (declared by any plugin), run after its own `applyLocally`. */
  onReceive(owner: string, key: string, handler: ReceiveHandler): void {
    const list = this.receivers.get(key) ?? [];
    list.push({ owner, handler });
    this.receivers.set(key, list);
  }

  receiversOf(key: string): ReceiveHandler[] {
    return (this.receivers.get(key) ?? []).filter((r) => this.isActive(r.owner)).map((r) => r.handler);
  }

  get(key: string): RegisteredDocumentType | undefined {
    const type = this.types.get(key);
    return type && this.isActive(type.owner) ? type : undefined;
  }

  all(): RegisteredDocumentType[] {
    return [...this.types.values()].filter((t) => this.isActive(t.owner));
  }

  /** Whether any declaration sends on an event (else writes skip the look). */
  hasEmitters(): boolean {
    for (const type of this.types.values()) if (type.emitOn) return true;
    return false;
  }

  /** Declarations that send on `event`. */
  emittedOn(event: string): RegisteredDocumentType[] {
    return this.all().filter((t) => t.emitOn && keyName(t.emitOn.event) === event);
  }

  /** The declared wire schemas as JSON Schema, by key (`GET /federation/schemas`). */
  jsonSchemas(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const type of this.all()) out[type.key] = z.toJSONSchema(type.schema, { io: 'input', unrepresentable: 'any' });
    return out;
  }
}
