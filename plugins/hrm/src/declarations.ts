import { z } from 'zod';
import type { PluginApi, QueryContext } from '@rapport/core';
import {
  FINAL_RECRUITING_STAGES,
  HRM_INDICATORS as INDICATORS,
  HRM_INTERACTION_TYPES as INTERACTIONS,
  HRM_PERMISSIONS as PERMISSIONS,
  HRM_RELATIONSHIP_TYPES as TYPES,
  INTERVIEW_SCALE,
} from '@rapport/hrm-contract';
import type { HrmDeps } from './deps.js';
import type { ResolvedHrmOptions } from './options.js';

// The contract's names, under the short names the plugin's own modules use.
export { INDICATORS, INTERACTIONS, PERMISSIONS, TYPES };

const DESCRIPTIONS: Record<string, string> = {
  [PERMISSIONS.orgRead]: 'Read units and positions',
  [PERMISSIONS.orgWrite]: 'Create units and positions, move units in the tree',
  [PERMISSIONS.employeesRead]: 'Read employee profiles (a scoped principal: its own)',
  [PERMISSIONS.employeesWrite]: 'Hire, end employment, change reporting lines',
  [PERMISSIONS.teamRead]: 'A scoped manager also reads the records of everyone below it in the reporting tree',
  [PERMISSIONS.privateRead]: 'Read HR-private data (contract, pay band, private contact)',
  [PERMISSIONS.privateWrite]: 'Write HR-private data',
  [PERMISSIONS.timelineWrite]: 'Record one-to-ones, feedback, onboarding steps, kudos',
  [PERMISSIONS.surveysRead]: 'Read surveys and their questions',
  [PERMISSIONS.surveysWrite]: 'Create, open and close surveys',
  [PERMISSIONS.surveysRespond]: 'Answer a survey as oneself',
  [PERMISSIONS.engagementRead]: 'Read aggregated survey results, eNPS per unit and manager (never an individual anonymous answer)',
  [PERMISSIONS.deskRead]: 'Read the service catalog and requests (a scoped principal: its own requests)',
  [PERMISSIONS.deskWrite]: 'Raise requests and rate them',
  [PERMISSIONS.reviewsRead]: 'Read review cycles, scores and feedback (a scoped principal: its own, and its reports with hrm.team:read)',
  [PERMISSIONS.reviewsWrite]: 'Give self, manager, peer and upward reviews as oneself',
  [PERMISSIONS.reviewsManage]: 'Create review cycles and set goals and their actuals',
  [PERMISSIONS.announcementsRead]: 'Read announcements addressed to oneself (unscoped: all), mark them read and acknowledged',
  [PERMISSIONS.announcementsWrite]: 'Publish announcements to units and follow who read and acknowledged them',
  [PERMISSIONS.retentionRead]: 'Read the retention-risk indicator and its factors (scoped: reports only, never oneself)',
  [PERMISSIONS.retentionWrite]: 'Record the retention risk as a kernel observation',
  [PERMISSIONS.deskManage]: 'Publish services, assign and progress requests, read scorecards and breaches',
  [PERMISSIONS.recruitingRead]: 'Read openings, candidates and interview feedback (scoped: the openings one is hiring manager of)',
  [PERMISSIONS.recruitingWrite]: 'Open positions, add candidates, move them through the stages, hire; give interview feedback',
  [PERMISSIONS.onboardingRead]: 'Read onboarding checklists (scoped: its own, and its reports with hrm.team:read)',
  [PERMISSIONS.onboardingWrite]: "Tick onboarding items one owns (the employee its own, a manager its reports', HR any)",
  [PERMISSIONS.onboardingManage]: 'Define onboarding checklist templates per unit and position',
  [PERMISSIONS.exitRead]: 'Read exit interviews (confidential ones: never individually) and reasons per unit',
  [PERMISSIONS.exitWrite]: 'Record exit interviews and their outcome',
};

/** Resources a scoped principal is restricted by. */
export const SCOPES = {
  /** The employee itself. */
  self: 'hrm.self',
  /** The employee and everyone below it in the reporting tree (used when the caller holds hrm.team:read). */
  team: 'hrm.team',
  /** Openings the party is hiring manager of. */
  openings: 'hrm.openings',
  /** Units: the whole tree, for a principal that is an employee of the tenant; nothing otherwise. */
  units: 'hrm.units',
  /** Service-desk requests the party raised or is assigned to. */
  requests: 'hrm.requests',
} as const;

