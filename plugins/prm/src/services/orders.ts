import { decodeCursor, newId, toPage, ValidationError, type Page, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';
import type { Knex } from 'knex';
import { notFound, recordSupplyStep, requireBuyer, requireOrderableSupplier } from './supply.js';

export interface Delivery {
  id: string;
  purchaseOrderId: string;
  receivedAt: string;
  quantityAccepted: number;
  quantityRejected: number;
  unitPrice: number;
  interactionId: string;
}

export interface PurchaseOrder {
  id: string;
  supplierId: string;
  relationshipId: string;
  rfqId: string | null;
  quoteId: string | null;
  reference: string;
  quantity: number;
  unitPrice: number;
  currency: string;
  orderedAt: string;
  promisedAt: string;
  interactionId: string;
  deliveries: Delivery[];
  createdAt: string;
}

export interface PurchaseOrderInput {
  supplierId: string;
  reference: string;
  quantity: number;
  unitPrice: number;
  currency: string;
  orderedAt?: string;
  promisedAt: string;
  rfqId?: string;
  quoteId?: string;
}

export interface DeliveryInput {
  receivedAt: string;
  quantityAccepted: number;
  quantityRejected: number;
  /** Price actually invoiced per unit; the order's price when absent. */
  unitPrice?: number;
}

/** Purchase orders and deliveries at summary level, each also an interaction on both timelines. */
export class OrderService {
  constructor(private readonly app: Rapport) {}

  visible(ctx: QueryContext): Knex.QueryBuilder {
    return this.app.scopes.apply(ctx.db('prm_purchase_orders').where('tenant_id', ctx.tenantId), ctx, 'prm.purchase-orders', 'id');
  }

  async create(uow: UnitOfWork, input: PurchaseOrderInput): Promise<PurchaseOrder> {
    requireBuyer(uow, 'place purchase orders');
    const rel = await requireOrderableSupplier(uow, input.supplierId, 'purchase orders');
    if (input.quoteId) {
      const quote = await uow.trx('prm_quotes').where({ tenant_id: uow.tenantId, id: input.quoteId, supplier_id: input.supplierId }).first('rfq_id');
      if (!quote || (input.rfqId && quote.rfq_id !== input.rfqId)) {
        throw new ValidationError(`prm: quote ${input.quoteId} is not this supplier's quote`, [{ path: 'quoteId', message: 'unknown quote' }]);
      }
      input = { ...input, rfqId: quote.rfq_id };
    } else if (input.rfqId) {
      const invited = await uow.trx('prm_rfq_invitations').where({ tenant_id: uow.tenantId, rfq_id: input.rfqId, supplier_id: input.supplierId }).first('rfq_id');
      if (!invited) throw new ValidationError(`prm: RFQ ${input.rfqId} was not sent to supplier ${input.supplierId}`, [{ path: 'rfqId', message: 'unknown RFQ' }]);
    }
    const orderedAt = input.orderedAt ? new Date(input.orderedAt) : new Date();
    const promisedAt = new Date(input.promisedAt);
    if (promisedAt < orderedAt) throw new ValidationError('prm: promisedAt is before orderedAt', [{ path: 'promisedAt', message: 'before orderedAt' }]);
    const id = newId();
    const interactionId = await recordSupplyStep(this.app, uow, {
      type: 'prm.purchase-order',
      supplierId: input.supplierId,
      relationshipId: rel.id,
      direction: 'outbound',
      occurredAt: orderedAt,
      subject: `Purchase order ${input.reference}`,
      attributes: { purchaseOrderId: id, quantity: input.quantity, unitPrice: input.unitPrice, currency: input.currency, promisedAt: promisedAt.toISOString() },
    });
    await uow.trx('prm_purchase_orders').insert({
      tenant_id: uow.tenantId,
      id,
      supplier_id: input.supplierId,
      relationship_id: rel.id,
      rfq_id: input.rfqId ?? null,
      quote_id: input.quoteId ?? null,
      reference: input.reference,
      quantity: input.quantity,
      unit_price: input.unitPrice,
      currency: input.currency,
      ordered_at: orderedAt,
      promised_at: promisedAt,
      interaction_id: interactionId,
      created_at: new Date(),
    });
    const order = await this.get(uow, id);
    uow.emit('prm.purchase-order.created', { purchaseOrder: order }, { type: 'prm.purchase-order', id });
    return order;
  }

  async deliver(uow: UnitOfWork, orderId: string, input: DeliveryInput): Promise<Delivery> {
    requireBuyer(uow, 'record deliveries');
    const order = await this.visible(uow).where('id', orderId).forUpdate().first();
    if (!order) throw notFound('purchase order', orderId);
    const receivedAt = new Date(input.receivedAt);
    const unitPrice = input.unitPrice ?? Number(order.unit_price);
    const id = newId();
    const interactionId = await recordSupplyStep(this.app, uow, {
      type: 'prm.delivery',
      supplierId: order.supplier_id,
      relationshipId: order.relationship_id,
      direction: 'inbound',
      occurredAt: receivedAt,
      subject: `Delivery on ${order.reference}`,
      attributes: { purchaseOrderId: orderId, deliveryId: id, quantityAccepted: input.quantityAccepted, quantityRejected: input.quantityRejected, unitPrice },
    });
    const row = {
      tenant_id: uow.tenantId,
      id,
      purchase_order_id: orderId,
      supplier_id: order.supplier_id,
      received_at: receivedAt,
      quantity_accepted: input.quantityAccepted,
      quantity_rejected: input.quantityRejected,
      unit_price: unitPrice,
      interaction_id: interactionId,
      created_at: new Date(),
    };
    await uow.trx('prm_deliveries').insert(row);
    const delivery = toDelivery(row);
    uow.emit('prm.delivery.recorded', { delivery }, { type: 'prm.delivery', id });
    return delivery;
  }

  async get(ctx: QueryContext, id: string): Promise<PurchaseOrder> {
    const row = await this.visible(ctx).where('id', id).first();
    if (!row) throw notFound('purchase order', id);
    return (await this.withDeliveries(ctx, [row]))[0];
  }

  async list(ctx: QueryContext, query: { supplierId?: string; limit: number; cursor?: string }): Promise<Page<PurchaseOrder>> {
    const q = this.visible(ctx).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(query.limit + 1);
    if (query.supplierId) q.where('supplier_id', query.supplierId);
    const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
    if (after) q.whereRaw('(created_at, id) < (?, ?)', after);
    const page = toPage(await q, query.limit, (r: any) => r, (r: any) => [new Date(r.created_at).toISOString(), r.id]);
    return { data: await this.withDeliveries(ctx, page.data), nextCursor: page.nextCursor };
  }

  private async withDeliveries(ctx: QueryContext, rows: any[]): Promise<PurchaseOrder[]> {
    if (rows.length === 0) return [];
    const deliveries: any[] = await ctx.db('prm_deliveries').where('tenant_id', ctx.tenantId).whereIn('purchase_order_id', rows.map((r) => r.id)).orderBy([{ column: 'received_at' }, { column: 'id' }]);
    return rows.map((r) => ({
      id: r.id,
      supplierId: r.supplier_id,
      relationshipId: r.relationship_id,
      rfqId: r.rfq_id,
      quoteId: r.quote_id,
      reference: r.reference,
      quantity: Number(r.quantity),
      unitPrice: Number(r.unit_price),
      currency: r.currency,
      orderedAt: new Date(r.ordered_at).toISOString(),
      promisedAt: new Date(r.promised_at).toISOString(),
      interactionId: r.interaction_id,
      deliveries: deliveries.filter((d) => d.purchase_order_id === r.id).map(toDelivery),
      createdAt: new Date(r.created_at).toISOString(),
    }));
  }
}

function toDelivery(row: any): Delivery {
  return {
    id: row.id,
    purchaseOrderId: row.purchase_order_id,
    receivedAt: new Date(row.received_at).toISOString(),
    quantityAccepted: Number(row.quantity_accepted),
    quantityRejected: Number(row.quantity_rejected),
    unitPrice: Number(row.unit_price),
    interactionId: row.interaction_id,
  };
}
