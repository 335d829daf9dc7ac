/* CRM's records as other plugins and clients see them. */

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
