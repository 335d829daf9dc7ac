import type { PluginApi } from '@rapport/core';
import { prm } from '@rapport/prm-contract';
import type { RegistrationDealService } from '../services/registration-deals.js';

/*
 * Glue with the PRM plugin, through its contract: PRM runs two filters that a sales plugin
 * may register, `prm.registration.convert` (an approved deal registration becomes a CRM
 * deal) and `prm.registration.conflicts` (a registration for a customer the direct sales
 * team is already working). Only PRM runs them, so without PRM these registrations are inert
 * and CRM starts and works alone; CRM depends on PRM's contract package, not on PRM.
 */
export function prmGlue(api: PluginApi, registrations: RegistrationDealService): void {
  api.hooks.filter(prm.filters.registrationConvert, async (payload, uow) => {
    if (payload.dealId) return payload; // another sales plugin already opened it
    return { ...payload, dealId: await registrations.openDeal(uow, payload.registration) };
  });

  api.hooks.filter(prm.filters.registrationConflicts, async (payload, uow) => {
    const deals = await registrations.openDirectDeals(uow, payload.registration);
    if (deals.length === 0) return payload;
    return {
      ...payload,
      conflicts: [
        ...payload.conflicts,
        ...deals.map((id) => ({
          reason: 'open-direct-deal',
          // Shown to the partner too: it says that there is a deal, never whose or how big.
          message: "The vendor's own sales team already has an open deal with this customer.",
          recordId: id,
        })),
      ],
    };
  });
}
