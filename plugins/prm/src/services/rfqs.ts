import type { Knex } from 'knex';
import { ConflictError, ValidationError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { prm, type Quote, type Rfq, type RfqStatus } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import { quoteRecord, rfqRecord } from '../records.js';
import { notFound } from './errors.js';
import { newestFirst } from './pages.js';
import type { PortalParties } from './portal.js';
import type { SupplyChain } from './supply.js';

export interface RfqInput {
  title: string;
  description?: string;
  quantity: number;
  unit: string;
  respondBy: string;
  supplierIds: string[];
}

export interface QuoteInput {
  supplierId: string;
  unitPrice: number;
  currency: string;
  leadTimeDays: number;
  notes?: string;
}

const RFQS = 'prm_rfqs';
const INVITATIONS = 'prm_rfq_invitations';
const QUOTES = 'prm_quotes';

/** RFQ → quotes → award. Suppliers answer through their own portal scope. */
export class RfqService {
  constructor(
    private readonly deps: PrmDeps,
    private readonly portal: PortalParties,
    private readonly supply: SupplyChain,
  ) {}

  async create(uow: UnitOfWork, input: RfqInput): Promise<Rfq> {
    const tables = this.deps.db.in(uow);
    const now = new Date();
    const id = newId();
    await tables(RFQS).insert({
      id,
      title: input.title,
      description: input.description ?? null,
      quantity: input.quantity,
      unit: input.unit,
      respond_by: new Date(input.respondBy),
      status: 'open',
      version: 1,
      created_at: now,
      updated_at: now,
    });
    for (const supplierId of new Set(input.supplierIds)) {
      const rel = await this.supply.requireOrderable(uow, supplierId, 'RFQs');
      await tables(INVITATIONS).insert({ rfq_id: id, supplier_id: supplierId, relationship_id: rel.id, invited_at: now });
      await this.supply.recordStep(uow, { type: 'prm.rfq', supplierId, relationshipId: rel.id, direction: 'outbound', subject: `RFQ: ${input.title}`, attributes: { rfqId: id } });
    }
    const rfq = await this.get(uow, id);
    uow.emit(prm.events.rfqCreated, { rfq }, { type: 'prm.rfq', id });
    return rfq;
  }

  async get(ctx: QueryContext, id: string): Promise<Rfq> {
    const row = await this.visible(ctx).where('id', id).first(rfqRecord.columns());
    if (!row) throw notFound('RFQ', id);
    return (await this.withDetails(ctx, [row]))[0];
  }

  list(ctx: QueryContext, query: { status?: RfqStatus; limit: number; cursor?: string }): Promise<Page<Rfq>> {
    const q = this.visible(ctx).select(rfqRecord.columns());
    if (query.status) q.where('status', query.status);
    return keysetPage(q, query, newestFirst(), (rows: object[]) => this.withDetails(ctx, rows));
  }

  async quote(uow: UnitOfWork, rfqId: string, input: QuoteInput): Promise<Quote> {
    await this.portal.requireActsFor(uow, input.supplierId);
    const tables = this.deps.db.in(uow);
    const rfq = await this.visible(uow).where('id', rfqId).forUpdate().first('title', 'status', 'respond_by');
    if (!rfq) throw notFound('RFQ', rfqId);
    const invitation = await tables(INVITATIONS).where({ rfq_id: rfqId, supplier_id: input.supplierId }).first('relationship_id');
    if (!invitation) throw notFound('RFQ', rfqId);
    if (rfq.status !== 'open') throw new ConflictError(`prm: RFQ ${rfqId} is ${rfq.status}; it takes no more quotes`);
    const existing = await tables(QUOTES).where({ rfq_id: rfqId, supplier_id: input.supplierId }).first('id');
    if (existing) throw new ConflictError(`prm: supplier ${input.supplierId} already quoted on RFQ ${rfqId}`, { quoteId: existing.id });
    const [row] = await tables(QUOTES)
      .insert({
        id: newId(),
        rfq_id: rfqId,
        supplier_id: input.supplierId,
        unit_price: input.unitPrice,
        currency: input.currency,
        lead_time_days: input.leadTimeDays,
        notes: input.notes ?? null,
        status: 'submitted',
        submitted_at: new Date(),
      })
      .returning(quoteRecord.columns());
    const quote = toQuote(row, rfq.respond_by);
    await this.supply.recordStep(uow, {
      type: 'prm.quote',
      supplierId: input.supplierId,
      relationshipId: invitation.relationship_id,
      direction: 'inbound',
      subject: `Quote on RFQ: ${rfq.title}`,
      attributes: { rfqId, quoteId: quote.id, unitPrice: input.unitPrice, currency: input.currency },
    });
    uow.emit(prm.events.quoteSubmitted, { quote }, { type: 'prm.quote', id: quote.id });
    return quote;
  }

  async award(uow: UnitOfWork, rfqId: string, quoteId: string): Promise<Rfq> {
    const tables = this.deps.db.in(uow);
    const rfq = await this.visible(uow).where('id', rfqId).forUpdate().first('status', 'version');
    if (!rfq) throw notFound('RFQ', rfqId);
    if (rfq.status !== 'open') throw new ConflictError(`prm: RFQ ${rfqId} is ${rfq.status}`);
    const quote = await tables(QUOTES).where({ rfq_id: rfqId, id: quoteId }).first('supplier_id');
    if (!quote) throw new ValidationError(`prm: quote ${quoteId} is not a quote on RFQ ${rfqId}`, [{ path: 'quoteId', message: 'unknown quote' }]);
    // Awarding a now-blocked supplier would be a new order in all but name.
    await this.supply.requireOrderable(uow, quote.supplier_id, 'RFQs');
    await tables(RFQS)
      .where('id', rfqId)
      .update({ status: 'awarded', awarded_quote_id: quoteId, version: rfq.version + 1, updated_at: new Date() });
    await tables(QUOTES)
      .where('rfq_id', rfqId)
      .update({ status: tables.raw('case when id = ? then ? else ? end', [quoteId, 'awarded', 'lost']) });
    const awarded = await this.get(uow, rfqId);
    uow.emit(prm.events.rfqAwarded, { rfq: awarded }, { type: 'prm.rfq', id: rfqId });
    return awarded;
  }

  private visible(ctx: QueryContext): Knex.QueryBuilder {
    return this.deps.scopes.apply(this.deps.db.in(ctx)(RFQS), ctx, 'prm.rfqs', 'id');
  }

  /** Invitations and quotes for a page of RFQs in two queries; a supplier sees only its own. */
  private async withDetails(ctx: QueryContext, rows: object[]): Promise<Rfq[]> {
    if (rows.length === 0) return [];
    const tables = this.deps.db.in(ctx);
    const rfqs = rows as Array<{ id: string; respond_by: Date; awarded_quote_id: string | null }>;
    const ids = rfqs.map((r) => r.id);
    const own = this.portal.ofCaller(ctx);
    const invitations = tables(INVITATIONS).whereIn('rfq_id', ids).orderBy('supplier_id').select('rfq_id', 'supplier_id');
    const quotes = tables(QUOTES)
      .whereIn('rfq_id', ids)
      .orderBy([{ column: 'submitted_at' }, { column: 'id' }])
      .select(quoteRecord.columns());
    if (own) {
      invitations.whereIn('supplier_id', own);
      quotes.whereIn('supplier_id', own);
    }
    const invited: Array<{ rfq_id: string; supplier_id: string }> = await invitations;
    const quoted: Array<{ id: string; rfq_id: string }> = await quotes;
    return rfqs.map((r) => {
      const its = quoted.filter((q) => q.rfq_id === r.id).map((q) => toQuote(q, r.respond_by));
      const rfq = rfqRecord.fromRow(r, { supplierIds: invited.filter((i) => i.rfq_id === r.id).map((i) => i.supplier_id), quotes: its });
      // A supplier learns that the RFQ was awarded, and to whom only when it won.
      return own && !its.some((q) => q.id === r.awarded_quote_id) ? { ...rfq, awardedQuoteId: null } : rfq;
    });
  }
}

/** `onTime`: the quote came in by the RFQ's deadline. */
function toQuote(row: object, respondBy: Date | string): Quote {
  const submittedAt = (row as { submitted_at: Date | string }).submitted_at;
  return quoteRecord.fromRow(row, { onTime: new Date(submittedAt) <= new Date(respondBy) });
}
