import type { Knex } from 'knex';
import { ValidationError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { prm, type Delivery, type PurchaseOrder } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import { deliveryRecord, purchaseOrderRecord } from '../records.js';
import { notFound } from './errors.js';
import { newestFirst } from './pages.js';
import type { SupplyChain } from './supply.js';

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

const ORDERS = 'prm_purchase_orders';
const DELIVERIES = 'prm_deliveries';

/** Purchase orders and deliveries at summary level, each also an interaction on both timelines. */
export class OrderService {
  constructor(
    private readonly deps: PrmDeps,
    private readonly supply: SupplyChain,
  ) {}

  async create(uow: UnitOfWork, input: PurchaseOrderInput): Promise<PurchaseOrder> {
    const tables = this.deps.db.in(uow);
    const rel = await this.supply.requireOrderable(uow, input.supplierId, 'purchase orders');
    let rfqId = input.rfqId ?? null;
    if (input.quoteId) {
      const quote = await tables('prm_quotes').where({ id: input.quoteId, supplier_id: input.supplierId }).first('rfq_id');
      if (!quote || (input.rfqId && quote.rfq_id !== input.rfqId)) {
        throw new ValidationError(`prm: quote ${input.quoteId} is not this supplier's quote`, [{ path: 'quoteId', message: 'unknown quote' }]);
      }
      rfqId = quote.rfq_id;
    } else if (input.rfqId) {
      const invited = await tables('prm_rfq_invitations').where({ rfq_id: input.rfqId, supplier_id: input.supplierId }).first('rfq_id');
      if (!invited) throw new ValidationError(`prm: RFQ ${input.rfqId} was not sent to supplier ${input.supplierId}`, [{ path: 'rfqId', message: 'unknown RFQ' }]);
    }
    const orderedAt = input.orderedAt ? new Date(input.orderedAt) : new Date();
    const promisedAt = new Date(input.promisedAt);
    if (promisedAt < orderedAt) throw new ValidationError('prm: promisedAt is before orderedAt', [{ path: 'promisedAt', message: 'before orderedAt' }]);
    const id = newId();
    const interactionId = await this.supply.recordStep(uow, {
      type: 'prm.purchase-order',
      supplierId: input.supplierId,
      relationshipId: rel.id,
      direction: 'outbound',
      occurredAt: orderedAt,
      subject: `Purchase order ${input.reference}`,
      attributes: { purchaseOrderId: id, quantity: input.quantity, unitPrice: input.unitPrice, currency: input.currency, promisedAt: promisedAt.toISOString() },
    });
    const [row] = await tables(ORDERS)
      .insert({
        id,
        supplier_id: input.supplierId,
        relationship_id: rel.id,
        rfq_id: rfqId,
        quote_id: input.quoteId ?? null,
        reference: input.reference,
        quantity: input.quantity,
        unit_price: input.unitPrice,
        currency: input.currency,
        ordered_at: orderedAt,
        promised_at: promisedAt,
        interaction_id: interactionId,
        created_at: new Date(),
      })
      .returning(purchaseOrderRecord.columns());
    const order = purchaseOrderRecord.fromRow(row, { deliveries: [] });
    uow.emit(prm.events.purchaseOrderCreated, { purchaseOrder: order }, { type: 'prm.purchase-order', id });
    return order;
  }

  async deliver(uow: UnitOfWork, orderId: string, input: DeliveryInput): Promise<Delivery> {
    const order = await this.visible(uow).where('id', orderId).forUpdate().first('supplier_id', 'relationship_id', 'reference', 'unit_price');
    if (!order) throw notFound('purchase order', orderId);
    const receivedAt = new Date(input.receivedAt);
    const unitPrice = input.unitPrice ?? Number(order.unit_price);
    const id = newId();
    const interactionId = await this.supply.recordStep(uow, {
      type: 'prm.delivery',
      supplierId: order.supplier_id,
      relationshipId: order.relationship_id,
      direction: 'inbound',
      occurredAt: receivedAt,
      subject: `Delivery on ${order.reference}`,
      attributes: { purchaseOrderId: orderId, deliveryId: id, quantityAccepted: input.quantityAccepted, quantityRejected: input.quantityRejected, unitPrice },
    });
    const [row] = await this.deps.db
      .in(uow)(DELIVERIES)
      .insert({
        id,
        purchase_order_id: orderId,
        supplier_id: order.supplier_id,
        received_at: receivedAt,
        quantity_accepted: input.quantityAccepted,
        quantity_rejected: input.quantityRejected,
        unit_price: unitPrice,
        interaction_id: interactionId,
        created_at: new Date(),
      })
      .returning(deliveryRecord.columns());
    const delivery = deliveryRecord.fromRow(row);
    uow.emit(prm.events.deliveryRecorded, { delivery }, { type: 'prm.delivery', id });
    return delivery;
  }

  async get(ctx: QueryContext, id: string): Promise<PurchaseOrder> {
    const row = await this.visible(ctx).where('id', id).first(purchaseOrderRecord.columns());
    if (!row) throw notFound('purchase order', id);
    return (await this.withDeliveries(ctx, [row]))[0];
  }

  list(ctx: QueryContext, query: { supplierId?: string; limit: number; cursor?: string }): Promise<Page<PurchaseOrder>> {
    const q = this.visible(ctx).select(purchaseOrderRecord.columns());
    if (query.supplierId) q.where('supplier_id', query.supplierId);
    return keysetPage(q, query, newestFirst(), (rows: object[]) => this.withDeliveries(ctx, rows));
  }

  private visible(ctx: QueryContext): Knex.QueryBuilder {
    return this.deps.scopes.apply(this.deps.db.in(ctx)(ORDERS), ctx, 'prm.purchase-orders', 'id');
  }

  /** The deliveries of a page of orders, in one query. */
  private async withDeliveries(ctx: QueryContext, rows: object[]): Promise<PurchaseOrder[]> {
    if (rows.length === 0) return [];
    const orders = rows as Array<{ id: string }>;
    const deliveries: Array<{ purchase_order_id: string }> = await this.deps.db
      .in(ctx)(DELIVERIES)
      .whereIn(
        'purchase_order_id',
        orders.map((r) => r.id),
      )
      .orderBy([{ column: 'received_at' }, { column: 'id' }])
      .select(deliveryRecord.columns());
    return orders.map((r) => purchaseOrderRecord.fromRow(r, { deliveries: deliveries.filter((d) => d.purchase_order_id === r.id).map((d) => deliveryRecord.fromRow(d)) }));
  }
}
