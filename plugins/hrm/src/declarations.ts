import { z } from 'zod';
import type { PluginApi } from '@rapport/core';

export const PERMISSIONS = {
  orgRead: 'hrm.org:read',
  orgWrite: 'hrm.org:write',
  employeesRead: 'hrm.employees:read',
  employeesWrite: 'hrm.employees:write',
  teamRead: 'hrm.team:read',
  privateRead: 'hrm.private:read',
  privateWrite: 'hrm.private:write',
  timelineWrite: 'hrm.timeline:write',
  surveysRead: 'hrm.surveys:read',
  surveysWrite: 'hrm.surveys:write',
  surveysRespond: 'hrm.surveys:respond',
  engagementRead: 'hrm.engagement:read',
  deskRead: 'hrm.desk:read',
  deskWrite: 'hrm.desk:write',
  deskManage: 'hrm.desk:manage',
  reviewsRead: 'hrm.reviews:read',
  reviewsWrite: 'hrm.reviews:write',
  reviewsManage: 'hrm.reviews:manage',
  announcementsRead: 'hrm.announcements:read',
  announcementsWrite: 'hrm.announcements:write',
  retentionRead: 'hrm.retention:read',
  retentionWrite: 'hrm.retention:write',
} as const;

const DESCRIPTIONS: Record<string, string> = {
  [PERMISSIONS.orgRead]: 'Read units and positions',
  [PERMISSIONS.orgWrite]: 'Create units and positions, move units in the tree',
  [PERMISSIONS.employeesRead]: 'Read employee profiles (a scoped principal: its own)',
  [PERMISSIONS.employeesWrite]: 'Hire, end employment, change reporting lines',
  [PERMISSIONS.teamRead]: "A scoped manager also reads its direct reports' records",
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
};

export const TYPES = {
  partOf: 'hrm.part-of',
  employment: 'hrm.employment',
  reportsTo: 'hrm.reports-to',
} as const;

export const INTERACTIONS = {
  onboardingStep: 'hrm.onboarding-step',
  oneToOne: 'hrm.one-to-one',
  feedback: 'hrm.feedback',
  kudos: 'hrm.kudos',
  request: 'hrm.request',
  surveyParticipation: 'hrm.survey-participation',
} as const;

export const INDICATORS = {
  enps: 'hrm.enps',
  engagementComment: 'hrm.engagement-comment',
  csat: 'hrm.csat',
  retentionRisk: 'hrm.retention-risk',
} as const;

/** Resources a scoped principal is restricted by. */
export const SCOPES = {
  /** The employee itself. */
  self: 'hrm.self',
  /** The employee and its direct reports (used when the caller holds hrm.team:read). */
  team: 'hrm.team',
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

export function declare(api: PluginApi): void {
  for (const key of Object.values(PERMISSIONS)) api.permissions.define({ key, description: DESCRIPTIONS[key] });

  api.relationshipTypes.define({
    key: TYPES.partOf,
    title: 'Part of (unit tree)',
    fromRole: 'part',
    toRole: 'whole',
    fromKinds: ['unit'],
    toKinds: ['unit'],
  });
  api.relationshipTypes.define({
    key: TYPES.employment,
    title: 'Employment',
    fromRole: 'employer',
    toRole: 'employee',
    fromKinds: ['organization'],
    toKinds: ['person'],
    attributes: employmentAttributes,
  });
  api.relationshipTypes.define({
    key: TYPES.reportsTo,
    title: 'Reports to',
    fromRole: 'manager',
    toRole: 'report',
    fromKinds: ['person'],
    toKinds: ['person'],
  });

  const roles = ['employee', 'manager', 'colleague', 'hr', 'giver', 'receiver', 'requester', 'provider'];
  api.interactionTypes.define({ key: INTERACTIONS.onboardingStep, title: 'Onboarding step', participantRoles: roles });
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

  api.indicators.define({ key: INDICATORS.enps, title: 'eNPS', subject: 'party', kind: 'quantitative', scale: { min: -100, max: 100 }, aggregate: 'last' });
  api.indicators.define({ key: INDICATORS.engagementComment, title: 'Engagement survey comment', subject: 'party', kind: 'qualitative', text: true });
  api.indicators.define({ key: INDICATORS.retentionRisk, title: 'Retention risk', subject: 'party', kind: 'quantitative', scale: { min: 0, max: 100 }, aggregate: 'last' });
  api.indicators.define({ key: INDICATORS.csat, title: 'Internal CSAT', subject: 'party', kind: 'quantitative', scale: { min: 1, max: 5 }, aggregate: 'avg' });

  api.recordScopes.define(SCOPES.self, ({ db, tenantId, partyId }) => db('rapport_parties').select('id').where({ tenant_id: tenantId, id: partyId }));
  api.recordScopes.define(SCOPES.team, ({ db, tenantId, partyId }) =>
    db('rapport_parties')
      .select('id')
      .where({ tenant_id: tenantId, id: partyId })
      .union(
        [
          db('rapport_relationships')
            .select('to_party_id as id')
            .where({ tenant_id: tenantId, type: TYPES.reportsTo, from_party_id: partyId, status: 'active' }),
        ],
        true,
      ),
  );
  api.recordScopes.define(SCOPES.units, ({ db, tenantId, partyId }) =>
    db('rapport_parties')
      .select('id')
      .where({ tenant_id: tenantId, kind: 'unit' })
      .whereExists(
        db('rapport_relationships')
          .select(db.raw('1'))
          .where({ tenant_id: tenantId, type: TYPES.employment, to_party_id: partyId, status: 'active' }),
      ),
  );
  // Colleagues: an employee sees (the parties of) the other current employees, so kudos and
  // one-to-ones can name them. The records about them stay behind HRM's own scopes.
  api.recordScopes.extend('parties', ({ db, tenantId, partyId }) =>
    db('rapport_relationships')
      .select('to_party_id as id')
      .where({ tenant_id: tenantId, type: TYPES.employment, status: 'active' })
      .whereExists(
        db('rapport_relationships as me')
          .select(db.raw('1'))
          .where({ 'me.tenant_id': tenantId, 'me.type': TYPES.employment, 'me.to_party_id': partyId, 'me.status': 'active' }),
      ),
  );
  // Units too (the org chart): requests and other interactions name the unit as a participant.
  api.recordScopes.extend('parties', ({ db, tenantId, partyId }) =>
    db('rapport_parties')
      .select('id')
      .where({ tenant_id: tenantId, kind: 'unit' })
      .whereExists(
        db('rapport_relationships')
          .select(db.raw('1'))
          .where({ tenant_id: tenantId, type: TYPES.employment, to_party_id: partyId, status: 'active' }),
      ),
  );
  api.recordScopes.define(SCOPES.requests, ({ db, tenantId, partyId }) =>
    db('hrm_requests')
      .select('id')
      .where({ tenant_id: tenantId, requester_party_id: partyId })
      .union([db('hrm_requests').select('id').where({ tenant_id: tenantId, assignee_party_id: partyId })], true),
  );
}
