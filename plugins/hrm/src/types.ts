/** Public shapes of HRM records (the JSON contract, camelCase). */

export interface Unit {
  id: string;
  name: string;
  parentId: string | null;
}

export interface Position {
  id: string;
  title: string;
  unitId: string | null;
  grade: string | null;
  createdAt: string;
}

export interface Employment {
  relationshipId: string;
  status: string;
  unitId: string;
  positionId: string | null;
  start: string | null;
  end: string | null;
  endReason: string | null;
}

export interface Employee {
  id: string;
  name: string;
  employment: Employment | null;
  managerId: string | null;
  reportIds: string[];
}

export interface PrivateRecord {
  partyId: string;
  contract: { type?: string; hoursPerWeek?: number; start?: string; end?: string | null; reference?: string };
  payBand: string | null;
  privateContact: { email?: string; phone?: string; address?: string; emergencyContact?: string };
  notes: string | null;
  version: number;
  updatedAt: string;
}

export type QuestionType = 'scale' | 'enps' | 'choice' | 'text';

export interface SurveyQuestion {
  id: string;
  type: QuestionType;
  text: string;
  /** scale: inclusive bounds (default 1..5). */
  min?: number;
  max?: number;
  /** choice: the options. */
  choices?: string[];
}

export interface Survey {
  id: string;
  title: string;
  kind: 'pulse' | 'full';
  anonymous: boolean;
  minGroupSize: number;
  questions: SurveyQuestion[];
  status: 'draft' | 'open' | 'closed';
  openedAt: string | null;
  closedAt: string | null;
  createdAt: string;
}

export interface Service {
  id: string;
  unitId: string;
  name: string;
  description: string | null;
  responseTargetMinutes: number | null;
  resolutionTargetMinutes: number;
  active: boolean;
  createdAt: string;
}

export type RequestStatus = 'open' | 'in-progress' | 'resolved' | 'closed' | 'cancelled';

export interface ServiceRequest {
  id: string;
  serviceId: string;
  providerUnitId: string;
  requesterPartyId: string;
  title: string;
  description: string | null;
  assigneePartyId: string | null;
  status: RequestStatus;
  openedAt: string;
  firstResponseAt: string | null;
  responseDueAt: string | null;
  resolutionDueAt: string;
  resolvedAt: string | null;
  closedAt: string | null;
  /** Computed against the plugin clock: resolution target passed (or met late). */
  breached: boolean;
  /** When the SLA sweep recorded the breach (and emitted hrm.request.sla-breached); null until then. */
  slaBreachedAt: string | null;
  csat: number | null;
  csatComment: string | null;
  interactionId: string | null;
  version: number;
}

export interface Goal {
  id: string;
  cycleId: string;
  employeeId: string;
  title: string;
  weight: number;
  target: number;
  actual: number | null;
  version: number;
}

export interface Opening {
  id: string;
  title: string;
  unitId: string;
  positionId: string | null;
  hiringManagerId: string | null;
  status: 'open' | 'closed';
  createdAt: string;
}

/** A candidacy: the hrm.recruiting relationship (employer → candidate) for one opening. */
export interface Application {
  id: string;
  candidateId: string;
  candidateName: string;
  openingId: string;
  stage: string;
  source: string | null;
  appliedAt: string;
  updatedAt: string;
  version: number;
}

export type OnboardingOwner = 'hr' | 'manager' | 'employee';

export interface OnboardingItem {
  id: string;
  employeeId: string;
  employmentId: string;
  templateId: string;
  position: number;
  title: string;
  owner: OnboardingOwner;
  dueAt: string;
  doneAt: string | null;
  doneByPartyId: string | null;
  overdue: boolean;
}
