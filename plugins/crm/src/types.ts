export type StageOutcome = 'open' | 'won' | 'lost';
export type DealStatus = StageOutcome;

export interface Stage {
  id: string;
  name: string;
  position: number;
  /** Chance of winning a deal in this stage, 0–100; weights the forecast. */
  probability: number;
  outcome: StageOutcome;
}

export interface Pipeline {
  id: string;
  name: string;
  stages: Stage[];
  createdAt: string;
}

export interface Deal {
  id: string;
  pipelineId: string;
  stageId: string;
  title: string;
  amount: number;
  currency: string;
  /** ISO date (YYYY-MM-DD). */
  expectedClose: string | null;
  ownerPartyId: string | null;
  accountId: string;
  contactIds: string[];
  status: DealStatus;
  closedAt: string | null;
  /** Set when another plugin opened the deal, e.g. `prm.registration:<id>`; null for a deal opened directly. */
  source: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface StageChange {
  id: string;
  dealId: string;
  fromStageId: string | null;
  toStageId: string;
  changedAt: string;
  changedByPartyId: string | null;
}

export interface Task {
  id: string;
  title: string;
  dueAt: string;
  assigneePartyId: string | null;
  accountId: string | null;
  dealId: string | null;
  done: boolean;
  doneAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

declare module '@rapport/core' {
  interface HookMap {
    'crm.deal.created': { deal: Deal };
    'crm.deal.updated': { deal: Deal; previous: Deal };
    'crm.deal.stage-changed': { deal: Deal; fromStageId: string; toStageId: string };
    'crm.deal.won': { deal: Deal };
    'crm.deal.lost': { deal: Deal };
    'crm.pipeline.created': { pipeline: Pipeline };
    'crm.score-rule.created': { rule: { id: string; name: string; points: number; condition: unknown; createdAt: string } };
    'crm.score-rule.deleted': { ruleId: string };
    'crm.view.saved': { view: { id: string; resource: string; name: string; filters: Record<string, unknown>; createdAt: string } };
    'crm.view.deleted': { viewId: string };
    'crm.task.created': { task: Task };
    'crm.task.updated': { task: Task; previous: Task };
    'crm.task.completed': { task: Task; previous: Task };
  }
}
