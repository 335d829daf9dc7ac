import type { PluginApi, Rapport } from '@rapport/core';
import { scoreParty, scoredParties, type LeadScoringRuntime } from '../services/scoring.js';

/**
 * Recomputes lead scores after the inputs change: a party's attributes, an interaction it
 * took part in, or a crm.customer relationship putting it in (or out of) the lead stages.
 * Runs after commit in its own unit of work as the system; failures are logged by the bus.
 *
 * No listener on `party.created`: a party that has just been created cannot be a lead yet
 * (its crm.customer relationship comes after it, and fires `relationship.created`).
 */
export function scoringHooks(api: PluginApi, scoring: LeadScoringRuntime): void {
  const rules = new RulePresence(scoring);
  const recompute = async (tenantId: string, partyIds: string[]) => {
    const app = scoring.app;
    if (partyIds.length === 0) return;
    if (!(await rules.any(app, tenantId))) return;
    // Bulk imports emit one event per record: settle the common "nothing to score" case with
    // one read instead of a transaction per event.
    if (!(await worthScoring(app, tenantId, [...new Set(partyIds)]))) return;
    await app.transaction(
      async (uow) => {
        for (const id of await scoredParties(uow, [...new Set(partyIds)])) await scoreParty(app, uow, scoring, id);
      },
      { tenantId },
    );
  };
  api.hooks.on('crm.score-rule.*', (_payload, meta) => rules.forget(meta.tenantId));
  api.hooks.on('party.updated', ({ party }, meta) => recompute(meta.tenantId, [party.id]));
  api.hooks.on('interaction.created', ({ interaction }, meta) => recompute(meta.tenantId, interaction.participants.map((p) => p.partyId)));
  api.hooks.on('relationship.created', ({ relationship }, meta) => (relationship.type === 'crm.customer' ? recompute(meta.tenantId, [relationship.toPartyId]) : undefined));
  api.hooks.on('relationship.updated', ({ relationship }, meta) => (relationship.type === 'crm.customer' ? recompute(meta.tenantId, [relationship.toPartyId]) : undefined));
}

/** True when one of the parties is a lead or prospect: one query. */
async function worthScoring(app: Rapport, tenantId: string, partyIds: string[]): Promise<boolean> {
  const leads = app.knex('rapport_relationships').where({ tenant_id: tenantId, type: 'crm.customer' }).whereIn('status', ['lead', 'prospect']).whereIn('to_party_id', partyIds).select(app.knex.raw('1'));
  const row = await app.knex.first(app.knex.raw('exists (?) as worth', [leads]));
  return row?.worth === true;
}

/**
 * Whether a tenant has any scoring rule, remembered for a moment: a bulk import emits tens
 * of thousands of events, and without rules none of them needs a query. Rule changes made
 * in this process are seen at once; one made on another node within RULES_TTL_MS.
 */
const RULES_TTL_MS = 2000;
class RulePresence {
  private readonly known = new Map<string, { any: boolean; at: number }>();
  constructor(private readonly scoring: LeadScoringRuntime) {}

  async any(app: Rapport, tenantId: string): Promise<boolean> {
    if (this.scoring.contributedRules().length > 0) return true;
    const cached = this.known.get(tenantId);
    if (cached && Date.now() - cached.at < RULES_TTL_MS) return cached.any;
    const any = (await app.knex('crm_score_rules').where({ tenant_id: tenantId }).first('id')) !== undefined;
    this.known.set(tenantId, { any, at: Date.now() });
    return any;
  }

  forget(tenantId: string): void {
    this.known.delete(tenantId);
  }
}
