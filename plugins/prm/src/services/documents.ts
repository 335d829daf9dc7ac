import { ConflictError, NotFoundError, ValidationError, decodeCursor, newId, toPage, type Page, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';
import type { Knex } from 'knex';
import { PARTNER_TYPE, portalParties, requireActsFor } from './portal.js';

/**
 * A document or link of the shared information base. The firm's are shared by program and
 * tier; a partner's own contributions are seen by the firm and, if it chose so, by the
 * other partners: the base is meant to be as useful to partners as to the firm.
 */
export interface SharedDocument {
  id: string;
  title: string;
  description: string | null;
  url: string | null;
  content: string | null;
  program: string | null;
  tiers: string[] | null;
  /** null: the firm's; else the partner organization that contributed it. */
  contributorId: string | null;
  sharedWithPartners: boolean;
  archivedAt: string | null;
  createdAt: string;
}

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

export class DocumentService {
  constructor(private readonly app: Rapport) {}

  visible(ctx: QueryContext): Knex.QueryBuilder {
    return this.app.scopes.apply(ctx.db('prm_documents').where('tenant_id', ctx.tenantId), ctx, 'prm.documents', 'id');
  }

  async create(uow: UnitOfWork, input: DocumentInput): Promise<SharedDocument> {
    if (!input.url && !input.content) throw new ValidationError('prm: a document needs a url or content', [{ path: 'url', message: 'url or content required' }]);
    const scoped = Boolean(uow.principal.scopePartyId);
    if (scoped) {
      // From the portal it is always the partner's own contribution; the firm decides audiences by tier.
      if (!input.contributorId) throw new ValidationError('prm: a partner contributes as its organization: set contributorId', [{ path: 'contributorId', message: 'required from the portal' }]);
      if (input.program !== undefined || input.tiers !== undefined) throw new ValidationError('prm: program and tiers are set by the firm', [{ path: 'tiers', message: 'not allowed from the portal' }]);
    }
    if (input.contributorId) {
      await requireActsFor(uow, input.contributorId);
      const partner = await uow.trx('rapport_relationships').where({ tenant_id: uow.tenantId, type: PARTNER_TYPE, to_party_id: input.contributorId, status: 'active' }).first('id');
      if (!partner) throw new ValidationError(`prm: party ${input.contributorId} is not an active partner`, [{ path: 'contributorId', message: 'not an active partner' }]);
    } else if (input.sharedWithPartners !== undefined) {
      throw new ValidationError('prm: sharedWithPartners is for contributions; the firm shares by program and tier', [{ path: 'sharedWithPartners', message: 'only with contributorId' }]);
    }
    const row = {
      tenant_id: uow.tenantId,
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
    };
    await uow.trx('prm_documents').insert(row);
    const document = toDocument({ ...row, tiers: input.tiers ?? null });
    uow.emit('prm.document.created', { document }, { type: 'prm.document', id: document.id });
    return document;
  }

  async get(ctx: QueryContext, id: string): Promise<SharedDocument> {
    const row = await this.visible(ctx).where('id', id).first();
    if (!row) throw new NotFoundError('prm document', id);
    return toDocument(row);
  }

  async list(ctx: QueryContext, query: { contributorId?: string; includeArchived?: boolean; limit: number; cursor?: string }): Promise<Page<SharedDocument>> {
    const q = this.visible(ctx).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(query.limit + 1);
    if (!query.includeArchived) q.whereNull('archived_at');
    if (query.contributorId) q.where('contributor_id', query.contributorId);
    const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
    if (after) q.whereRaw('(created_at, id) < (?, ?)', after);
    return toPage(await q, query.limit, toDocument, (r: any) => [new Date(r.created_at).toISOString(), r.id]);
  }

  /** Withdraws a document: the firm any, a partner only its own contribution (others' answer 404 or 403). */
  async archive(uow: UnitOfWork, id: string): Promise<SharedDocument> {
    const row = await this.visible(uow).where('id', id).forUpdate().first();
    if (!row) throw new NotFoundError('prm document', id);
    const scope = uow.principal.scopePartyId;
    if (scope) {
      const own = row.contributor_id ? await uow.trx.select('id').from(portalParties(uow.trx, uow.tenantId, scope).as('p')).where('id', row.contributor_id).first() : undefined;
      if (!own) throw new NotFoundError('prm document', id);
    }
    if (row.archived_at) throw new ConflictError(`prm document ${id} is already archived`);
    const archivedAt = new Date();
    await uow.trx('prm_documents').where({ tenant_id: uow.tenantId, id }).update({ archived_at: archivedAt });
    return toDocument({ ...row, archived_at: archivedAt });
  }
}

/**
 * What a partner sees of the base: its own contributions, the firm's documents for its
 * program and tier (while its partnership is active), and other partners' contributions
 * they chose to share.
 */
export function documentScope(db: Knex, tenantId: string, partyId: string): Knex.QueryBuilder {
  const partnerships = () =>
    db('rapport_relationships as r')
      .select(db.raw('1'))
      .whereRaw("r.tenant_id = d.tenant_id and r.type = ? and r.status = 'active'", [PARTNER_TYPE])
      .whereIn('r.to_party_id', portalParties(db, tenantId, partyId));
  return db('prm_documents as d')
    .select('d.id')
    .where('d.tenant_id', tenantId)
    .where((w) =>
      w
        .whereIn('d.contributor_id', portalParties(db, tenantId, partyId))
        .orWhere((firm) =>
          firm.whereNull('d.contributor_id').whereExists(
            partnerships()
              .whereRaw("(d.program is null or d.program = r.attributes->>'program')")
              .whereRaw("(d.tiers is null or jsonb_exists(d.tiers, coalesce(r.attributes->>'tier', '')))"),
          ),
        )
        .orWhere((shared) => shared.whereNotNull('d.contributor_id').where('d.shared_with_partners', true).whereExists(partnerships())),
    );
}

function toDocument(row: any): SharedDocument {
  return {
    id: row.id,
    title: row.title,
    description: row.description ?? null,
    url: row.url ?? null,
    content: row.content ?? null,
    program: row.program ?? null,
    tiers: row.tiers ? (typeof row.tiers === 'string' ? JSON.parse(row.tiers) : row.tiers) : null,
    contributorId: row.contributor_id ?? null,
    sharedWithPartners: Boolean(row.shared_with_partners),
    archivedAt: row.archived_at ? new Date(row.archived_at).toISOString() : null,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
