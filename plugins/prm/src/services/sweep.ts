import { listTenants, type Rapport } from '@rapport/core';
import type { ResolvedPrmOptions } from '../types.js';
import { LeadService } from './leads.js';
import { RegistrationService } from './registrations.js';

export interface SweepResult {
  tenantId: string;
  expiredRegistrations: number;
  expiredLeadOffers: number;
}

/**
 * The periodic expiry sweep, for every tenant: approved registrations whose protection has
 * run out become `expired` (with their timeline step), and unanswered lead offers past their
 * deadline expire and move their lead on to the next eligible partner. One transaction per
 * tenant, so a failure in one tenant leaves the others swept. `now` is the sweep's clock.
 */
export async function sweepExpired(app: Rapport, options: ResolvedPrmOptions, now: Date, signal?: AbortSignal): Promise<SweepResult[]> {
  const results: SweepResult[] = [];
  for (const tenant of await listTenants(app.knex)) {
    if (signal?.aborted) break;
    results.push(
      await app.transaction(
        async (uow) => ({
          tenantId: tenant.id,
          expiredRegistrations: (await new RegistrationService(app, options).expireDue(uow, now)).length,
          expiredLeadOffers: (await new LeadService(app, options.leadResponseHours).expireDue(uow, now)).length,
        }),
        { tenantId: tenant.id },
      ),
    );
  }
  return results;
}
