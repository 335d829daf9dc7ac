import { ConflictError, ValidationError, type UnitOfWork } from '@rapport/core';
import type { PrmDeps } from '../deps.js';
import type { Partnerships } from './partnerships.js';

export interface SupplyStep {
  type: 'prm.rfq' | 'prm.quote' | 'prm.purchase-order' | 'prm.delivery';
  supplierId: string;
  relationshipId: string;
  subject: string;
  direction: 'inbound' | 'outbound';
  occurredAt?: Date;
  attributes: Record<string, unknown>;
}

/** What the buy side shares: who may be ordered from, and each step on both timelines. */
export class SupplyChain {
  constructor(
    private readonly deps: Pick<PrmDeps, 'interactions' | 'tenants'>,
    private readonly partnerships: Partnerships,
  ) {}

  /**
   * The supplier's relationship with the firm, locked for the rest of the write, refusing
   * a blocked supplier (409) and one not (or no longer) approved (400).
   */
  async requireOrderable(uow: UnitOfWork, supplierId: string, what: 'RFQs' | 'purchase orders'): Promise<{ id: string }> {
    const rel = await this.partnerships.currentSupply(uow, supplierId, { lock: true });
    if (!rel) throw new ValidationError(`prm: party ${supplierId} is not a supplier`, [{ path: 'supplierId', message: 'not a supplier' }]);
    if (rel.status === 'blocked') {
      throw new ConflictError(`prm: supplier ${supplierId} is blocked; no new ${what} may be sent to it`, { code: 'supplier-blocked', supplierId });
    }
    if (rel.status !== 'approved' && rel.status !== 'conditional') {
      throw new ValidationError(`prm: supplier ${supplierId} is "${rel.status}", not approved; no new ${what} until it is`, [{ path: 'supplierId', message: `supplier ${rel.status}` }]);
    }
    return { id: rel.id };
  }

  /** Records one step of the supply chain on both timelines and returns its interaction's id. */
  async recordStep(uow: UnitOfWork, step: SupplyStep): Promise<string> {
    // A supplier's portal cannot see the firm's party: the step is PRM's, already authorized.
    const interaction = await this.deps.interactions.create(uow.unscoped(), {
      type: step.type,
      direction: step.direction,
      subject: step.subject,
      relationshipId: step.relationshipId,
      occurredAt: step.occurredAt?.toISOString(),
      participants: [
        { partyId: step.supplierId, role: 'supplier' },
        { partyId: await this.deps.tenants.selfPartyId(uow), role: 'buyer' },
      ],
      attributes: step.attributes,
    });
    return interaction.id;
  }
}
