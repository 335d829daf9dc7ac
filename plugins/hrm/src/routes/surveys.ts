import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationError,
  decodeCursor,
  idParams,
  newId,
  pageOf,
  pageQuery,
  toPage,
  type RequestContext,
  type RouteBuilder,
} from '@rapport/core';
import { INDICATORS, INTERACTIONS, PERMISSIONS } from '../declarations.js';
import { SMALLEST_ALLOWED_GROUP, type ResolvedHrmOptions } from '../options.js';
import type { Survey, SurveyQuestion } from '../types.js';
import { answerIssues, groupResults, summarize, type GroupOutcome } from '../services/engagement.js';
import { activeEmployment, currentManagerId } from '../services/org.js';
import { getSurvey, responsesOf, toSurvey, type SurveyRow } from '../services/surveys.js';

const questionInput = z.discriminatedUnion('type', [
  z.strictObject({ id: z.string().regex(/^[a-z0-9_-]{1,40}$/i).optional(), type: z.literal('scale'), text: z.string().trim().min(1).max(500), min: z.number().int().min(0).max(10).default(1), max: z.number().int().min(1).max(10).default(5) }),
  z.strictObject({ id: z.string().regex(/^[a-z0-9_-]{1,40}$/i).optional(), type: z.literal('enps'), text: z.string().trim().min(1).max(500) }),
  z.strictObject({ id: z.string().regex(/^[a-z0-9_-]{1,40}$/i).optional(), type: z.literal('choice'), text: z.string().trim().min(1).max(500), choices: z.array(z.string().trim().min(1).max(200)).min(2).max(30) }),
  z.strictObject({ id: z.string().regex(/^[a-z0-9_-]{1,40}$/i).optional(), type: z.literal('text'), text: z.string().trim().min(1).max(500) }),
]);

const surveySchema = z.object({
  id: z.uuid(),
  title: z.string(),
  kind: z.enum(['pulse', 'full']),
  anonymous: z.boolean(),
  minGroupSize: z.number(),
  questions: z.array(z.object({ id: z.string(), type: z.string(), text: z.string(), min: z.number().optional(), max: z.number().optional(), choices: z.array(z.string()).optional() })),
  status: z.enum(['draft', 'open', 'closed']),
  openedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  createdAt: z.string(),
});

const questionResultSchema = z.object({
  id: z.string(),
  type: z.string(),
  answered: z.number(),
  mean: z.number().nullable().optional(),
  enps: z.number().nullable().optional(),
  distribution: z.record(z.string(), z.number()).optional(),
});
const groupSchema = z.object({ responses: z.number(), enps: z.number().nullable(), questions: z.array(questionResultSchema) });
const outcomeSchema = z.union([z.object({ suppressed: z.literal(true) }), groupSchema.extend({ suppressed: z.literal(false) })]);

