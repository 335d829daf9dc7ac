import { defineContract, event, service, type Party } from '@rapport/core';
import type { Deal, Pipeline, SavedView, ScoreRule, Task } from './records.js';

export * from './records.js';

/**
 * CRM's contract: what other plugins may use of it. Every event CRM emits (a loyalty plugin
 * awards points on `crm.deal.won`), typed, and the lead-scoring service through which
 * another plugin contributes scoring rules in code. CRM runs no filter for others.
 */
export const crm = defineContract('crm', {
  services: {
    leadScoring: service<LeadScoringService>('lead-scoring'),
  },
  events: {
    pipelineCreated: event<{ pipeline: Pipeline }>('pipeline.created'),
    dealCreated: event<{ deal: Deal }>('deal.created'),
    dealUpdated: event<{ deal: Deal; previous: Deal }>('deal.updated'),
    /** Every move; a move into a won or lost stage is followed by `dealWon` / `dealLost`. */
    dealStageChanged: event<{ deal: Deal; fromStageId: string; toStageId: string }>('deal.stage-changed'),
    /** A move into (or an opening in) a won stage. */
    dealWon: event<{ deal: Deal }>('deal.won'),
    dealLost: event<{ deal: Deal }>('deal.lost'),
    taskCreated: event<{ task: Task }>('task.created'),
    taskUpdated: event<{ task: Task; previous: Task }>('task.updated'),
    /** A change that marks the task done (instead of `taskUpdated`). */
    taskCompleted: event<{ task: Task; previous: Task }>('task.completed'),
    scoreRuleCreated: event<{ rule: ScoreRule }>('score-rule.created'),
    scoreRuleDeleted: event<{ ruleId: string }>('score-rule.deleted'),
    viewSaved: event<{ view: SavedView }>('view.saved'),
    viewDeleted: event<{ viewId: string }>('view.deleted'),
  },
});

/** What a scoring rule sees of a party. */
export interface ScoringInput {
  party: Party;
  /** Interactions the party took part in, by type. */
  interactionCounts: Record<string, number>;
}

/** A rule contributed in code by another plugin. */
export interface ContributedRule {
  /** Namespaced by the contributing plugin, e.g. `prm.referred-by-partner`. */
  key: string;
  name: string;
  points: number;
  evaluate(input: ScoringInput): boolean;
}

/** `crm.services.leadScoring`: rules other plugins add to CRM's lead scoring. */
export interface LeadScoringService {
  contribute(rule: ContributedRule): void;
  contributedRules(): readonly ContributedRule[];
}
