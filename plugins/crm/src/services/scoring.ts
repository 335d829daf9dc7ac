import { NotFoundError, newId, type QueryContext, type UnitOfWork } from '@rapport/core';
import {
  CUSTOMER_TYPE,
  LEAD_SCORE,
  crm,
  type ContributedRule,
  type FiredRule,
  type LeadScore,
  type LeadScoringService,
  type ListedScoreRule,
  type ScoreCondition,
  type ScoreRule,
  type ScoringInput,
} from '@rapport/crm-contract';
import type { CrmDeps } from '../deps.js';
import { scoreRuleRecord } from '../records.js';

/** Statuses of crm.customer in which a party is scored automatically. */
const SCORED_STATUSES = ['lead', 'prospect'];

/** `crm.services.leadScoring`: the rules other plugins contribute in code, one set per system. */
export class ContributedRules implements LeadScoringService {
  private readonly rules: ContributedRule[] = [];

  contribute(rule: ContributedRule): void {
    if (this.rules.some((r) => r.key === rule.key)) throw new Error(`crm: lead-scoring rule "${rule.key}" is contributed twice`);
    this.rules.push(rule);
  }

  contributedRules(): readonly ContributedRule[] {
    return this.rules;
  }
}

export function evaluateCondition(condition: ScoreCondition, input: ScoringInput): boolean {
  switch (condition.kind) {
    case 'attribute':
      return input.party.attributes[condition.key] === condition.equals;
    case 'attribute-present': {
      const value = input.party.attributes[condition.key];
      return value !== undefined && value !== null && value !== '';
    }
    case 'interactions':
      return (input.interactionCounts[condition.type] ?? 0) >= condition.atLeast;
  }
}

/** Lead scoring: the rules kept as data (crm_score_rules), the contributed ones, and the scores they give. */
export class ScoringService {
  constructor(
    private readonly deps: CrmDeps,
    private readonly contributed: ContributedRules,
  ) {}

  /** The rules kept as data, oldest first. */
  async rules(ctx: QueryContext): Promise<ScoreRule[]> {
    const rows: object[] = await this.deps.db
      .in(ctx)('crm_score_rules as r')
      .orderBy([{ column: 'r.created_at' }, { column: 'r.id' }])
      .select(scoreRuleRecord.columns('r'));
    return rows.map((row) => scoreRuleRecord.fromRow(row));
  }

  /** The data rules, then the contributed ones. */
  async listed(ctx: QueryContext): Promise<ListedScoreRule[]> {
    return [
      ...(await this.rules(ctx)).map((rule) => ({ ...rule, source: 'data' as const })),
      ...this.contributed.contributedRules().map((rule) => ({ id: rule.key, name: rule.name, points: rule.points, condition: null, createdAt: null, source: 'plugin' as const })),
    ];
  }

  /** Whether a tenant has any rule at all (read on the root connection, outside any write). */
  async anyRule(tenantId: string): Promise<boolean> {
    if (this.contributed.contributedRules().length > 0) return true;
    return (await this.deps.db.in(tenantId)('crm_score_rules').first('id')) !== undefined;
  }

  async createRule(uow: UnitOfWork, input: { name: string; points: number; condition: ScoreCondition }): Promise<ScoreRule> {
    const now = new Date();
    const rule: ScoreRule = { id: newId(), name: input.name, points: input.points, condition: input.condition, createdAt: now.toISOString() };
    await this.deps.db
      .in(uow)('crm_score_rules')
      .insert({ id: rule.id, name: rule.name, points: rule.points, condition: JSON.stringify(rule.condition), created_at: now });
    uow.emit(crm.events.scoreRuleCreated, { rule }, { type: 'crm.score-rule', id: rule.id });
    return rule;
  }

  async deleteRule(uow: UnitOfWork, id: string): Promise<void> {
    const deleted = await this.deps.db.in(uow)('crm_score_rules').where('id', id).delete();
    if (!deleted) throw new NotFoundError('Score rule', id);
    uow.emit(crm.events.scoreRuleDeleted, { ruleId: id }, { type: 'crm.score-rule', id });
  }

  /**
   * Computes a party's lead score from the rules (data + contributed) and records it as a
   * `crm.lead-score` observation with the rules that fired — only when it changed, so
   * repeated recomputation does not pile up identical observations. Fixed number of queries.
   */
  async score(uow: UnitOfWork, partyId: string): Promise<LeadScore> {
    const { interactions, observations, parties } = this.deps;
    const party = await parties.get(uow, partyId);
    const rules = await this.rules(uow);
    const counts: Array<{ type: string; count: string | number }> = await interactions
      .query(uow)
      .whereIn('id', interactions.participantQuery(uow, { partyId }).select('interaction_id'))
      .groupBy('type')
      .select('type')
      .count({ count: '*' });
    const input: ScoringInput = { party, interactionCounts: Object.fromEntries(counts.map((c) => [c.type, Number(c.count)])) };
    const fired: FiredRule[] = [
      ...rules.filter((r) => evaluateCondition(r.condition, input)).map((r) => ({ id: r.id, name: r.name, points: r.points })),
      ...this.contributed
        .contributedRules()
        .filter((r) => r.evaluate(input))
        .map((r) => ({ id: r.key, name: r.name, points: r.points })),
    ];
    const score = fired.reduce((sum, r) => sum + r.points, 0);
    const [latest] = (await observations.list(uow, { indicator: LEAD_SCORE, subjectType: 'party', subjectId: partyId, limit: 1 })).data;
    const same = latest && latest.value === score && JSON.stringify(latest.details.firedRules) === JSON.stringify(fired);
    if (!same) await observations.record(uow, { indicator: LEAD_SCORE, subjectId: partyId, value: score, details: { firedRules: fired } });
    return { partyId, score, firedRules: fired, recorded: !same };
  }

  /** Parties among `ids` that are a lead or prospect (customer end of crm.customer) of any vendor. One query. */
  async scoredParties(ctx: QueryContext, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows: Array<{ to_party_id: string }> = await this.deps.relationships.query(ctx, { type: CUSTOMER_TYPE, status: SCORED_STATUSES, toPartyId: ids }).distinct('to_party_id');
    return rows.map((r) => r.to_party_id);
  }
}
