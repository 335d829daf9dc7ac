import { defineRecord } from '@rapport/core';
import {
  announcementSchema,
  exitInterviewSchema,
  goalSchema,
  onboardingItemSchema,
  onboardingTemplateSchema,
  openingSchema,
  positionSchema,
  privateRecordSchema,
  reviewCycleSchema,
  serviceRequestSchema,
  serviceSchema,
  surveySchema,
} from '@rapport/hrm-contract';

/*
 * Row mappers of HRM's own tables, derived from the contract's schemas: each field is the
 * snake_case column of its name unless listed here (null: computed, not a column).
 */

export const positionRecord = defineRecord(positionSchema);
export const privateRecord = defineRecord(privateRecordSchema);
export const surveyRecord = defineRecord(surveySchema);
export const serviceRecord = defineRecord(serviceSchema);
/** `breached` is computed against the plugin clock. */
export const requestRecord = defineRecord(serviceRequestSchema, { columns: { breached: null } });
export const reviewCycleRecord = defineRecord(reviewCycleSchema);
export const goalRecord = defineRecord(goalSchema);
/** The caller's receipt comes from a join, when there is one. */
export const announcementRecord = defineRecord(announcementSchema, { columns: { readAt: null, acknowledgedAt: null } });
export const openingRecord = defineRecord(openingSchema);
export const onboardingTemplateRecord = defineRecord(onboardingTemplateSchema);
/** `overdue` is computed against the plugin clock. */
export const onboardingItemRecord = defineRecord(onboardingItemSchema, { columns: { overdue: null } });
/** `reasons` are served only for an interview that is not confidential. */
export const exitInterviewRecord = defineRecord(exitInterviewSchema, { columns: { reasons: null } });