export function surveyRoutes(r: RouteBuilder, options: ResolvedHrmOptions): void {
  r.post('/surveys', {
    summary: 'Create a survey (draft): pulse or full, anonymous by default',
    permission: PERMISSIONS.surveysWrite,
    body: z.strictObject({
      title: z.string().trim().min(1).max(300),
      kind: z.enum(['pulse', 'full']),
      anonymous: z.boolean().default(true),
      minGroupSize: z.number().int().min(1).max(1000).optional(),
      questions: z.array(questionInput).min(1).max(100),
    }),
    response: surveySchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const minGroupSize = ctx.body.minGroupSize ?? options.minGroupSize;
        if (ctx.body.anonymous && minGroupSize < SMALLEST_ALLOWED_GROUP) {
          throw new ValidationError(`minGroupSize: an anonymous survey needs groups of at least ${SMALLEST_ALLOWED_GROUP}`, [{ path: 'minGroupSize', message: `at least ${SMALLEST_ALLOWED_GROUP}` }]);
        }
        const questions: SurveyQuestion[] = ctx.body.questions.map((q, i) => ({ ...q, id: q.id ?? `q${i + 1}` }));
        const ids = new Set(questions.map((q) => q.id));
        if (ids.size !== questions.length) throw new ValidationError('questions: question ids must be unique', [{ path: 'questions', message: 'duplicate id' }]);
        for (const [i, q] of questions.entries()) {
          if (q.type === 'scale' && q.min! >= q.max!) throw new ValidationError(`questions.${i}: min must be below max`, [{ path: `questions.${i}.min`, message: 'not below max' }]);
        }
        const row: SurveyRow = {
          id: newId(),
          title: ctx.body.title,
          kind: ctx.body.kind,
          anonymous: ctx.body.anonymous,
          min_group_size: ctx.body.anonymous ? minGroupSize : (ctx.body.minGroupSize ?? 1),
          questions,
          status: 'draft',
          opened_at: null,
          closed_at: null,
          created_at: options.now(),
        };
        await uow.trx('hrm_surveys').insert({ ...row, tenant_id: uow.tenantId, questions: JSON.stringify(questions) });
        const survey = toSurvey(row);
        uow.emit('hrm.survey.created', { survey }, { type: 'hrm.survey', id: survey.id });
        return survey;
      }),
  });

  r.get('/surveys', {
    summary: 'List surveys (newest first)',
    permission: PERMISSIONS.surveysRead,
    query: z.strictObject({ ...pageQuery, status: z.enum(['draft', 'open', 'closed']).optional() }),
    response: pageOf(surveySchema),
    handler: async (ctx) => {
      await requireEmployeeIfScoped(ctx);
      const after = decodeCursor(ctx.query.cursor, ['uuid']);
      const q = ctx.db('hrm_surveys').where({ tenant_id: ctx.tenantId });
      // Drafts are HR's work in progress.
      if (ctx.principal.scopePartyId) q.whereNot('status', 'draft');
      if (ctx.query.status) q.where('status', ctx.query.status);
      if (after) q.where('id', '<', after[0]);
      const rows: SurveyRow[] = await q.orderBy('id', 'desc').limit(ctx.query.limit + 1);
      return toPage(rows, ctx.query.limit, toSurvey, (row) => [row.id]);
    },
  });

  r.get('/surveys/:id', {
    summary: 'Get a survey and its questions',
    permission: PERMISSIONS.surveysRead,
    params: idParams,
    response: surveySchema,
    handler: async (ctx) => {
      await requireEmployeeIfScoped(ctx);
      const survey = await getSurvey(ctx.db, ctx.tenantId, ctx.params.id);
      if (ctx.principal.scopePartyId && survey.status === 'draft') throw new NotFoundError('Survey', survey.id);
      return survey;
    },
  });

  for (const [action, from, to] of [
    ['open', 'draft', 'open'],
    ['close', 'open', 'closed'],
  ] as const) {
    r.post(`/surveys/:id/${action}`, {
      summary: action === 'open' ? 'Open a draft survey for answers' : 'Close a survey; records eNPS and comments of the groups above the threshold as observations',
      permission: PERMISSIONS.surveysWrite,
      params: idParams,
      response: surveySchema,
      status: 200,
      handler: (ctx) =>
        ctx.transaction(async (uow) => {
          const survey = await getSurvey(uow.trx, uow.tenantId, ctx.params.id);
          if (survey.status !== from) throw new ConflictError(`hrm: survey ${survey.id} is ${survey.status}; only a ${from} survey can be ${action === 'open' ? 'opened' : 'closed'}`);
          const now = options.now();
          const patch = to === 'open' ? { status: to, opened_at: now } : { status: to, closed_at: now };
          await uow.trx('hrm_surveys').where({ tenant_id: uow.tenantId, id: survey.id }).update(patch);
          const updated = await getSurvey(uow.trx, uow.tenantId, survey.id);
          if (to === 'closed') await recordIndicators(ctx, uow, updated, now);
          uow.emit(to === 'open' ? 'hrm.survey.opened' : 'hrm.survey.closed', { survey: updated }, { type: 'hrm.survey', id: survey.id });
          return updated;
        }),
    });
  }

  r.post('/surveys/:id/responses', {
    summary: 'Answer a survey as oneself (once). Anonymous: the answers are stored apart from the participation, with no link to the respondent',
    permission: PERMISSIONS.surveysRespond,
    params: idParams,
    body: z.strictObject({ answers: z.record(z.string().max(40), z.union([z.number(), z.string()])) }),
    response: z.object({ surveyId: z.uuid(), participated: z.literal(true) }),
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const respondent = ctx.principal.scopePartyId ?? ctx.principal.partyId;
        if (!respondent) throw new ForbiddenError('hrm: only a principal linked to an employee can answer a survey');
        const survey = await getSurvey(uow.trx, uow.tenantId, ctx.params.id);
        if (survey.status === 'draft') throw new NotFoundError('Survey', survey.id);
        if (survey.status !== 'open') throw new ConflictError(`hrm: survey ${survey.id} is ${survey.status}`);
        const employment = await activeEmployment(uow.trx, uow.tenantId, respondent);
        if (!employment) throw new ForbiddenError('hrm: only current employees answer surveys');
        const issues = answerIssues(survey.questions, ctx.body.answers);
        if (issues.length) throw new ValidationError('hrm: the answers do not fit the survey', issues);
        const now = options.now();
        const inserted = await uow.trx('hrm_survey_participations')
          .insert({ tenant_id: uow.tenantId, survey_id: survey.id, party_id: respondent, participated_at: now })
          .onConflict(['tenant_id', 'survey_id', 'party_id'])
          .ignore()
          .returning('party_id');
        if (inserted.length === 0) throw new ConflictError(`hrm: you have already answered survey ${survey.id}`);
        await uow.trx('hrm_survey_responses').insert({
          tenant_id: uow.tenantId,
          // A random (v4) id: a time-ordered id would date the answer and link it to the participation.
          id: randomUUID(),
          survey_id: survey.id,
          unit_id: employment.attributes.unitId,
          manager_id: await currentManagerId(uow.trx, uow.tenantId, respondent),
          respondent_id: survey.anonymous ? null : respondent,
          answers: JSON.stringify(ctx.body.answers),
        });
        await ctx.app.services.interactions.create(uow, {
          type: INTERACTIONS.surveyParticipation,
          occurredAt: now.toISOString(),
          direction: 'internal',
          subject: survey.title,
          attributes: { surveyId: survey.id },
          participants: [{ partyId: respondent, role: 'employee' }],
        });
        uow.emit('hrm.survey.participated', { surveyId: survey.id, partyId: respondent }, { type: 'hrm.survey', id: survey.id });
        return { surveyId: survey.id, participated: true as const };
      }),
  });

  r.get('/surveys/:id/participation', {
    summary: 'How many took part (counts only)',
    permission: PERMISSIONS.surveysRead,
    params: idParams,
    response: z.object({ surveyId: z.uuid(), participants: z.number(), eligible: z.number(), rate: z.number().nullable() }),
    handler: async (ctx) => {
      refuseScoped(ctx);
      const survey = await getSurvey(ctx.db, ctx.tenantId, ctx.params.id);
      const [{ n }] = await ctx.db('hrm_survey_participations').where({ tenant_id: ctx.tenantId, survey_id: survey.id }).count<{ n: string }[]>('* as n');
      const [{ e }] = await ctx.db('rapport_relationships').where({ tenant_id: ctx.tenantId, type: 'hrm.employment', status: 'active' }).countDistinct<{ e: string }[]>('to_party_id as e');
      const participants = Number(n);
      const eligible = Number(e);
      return { surveyId: survey.id, participants, eligible, rate: eligible ? Math.round((participants / eligible) * 10000) / 100 : null };
    },
  });

  r.get('/surveys/:id/answers', {
    summary: 'Individual answers of a NON-anonymous survey, with the respondent; an anonymous survey never serves them (409)',
    permission: PERMISSIONS.surveysRead,
    params: idParams,
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(z.object({ respondentId: z.uuid(), unitId: z.uuid().nullable(), answers: z.record(z.string(), z.union([z.number(), z.string()])) })),
    handler: async (ctx) => {
      // Colleagues' answers are HR's to read, never another employee's self-service.
      refuseScoped(ctx);
      const survey = await getSurvey(ctx.db, ctx.tenantId, ctx.params.id);
      if (survey.anonymous) throw new ConflictError(`hrm: survey ${survey.id} is anonymous; its answers are served only aggregated, under the threshold`);
      const after = decodeCursor(ctx.query.cursor, ['uuid']);
      // respondent_id is null on every anonymous answer: the condition is a second lock on the same door.
      const q = ctx.db('hrm_survey_responses').where({ tenant_id: ctx.tenantId, survey_id: survey.id }).whereNotNull('respondent_id');
      if (after) q.where('respondent_id', '>', after[0]);
      const rows: Array<{ respondent_id: string; unit_id: string | null; answers: Record<string, number | string> }> = await q.orderBy('respondent_id').limit(ctx.query.limit + 1).select('respondent_id', 'unit_id', 'answers');
      return toPage(rows, ctx.query.limit, (row) => ({ respondentId: row.respondent_id, unitId: row.unit_id, answers: row.answers }), (row) => [row.respondent_id]);
    },
  });

  r.get('/surveys/:id/results', {
    summary: 'Aggregated results, overall and per unit, under the anonymity threshold (anonymous surveys: after closing only)',
    permission: PERMISSIONS.engagementRead,
    params: idParams,
    response: z.object({
      surveyId: z.uuid(),
      anonymous: z.boolean(),
      minGroupSize: z.number(),
      overall: outcomeSchema,
      units: z.array(outcomeSchema.and(z.object({ unitId: z.uuid() }))),
    }),
    handler: async (ctx) => {
      refuseScoped(ctx);
      const survey = await getSurvey(ctx.db, ctx.tenantId, ctx.params.id);
      // Results that change while answers arrive would tell who just answered what.
      if (survey.anonymous && survey.status !== 'closed') throw new ConflictError(`hrm: results of anonymous survey ${survey.id} are available once it is closed`);
      const responses = (await responsesOf(ctx.db, ctx.tenantId, [survey.id])).get(survey.id)!;
      const overall = responses.length >= survey.minGroupSize ? { suppressed: false as const, ...summarize(survey, responses) } : { suppressed: true as const };
      const units = overall.suppressed ? [] : groupResults(survey, responses, (x) => x.unitId, survey.minGroupSize).map(({ key, ...rest }) => ({ unitId: key, ...rest }));
      return { surveyId: survey.id, anonymous: survey.anonymous, minGroupSize: survey.minGroupSize, overall, units };
    },
  });

  const trendQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(24) });
  const trendSchema = z.object({
    data: z.array(z.object({ surveyId: z.uuid(), title: z.string(), closedAt: z.string(), suppressed: z.boolean(), responses: z.number().nullable(), enps: z.number().nullable() })),
  });

  r.get('/engagement/units/:id', {
    summary: 'eNPS of a unit over time (one entry per closed survey; suppressed below the threshold)',
    permission: PERMISSIONS.engagementRead,
    params: idParams,
    query: trendQuery,
    response: trendSchema,
    handler: async (ctx) => {
      refuseScoped(ctx);
      return { data: await trend(ctx, ctx.query.limit, (x) => x.unitId, ctx.params.id) };
    },
  });

  r.get('/engagement/managers/:id', {
    summary: "Manager conduct: eNPS of a manager's reports over time (suppressed below the threshold); a scoped manager may read its own",
    permission: PERMISSIONS.engagementRead,
    params: idParams,
    query: trendQuery,
    response: trendSchema,
    handler: async (ctx) => {
      if (ctx.principal.scopePartyId && ctx.principal.scopePartyId !== ctx.params.id) throw new NotFoundError('Manager', ctx.params.id);
      return { data: await trend(ctx, ctx.query.limit, (x) => x.managerId, ctx.params.id) };
    },
  });
}