export const employmentAttributes = z.strictObject({
  unitId: z.uuid(),
  positionId: z.uuid().nullable().optional(),
  endReason: z.string().max(500).nullable().optional(),
});

export const recruitingAttributes = z.strictObject({ openingId: z.uuid(), source: z.string().max(200).nullable().optional() });

/** Open stages move to any other open stage or end (rejected, withdrawn); only the last open stage hires. */
export function recruitingTransitions(stages: readonly string[]): Record<string, string[]> {
  const transitions: Record<string, string[]> = {};
  stages.forEach((stage, i) => {
    transitions[stage] = [...stages.filter((s) => s !== stage), ...(i === stages.length - 1 ? ['hired'] : []), 'rejected', 'withdrawn'];
  });
  for (const final of FINAL_RECRUITING_STAGES) transitions[final] = [];
  return transitions;
}

/** The kernel records HRM adds: permissions, relationship and interaction types, indicators, record scopes. */
export function declare(api: PluginApi, deps: HrmDeps, options: ResolvedHrmOptions): void {
  for (const key of Object.values(PERMISSIONS)) api.permissions.define({ key, description: DESCRIPTIONS[key] });

  api.relationshipTypes.define({
    key: TYPES.partOf,
    internalOnly: true,
    title: 'Part of (unit tree)',
    fromRole: 'part',
    toRole: 'whole',
    fromKinds: ['unit'],
    toKinds: ['unit'],
  });
  api.relationshipTypes.define({
    key: TYPES.employment,
    internalOnly: true,
    title: 'Employment',
    fromRole: 'employer',
    toRole: 'employee',
    fromKinds: ['organization'],
    toKinds: ['person'],
    attributes: employmentAttributes,
  });
  api.relationshipTypes.define({
    key: TYPES.reportsTo,
    internalOnly: true,
    title: 'Reports to',
    fromRole: 'manager',
    toRole: 'report',
    fromKinds: ['person'],
    toKinds: ['person'],
  });

  api.relationshipTypes.define({
    key: TYPES.recruiting,
    internalOnly: true,
    title: 'Candidacy (recruiting)',
    fromRole: 'employer',
    toRole: 'candidate',
    fromKinds: ['organization'],
    toKinds: ['person'],
    statuses: [...options.recruitingStages, ...FINAL_RECRUITING_STAGES],
    activeStatuses: [...options.recruitingStages],
    transitions: recruitingTransitions(options.recruitingStages),
    attributes: recruitingAttributes,
  });

  const roles = ['employee', 'manager', 'colleague', 'hr', 'giver', 'receiver', 'requester', 'provider'];
  api.interactionTypes.define({
    key: INTERACTIONS.onboardingStep,
    title: 'Onboarding step',
    participantRoles: roles,
    // A completed checklist item names it; a step recorded by hand carries nothing.
    attributes: z.strictObject({ onboardingItemId: z.uuid().optional() }),
  });
  api.interactionTypes.define({ key: INTERACTIONS.oneToOne, title: 'One-to-one', participantRoles: roles });
  api.interactionTypes.define({ key: INTERACTIONS.feedback, title: 'Feedback', participantRoles: roles });
  api.interactionTypes.define({ key: INTERACTIONS.kudos, title: 'Recognition (kudos)', participantRoles: ['giver', 'receiver'] });
  api.interactionTypes.define({ key: INTERACTIONS.request, title: 'Internal service request', participantRoles: ['requester', 'provider'] });
  api.interactionTypes.define({
    key: INTERACTIONS.surveyParticipation,
    title: 'Took part in a survey',
    participantRoles: ['employee'],
    // Only the survey, never an answer.
    attributes: z.strictObject({ surveyId: z.uuid() }),
  });

  api.interactionTypes.define({
    key: INTERACTIONS.recruitingStage,
    title: 'Candidate moved to a stage',
    participantRoles: ['candidate'],
    attributes: z.strictObject({ openingId: z.uuid(), from: z.string().nullable(), to: z.string(), reason: z.string().max(2000).nullable() }),
  });
  api.interactionTypes.define({
    key: INTERACTIONS.interview,
    title: 'Interview',
    participantRoles: ['candidate', 'interviewer'],
    attributes: z.strictObject({ openingId: z.uuid(), rating: z.enum(INTERVIEW_SCALE.levels) }),
  });
  api.interactionTypes.define({
    key: INTERACTIONS.exitInterview,
    title: 'Exit interview',
    participantRoles: ['employee', 'hr'],
    // Never the reasons (a confidential interview keeps them out of the timeline).
    attributes: z.strictObject({ exitInterviewId: z.uuid(), outcome: z.enum(['retained', 'left']) }),
  });
  api.indicators.define({ key: INDICATORS.interviewRating, title: 'Interview rating', subject: 'party', hiddenFromSubject: true, kind: 'qualitative', scale: INTERVIEW_SCALE, text: true });
  api.indicators.define({ key: INDICATORS.exitComment, title: 'Exit interview comment', subject: 'party', kind: 'qualitative', text: true });
  api.indicators.define({ key: INDICATORS.enps, title: 'eNPS', subject: 'party', kind: 'quantitative', scale: { min: -100, max: 100 }, aggregate: 'last' });
  api.indicators.define({ key: INDICATORS.engagementComment, title: 'Engagement survey comment', subject: 'party', kind: 'qualitative', text: true });
  api.indicators.define({ key: INDICATORS.retentionRisk, title: 'Retention risk', subject: 'party', hiddenFromSubject: true, kind: 'quantitative', scale: { min: 0, max: 100 }, aggregate: 'last' });
  api.indicators.define({ key: INDICATORS.csat, title: 'Internal CSAT', subject: 'party', kind: 'quantitative', scale: { min: 1, max: 5 }, aggregate: 'avg' });

  declareScopes(api, deps);
}

