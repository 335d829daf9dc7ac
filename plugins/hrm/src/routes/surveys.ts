import { z } from 'zod';
import { idParams, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import {
  SURVEY_KINDS,
  SURVEY_STATUSES,
  enpsTrendSchema,
  namedAnswerSchema,
  surveyParticipationReceiptSchema,
  surveyParticipationSchema,
  surveyResultsSchema,
  surveySchema,
} from '@rapport/hrm-contract';
import { PERMISSIONS } from '../declarations.js';
import type { HrmServices } from '../services/index.js';

const questionId = z
  .string()
  .regex(/^[a-z0-9_-]{1,40}$/i)
  .optional();
const questionText = z.string().trim().min(1).max(500);
const questionInput = z.discriminatedUnion('type', [
  z.strictObject({ id: questionId, type: z.literal('scale'), text: questionText, min: z.number().int().min(0).max(10).default(1), max: z.number().int().min(1).max(10).default(5) }),
  z.strictObject({ id: questionId, type: z.literal('enps'), text: questionText }),
  z.strictObject({ id: questionId, type: z.literal('choice'), text: questionText, choices: z.array(z.string().trim().min(1).max(200)).min(2).max(30) }),
  z.strictObject({ id: questionId, type: z.literal('text'), text: questionText }),
]);

const trendQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(24) });

/**
 * Engagement surveys. Employees (scoped principals) read open surveys and answer as themselves;
 * participation, answers, results and trends are tenant-wide reads for HR, except a scoped
 * manager's own conduct trend. No route ever serves an anonymous answer with a person.
 */
export function surveyRoutes(r: RouteBuilder, { surveys }: HrmServices): void {
  r.post('/surveys', {
    summary: 'Create a survey (draft): pulse or full, anonymous by default',
    permission: PERMISSIONS.surveysWrite,
    body: z.strictObject({
      title: z.string().trim().min(1).max(300),
      kind: z.enum(SURVEY_KINDS),
      anonymous: z.boolean().default(true),
      minGroupSize: z.number().int().min(1).max(1000).optional(),
      questions: z.array(questionInput).min(1).max(100),
    }),
    response: surveySchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => surveys.create(uow, ctx.body)),
  });

  r.get('/surveys', {
    summary: 'List surveys (newest first)',
    permission: PERMISSIONS.surveysRead,
    audience: 'any',
    query: z.strictObject({ ...pageQuery, status: z.enum(SURVEY_STATUSES).optional() }),
    response: pageOf(surveySchema),
    handler: (ctx) => surveys.list(ctx, ctx.query),
  });

  r.get('/surveys/:id', {
    summary: 'Get a survey and its questions',
    permission: PERMISSIONS.surveysRead,
    audience: 'any',
    params: idParams,
    response: surveySchema,
    handler: (ctx) => surveys.get(ctx, ctx.params.id),
  });

  r.post('/surveys/:id/open', {
    summary: 'Open a draft survey for answers',
    permission: PERMISSIONS.surveysWrite,
    params: idParams,
    response: surveySchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => surveys.open(uow, ctx.params.id)),
  });

  r.post('/surveys/:id/close', {
    summary: 'Close a survey; records eNPS and comments of the groups above the threshold as observations',
    permission: PERMISSIONS.surveysWrite,
    params: idParams,
    response: surveySchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => surveys.close(uow, ctx.params.id)),
  });

  r.post('/surveys/:id/responses', {
    summary: 'Answer a survey as oneself (once). Anonymous: the answers are stored apart from the participation, with no link to the respondent',
    permission: PERMISSIONS.surveysRespond,
    audience: 'any',
    params: idParams,
    body: z.strictObject({ answers: z.record(z.string().max(40), z.union([z.number(), z.string()])) }),
    // Whether the survey is anonymous is the survey's, not the request's: every answer is written
    // anonymously (the participation names the respondent, and a named survey's answer row too).
    anonymous: true,
    response: surveyParticipationReceiptSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => surveys.respond(uow, ctx.params.id, ctx.body.answers)),
  });

  r.get('/surveys/:id/participation', {
    summary: 'How many took part (counts only)',
    permission: PERMISSIONS.surveysRead,
    params: idParams,
    response: surveyParticipationSchema,
    handler: (ctx) => surveys.participation(ctx, ctx.params.id),
  });

  r.get('/surveys/:id/answers', {
    summary: 'Individual answers of a NON-anonymous survey, with the respondent; an anonymous survey never serves them (409)',
    description: "Colleagues' answers are HR's to read, never another employee's self-service.",
    permission: PERMISSIONS.surveysRead,
    params: idParams,
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(namedAnswerSchema),
    handler: (ctx) => surveys.namedAnswers(ctx, ctx.params.id, ctx.query),
  });

  r.get('/surveys/:id/results', {
    summary: 'Aggregated results, overall and per unit, under the anonymity threshold (anonymous surveys: after closing only)',
    permission: PERMISSIONS.engagementRead,
    params: idParams,
    response: surveyResultsSchema,
    handler: (ctx) => surveys.results(ctx, ctx.params.id),
  });

  r.get('/engagement/units/:id', {
    summary: 'eNPS of a unit over time (one entry per closed survey; suppressed below the threshold)',
    permission: PERMISSIONS.engagementRead,
    params: idParams,
    query: trendQuery,
    response: enpsTrendSchema,
    handler: (ctx) => surveys.unitTrend(ctx, ctx.params.id, ctx.query.limit),
  });

  r.get('/engagement/managers/:id', {
    summary: "Manager conduct: eNPS of a manager's reports over time (suppressed below the threshold); a scoped manager may read its own",
    permission: PERMISSIONS.engagementRead,
    audience: 'any',
    params: idParams,
    query: trendQuery,
    response: enpsTrendSchema,
    handler: (ctx) => surveys.managerTrend(ctx, ctx.params.id, ctx.query.limit),
  });
}
