import { z } from 'zod';
import { defineDocumentType, VetoError, type ApplyContext, type LinkView, type PluginApi, type ReceivedDocument, type UnitOfWork } from '@rapport/core';
import { prm, type Delivery, type LeadOffer, type PartnerScorecardSnapshot, type PurchaseOrder, type Registration, type Rfq, type TierEvaluation } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import { PARTNER_TYPE, SUPPLIER_TYPE } from '../services/portal.js';
import type { LeadService } from '../services/leads.js';
import type { OrderService } from '../services/orders.js';
import type { RegistrationService } from '../services/registrations.js';
import type { RfqService } from '../services/rfqs.js';

/*
 * What PRM exchanges with linked systems (docs/federation.md): the buyer ↔ supplier set
 * (RFQ → quote → purchase order → order response → despatch advice → receipt advice, free-text
 * messages, a rating each way) and the vendor ↔ partner set (deal registration and its
 * decision, lead offers and the partner's answer). Each wire schema is the allowlist: internal
 * notes, other suppliers' quotes, other partners and their registrations never leave.
 */

const SUPPLY = [SUPPLIER_TYPE, 'crm.customer'];
const CHANNEL = [PARTNER_TYPE, SUPPLIER_TYPE, 'crm.customer'];
const money = z.number().finite().nonnegative();
const currency = z.string().regex(/^[A-Z]{3}$/);
const timestamp = z.iso.datetime({ offset: true });

export const rfqWire = z.object({ title: z.string().max(300), description: z.string().max(5000).nullable(), quantity: z.number().positive(), unit: z.string().max(50), respondBy: timestamp });
export const quoteWire = z.object({ unitPrice: money, currency, leadTimeDays: z.number().int().min(0), validUntil: timestamp.optional(), notes: z.string().max(5000).optional() });
export const purchaseOrderWire = z.object({ reference: z.string().max(100), quantity: z.number().positive(), unitPrice: money, currency, orderedAt: timestamp, promisedAt: timestamp });
export const orderResponseWire = z.object({
  status: z.enum(['accepted', 'rejected', 'changed']),
  reason: z.string().max(2000).optional(),
  changes: z.object({ quantity: z.number().positive().optional(), unitPrice: money.optional(), promisedAt: timestamp.optional() }).optional(),
});
export const despatchAdviceWire = z.object({
  despatchedAt: timestamp,
  quantity: z.number().positive(),
  expectedAt: timestamp,
  carrier: z.string().max(200).optional(),
  trackingReference: z.string().max(200).optional(),
});
export const receiptAdviceWire = z.object({ receivedAt: timestamp, quantityAccepted: z.number().min(0), quantityRejected: z.number().min(0) });
export const messageWire = z.object({ subject: z.string().max(300).optional(), text: z.string().min(1).max(20000) });
export const ratingWire = z.object({ rating: z.enum(['excellent', 'good', 'fair', 'poor']), comment: z.string().max(5000).optional() });
export const dealRegistrationWire = z.object({
  customerName: z.string().min(1).max(300),
  customerDomain: z.string().max(300).optional(),
  value: money,
  currency,
  expectedCloseDate: z.iso.date(),
});
/** `conflict` says another registration or an existing customer stands in the way, never whose. */
export const registrationDecisionWire = z.object({ decision: z.enum(['approved', 'conflict', 'rejected', 'pending']), reason: z.string().max(2000).optional(), protectedUntil: timestamp.optional() });
export const leadOfferWire = z.object({
  customerName: z.string().max(300),
  territory: z.string().max(200).nullable(),
  value: z.number().nullable(),
  currency: z.string().nullable(),
  description: z.string().max(5000).nullable(),
  respondBy: timestamp,
});
const tierMetrics = z.object({ partnerSourcedRevenue: z.number(), approvedRegistrations: z.number(), registrationApprovalRate: z.number(), certifiedStaff: z.number() }).partial();
/** The partner's standing in the vendor's program: the figures both firms read, not the vendor's notes on the partnership. */
export const tierStandingWire = z.object({
  program: z.string().max(100),
  currentTier: z.string().max(100).nullable(),
  qualifiedTier: z.string().max(100).nullable(),
  nextTier: z.string().max(100).nullable(),
  metrics: tierMetrics,
  gap: tierMetrics,
  evaluatedAt: timestamp,
});
const figure = z.number().nullable();
/** The mutual-benefit scorecard: value in both directions over the period, the same figures the partner's portal shows. */
export const partnerScorecardWire = z.object({
  periodStart: timestamp,
  periodEnd: timestamp,
  partnerSourcedRevenue: z.number(),
  marginEarned: figure,
  rebatesEarned: figure,
  mdfUsed: z.number(),
  registrationApprovalRate: figure,
  meanDaysToDecision: figure,
  registrationsDecided: z.number().int(),
  leadAcceptanceRate: figure,
  leadsOffered: z.number().int(),
  leadsAccepted: z.number().int(),
});
export const leadAnswerWire = z.object({ decision: z.enum(['accepted', 'declined']), reason: z.string().max(2000).optional() });

