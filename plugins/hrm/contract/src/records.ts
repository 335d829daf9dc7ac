import { z } from 'zod';
import { isoTimestamp } from '@rapport/core';

/*
 * HRM's records as the API sends them: each schema is the response schema of the routes that
 * return it (and so the OpenAPI document), and its `z.infer` type is what events carry.
 */

// ── Names other plugins use ──────────────────────────────────────────────────────────────────

export const HRM_PERMISSIONS = {
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
  recruitingRead: 'hrm.recruiting:read',
  recruitingWrite: 'hrm.recruiting:write',
  onboardingRead: 'hrm.onboarding:read',
  onboardingWrite: 'hrm.onboarding:write',
  onboardingManage: 'hrm.onboarding:manage',
  exitRead: 'hrm.exit:read',
  exitWrite: 'hrm.exit:write',
} as const;

export const HRM_RELATIONSHIP_TYPES = {
  partOf: 'hrm.part-of',
  employment: 'hrm.employment',
  reportsTo: 'hrm.reports-to',
  recruiting: 'hrm.recruiting',
} as const;

export const HRM_INTERACTION_TYPES = {
  onboardingStep: 'hrm.onboarding-step',
  oneToOne: 'hrm.one-to-one',
  feedback: 'hrm.feedback',
  kudos: 'hrm.kudos',
  request: 'hrm.request',
  surveyParticipation: 'hrm.survey-participation',
  recruitingStage: 'hrm.recruiting-stage',
  interview: 'hrm.interview',
  exitInterview: 'hrm.exit-interview',
} as const;

export const HRM_INDICATORS = {
  enps: 'hrm.enps',
  engagementComment: 'hrm.engagement-comment',
  csat: 'hrm.csat',
  retentionRisk: 'hrm.retention-risk',
  interviewRating: 'hrm.interview-rating',
  exitComment: 'hrm.exit-comment',
} as const;

/** The named scale interviewers rate a candidate on (qualitative). */
export const INTERVIEW_SCALE = { name: 'hiring-recommendation', levels: ['strong-no', 'no', 'yes', 'strong-yes'] } as const;

/** The scheduled task recording SLA breaches (`rapport.scheduler.runNow(SLA_SWEEP_TASK)` runs it at once). */
export const SLA_SWEEP_TASK = 'hrm.sla-sweep';

// ── Organization ─────────────────────────────────────────────────────────────────────────────

export const unitSchema = z.object({ id: z.uuid(), name: z.string(), parentId: z.uuid().nullable() });
export type Unit = z.infer<typeof unitSchema>;

export const unitDetailSchema = unitSchema.extend({ childIds: z.array(z.uuid()), headcount: z.number().int() });
export type UnitDetail = z.infer<typeof unitDetailSchema>;

export const positionSchema = z.object({ id: z.uuid(), title: z.string(), unitId: z.uuid().nullable(), grade: z.string().nullable(), createdAt: isoTimestamp });
export type Position = z.infer<typeof positionSchema>;

/** The `hrm.employment` relationship as HRM reads it: its attributes spelled out. */
export const employmentSchema = z.object({
  relationshipId: z.uuid(),
  status: z.string(),
  unitId: z.uuid(),
  positionId: z.uuid().nullable(),
  start: isoTimestamp.nullable(),
  end: isoTimestamp.nullable(),
  endReason: z.string().nullable(),
});
export type Employment = z.infer<typeof employmentSchema>;

export const employeeSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  /** The current employment, or the latest one of a leaver; null for a person never employed. */
  employment: employmentSchema.nullable(),
  managerId: z.uuid().nullable(),
  reportIds: z.array(z.uuid()),
});
export type Employee = z.infer<typeof employeeSchema>;

/** HR-private data: never a party attribute, so kernel readers never see it. */
export const privateRecordSchema = z.object({
  partyId: z.uuid(),
  contract: z.object({
    type: z.string().optional(),
    hoursPerWeek: z.number().optional(),
    start: z.string().optional(),
    end: z.string().nullable().optional(),
    reference: z.string().optional(),
  }),
  payBand: z.string().nullable(),
  privateContact: z.object({ email: z.string().optional(), phone: z.string().optional(), address: z.string().optional(), emergencyContact: z.string().optional() }),
  notes: z.string().nullable(),
  version: z.number().int(),
  updatedAt: isoTimestamp,
});
export type PrivateRecord = z.infer<typeof privateRecordSchema>;

