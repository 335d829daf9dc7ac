import type { Employee, Goal, Position, Service, ServiceRequest, Survey, Unit } from './types.js';

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
  }
}

export {};