export const LINKED_DOCUMENT_INTERACTION = 'prm.linked-document';

/** PRM's services a received document acts through. */
export interface FederationServices {
  rfqs: RfqService;
  orders: OrderService;
  registrations: RegistrationService;
  leads: LeadService;
}

export function declareFederation(api: PluginApi, deps: PrmDeps, services: FederationServices): void {
  api.interactionTypes.define({
    key: LINKED_DOCUMENT_INTERACTION,
    title: 'Document exchanged with a linked system',
    description: 'A document sent to or received from the other firm’s own system, with the role each firm played',
    participantRoles: ['buyer', 'supplier', 'vendor', 'partner'],
    attributes: z.strictObject({
      documentType: z.string(),
      docId: z.uuid(),
      docVersion: z.number().int(),
      linkId: z.uuid(),
      sent: z.boolean(),
      body: z.record(z.string(), z.unknown()),
    }),
  });

  /** The document on both firms' timelines here: this firm and the other, each with its link role. */
  const onTimeline = async (doc: ReceivedDocument<Record<string, unknown>>, ctx: ApplyContext, sent: boolean, subject: string) => {
    const { link } = ctx;
    const participants = [{ partyId: link.selfPartyId, role: link.localRole }];
    if (link.peerPartyId) participants.push({ partyId: link.peerPartyId, role: link.peerRole });
    const interaction = await deps.interactions.create(ctx.uow.unscoped(), {
      type: LINKED_DOCUMENT_INTERACTION,
      direction: sent ? 'outbound' : 'inbound',
      channel: 'link',
      subject,
      attributes: { documentType: doc.type, docId: doc.docId, docVersion: doc.docVersion, linkId: link.id, sent, body: doc.body },
      relationshipId: link.relationshipId,
      participants,
    });
    return interaction.id;
  };
  const title = (doc: ReceivedDocument<unknown>, name: string, link: LinkView, sent: boolean) =>
    `${name} ${sent ? 'sent to' : 'received from'} ${link.peerName ?? `the ${link.peerRole}`}${doc.docVersion > 1 ? ` (version ${doc.docVersion})` : ''}`;
  /** A document whose only local effect is its timeline entry, on both sides. */
  const timelineOnly = (name: string) => ({
    applyLocally: async (doc: ReceivedDocument<Record<string, unknown>>, ctx: ApplyContext) => ({ localRecordId: await onTimeline(doc, ctx, false, title(doc, name, ctx.link, false)) }),
    recordSent: async (doc: ReceivedDocument<Record<string, unknown>>, ctx: ApplyContext) => {
      await onTimeline(doc, ctx, true, title(doc, name, ctx.link, true));
    },
  });
  const sentOnTimeline = (name: string) => async (doc: ReceivedDocument<Record<string, unknown>>, ctx: ApplyContext) => {
    await onTimeline(doc, ctx, true, title(doc, name, ctx.link, true));
  };
  /** The local record a response answers, through the mirror map. */
  const answered = async (doc: ReceivedDocument<unknown>, ctx: ApplyContext, type: string): Promise<string> => {
    if (doc.inResponseTo?.type !== type) throw new VetoError(`prm: ${doc.type} must answer a ${type} (inResponseTo)`);
    const local = await ctx.mirrorOf(type, doc.inResponseTo.docId);
    if (!local) throw new VetoError(`prm: ${doc.type} answers ${type} ${doc.inResponseTo.docId}, which this system never sent`);
    return local;
  };

  // ── buyer ↔ supplier ──────────────────────────────────────────────────────

  api.federation.documentType(
    defineDocumentType({
      key: 'prm.rfq',
      version: 1,
      author: 'buyer',
      relationshipTypes: SUPPLY,
      schema: rfqWire,
      responses: ['prm.quote'],
      ubl: 'RequestForQuotation',
      description: 'A request for quotation; other invited suppliers and their quotes stay home.',
      emitOn: { event: prm.events.rfqCreated.name, select: ({ rfq }: { rfq: Rfq }) => rfq.supplierIds.map((supplierId) => ({ peerPartyId: supplierId, docId: rfq.id, record: rfq })) },
      toWire: (rfq: Rfq) => ({ title: rfq.title, description: rfq.description, quantity: rfq.quantity, unit: rfq.unit, respondBy: rfq.respondBy }),
      ...timelineOnly('Request for quotation'),
    }),
  );

  api.federation.documentType(
    defineDocumentType({
      key: 'prm.quote',
      version: 1,
      author: 'supplier',
      relationshipTypes: SUPPLY,
      schema: quoteWire,
      responses: ['prm.purchase-order'],
      ubl: 'Quotation',
      description: 'The supplier’s quote for an RFQ; at the buyer it is recorded on the RFQ as this supplier’s quote (its responsiveness counts).',
      toWire: (record) => record,
      applyLocally: async (doc, ctx) => {
        const rfqId = await answered(doc, ctx, 'prm.rfq');
        const quote = await services.rfqs.quote(ctx.uow.unscoped(), rfqId, {
          supplierId: ctx.link.peerPartyId!,
          unitPrice: doc.body.unitPrice,
          currency: doc.body.currency,
          leadTimeDays: doc.body.leadTimeDays,
          notes: doc.body.notes,
        });
        await onTimeline(doc, ctx, false, title(doc, 'Quote', ctx.link, false));
        return { localRecordId: quote.id, outcome: { onTime: quote.onTime } };
      },
      recordSent: sentOnTimeline('Quote'),
    }),
  );

  api.federation.documentType(
    defineDocumentType({
      key: 'prm.purchase-order',
      version: 1,
      author: 'buyer',
      relationshipTypes: SUPPLY,
      schema: purchaseOrderWire,
      responses: ['prm.order-response', 'prm.despatch-advice'],
      ubl: 'Order',
      description: 'A purchase order. At the supplier it lands on the customer’s timeline (and, with CRM, as a won deal on the crm.customer relationship).',
      emitOn: {
        event: prm.events.purchaseOrderCreated.name,
        select: async ({ purchaseOrder }: { purchaseOrder: PurchaseOrder }, ctx) => {
          const rfq = purchaseOrder.rfqId ? await ctx.documentOf('prm.rfq', purchaseOrder.rfqId) : null;
          return { peerPartyId: purchaseOrder.supplierId, docId: purchaseOrder.id, record: purchaseOrder, ...(rfq ? { inResponseTo: { type: 'prm.rfq', docId: rfq.docId } } : {}) };
        },
      },
      toWire: (po: PurchaseOrder) => ({ reference: po.reference, quantity: po.quantity, unitPrice: po.unitPrice, currency: po.currency, orderedAt: po.orderedAt, promisedAt: po.promisedAt }),
      ...timelineOnly('Purchase order'),
    }),
  );

  api.federation.documentType(
    defineDocumentType({
      key: 'prm.order-response',
      version: 1,
      author: 'supplier',
      relationshipTypes: SUPPLY,
      schema: orderResponseWire,
      ubl: 'OrderResponse',
      description: 'The supplier’s answer to a purchase order: accepted, rejected, or changed (quantity, price, promised date).',
      toWire: (record) => record,
      applyLocally: async (doc, ctx) => {
        await answered(doc, ctx, 'prm.purchase-order');
        return { localRecordId: await onTimeline(doc, ctx, false, `${title(doc, 'Order response', ctx.link, false)}: ${doc.body.status}`) };
      },
      recordSent: sentOnTimeline('Order response'),
    }),
  );

  api.federation.documentType(
    defineDocumentType({
      key: 'prm.despatch-advice',
      version: 1,
      author: 'supplier',
      relationshipTypes: SUPPLY,
      schema: despatchAdviceWire,
      responses: ['prm.receipt-advice'],
      ubl: 'DespatchAdvice',
      description: 'The supplier’s notice that goods left, with the expected arrival; at the buyer it is on the supplier’s timeline next to the order.',
      toWire: (record) => record,
      applyLocally: async (doc, ctx) => {
        await answered(doc, ctx, 'prm.purchase-order');
        return { localRecordId: await onTimeline(doc, ctx, false, title(doc, 'Despatch advice', ctx.link, false)) };
      },
      recordSent: sentOnTimeline('Despatch advice'),
    }),
  );

  api.federation.documentType(
    defineDocumentType({
      key: 'prm.receipt-advice',
      version: 1,
      author: 'buyer',
      relationshipTypes: SUPPLY,
      schema: receiptAdviceWire,
      ubl: 'ReceiptAdvice',
      description: 'What the buyer received of an order, accepted and rejected: sent when the buyer records the delivery (which moves its supplier scorecard).',
      emitOn: {
        event: prm.events.deliveryRecorded.name,
        select: async ({ delivery }: { delivery: Delivery }, ctx) => {
          const order = await services.orders.get(ctx.uow.unscoped(), delivery.purchaseOrderId);
          const po = await ctx.documentOf('prm.purchase-order', order.id);
          if (!po) return null;
          return { peerPartyId: order.supplierId, docId: delivery.id, record: delivery, inResponseTo: { type: 'prm.purchase-order', docId: po.docId } };
        },
      },
      toWire: (delivery: Delivery) => ({ receivedAt: delivery.receivedAt, quantityAccepted: delivery.quantityAccepted, quantityRejected: delivery.quantityRejected }),
      ...timelineOnly('Receipt advice'),
    }),
  );

  api.federation.documentType(
    defineDocumentType({
      key: 'prm.message',
      version: 1,
      author: ['buyer', 'supplier', 'vendor', 'partner'],
      relationshipTypes: [...new Set([...SUPPLY, ...CHANNEL])],
      schema: messageWire,
      description: 'A free-text message between the two firms, on both timelines.',
      toWire: (record) => record,
      ...timelineOnly('Message'),
    }),
  );

  api.federation.documentType(
    defineDocumentType({
      key: 'prm.rating',
      version: 1,
      author: ['buyer', 'supplier', 'vendor', 'partner'],
      relationshipTypes: [...new Set([...SUPPLY, ...CHANNEL])],
      schema: ratingWire,
      description: 'One firm’s rating of the other (the buyer’s of its supplier, the supplier’s of its customer). The author keeps its own ratings; the other side sees this one on its timeline.',
      toWire: (record) => record,
      ...timelineOnly('Rating'),
    }),
  );

  // ── vendor ↔ channel partner ─────────────────────────────────────────────

  api.federation.documentType(
    defineDocumentType({
      key: 'prm.deal-registration',
      version: 1,
      author: 'partner',
      relationshipTypes: CHANNEL,
      schema: dealRegistrationWire,
      responses: ['prm.registration-decision'],
      description: 'A partner registers a deal in the vendor’s system; the vendor’s PRM checks it for conflicts and decides.',
      toWire: (record) => record,
      applyLocally: async (doc, ctx) => {
        if (!ctx.link.peerPartyId) throw new VetoError('prm: this link has no partner party');
        const registration = await services.registrations.submit(ctx.uow.unscoped(), {
          partnerId: ctx.link.peerPartyId,
          customerName: doc.body.customerName,
          customerDomain: doc.body.customerDomain,
          value: doc.body.value,
          currency: doc.body.currency,
          expectedCloseDate: doc.body.expectedCloseDate,
        });
        await onTimeline(doc, ctx, false, title(doc, 'Deal registration', ctx.link, false));
        return { localRecordId: registration.id, outcome: { status: registration.status } };
      },
      recordSent: sentOnTimeline('Deal registration'),
    }),
  );

  const decisionOf = (registration: Registration) => ({
    decision:
      registration.status === 'approved'
        ? 'approved'
        : registration.status === 'rejected'
          ? registration.conflicts.some((c) => c.kind === 'registration' || c.kind === 'existing-customer')
            ? 'conflict'
            : 'rejected'
          : 'pending',
    ...(registration.decisionReason ? { reason: registration.decisionReason } : {}),
    ...(registration.protectedUntil ? { protectedUntil: registration.protectedUntil } : {}),
  });
  const decisionOn = (event: string) => ({
    event,
    select: async ({ registration }: { registration: Registration }, ctx: { documentOf(type: string, id: string): Promise<{ docId: string } | null> }) => {
      const filed = await ctx.documentOf('prm.deal-registration', registration.id);
      if (!filed) return null;
      return { peerPartyId: registration.partnerId, docId: registration.id, record: registration, inResponseTo: { type: 'prm.deal-registration', docId: filed.docId } };
    },
  });
  for (const [key, event] of [
    ['prm.registration-decision', prm.events.registrationApproved.name],
    ['prm.registration-rejection', prm.events.registrationRejected.name],
  ] as const) {
    api.federation.documentType(
      defineDocumentType({
        key,
        version: 1,
        author: 'vendor',
        relationshipTypes: CHANNEL,
        schema: registrationDecisionWire,
        description:
          key === 'prm.registration-decision'
            ? 'The vendor’s approval of a partner’s deal registration, with its protection period.'
            : 'The vendor’s refusal of a partner’s deal registration: `conflict` when another registration or an existing customer stands in the way (never whose), else `rejected`.',
        emitOn: decisionOn(event),
        toWire: decisionOf,
        applyLocally: async (doc, ctx) => {
          await answered(doc, ctx, 'prm.deal-registration');
          return { localRecordId: await onTimeline(doc, ctx, false, `Deal registration ${doc.body.decision}`) };
        },
        recordSent: sentOnTimeline('Registration decision'),
      }),
    );
  }

  api.federation.documentType(
    defineDocumentType({
      key: 'prm.lead-offer',
      version: 1,
      author: 'vendor',
      relationshipTypes: CHANNEL,
      schema: leadOfferWire,
      responses: ['prm.lead-answer'],
      description: 'A lead the vendor offers the partner, until `respondBy`; the contact follows only once accepted.',
      emitOn: {
        event: prm.events.leadOffered.name,
        select: async ({ offer }: { offer: LeadOffer }, ctx) => {
          const full = await services.leads.getOffer(ctx.uow.unscoped(), offer.id);
          return { peerPartyId: offer.partnerId, docId: offer.id, record: full };
        },
      },
      toWire: (offer: Awaited<ReturnType<LeadService['getOffer']>>) => ({
        customerName: offer.lead.customerName,
        territory: offer.lead.territory,
        value: offer.lead.value,
        currency: offer.lead.currency,
        description: offer.lead.description,
        respondBy: offer.respondBy,
      }),
      ...timelineOnly('Lead offer'),
    }),
  );

  // One document per partnership for each, a new version at each evaluation or snapshot: the
  // partner's system keeps the latest and its timeline the history.
  api.federation.documentType(
    defineDocumentType({
      key: 'prm.tier-standing',
      version: 1,
      author: 'vendor',
      relationshipTypes: CHANNEL,
      schema: tierStandingWire,
      description: 'The partner’s tier standing in the vendor’s program (qualified tier, metrics, gap to the next tier), sent at each recorded evaluation.',
      emitOn: {
        event: prm.events.tierEvaluated.name,
        select: ({ evaluation }: { evaluation: TierEvaluation }) => ({ peerPartyId: evaluation.standing.partnerId, docId: evaluation.standing.relationshipId, record: evaluation }),
      },
      toWire: ({ standing, observation }: TierEvaluation) => ({
        program: standing.program,
        currentTier: standing.currentTier,
        qualifiedTier: standing.qualifiedTier,
        nextTier: standing.nextTier,
        metrics: standing.metrics,
        gap: standing.gap,
        evaluatedAt: observation.observedAt,
      }),
      ...timelineOnly('Tier standing'),
    }),
  );

  api.federation.documentType(
    defineDocumentType({
      key: 'prm.partner-scorecard',
      version: 1,
      author: 'vendor',
      relationshipTypes: CHANNEL,
      schema: partnerScorecardWire,
      description: 'The mutual-benefit scorecard of the partnership (revenue the partner brought, margin, rebates and MDF it earned, decisions and leads it got), sent at each recorded snapshot.',
      emitOn: {
        event: prm.events.scorecardRecorded.name,
        select: ({ snapshot }: { snapshot: PartnerScorecardSnapshot }) => ({ peerPartyId: snapshot.scorecard.partnerId, docId: snapshot.scorecard.relationshipId, record: snapshot.scorecard }),
      },
      toWire: (card) => card,
      ...timelineOnly('Partner scorecard'),
    }),
  );

  api.federation.documentType(
    defineDocumentType({
      key: 'prm.lead-answer',
      version: 1,
      author: 'partner',
      relationshipTypes: CHANNEL,
      schema: leadAnswerWire,
      description: 'The partner accepts or declines a lead offer; at the vendor the offer is accepted or declined as if the partner had answered in the portal.',
      toWire: (record) => record,
      applyLocally: async (doc, ctx) => {
        const offerId = await answered(doc, ctx, 'prm.lead-offer');
        const uow: UnitOfWork = ctx.uow.unscoped();
        if (doc.body.decision === 'accepted') await services.leads.accept(uow, offerId);
        else await services.leads.decline(uow, offerId, doc.body.reason ?? 'declined by the partner');
        return { localRecordId: await onTimeline(doc, ctx, false, `Lead offer ${doc.body.decision}`) };
      },
      recordSent: sentOnTimeline('Lead answer'),
    }),
  );
}