// ── Engagement surveys ───────────────────────────────────────────────────────────────────────

export const QUESTION_TYPES = ['scale', 'enps', 'choice', 'text'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];
export const SURVEY_KINDS = ['pulse', 'full'] as const;
export const SURVEY_STATUSES = ['draft', 'open', 'closed'] as const;

export const surveyQuestionSchema = z.object({
  id: z.string(),
  type: z.enum(QUESTION_TYPES),
  text: z.string(),
  /** scale: inclusive bounds (default 1..5). */
  min: z.number().int().optional(),
  max: z.number().int().optional(),
  /** choice: the options. */
  choices: z.array(z.string()).optional(),
});
export type SurveyQuestion = z.infer<typeof surveyQuestionSchema>;

export const surveySchema = z.object({
  id: z.uuid(),
  title: z.string(),
  kind: z.enum(SURVEY_KINDS),
  anonymous: z.boolean(),
  minGroupSize: z.number().int(),
  questions: z.array(surveyQuestionSchema),
  status: z.enum(SURVEY_STATUSES),
  openedAt: isoTimestamp.nullable(),
  closedAt: isoTimestamp.nullable(),
  createdAt: isoTimestamp,
});
export type Survey = z.infer<typeof surveySchema>;

/** What answering a survey returns: that one took part, never the answers. */
export const surveyParticipationReceiptSchema = z.object({ surveyId: z.uuid(), participated: z.literal(true) });

export const surveyParticipationSchema = z.object({ surveyId: z.uuid(), participants: z.number().int(), eligible: z.number().int(), rate: z.number().nullable() });

/** An answer of a NON-anonymous survey, with its respondent (an anonymous survey never has one). */
export const namedAnswerSchema = z.object({ respondentId: z.uuid(), unitId: z.uuid().nullable(), answers: z.record(z.string(), z.union([z.number(), z.string()])) });
export type NamedAnswer = z.infer<typeof namedAnswerSchema>;

export const questionResultSchema = z.object({
  id: z.string(),
  type: z.enum(QUESTION_TYPES),
  answered: z.number().int(),
  /** scale and eNPS: the mean score. */
  mean: z.number().nullable().optional(),
  /** eNPS questions. */
  enps: z.number().nullable().optional(),
  /** scale, eNPS and choice: how many gave each value. Free text is never listed here. */
  distribution: z.record(z.string(), z.number().int()).optional(),
});
export type QuestionResult = z.infer<typeof questionResultSchema>;

export const groupResultSchema = z.object({
  responses: z.number().int(),
  /** eNPS over the survey's first eNPS question. */
  enps: z.number().nullable(),
  questions: z.array(questionResultSchema),
});
export type GroupResult = z.infer<typeof groupResultSchema>;

const suppressed = z.object({ suppressed: z.literal(true) });
const shown = groupResultSchema.extend({ suppressed: z.literal(false) });
const unitId = { unitId: z.uuid() };

export const surveyResultsSchema = z.object({
  surveyId: z.uuid(),
  anonymous: z.boolean(),
  minGroupSize: z.number().int(),
  overall: z.union([suppressed, shown]),
  units: z.array(z.union([suppressed.extend(unitId), shown.extend(unitId)])),
});
export type SurveyResults = z.infer<typeof surveyResultsSchema>;

/** One closed survey in a unit's or a manager's eNPS over time. */
export const enpsTrendSchema = z.object({
  data: z.array(z.object({ surveyId: z.uuid(), title: z.string(), closedAt: isoTimestamp, suppressed: z.boolean(), responses: z.number().int().nullable(), enps: z.number().nullable() })),
});
export type EnpsTrend = z.infer<typeof enpsTrendSchema>;

