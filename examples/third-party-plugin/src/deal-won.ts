import { z } from 'zod';
import type { PluginApi } from '@rapport/core';
import { appendEntry, isMember } from './ledger.js';

/** One point per 100 of a won deal's amount (any currency: this example keeps it simple). */
export const POINTS_PER_AMOUNT = 100;

// Another plugin's payload is validated, not trusted: this plugin does not depend on the CRM.
const dealWon = z.object({ deal: z.object({ id: z.string(), title: z.string(), accountId: z.string(), amount: z.number() }) });

/**
 * Reacts to `crm.deal.won` when the CRM plugin is installed beside this one: the account, if
 * it is a member, earns points. After commit, in its own unit of work as the system; the
 * event id is stored with the entry, so a repeated delivery awards once.
 */
export function awardOnDealWon(api: PluginApi): void {
  const rapport = api.app;
  api.hooks.on('crm.deal.won', async (payload: unknown, meta) => {
    const parsed = dealWon.safeParse(payload);
    if (!parsed.success) return;
    const { deal } = parsed.data;
    const points = Math.floor(deal.amount / POINTS_PER_AMOUNT);
    if (points <= 0) return;
    await rapport.transaction(
      async (uow) => {
        if (!(await isMember(rapport, uow, deal.accountId))) return;
        const moved = await appendEntry(rapport, uow, { partyId: deal.accountId, points, reason: `Deal won: ${deal.title}`, source: 'crm.deal.won', sourceEventId: meta.id });
        if (moved) uow.emit('loyalty.points.awarded', moved, { type: 'loyalty.entry', id: moved.entry.id });
      },
      { tenantId: meta.tenantId },
    );
  });
}
