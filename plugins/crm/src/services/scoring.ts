import { z } from 'zod';
import { NotFoundError, newId, type Party, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';

export const LEAD_SCORE = 'crm.lead-score';
/** Statuses of crm.customer in which a party is scored automatically. */
const SCORED_STATUSES = ['lead', 'prospect'];

export const conditionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('attribute'), key: z.string().min(1).max(100), equals: z.union([z.string().max(500), z.number().finite(), z.boolean()]) }),
  z.strictObject({ kind: z.literal('attribute-present'), key: z.string().min(1).max(100) }),
  z.strictObject({ kind: z.literal('interactions'), type: z.string().min(1).max(100), atLeast: z.number().int().min(1).max(1_000_000) }),
]);
export type ScoreCondition = z.infer<typeof conditionSchema>;

export interface ScoreRule {
  id: string;
  name: string;
  points: number;
  condition: ScoreCondition;
  createdAt: string;
}

/** What a rule sees of a party. */
export interface ScoringInput {
  party: Party;
  /** Interactions the party took part in, by type. */
  interactionCounts: Record<string, number>;
}

/** A rule contributed in code by another plugin through the `crm.lead-scoring` extension point. */
export interface ContributedRule {
  /** Namespaced by the contributing plugin, e.g. `prm.referred-by-partner`. */
  key: string;
  name: string;
  points: number;
  evaluate(input: ScoringInput): boolean;
}

export interface FiredRule {
  id: string;
  name: string;
  points: number;
}

export interface LeadScore {
  partyId: string;
  score: number;
  firedRules: FiredRule[];
  /** False when the score equals the latest observation and nothing was recorded. */
  recorded: boolean;
}

/** The service behind `api.provide('crm.lead-scoring', …)`. */
export interface LeadScoringService {
  contribute(rule: ContributedRule): void;
  contributedRules(): readonly ContributedRule[];
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

export async function listRules(ctx: QueryContext): Promise<ScoreRule[]> {
  const rows: Array<{ id: string; name: string; points: number; condition: ScoreCondition | string; created_at: Date }> = await ctx
    .db('crm_score_rules')
    .where('tenant_id', ctx.tenantId)
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
    .select('id', 'name', 'points', 'condition', 'created_at');
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    points: r.points,
    condition: typeof r.condition === 'string' ? JSON.parse(r.condition) : r.condition,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}

export async function createRule(uow: UnitOfWork, input: { name: string; points: number; condition: ScoreCondition }): Promise<ScoreRule> {
  const now = new Date();
  const rule: ScoreRule = { id: newId(), name: input.name, points: input.points, condition: input.condition, createdAt: now.toISOString() };
  await uow.trx('crm_score_rules').insert({ tenant_id: uow.tenantId, id: rule.id, name: rule.name, points: rule.points, condition: JSON.stringify(rule.condition), created_at: now });
  uow.emit('crm.score-rule.created', { rule }, { type: 'crm.score-rule', id: rule.id });
  return rule;
}

export async function deleteRule(uow: UnitOfWork, id: string): Promise<void> {
  const deleted = await uow.trx('crm_score_rules').where({ tenant_id: uow.tenantId, id }).delete();
  if (!deleted) throw new NotFoundError('Score rule', id);
  uow.emit('crm.score-rule.deleted', { ruleId: id }, { type: 'crm.score-rule', id });
}

/**
 * Computes a party's lead score from the rules (data + contributed) and records it as a
 * `crm.lead-score` observation with the rules that fired — only when it changed, so
 * repeated recomputation does not pile up identical observations. Fixed number of queries.
 */
export async function scoreParty(app: Rapport, uow: UnitOfWork, service: LeadScoringService, partyId: string): Promise<LeadScore> {
  const party = await app.services.parties.get(uow, partyId);
  const rules = await listRules(uow);
  const counts: Array<{ type: string; count: string | number }> = await uow
    .trx('rapport_interaction_participants as p')
    .join('rapport_interactions as i', function () {
      this.on('i.tenant_id', 'p.tenant_id').andOn('i.id', 'p.interaction_id');
    })
    .where({ 'p.tenant_id': uow.tenantId, 'p.party_id': partyId })
    .groupBy('i.type')
    .select('i.type', uow.trx.raw('count(distinct i.id) as count'));
  const input: ScoringInput = { party, interactionCounts: Object.fromEntries(counts.map((c) => [c.type, Number(c.count)])) };
  const fired: FiredRule[] = [
    ...rules.filter((r) => evaluateCondition(r.condition, input)).map((r) => ({ id: r.id, name: r.name, points: r.points })),
    ...service
      .contributedRules()
      .filter((r) => r.evaluate(input))
      .map((r) => ({ id: r.key, name: r.name, points: r.points })),
  ];
  const score = fired.reduce((sum, r) => sum + r.points, 0);
  const [latest] = (await app.services.observations.list(uow, { indicator: LEAD_SCORE, subjectType: 'party', subjectId: partyId, limit: 1 })).data;
  const same = latest && latest.value === score && JSON.stringify(latest.details.firedRules) === JSON.stringify(fired);
  if (!same) await app.services.observations.record(uow, { indicator: LEAD_SCORE, subjectId: partyId, value: score, details: { firedRules: fired } });
  return { partyId, score, firedRules: fired, recorded: !same };
}

/** Parties among `ids` that are a lead or prospect (customer end of crm.customer) of any vendor. One query. */
export async function scoredParties(uow: UnitOfWork, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows: Array<{ to_party_id: string }> = await uow
    .trx('rapport_relationships')
    .where({ tenant_id: uow.tenantId, type: 'crm.customer' })
    .whereIn('status', SCORED_STATUSES)
    .whereIn('to_party_id', ids)
    .distinct('to_party_id');
  return rows.map((r) => r.to_party_id);
}

/** The plugin's own handle: the public service plus the system it serves. */
export interface LeadScoringRuntime extends LeadScoringService {
  readonly app: Rapport;
}

export function createLeadScoringService(app: Rapport): LeadScoringRuntime {
  const contributed: ContributedRule[] = [];
  return {
    app,
    contribute(rule) {
      if (contributed.some((r) => r.key === rule.key)) throw new Error(`crm: lead-scoring rule "${rule.key}" is contributed twice`);
      contributed.push(rule);
    },
    contributedRules: () => contributed,
  };
}
