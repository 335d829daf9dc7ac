import { ConflictError, type Relationship, type UnitOfWork } from '@rapport/core';
import type { PartnerKind } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import type { Partnerships } from './partnerships.js';
import { PARTNER_TYPE, SUPPLIER_TYPE, type PortalParties } from './portal.js';

export interface PartnerApplication {
  partnerId: string;
  kind: PartnerKind;
  applicationNote?: string;
}

export interface SupplierApplication {
  supplierId: string;
  categories?: string[];
  qualification: Record<string, string | number | boolean>;
}

/**
 * The portal's way in: an organization (or its staff) applies to the partner program or as a
 * supplier. The applicant cannot see the firm's party before a relationship exists, so PRM
 * opens the relationship on its behalf, always in its first stage; the firm moves it on.
 */
export class OnboardingService {
  constructor(
    private readonly deps: PrmDeps,
    private readonly portal: PortalParties,
    private readonly partnerships: Partnerships,
  ) {}

  async applyAsPartner(uow: UnitOfWork, input: PartnerApplication): Promise<Relationship> {
    await this.portal.requireActsFor(uow, input.partnerId);
    const existing = await this.partnerships.live(uow, input.partnerId);
    if (existing) throw new ConflictError(`prm: party ${input.partnerId} already has a partnership (${existing.status})`, { relationshipId: existing.id });
    const self = await this.partnerships.self(uow);
    // The applicant acts for the organization (checked above); the firm's end is out of its reach.
    const elevated = uow.unscoped();
    const relationship = await this.deps.relationships.create(elevated, {
      type: PARTNER_TYPE,
      fromPartyId: self,
      toPartyId: input.partnerId,
      status: 'application',
      attributes: { kind: input.kind, ...(input.applicationNote ? { applicationNote: input.applicationNote } : {}) },
    });
    await this.deps.interactions.create(elevated, {
      type: 'prm.onboarding',
      direction: 'inbound',
      subject: 'Partner application received',
      relationshipId: relationship.id,
      participants: [
        { partyId: input.partnerId, role: 'partner' },
        { partyId: self, role: 'principal' },
      ],
    });
    return relationship;
  }

  async applyAsSupplier(uow: UnitOfWork, input: SupplierApplication): Promise<Relationship> {
    await this.portal.requireActsFor(uow, input.supplierId);
    const existing = await this.partnerships.currentSupply(uow, input.supplierId);
    if (existing) throw new ConflictError(`prm: party ${input.supplierId} is already a supplier (${existing.status})`, { relationshipId: existing.id });
    const self = await this.partnerships.self(uow);
    const elevated = uow.unscoped();
    const relationship = await this.deps.relationships.create(elevated, {
      type: SUPPLIER_TYPE,
      fromPartyId: input.supplierId,
      toPartyId: self,
      status: 'applied',
      attributes: { qualification: input.qualification, ...(input.categories ? { categories: input.categories } : {}) },
    });
    await this.deps.interactions.create(elevated, {
      type: 'prm.onboarding',
      direction: 'inbound',
      subject: 'Supplier qualification received',
      relationshipId: relationship.id,
      participants: [
        { partyId: input.supplierId, role: 'supplier' },
        { partyId: self, role: 'buyer' },
      ],
    });
    return relationship;
  }
}
