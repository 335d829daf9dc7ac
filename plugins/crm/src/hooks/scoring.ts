import type { PluginApi } from '@rapport/core';
import { CUSTOMER_TYPE, crm } from '@rapport/crm-contract';
import type { CrmDeps } from '../deps.js';
import type { ScoringService } from '../services/scoring.js';

/**
 * Recomputes lead scores after the inputs change: a party's attributes, an interaction it
 * took part in, or a crm.customer relationship putting it in (or out of) the lead stages.
 * Runs after commit in its own unit of work as the system; failures are logged by the bus.
 *
 * No listener on `party.created`: a party that has just been created cannot be a lead yet
 * (its crm.customer relationship comes after it, and fires `relationship.created`).
 */
export function scoringHooks(api: PluginApi, { unitOfWork }: CrmDeps, scoring: ScoringService): void {
  const rules = new RulePresence(scoring);
  const recompute = async (tenantId: string, partyIds: string[]) => {
    const ids = [...new Set(partyIds)];
    // Bulk imports emit one event per record: without rules none of them costs a query, and
    // a party that is no lead costs one read, no transaction.
    if (ids.length === 0 || !(await rules.any(tenantId))) return;
    const leads = await scoring.scoredParties(unitOfWork.readContext(tenantId), ids);
    if (leads.length === 0) return;
    await unitOfWork.run({ tenantId }, async (uow) => {
      for (const id of leads) await scoring.score(uow, id);
    });
  };
  api.hooks.on(crm.events.scoreRuleCreated, (_payload, meta) => rules.forget(meta.tenantId));
  api.hooks.on(crm.events.scoreRuleDeleted, (_payload, meta) => rules.forget(meta.tenantId));
  api.hooks.on('party.updated', ({ party }, meta) => recompute(meta.tenantId, [party.id]));
  api.hooks.on('interaction.created', ({ interaction }, meta) =>
    recompute(
      meta.tenantId,
      interaction.participants.map((p) => p.partyId),
    ),
  );
  // An import with summary events announces a batch at once: its parties are the same inputs.
  api.hooks.on('interactions.imported', ({ partyIds }, meta) => recompute(meta.tenantId, partyIds));
  api.hooks.on('relationship.created', ({ relationship }, meta) => (relationship.type === CUSTOMER_TYPE ? recompute(meta.tenantId, [relationship.toPartyId]) : undefined));
  api.hooks.on('relationship.updated', ({ relationship }, meta) => (relationship.type === CUSTOMER_TYPE ? recompute(meta.tenantId, [relationship.toPartyId]) : undefined));
}

/**
 * Whether a tenant has any scoring rule, remembered for a moment: a bulk import emits tens
 * of thousands of events, and without rules none of them needs a query. Rule changes made
 * in this process are seen at once; one made on another node within RULES_TTL_MS.
 */
const RULES_TTL_MS = 2000;
class RulePresence {
  private readonly known = new Map<string, { any: boolean; at: number }>();
  constructor(private readonly scoring: ScoringService) {}

  async any(tenantId: string): Promise<boolean> {
    const cached = this.known.get(tenantId);
    if (cached && Date.now() - cached.at < RULES_TTL_MS) return cached.any;
    const any = await this.scoring.anyRule(tenantId);
    this.known.set(tenantId, { any, at: Date.now() });
    return any;
  }

  forget(tenantId: string): void {
    this.known.delete(tenantId);
  }
}
