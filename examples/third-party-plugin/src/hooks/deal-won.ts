import { crm } from '@rapport/crm-contract';
import type { PluginApi } from '@rapport/core';
import { loyalty } from '../contract.js';
import type { LoyaltyDeps } from '../deps.js';
import type { LedgerService } from '../services/ledger.js';

/** One point per 100 of a won deal's amount (any currency: this example keeps it simple). */
export const POINTS_PER_AMOUNT = 100;

/**
 * Reacts to CRM's `crm.deal.won` (typed by CRM's contract) when the CRM plugin is installed
 * beside this one: the account, if it is a member, earns points. After commit, in its own unit
 * of work as the system; the event id is stored with the entry, so a repeated delivery awards once.
 */
export function awardOnDealWon(api: PluginApi, { unitOfWork }: LoyaltyDeps, ledger: LedgerService): void {
  api.hooks.on(crm.events.dealWon, async ({ deal }, meta) => {
    const points = Math.floor(deal.amount / POINTS_PER_AMOUNT);
    if (points <= 0) return;
    await unitOfWork.run({ tenantId: meta.tenantId }, async (uow) => {
      if (!(await ledger.isMember(uow, deal.accountId))) return;
      const moved = await ledger.append(uow, { partyId: deal.accountId, points, reason: `Deal won: ${deal.title}`, source: crm.events.dealWon.name, sourceEventId: meta.id });
      if (moved) uow.emit(loyalty.events.pointsAwarded, moved, { type: 'loyalty.entry', id: moved.entry.id });
    });
  });
}