// ── Service desk ─────────────────────────────────────────────────────────────────────────────

export const REQUEST_STATUSES = ['open', 'in-progress', 'resolved', 'closed', 'cancelled'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const serviceSchema = z.object({
  id: z.uuid(),
  unitId: z.uuid(),
  name: z.string(),
  description: z.string().nullable(),
  responseTargetMinutes: z.number().int().nullable(),
  resolutionTargetMinutes: z.number().int(),
  active: z.boolean(),
  createdAt: isoTimestamp,
});
export type Service = z.infer<typeof serviceSchema>;

export const serviceRequestSchema = z.object({
  id: z.uuid(),
  serviceId: z.uuid(),
  providerUnitId: z.uuid(),
  requesterPartyId: z.uuid(),
  title: z.string(),
  description: z.string().nullable(),
  assigneePartyId: z.uuid().nullable(),
  status: z.enum(REQUEST_STATUSES),
  openedAt: isoTimestamp,
  firstResponseAt: isoTimestamp.nullable(),
  responseDueAt: isoTimestamp.nullable(),
  resolutionDueAt: isoTimestamp,
  resolvedAt: isoTimestamp.nullable(),
  closedAt: isoTimestamp.nullable(),
  /** Computed against the plugin clock: resolution target passed (or met late). */
  breached: z.boolean(),
  /** When the SLA sweep recorded the breach (and emitted hrm.request.sla-breached); null until then. */
  slaBreachedAt: isoTimestamp.nullable(),
  csat: z.number().int().nullable(),
  csatComment: z.string().nullable(),
  interactionId: z.uuid().nullable(),
  version: z.number().int(),
});
export type ServiceRequest = z.infer<typeof serviceRequestSchema>;

export const scorecardSchema = z.object({
  unitId: z.uuid(),
  asOf: isoTimestamp,
  services: z.array(
    z.object({
      serviceId: z.uuid(),
      name: z.string(),
      requests: z.number().int(),
      open: z.number().int(),
      resolved: z.number().int(),
      breached: z.number().int(),
      breachRate: z.number().nullable(),
      avgResolutionMinutes: z.number().nullable(),
      csatResponses: z.number().int(),
      csat: z.number().nullable(),
    }),
  ),
});
export type Scorecard = z.infer<typeof scorecardSchema>;

export const slaSweepSchema = z.object({ asOf: isoTimestamp, breached: z.array(z.uuid()) });

// ── Performance reviews ──────────────────────────────────────────────────────────────────────

export const REVIEW_KINDS = ['self', 'manager', 'peer', 'upward'] as const;
export type ReviewKind = (typeof REVIEW_KINDS)[number];

const perKind = <T extends z.ZodType>(item: T) => z.object({ self: item, manager: item, peer: item, upward: item });

/** The configurable final-score formula of a cycle. */
export const scoreFormulaSchema = z.object({
  /** Weights of the goal (quantitative) and competency (qualitative) parts. */
  goals: z.number(),
  competencies: z.number(),
  /** Weights of each reviewer kind inside the competency part. */
  reviewers: perKind(z.number()),
  /** Attainment (actual / target) is capped at this, so one goal cannot carry the rest. */
  goalCap: z.number(),
});
export type ScoreFormula = z.infer<typeof scoreFormulaSchema>;

export const DEFAULT_FORMULA: ScoreFormula = { goals: 0.5, competencies: 0.5, reviewers: { self: 0.1, manager: 0.5, peer: 0.2, upward: 0.2 }, goalCap: 1.2 };

export const reviewCycleSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  periodStart: isoTimestamp,
  periodEnd: isoTimestamp,
  competencies: z.array(z.string()),
  scale: z.object({ name: z.string(), levels: z.array(z.string()) }),
  formula: scoreFormulaSchema,
  closedAt: isoTimestamp.nullable(),
  createdAt: isoTimestamp,
});
export type ReviewCycle = z.infer<typeof reviewCycleSchema>;

export const goalSchema = z.object({
  id: z.uuid(),
  cycleId: z.uuid(),
  employeeId: z.uuid(),
  title: z.string(),
  weight: z.number(),
  target: z.number(),
  actual: z.number().nullable(),
  version: z.number().int(),
});
export type Goal = z.infer<typeof goalSchema>;