/** What a principal scoped to a party (an employee's self-service) sees of HRM's records and the kernel's. */
function declareScopes(api: PluginApi, { parties, relationships }: HrmDeps): void {
  api.recordScopes.define(SCOPES.self, ({ ctx, partyId }) => parties.query(ctx, { ids: [partyId] }).select('id'));
  // Everyone below the manager, at any depth: one recursive query compiled into the caller's SQL.
  api.recordScopes.define(SCOPES.team, ({ ctx, partyId }) => relationships.reachable(ctx, { type: TYPES.reportsTo, from: partyId, along: 'from-to' }).select('party_id'));
  // Openings (and through them their candidacies) reach only their hiring manager; candidates are
  // not employees, so the extension of the kernel `parties` scope below never shows them.
  api.recordScopes.define(SCOPES.openings, ({ tables, partyId }) => tables('hrm_openings').select('id').where({ hiring_manager_id: partyId }));
  const isEmployee = (ctx: QueryContext, partyId: string) => relationships.query(ctx, { type: TYPES.employment, toPartyId: partyId, status: 'active' });
  api.recordScopes.define(SCOPES.units, ({ ctx, partyId }) => parties.query(ctx, { kind: 'unit' }).select('id').whereExists(isEmployee(ctx, partyId)));
  // Colleagues: an employee sees (the parties of) the other current employees, so kudos and
  // one-to-ones can name them. The records about them stay behind HRM's own scopes.
  api.recordScopes.extend('parties', ({ ctx, partyId }) => relationships.query(ctx, { type: TYPES.employment, status: 'active' }).select('to_party_id as id').whereExists(isEmployee(ctx, partyId)));
  // Units too (the org chart): requests and other interactions name the unit as a participant.
  api.recordScopes.extend('parties', ({ ctx, partyId }) => parties.query(ctx, { kind: 'unit' }).select('id').whereExists(isEmployee(ctx, partyId)));
  // Search finds desk requests within the same scope as the desk (a requester or assignee: its own).
  api.search.define({
    key: 'hrm.request',
    label: 'Desk requests',
    table: 'hrm_requests',
    title: 'title',
    text: ['description'],
    resource: SCOPES.requests,
    permission: PERMISSIONS.deskRead,
  });
  api.recordScopes.define(SCOPES.requests, ({ tables, partyId }) =>
    tables('hrm_requests')
      .select('id')
      .where({ requester_party_id: partyId })
      .union([tables('hrm_requests').select('id').where({ assignee_party_id: partyId })], true),
  );
}
