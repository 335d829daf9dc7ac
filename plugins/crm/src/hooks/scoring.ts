import type { PluginApi } from '@rapport/core';
import { scoreParty, scoredParties, type LeadScoringRuntime } from '../services/scoring.js';

/**
 * Recomputes lead scores after the inputs change: a party's attributes, an interaction it
 * took part in, or a crm.customer relationship putting it in (or out of) the lead stages.
 * Runs after commit in its own unit of work as the system; failures are logged by the bus.
 */
export function scoringHooks(api: PluginApi, scoring: LeadScoringRuntime): void {
  const recompute = async (tenantId: string, partyIds: string[]) => {
    const app = scoring.app;
    if (!app || partyIds.length === 0) return;
    await app.transaction(
      async (uow) => {
        for (const id of await scoredParties(uow, [...new Set(partyIds)])) await scoreParty(app, uow, scoring, id);
      },
      { tenantId },
    );
  };
  api.hooks.on('party.created', ({ party }, meta) => recompute(meta.tenantId, [party.id]));
  api.hooks.on('party.updated', ({ party }, meta) => recompute(meta.tenantId, [party.id]));
  api.hooks.on('interaction.created', ({ interaction }, meta) => recompute(meta.tenantId, interaction.participants.map((p) => p.partyId)));
  api.hooks.on('relationship.created', ({ relationship }, meta) => (relationship.type === 'crm.customer' ? recompute(meta.tenantId, [relationship.toPartyId]) : undefined));
  api.hooks.on('relationship.updated', ({ relationship }, meta) => (relationship.type === 'crm.customer' ? recompute(meta.tenantId, [relationship.toPartyId]) : undefined));
}
