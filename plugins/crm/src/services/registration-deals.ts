import { VetoError, type UnitOfWork } from '@rapport/core';
import { REGISTRATION_SOURCE_PREFIX, registrationSource } from '@rapport/crm-contract';
import type { RegistrationConflictsPayload, Registration } from '@rapport/prm-contract';
import type { CrmDeps } from '../deps.js';
import type { DealService } from './deals.js';
import type { PipelineService } from './pipelines.js';

/** How many open direct deals a registration's conflict check names at most. */
const MAX_CONFLICTING_DEALS = 20;

/** CRM's side of PRM's deal registrations: the deal an approved one becomes, the direct deals a new one meets. */
export class RegistrationDealService {
  constructor(
    private readonly deps: CrmDeps,
    private readonly deals: DealService,
    private readonly pipelines: PipelineService,
  ) {}

  /**
   * Opens the deal for an approved registration: in the first pipeline (oldest), its first
   * open stage, with the registration's value, currency and expected close, owned by the
   * approver's party. The account is the registration's customer party, else the live
   * organization with its domain or name, else a new organization. A step of the approval:
   * it runs with the approver's authority over PRM, not their CRM permissions.
   */
  async openDeal(uow: UnitOfWork, registration: Registration): Promise<string> {
    const work = uow.unscoped();
    const pipelineId = await this.pipelines.oldestId(work);
    if (!pipelineId) throw new VetoError('crm: there is no pipeline to open the deal of this registration in; create a pipeline first');
    const accountId =
      registration.customerPartyId ??
      (await this.findCustomer(work, registration.customerName, registration.customerDomain)) ??
      (await this.createCustomer(work, registration.customerName, registration.customerDomain));
    const deal = await this.deals.create(
      work,
      {
        title: `${registration.customerName} (partner registration)`,
        pipelineId,
        amount: Math.round(registration.value * 100) / 100,
        currency: registration.currency,
        expectedClose: registration.expectedCloseDate,
        ownerPartyId: work.principal.partyId ?? null,
        accountId,
        source: registrationSource(registration.id),
      },
      { workflowStep: true },
    );
    return deal.id;
  }

  /**
   * Open deals with the registration's customer (its party, or an account with its domain or
   * organization name) that were not opened from a partner registration: the direct team's own
   * work. Tenant-wide, whoever submits. One query.
   */
  async openDirectDeals(uow: UnitOfWork, customer: RegistrationConflictsPayload['registration']): Promise<string[]> {
    const { parties } = this.deps;
    const rows: Array<{ id: string }> = await this.deps.db
      .in(uow)('crm_deals as d')
      .where('d.status', 'open')
      .where((q) => q.whereNull('d.source').orWhereNot('d.source', 'like', `${REGISTRATION_SOURCE_PREFIX}%`))
      .where((q) => {
        if (customer.customerPartyId) q.orWhere('d.account_id', customer.customerPartyId);
        if (customer.customerDomain) q.orWhereIn('d.account_id', parties.query(uow, { contactPoint: { kind: 'domain', value: customer.customerDomain } }).select('id'));
        q.orWhereIn('d.account_id', parties.query(uow, { kind: 'organization', name: customer.customerName }).select('id'));
      })
      .orderBy('d.id')
      .limit(MAX_CONFLICTING_DEALS)
      .select('d.id');
    return rows.map((r) => r.id);
  }

  /** A live organization with the domain, else the only one with the name. */
  private async findCustomer(uow: UnitOfWork, name: string, domain: string | null): Promise<string | undefined> {
    const { parties } = this.deps;
    if (domain) {
      const byDomain = await parties
        .query(uow, { kind: 'organization', live: true, contactPoint: { kind: 'domain', value: domain } })
        .orderBy([{ column: 'created_at' }, { column: 'id' }])
        .first('id');
      if (byDomain) return byDomain.id;
    }
    const byName: Array<{ id: string }> = await parties.query(uow, { kind: 'organization', live: true, name }).limit(2).select('id');
    return byName.length === 1 ? byName[0].id : undefined;
  }

  private async createCustomer(uow: UnitOfWork, name: string, domain: string | null): Promise<string> {
    const party = await this.deps.parties.create(uow, { kind: 'organization', name, ...(domain ? { contactPoints: [{ kind: 'domain', value: domain }] } : {}) });
    return party.id;
  }
}