/** What giving a review returns: that it was taken, never who gave an upward one. */
export const reviewReceiptSchema = z.object({ cycleId: z.uuid(), subjectId: z.uuid(), kind: z.enum(REVIEW_KINDS), submitted: z.literal(true) });

export const kindScoreSchema = z.object({ reviews: z.number().int(), score: z.number().nullable(), suppressed: z.boolean().optional() });
export type KindScore = z.infer<typeof kindScoreSchema>;

export const scoresSchema = z.object({
  cycleId: z.uuid(),
  employeeId: z.uuid(),
  goals: z.array(goalSchema),
  goalScore: z.number().nullable(),
  byKind: perKind(kindScoreSchema),
  competencyScore: z.number().nullable(),
  final: z.number().nullable(),
});
export type Scores = z.infer<typeof scoresSchema>;

export const reviewFeedbackSchema = z.object({
  attributed: z.array(z.object({ kind: z.enum(REVIEW_KINDS), reviewerId: z.uuid(), feedback: z.string() })),
  /** Upward feedback: unattributed, and only from a group at the threshold of a closed cycle. */
  upward: z.object({ suppressed: z.boolean(), feedback: z.array(z.string()) }),
});
export type ReviewFeedback = z.infer<typeof reviewFeedbackSchema>;

// ── Announcements ────────────────────────────────────────────────────────────────────────────

export const announcementSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  body: z.string(),
  /** The audience units, subunits expanded at publication; empty = everyone. */
  unitIds: z.array(z.uuid()),
  requiresAck: z.boolean(),
  publishedAt: isoTimestamp,
  /** The caller's own receipt, when the caller is a person. */
  readAt: isoTimestamp.nullable().optional(),
  acknowledgedAt: isoTimestamp.nullable().optional(),
});
export type Announcement = z.infer<typeof announcementSchema>;

export const announcementReceiptsSchema = z.object({
  announcementId: z.uuid(),
  audience: z.number().int(),
  read: z.number().int(),
  acknowledged: z.number().int(),
  pendingRead: z.array(z.uuid()),
  pendingAcknowledgement: z.array(z.uuid()),
});

// ── Retention ────────────────────────────────────────────────────────────────────────────────

export const RETENTION_FACTORS = ['tenure', 'manager-change', 'review-trend', 'engagement-trend', 'open-grievances'] as const;
export type RetentionFactorKey = (typeof RETENTION_FACTORS)[number];

export const retentionWeightsShape = z.object({ tenure: z.number(), 'manager-change': z.number(), 'review-trend': z.number(), 'engagement-trend': z.number(), 'open-grievances': z.number() });
export type RetentionWeights = z.infer<typeof retentionWeightsShape>;

/** The default weights (they sum to 100, so the score is 0..100); a tenant may set its own. */
export const RETENTION_WEIGHTS: Readonly<RetentionWeights> = { tenure: 20, 'manager-change': 20, 'review-trend': 25, 'engagement-trend': 20, 'open-grievances': 15 };

export const retentionFactorSchema = z.object({
  key: z.enum(RETENTION_FACTORS),
  weight: z.number(),
  /** 0..1: how strongly the signal is present. */
  value: z.number(),
  contribution: z.number(),
  detail: z.string(),
});
export type RetentionFactor = z.infer<typeof retentionFactorSchema>;

export const retentionRiskSchema = z.object({
  employeeId: z.uuid(),
  asOf: isoTimestamp,
  score: z.number(),
  level: z.enum(['low', 'medium', 'high']),
  factors: z.array(retentionFactorSchema),
});
export type RetentionRisk = z.infer<typeof retentionRiskSchema>;

export const retentionWeightsSchema = z.object({ weights: retentionWeightsShape, defaults: retentionWeightsShape, custom: z.boolean(), version: z.number().int() });
export type RetentionWeightsSetting = z.infer<typeof retentionWeightsSchema>;

