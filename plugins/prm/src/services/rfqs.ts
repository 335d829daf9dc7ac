import { ConflictError, ValidationError, decodeCursor, newId, toPage, type Page, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';
import type { Knex } from 'knex';
import { portalParties, requireActsFor } from './portal.js';
import { notFound, recordSupplyStep, requireBuyer, requireOrderableSupplier } from './supply.js';

export interface Quote {
  id: string;
  rfqId: string;
  supplierId: string;
  unitPrice: number;
  currency: string;
  leadTimeDays: number;
  notes: string | null;
  status: 'submitted' | 'awarded' | 'lost';
  submittedAt: string;
  onTime: boolean;
}

export interface Rfq {
  id: string;
  title: string;
  description: string | null;
  quantity: number;
  unit: string;
  respondBy: string;
  status: 'open' | 'awarded' | 'cancelled';
  awardedQuoteId: string | null;
  /** The firm sees every invited supplier and quote; a supplier only its own. */
  supplierIds: string[];
  quotes: Quote[];
  version: number;
  createdAt: string;
}

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

/** RFQ → quotes → award. Suppliers answer through their own portal scope. */
export class RfqService {
  constructor(private readonly app: Rapport) {}

  visible(ctx: QueryContext): Knex.QueryBuilder {
    return this.app.scopes.apply(ctx.db('prm_rfqs').where('tenant_id', ctx.tenantId), ctx, 'prm.rfqs', 'id');
  }

  async create(uow: UnitOfWork, input: RfqInput): Promise<Rfq> {
    requireBuyer(uow, 'send RFQs');
    const suppliers = [...new Set(input.supplierIds)];
    const now = new Date();
    const id = newId();
    await uow.trx('prm_rfqs').insert({
      tenant_id: uow.tenantId,
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
    for (const supplierId of suppliers) {
      const rel = await requireOrderableSupplier(uow, supplierId, 'RFQs');
      await uow.trx('prm_rfq_invitations').insert({ tenant_id: uow.tenantId, rfq_id: id, supplier_id: supplierId, relationship_id: rel.id, invited_at: now });
      await recordSupplyStep(this.app, uow, {
        type: 'prm.rfq',
        supplierId,
        relationshipId: rel.id,
        direction: 'outbound',
        subject: `RFQ: ${input.title}`,
        attributes: { rfqId: id },
      });
    }
    const rfq = await this.get(uow, id);
    uow.emit('prm.rfq.created', { rfq }, { type: 'prm.rfq', id });
    return rfq;
  }

  async get(ctx: QueryContext, id: string): Promise<Rfq> {
    const row = await this.visible(ctx).where('id', id).first();
    if (!row) throw notFound('RFQ', id);
    return (await this.withDetails(ctx, [row]))[0];
  }

  async list(ctx: QueryContext, query: { status?: string; limit: number; cursor?: string }): Promise<Page<Rfq>> {
    const q = this.visible(ctx).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(query.limit + 1);
    if (query.status) q.where('status', query.status);
    const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
    if (after) q.whereRaw('(created_at, id) < (?, ?)', after);
    const rows = await q;
    const page = toPage(rows, query.limit, (r: any) => r, (r: any) => [new Date(r.created_at).toISOString(), r.id]);
    return { data: await this.withDetails(ctx, page.data), nextCursor: page.nextCursor };
  }

  async quote(uow: UnitOfWork, rfqId: string, input: QuoteInput): Promise<Quote> {
    await requireActsFor(uow, input.supplierId);
    const rfq = await this.visible(uow).where('id', rfqId).forUpdate().first();
    if (!rfq) throw notFound('RFQ', rfqId);
    const invitation = await uow.trx('prm_rfq_invitations').where({ tenant_id: uow.tenantId, rfq_id: rfqId, supplier_id: input.supplierId }).first();
    if (!invitation) throw notFound('RFQ', rfqId);
    if (rfq.status !== 'open') throw new ConflictError(`prm: RFQ ${rfqId} is ${rfq.status}; it takes no more quotes`);
    const existing = await uow.trx('prm_quotes').where({ tenant_id: uow.tenantId, rfq_id: rfqId, supplier_id: input.supplierId }).first('id');
    if (existing) throw new ConflictError(`prm: supplier ${input.supplierId} already quoted on RFQ ${rfqId}`, { quoteId: existing.id });
    const now = new Date();
    const row = {
      tenant_id: uow.tenantId,
      id: newId(),
      rfq_id: rfqId,
      supplier_id: input.supplierId,
      unit_price: input.unitPrice,
      currency: input.currency,
      lead_time_days: input.leadTimeDays,
      notes: input.notes ?? null,
      status: 'submitted',
      submitted_at: now,
    };
    await uow.trx('prm_quotes').insert(row);
    await recordSupplyStep(this.app, uow, {
      type: 'prm.quote',
      supplierId: input.supplierId,
      relationshipId: invitation.relationship_id,
      direction: 'inbound',
      subject: `Quote on RFQ: ${rfq.title}`,
      attributes: { rfqId, quoteId: row.id, unitPrice: input.unitPrice, currency: input.currency },
    });
    const quote = toQuote(row, new Date(rfq.respond_by));
    uow.emit('prm.quote.submitted', { quote }, { type: 'prm.quote', id: quote.id });
    return quote;
  }

  async award(uow: UnitOfWork, rfqId: string, quoteId: string): Promise<Rfq> {
    requireBuyer(uow, 'award RFQs');
    const rfq = await this.visible(uow).where('id', rfqId).forUpdate().first();
    if (!rfq) throw notFound('RFQ', rfqId);
    if (rfq.status !== 'open') throw new ConflictError(`prm: RFQ ${rfqId} is ${rfq.status}`);
    const quote = await uow.trx('prm_quotes').where({ tenant_id: uow.tenantId, rfq_id: rfqId, id: quoteId }).first();
    if (!quote) throw new ValidationError(`prm: quote ${quoteId} is not a quote on RFQ ${rfqId}`, [{ path: 'quoteId', message: 'unknown quote' }]);
    // Awarding a now-blocked supplier would be a new order in all but name.
    await requireOrderableSupplier(uow, quote.supplier_id, 'RFQs');
    const now = new Date();
    await uow.trx('prm_rfqs').where({ tenant_id: uow.tenantId, id: rfqId }).update({ status: 'awarded', awarded_quote_id: quoteId, version: rfq.version + 1, updated_at: now });
    await uow.trx('prm_quotes').where({ tenant_id: uow.tenantId, rfq_id: rfqId }).update({ status: uow.trx.raw('case when id = ? then ? else ? end', [quoteId, 'awarded', 'lost']) });
    const awarded = await this.get(uow, rfqId);
    uow.emit('prm.rfq.awarded', { rfq: awarded }, { type: 'prm.rfq', id: rfqId });
    return awarded;
  }

  /** Invitations and quotes for a page of RFQs in two queries; a supplier sees only its own. */
  private async withDetails(ctx: QueryContext, rows: any[]): Promise<Rfq[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const scope = ctx.principal.scopePartyId;
    const own = (q: Knex.QueryBuilder, column: string) => (scope ? q.whereIn(column, portalParties(ctx.db, ctx.tenantId, scope)) : q);
    const invitations: Array<{ rfq_id: string; supplier_id: string }> = await own(ctx.db('prm_rfq_invitations').where('tenant_id', ctx.tenantId).whereIn('rfq_id', ids), 'supplier_id').orderBy('supplier_id');
    const quotes: any[] = await own(ctx.db('prm_quotes').where('tenant_id', ctx.tenantId).whereIn('rfq_id', ids), 'supplier_id').orderBy([{ column: 'submitted_at' }, { column: 'id' }]);
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      description: r.description,
      quantity: Number(r.quantity),
      unit: r.unit,
      respondBy: new Date(r.respond_by).toISOString(),
      status: r.status,
      awardedQuoteId: scope && !quotes.some((q) => q.id === r.awarded_quote_id) ? null : r.awarded_quote_id,
      supplierIds: invitations.filter((i) => i.rfq_id === r.id).map((i) => i.supplier_id),
      quotes: quotes.filter((q) => q.rfq_id === r.id).map((q) => toQuote(q, new Date(r.respond_by))),
      version: r.version,
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }
}

function toQuote(row: any, respondBy: Date): Quote {
  const submittedAt = new Date(row.submitted_at);
  return {
    id: row.id,
    rfqId: row.rfq_id,
    supplierId: row.supplier_id,
    unitPrice: Number(row.unit_price),
    currency: row.currency,
    leadTimeDays: row.lead_time_days,
    notes: row.notes,
    status: row.status,
    submittedAt: submittedAt.toISOString(),
    onTime: submittedAt <= respondBy,
  };
}
