import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationError,
  newId,
  type QueryContext,
  type Rapport,
  type UnitOfWork,
} from '@rapport/core';
import { SUPPLIER_TYPE, selfPartyId } from './portal.js';

export const SUPPLIER_STANDINGS = ['preferred', 'approved', 'watch', 'blocked'] as const;
export type SupplierStanding = (typeof SUPPLIER_STANDINGS)[number];

/** Only the firm (an unscoped principal) buys: a supplier's portal answers, it never orders. */
export function requireBuyer(ctx: QueryContext, action: string): void {
  if (ctx.principal.scopePartyId) throw new ForbiddenError(`prm: a supplier or partner principal cannot ${action}`);
}

/**
 * The supplier's relationship with the firm, locked for the rest of the write, refusing
 * a blocked supplier (409) and one not (or no longer) approved (422).
 */
export async function requireOrderableSupplier(uow: UnitOfWork, supplierId: string, what: 'RFQs' | 'purchase orders'): Promise<{ id: string }> {
  const self = await selfPartyId(uow.trx, uow.tenantId);
  const rel = await uow.trx('rapport_relationships')
    .where({ tenant_id: uow.tenantId, type: SUPPLIER_TYPE, from_party_id: supplierId, to_party_id: self })
    .whereNot('status', 'ended')
    .forUpdate()
    .first('id', 'status');
  if (!rel) throw new ValidationError(`prm: party ${supplierId} is not a supplier`, [{ path: 'supplierId', message: 'not a supplier' }]);
  if (rel.status === 'blocked') {
    throw new ConflictError(`prm: supplier ${supplierId} is blocked; no new ${what} may be sent to it`, { code: 'supplier-blocked', supplierId });
  }
  if (rel.status !== 'approved' && rel.status !== 'conditional') {
    throw new ValidationError(`prm: supplier ${supplierId} is "${rel.status}", not approved; no new ${what} until it is`, [{ path: 'supplierId', message: `supplier ${rel.status}` }]);
  }
  return { id: rel.id };
}

/** Records one step of the supply chain on both timelines and returns its id. */
export async function recordSupplyStep(
  app: Rapport,
  uow: UnitOfWork,
  step: { type: string; supplierId: string; relationshipId: string; subject: string; direction: 'inbound' | 'outbound'; occurredAt?: Date; attributes: Record<string, unknown> },
): Promise<string> {
  const self = await selfPartyId(uow.trx, uow.tenantId);
  const interaction = await app.services.interactions.create(uow.unscoped(), {
    type: step.type,
    direction: step.direction,
    subject: step.subject,
    relationshipId: step.relationshipId,
    occurredAt: step.occurredAt?.toISOString(),
    participants: [
      { partyId: step.supplierId, role: 'supplier' },
      { partyId: self, role: 'buyer' },
    ],
    attributes: step.attributes,
  });
  return interaction.id;
}

export function notFound(what: string, id: string): NotFoundError {
  return new NotFoundError(`prm ${what}`, id);
}

export { newId };