// ── Recruiting ───────────────────────────────────────────────────────────────────────────────

/** The stages every candidacy may end in, after the plugin's configured open stages. */
export const FINAL_RECRUITING_STAGES = ['hired', 'rejected', 'withdrawn'] as const;

export const openingSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  unitId: z.uuid(),
  positionId: z.uuid().nullable(),
  hiringManagerId: z.uuid().nullable(),
  status: z.enum(['open', 'closed']),
  createdAt: isoTimestamp,
});
export type Opening = z.infer<typeof openingSchema>;

/** A candidacy: the hrm.recruiting relationship (employer → candidate) for one opening; its status is the stage. */
export const applicationSchema = z.object({
  id: z.uuid(),
  candidateId: z.uuid(),
  candidateName: z.string(),
  openingId: z.uuid(),
  stage: z.string(),
  source: z.string().nullable(),
  appliedAt: isoTimestamp,
  updatedAt: isoTimestamp,
  version: z.number().int(),
});
export type Application = z.infer<typeof applicationSchema>;

export const hireSchema = z.object({ application: applicationSchema, employee: employeeSchema });

// ── Onboarding ───────────────────────────────────────────────────────────────────────────────

export const ONBOARDING_OWNERS = ['hr', 'manager', 'employee'] as const;
export type OnboardingOwner = (typeof ONBOARDING_OWNERS)[number];

export const onboardingTemplateSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  /** null: any unit (a unit template applies to its subunits too). */
  unitId: z.uuid().nullable(),
  /** null: any position. */
  positionId: z.uuid().nullable(),
  /** Each item is due `dueDays` after the employment starts. */
  items: z.array(z.object({ title: z.string(), owner: z.enum(ONBOARDING_OWNERS), dueDays: z.number().int() })),
  createdAt: isoTimestamp,
});
export type OnboardingTemplate = z.infer<typeof onboardingTemplateSchema>;

export const onboardingItemSchema = z.object({
  id: z.uuid(),
  employeeId: z.uuid(),
  employmentId: z.uuid(),
  templateId: z.uuid(),
  position: z.number().int(),
  title: z.string(),
  owner: z.enum(ONBOARDING_OWNERS),
  dueAt: isoTimestamp,
  doneAt: isoTimestamp.nullable(),
  doneByPartyId: z.uuid().nullable(),
  /** Against the plugin clock. */
  overdue: z.boolean(),
});
export type OnboardingItem = z.infer<typeof onboardingItemSchema>;

export const onboardingChecklistSchema = z.object({ employeeId: z.uuid(), total: z.number().int(), done: z.number().int(), overdue: z.number().int(), items: z.array(onboardingItemSchema) });

// ── Exit interviews ──────────────────────────────────────────────────────────────────────────

export const exitInterviewSchema = z.object({
  id: z.uuid(),
  employeeId: z.uuid(),
  /** The unit at the time: reasons are aggregated per unit. */
  unitId: z.uuid(),
  confidential: z.boolean(),
  /** null for a confidential interview: its reasons are served only aggregated. */
  reasons: z.array(z.string()).nullable(),
  outcome: z.enum(['retained', 'left']),
  conductedAt: isoTimestamp,
  interactionId: z.uuid().nullable(),
});
export type ExitInterview = z.infer<typeof exitInterviewSchema>;

const exitCounts = z.object({ interviews: z.number().int(), retained: z.number().int(), left: z.number().int(), reasons: z.record(z.string(), z.number().int()) });

export const exitReasonsSchema = z.object({
  period: z.string(),
  from: isoTimestamp,
  to: isoTimestamp,
  ended: z.boolean(),
  minGroupSize: z.number().int(),
  units: z.array(
    z.object({
      unitId: z.uuid(),
      open: exitCounts,
      /** Confidential interviews: only for an ended period, at the threshold, comments unattributed. */
      confidential: z.union([z.object({ suppressed: z.literal(true) }), exitCounts.extend({ suppressed: z.literal(false), comments: z.array(z.string()) })]),
    }),
  ),
});
export type ExitReasons = z.infer<typeof exitReasonsSchema>;
