import { defineContract, event, filter, service } from '@rapport/core';
import type { Announcement, Application, Employee, Goal, OnboardingItem, Opening, Position, ReviewCycle, ReviewKind, Service, ServiceRequest, Survey, Unit } from './records.js';

export * from './records.js';

/** Records the SLA breaches of a tenant as of a time: what the scheduled `hrm.sla-sweep` does for every tenant. */
export interface SlaBreaches {
  /** Marks each request newly past its resolution target and emits one `hrm.request.sla-breached` per request; the ids, sorted. */
  record(tenantId: string, now: Date): Promise<string[]>;
}

/**
 * HRM's contract. Deliberately absent: any event about a survey answer. An event carries its
 * actor to the audit log and to webhooks, so an "answered" event would link an anonymous
 * answer to its respondent.
 */
export const hrm = defineContract('hrm', {
  services: {
    slaBreaches: service<SlaBreaches>('sla-breaches'),
  },
  filters: {
    /** Inside the hire's transaction, once the employment exists (HRM's onboarding checklists start here). */
    employmentStart: filter<{ employee: Employee; employmentId: string }>('employment.start'),
  },
  events: {
    unitCreated: event<{ unit: Unit }>('unit.created'),
    unitMoved: event<{ unit: Unit; previousParentId: string | null }>('unit.moved'),
    positionCreated: event<{ position: Position }>('position.created'),
    employeeHired: event<{ employee: Employee }>('employee.hired'),
    employmentEnded: event<{ employee: Employee }>('employment.ended'),
    managerChanged: event<{ employee: Employee; previousManagerId: string | null }>('manager.changed'),
    /** Never the private data itself: webhooks receive every event of the tenant. */
    privateUpdated: event<{ partyId: string; version: number }>('private.updated'),
    surveyCreated: event<{ survey: Survey }>('survey.created'),
    surveyOpened: event<{ survey: Survey }>('survey.opened'),
    surveyClosed: event<{ survey: Survey }>('survey.closed'),
    /** That a person took part; never what they answered. */
    surveyParticipated: event<{ surveyId: string; partyId: string }>('survey.participated'),
    serviceCreated: event<{ service: Service }>('service.created'),
    requestOpened: event<{ request: ServiceRequest }>('request.opened'),
    requestUpdated: event<{ request: ServiceRequest; previous: ServiceRequest }>('request.updated'),
    requestRated: event<{ request: ServiceRequest }>('request.rated'),
    requestSlaBreached: event<{ request: ServiceRequest }>('request.sla-breached'),
    reviewCycleCreated: event<{ cycle: ReviewCycle }>('review-cycle.created'),
    reviewCycleClosed: event<{ cycle: ReviewCycle }>('review-cycle.closed'),
    goalSet: event<{ goal: Goal }>('goal.set'),
    goalUpdated: event<{ goal: Goal; previous: Goal }>('goal.updated'),
    /** reviewerId is null for upward reviews. */
    reviewSubmitted: event<{ cycleId: string; subjectId: string; kind: ReviewKind; reviewerId: string | null }>('review.submitted'),
    announcementPublished: event<{ announcement: Announcement }>('announcement.published'),
    announcementRead: event<{ announcementId: string; partyId: string }>('announcement.read'),
    announcementAcknowledged: event<{ announcementId: string; partyId: string }>('announcement.acknowledged'),
    openingCreated: event<{ opening: Opening }>('opening.created'),
    openingClosed: event<{ opening: Opening }>('opening.closed'),
    candidateApplied: event<{ application: Application }>('candidate.applied'),
    candidateMoved: event<{ application: Application; previousStage: string }>('candidate.moved'),
    candidateHired: event<{ application: Application; employee: Employee }>('candidate.hired'),
    /** That feedback was given; the rating and text stay on the timeline and the observation. */
    interviewRecorded: event<{ applicationId: string; candidateId: string; interactionId: string }>('interview.recorded'),
    onboardingAssigned: event<{ employeeId: string; employmentId: string; itemIds: string[] }>('onboarding.assigned'),
    onboardingItemDone: event<{ item: OnboardingItem }>('onboarding.item-done'),
    /** Never the reasons or the comment: a confidential interview keeps them out of events and webhooks. */
    exitInterviewRecorded: event<{ exitInterviewId: string; employeeId: string; outcome: 'retained' | 'left'; confidential: boolean }>('exit-interview.recorded'),
    settingsUpdated: event<{ key: string; version: number }>('settings.updated'),
  },
});
