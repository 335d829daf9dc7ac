import type { Knex } from 'knex';
import { ConflictError, ValidationError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { prm, type SharedDocument } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import { documentRecord } from '../records.js';
import { notFound } from './errors.js';
import { newestFirst } from './pages.js';
import type { Partnerships } from './partnerships.js';
import type { PortalParties } from './portal.js';

export interface DocumentInput {
  title: string;
  description?: string;
  url?: string;
  content?: string;
  program?: string;
  tiers?: string[];
  /** A partner contributing sets its own organization here. */
  contributorId?: string;
  sharedWithPartners?: boolean;
}

const DOCUMENTS = 'prm_documents';

/** The shared information base: the firm's documents by program and tier, and partners' contributions. */
export class DocumentService {
  constructor(
    private readonly deps: PrmDeps,
    private readonly portal: PortalParties,
    private readonly partnerships: Partnerships,
  ) {}

  async create(uow: UnitOfWork, input: DocumentInput): Promise<SharedDocument> {
    if (!input.url && !input.content) throw new ValidationError('prm: a document needs a url or content', [{ path: 'url', message: 'url or content required' }]);
    if (uow.principal.scopePartyId) {
      // From the portal it is always the partner's own contribution; the firm decides audiences by tier.
      if (!input.contributorId) throw new ValidationError('prm: a partner contributes as its organization: set contributorId', [{ path: 'contributorId', message: 'required from the portal' }]);
      if (input.program !== undefined || input.tiers !== undefined)
        throw new ValidationError('prm: program and tiers are set by the firm', [{ path: 'tiers', message: 'not allowed from the portal' }]);
    }
    if (input.contributorId) {
      await this.portal.requireActsFor(uow, input.contributorId);
      if (!(await this.partnerships.active(uow, input.contributorId))) {
        throw new ValidationError(`prm: party ${input.contributorId} is not an active partner`, [{ path: 'contributorId', message: 'not an active partner' }]);
      }
    } else if (input.sharedWithPartners !== undefined) {
      throw new ValidationError('prm: sharedWithPartners is for contributions; the firm shares by program and tier', [{ path: 'sharedWithPartners', message: 'only with contributorId' }]);
    }
    const [row] = await this.deps.db
      .in(uow)(DOCUMENTS)
      .insert({
        id: newId(),
        title: input.title,
        description: input.description ?? null,
        url: input.url ?? null,
        content: input.content ?? null,
        program: input.program ?? null,
        tiers: input.tiers ? JSON.stringify(input.tiers) : null,
        contributor_id: input.contributorId ?? null,
        shared_with_partners: input.contributorId ? (input.sharedWithPartners ?? false) : false,
        archived_at: null,
        created_at: new Date(),
      })
      .returning(documentRecord.columns());
    const document = documentRecord.fromRow(row);
    uow.emit(prm.events.documentCreated, { document }, { type: 'prm.document', id: document.id });
    return document;
  }

  async get(ctx: QueryContext, id: string): Promise<SharedDocument> {
    const row = await this.visible(ctx).where('id', id).first(documentRecord.columns());
    if (!row) throw notFound('document', id);
    return documentRecord.fromRow(row);
  }

  list(ctx: QueryContext, query: { contributorId?: string; includeArchived?: boolean; limit: number; cursor?: string }): Promise<Page<SharedDocument>> {
    const q = this.visible(ctx).select(documentRecord.columns());
    if (!query.includeArchived) q.whereNull('archived_at');
    if (query.contributorId) q.where('contributor_id', query.contributorId);
    return keysetPage(q, query, newestFirst(), (rows: object[]) => rows.map((r) => documentRecord.fromRow(r)));
  }

  /** Withdraws a document: the firm any, a partner only its own contribution (404 otherwise). */
  async archive(uow: UnitOfWork, id: string): Promise<SharedDocument> {
    const row = await this.visible(uow).where('id', id).forUpdate().first('contributor_id', 'archived_at');
    if (!row) throw notFound('document', id);
    if (uow.principal.scopePartyId && !(row.contributor_id && (await this.portal.actsFor(uow, row.contributor_id)))) throw notFound('document', id);
    if (row.archived_at) throw new ConflictError(`prm document ${id} is already archived`);
    const [archived] = await this.deps.db.in(uow)(DOCUMENTS).where('id', id).update({ archived_at: new Date() }).returning(documentRecord.columns());
    return documentRecord.fromRow(archived);
  }

  private visible(ctx: QueryContext): Knex.QueryBuilder {
    return this.deps.scopes.apply(this.deps.db.in(ctx)(DOCUMENTS), ctx, 'prm.documents', 'id');
  }
}