async function trend(ctx: RequestContext<any, any, any>, limit: number, keyOf: (r: { unitId: string | null; managerId: string | null }) => string | null, key: string) {
  const rows: SurveyRow[] = await ctx.db('hrm_surveys').where({ tenant_id: ctx.tenantId, status: 'closed' }).orderBy([{ column: 'closed_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit);
  const surveys = rows.map(toSurvey).filter((s) => s.questions.some((q) => q.type === 'enps'));
  const responses = await responsesOf(ctx.db, ctx.tenantId, surveys.map((s) => s.id));
  return surveys.reverse().flatMap((survey) => {
    const list = responses.get(survey.id)!;
    if (!list.some((x) => keyOf(x) === key)) return [];
    const outcome = list.length >= survey.minGroupSize ? groupResults(survey, list, keyOf, survey.minGroupSize).find((g) => g.key === key) : undefined;
    const shown = outcome && !outcome.suppressed ? outcome : null;
    return [{ surveyId: survey.id, title: survey.title, closedAt: survey.closedAt!, suppressed: !shown, responses: shown?.responses ?? null, enps: shown?.enps ?? null }];
  });
}

/** At close: eNPS per shown unit and its free-text comments become kernel observations about the unit, never about a person. */
async function recordIndicators(ctx: RequestContext<any, any, any>, uow: Parameters<Parameters<RequestContext['transaction']>[0]>[0], survey: Survey, now: Date): Promise<void> {
  const responses = (await responsesOf(uow.trx, uow.tenantId, [survey.id])).get(survey.id)!;
  if (responses.length < survey.minGroupSize) return;
  const textQuestions = survey.questions.filter((q) => q.type === 'text');
  const shown = groupResults(survey, responses, (x) => x.unitId, survey.minGroupSize).filter((g): g is Extract<GroupOutcome, { suppressed: false }> => !g.suppressed);
  for (const group of shown) {
    if (group.enps !== null) {
      await ctx.app.services.observations.record(uow, { indicator: INDICATORS.enps, subjectId: group.key, value: group.enps, observedAt: now.toISOString(), details: { surveyId: survey.id, responses: group.responses } });
    }
    const comments = responses
      .filter((x) => x.unitId === group.key)
      .flatMap((x) => textQuestions.map((q) => ({ questionId: q.id, text: x.answers[q.id] })))
      .filter((c): c is { questionId: string; text: string } => typeof c.text === 'string')
      // Sorted by content: the stored order of the answers must not carry over.
      .sort((a, b) => a.questionId.localeCompare(b.questionId) || a.text.localeCompare(b.text));
    for (const comment of comments) {
      await ctx.app.services.observations.record(uow, { indicator: INDICATORS.engagementComment, subjectId: group.key, text: comment.text, observedAt: now.toISOString(), details: { surveyId: survey.id, questionId: comment.questionId } });
    }
  }
}

function refuseScoped(ctx: RequestContext<any, any, any>): void {
  if (ctx.principal.scopePartyId) throw new ForbiddenError('hrm: aggregated engagement results are tenant-wide; a scoped principal cannot read them');
}

async function requireEmployeeIfScoped(ctx: RequestContext<any, any, any>): Promise<void> {
  if (ctx.principal.scopePartyId && !(await activeEmployment(ctx.db, ctx.tenantId, ctx.principal.scopePartyId))) {
    throw new ForbiddenError('hrm: surveys are for employees of the tenant');
  }
}
