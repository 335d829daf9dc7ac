import type { PluginApi, ReceivedDocument } from '@rapport/core';
import type { DealService } from '../services/deals.js';
import type { PipelineService } from '../services/pipelines.js';

/** The deal source of an order received on a link: the link's document, not a local record. */
export const LINKED_ORDER_SOURCE = 'link:prm.purchase-order:';

interface PurchaseOrderWire {
  reference: string;
  quantity: number;
  unitPrice: number;
  currency: string;
  promisedAt: string;
}

/**
 * CRM's side of Rapport Link (docs/federation.md): at a supplier, a purchase order received
 * from a customer's own system (the `prm.purchase-order` document PRM declares) lands on the
 * crm.customer relationship as a won deal in the oldest pipeline, in the same inbox
 * transaction. Without a pipeline with a won stage the order is still on the customer's
 * timeline (PRM records it) and the outcome says why no deal was opened.
 */
export function declareFederation(api: PluginApi, services: { deals: DealService; pipelines: PipelineService }): void {
  api.federation.onReceive('prm.purchase-order', async (doc: ReceivedDocument<PurchaseOrderWire>, ctx) => {
    // Only where this firm is the supplier, and the other firm is a party of its own.
    if (ctx.link.localRole !== 'supplier' || !ctx.link.peerPartyId) return;
    const work = ctx.uow.unscoped();
    const pipelineId = await services.pipelines.oldestId(work);
    const pipeline = pipelineId ? await services.pipelines.get(work, pipelineId) : undefined;
    const won = pipeline?.stages.find((s) => s.outcome === 'won');
    if (!pipeline || !won) return { outcome: { deal: 'none: create a pipeline with a won stage to track received orders as deals' } };
    const deal = await services.deals.create(
      work,
      {
        title: `Order ${doc.body.reference}`,
        pipelineId: pipeline.id,
        stageId: won.id,
        amount: Math.round(doc.body.quantity * doc.body.unitPrice * 100) / 100,
        currency: doc.body.currency,
        expectedClose: doc.body.promisedAt.slice(0, 10),
        ownerPartyId: null,
        accountId: ctx.link.peerPartyId,
        source: `${LINKED_ORDER_SOURCE}${doc.docId}`,
      },
      { workflowStep: true },
    );
    return { outcome: { dealId: deal.id } };
  });
}
