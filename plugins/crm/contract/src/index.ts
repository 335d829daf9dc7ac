import { defineContract, event, service, type Party } from '@rapport/core';
import type { Deal, Pipeline, Task } from './records.js';

export * from './records.js';

/**
 * CRM's contract: what other plugins may use of it. Its events (a loyalty plugin awards
 * points on `crm.deal.won`) and the lead-scoring service, through which another plugin
 * contributes scoring rules in code.
 */
export const crm = defineContract('crm', {
  services: {
    leadScoring: service<LeadScoringService>('lead-scoring'),
  },
  events: {
    dealCreated: event<{ deal: Deal }>('deal.created'),
    dealUpdated: event<{ deal: Deal; previous: Deal }>('deal.updated'),
    dealStageChanged: event<{ deal: Deal; fromStageId: string; toStageId: string }>('deal.stage-changed'),
    dealWon: event<{ deal: Deal }>('deal.won'),
    dealLost: event<{ deal: Deal }>('deal.lost'),
    pipelineCreated: event<{ pipeline: Pipeline }>('pipeline.created'),
    taskCreated: event<{ task: Task }>('task.created'),
    taskUpdated: event<{ task: Task; previous: Task }>('task.updated'),
    taskCompleted: event<{ task: Task; previous: Task }>('task.completed'),
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
