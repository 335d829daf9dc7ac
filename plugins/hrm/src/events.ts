import type { Application, Employee, Goal, OnboardingItem, Opening, Position, Service, ServiceRequest, Survey, Unit } from './types.js';

/*
 * HRM's events (docs/plugins/hrm.md). Deliberately absent: any event about a survey answer.
 * An event carries its actor to the audit log and to webhooks, so an "answered" event would
 * link an anonymous answer to its respondent.
 */
declare module '@rapport/core' {
  interface HookMap {
    'hrm.unit.created': { unit: Unit };
    'hrm.unit.moved': { unit: Unit; previousParentId: string | null };
    'hrm.position.created': { position: Position };
    'hrm.employee.hired': { employee: Employee };
    'hrm.employment.ended': { employee: Employee };
    'hrm.manager.changed': { employee: Employee; previousManagerId: string | null };
    /** Never the private data itself: webhooks receive every event of the tenant. */
    'hrm.private.updated': { partyId: string; version: number };
    'hrm.survey.created': { survey: Survey };
    'hrm.survey.opened': { survey: Survey };
    'hrm.survey.closed': { survey: Survey };
    /** That a person took part; never what they answered. */
    'hrm.survey.participated': { surveyId: string; partyId: string };
    'hrm.service.created': { service: Service };
    'hrm.request.opened': { request: ServiceRequest };
    'hrm.request.updated': { request: ServiceRequest; previous: ServiceRequest };
    'hrm.request.rated': { request: ServiceRequest };
    'hrm.review-cycle.created': { cycle: { id: string; name: string } & Record<string, unknown> };
    'hrm.review-cycle.closed': { cycle: { id: string; name: string } & Record<string, unknown> };
    'hrm.goal.set': { goal: Goal };
    'hrm.goal.updated': { goal: Goal; previous: Goal };
    /** reviewerId is null for upward reviews. */
    'hrm.announcement.published': { announcement: { id: string; title: string; unitIds: string[]; requiresAck: boolean } & Record<string, unknown> };
    'hrm.announcement.read': { announcementId: string; partyId: string };
    'hrm.announcement.acknowledged': { announcementId: string; partyId: string };
    'hrm.review.submitted': { cycleId: string; subjectId: string; kind: string; reviewerId: string | null };
    'hrm.opening.created': { opening: Opening };
    'hrm.opening.closed': { opening: Opening };
    'hrm.candidate.applied': { application: Application };
    'hrm.candidate.moved': { application: Application; previousStage: string };
    'hrm.candidate.hired': { application: Application; employee: Employee };
    /** That feedback was given; the rating and text stay on the timeline and the observation. */
    'hrm.interview.recorded': { applicationId: string; candidateId: string; interactionId: string };
    'hrm.onboarding.assigned': { employeeId: string; employmentId: string; itemIds: string[] };
    'hrm.onboarding.item-done': { item: OnboardingItem };
    /** Never the reasons or the comment: a confidential interview keeps them out of events and webhooks. */
    'hrm.exit-interview.recorded': { exitInterviewId: string; employeeId: string; outcome: 'retained' | 'left'; confidential: boolean };
    'hrm.request.sla-breached': { request: ServiceRequest };
    'hrm.settings.updated': { key: string; version: number };
  }
  interface FilterMap {
    /** Inside the hire's transaction, once the employment exists. */
    'hrm.employment.start': { employee: Employee; employmentId: string };
  }
}

export {};
