import type { PrmExpiry, SweepResult } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import type { LeadService } from './leads.js';
import type { RegistrationService } from './registrations.js';

/**
 * The periodic expiry sweep: approved registrations whose protection has run out become
 * `expired` (with their timeline step), and unanswered lead offers past their deadline expire
 * and move their lead on to the next eligible partner. One unit of work per tenant, so a
 * failure in one tenant leaves the others swept.
 */
export class ExpirySweep implements PrmExpiry {
  constructor(
    private readonly deps: Pick<PrmDeps, 'db' | 'unitOfWork'>,
    private readonly registrations: RegistrationService,
    private readonly leads: LeadService,
  ) {}

  async run(now = new Date(), signal?: AbortSignal): Promise<SweepResult[]> {
    const results: SweepResult[] = [];
    for (const tenantId of await this.tenants()) {
      if (signal?.aborted) break;
      results.push(
        await this.deps.unitOfWork.run({ tenantId }, async (uow) => ({
          tenantId,
          expiredRegistrations: (await this.registrations.expireDue(uow, now)).length,
          expiredLeadOffers: (await this.leads.expireDue(uow, now)).length,
        })),
      );
    }
    return results;
  }

  /** The tenants that use PRM's registrations or leads: the others have nothing to expire. */
  private async tenants(): Promise<string[]> {
    const { db } = this.deps;
    return [...new Set([...(await db.tenantsWith('prm_registrations')), ...(await db.tenantsWith('prm_lead_offers'))])].sort();
  }
}
