import { randomUUID } from 'node:crypto';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { hrm, type EnpsTrend, type NamedAnswer, type Survey, type SurveyQuestion, type SurveyResults } from '@rapport/hrm-contract';
import { callerPartyId } from '../caller.js';
import { INDICATORS, INTERACTIONS } from '../declarations.js';
import type { HrmDeps } from '../deps.js';
import { answerIssues, groupResults, summarize, type GroupOutcome, type StoredResponse } from '../domain/survey-results.js';
import { SMALLEST_ALLOWED_GROUP, type ResolvedHrmOptions } from '../options.js';
import { surveyRecord } from '../records.js';
import type { StaffDirectory } from './staff.js';

export interface SurveyDraft {
  title: string;
  kind: Survey['kind'];
  anonymous: boolean;
  minGroupSize?: number;
  /** Without an id, a question is numbered (`q1`, `q2`, …). */
  questions: Array<Omit<SurveyQuestion, 'id'> & { id?: string }>;
}

type GroupKey = (response: StoredResponse) => string | null;
type ShownGroup = Extract<GroupOutcome, { suppressed: false }>;

/**
 * Engagement surveys. Who took part (`hrm_survey_participations`) and what was answered
 * (`hrm_survey_responses`) are kept apart and never joined: an anonymous answer has no
 * respondent, no time and a random id, and results are served only per group at the threshold.
 */
export class SurveyService {
  constructor(
    private readonly deps: HrmDeps,
    private readonly staff: StaffDirectory,
    private readonly options: ResolvedHrmOptions,
  ) {}

  async create(uow: UnitOfWork, draft: SurveyDraft): Promise<Survey> {
    const minGroupSize = draft.minGroupSize ?? this.options.minGroupSize;
    if (draft.anonymous && minGroupSize < SMALLEST_ALLOWED_GROUP) {
      throw new ValidationError(`minGroupSize: an anonymous survey needs groups of at least ${SMALLEST_ALLOWED_GROUP}`, [{ path: 'minGroupSize', message: `at least ${SMALLEST_ALLOWED_GROUP}` }]);
    }
    const questions: SurveyQuestion[] = draft.questions.map((q, i) => ({ ...q, id: q.id ?? `q${i + 1}` }));
    if (new Set(questions.map((q) => q.id)).size !== questions.length) throw new ValidationError('questions: question ids must be unique', [{ path: 'questions', message: 'duplicate id' }]);
    for (const [i, q] of questions.entries()) {
      if (q.type === 'scale' && q.min! >= q.max!) throw new ValidationError(`questions.${i}: min must be below max`, [{ path: `questions.${i}.min`, message: 'not below max' }]);
    }
    const row = {
      id: newId(),
      title: draft.title,
      kind: draft.kind,
      anonymous: draft.anonymous,
      min_group_size: draft.anonymous ? minGroupSize : (draft.minGroupSize ?? 1),
      questions: JSON.stringify(questions),
      status: 'draft',
      opened_at: null,
      closed_at: null,
      created_at: this.options.now(),
    };
    await this.deps.db.in(uow)('hrm_surveys').insert(row);
    const survey = surveyRecord.fromRow(row);
    uow.emit(hrm.events.surveyCreated, { survey }, { type: 'hrm.survey', id: survey.id });
    return survey;
  }

  /** Newest first; a scoped employee never sees drafts (HR's work in progress). */
  async list(ctx: QueryContext, query: { limit: number; cursor?: string; status?: Survey['status'] }): Promise<Page<Survey>> {
    await this.requireStaff(ctx);
    const q = this.deps.db.in(ctx)('hrm_surveys').select(surveyRecord.columns());
    if (ctx.principal.scopePartyId) q.whereNot('status', 'draft');
    if (query.status) q.where('status', query.status);
    return keysetPage(q, query, [{ column: 'id', type: 'uuid', direction: 'desc' }], (rows: object[]) => rows.map((row) => surveyRecord.fromRow(row)));
  }

  async get(ctx: QueryContext, id: string): Promise<Survey> {
    await this.requireStaff(ctx);
    const survey = await this.find(ctx, id);
    if (ctx.principal.scopePartyId && survey.status === 'draft') throw new NotFoundError('Survey', survey.id);
    return survey;
  }

  async open(uow: UnitOfWork, id: string): Promise<Survey> {
    const survey = await this.requireStatus(uow, id, 'draft', 'opened');
    await this.deps.db.in(uow)('hrm_surveys').where({ id: survey.id }).update({ status: 'open', opened_at: this.options.now() });
    const opened = await this.find(uow, survey.id);
    uow.emit(hrm.events.surveyOpened, { survey: opened }, { type: 'hrm.survey', id: survey.id });
    return opened;
  }

  /** Closes a survey; the eNPS and comments of the groups above the threshold become observations. */
  async close(uow: UnitOfWork, id: string): Promise<Survey> {
    const survey = await this.requireStatus(uow, id, 'open', 'closed');
    const now = this.options.now();
    await this.deps.db.in(uow)('hrm_surveys').where({ id: survey.id }).update({ status: 'closed', closed_at: now });
    const closed = await this.find(uow, survey.id);
    await this.recordIndicators(uow, closed, now);
    uow.emit(hrm.events.surveyClosed, { survey: closed }, { type: 'hrm.survey', id: survey.id });
    return closed;
  }

  /**
   * Answers a survey as oneself, once. The participation and the answers are two rows that
   * share nothing but the survey: an anonymous answer keeps only the groups it counts towards.
   */
  async respond(uow: UnitOfWork, id: string, answers: Record<string, number | string>): Promise<{ surveyId: string; participated: true }> {
    const respondent = callerPartyId(uow.principal);
    if (!respondent) throw new ForbiddenError('hrm: only a principal linked to an employee can answer a survey');
    const survey = await this.find(uow, id);
    if (survey.status === 'draft') throw new NotFoundError('Survey', survey.id);
    if (survey.status !== 'open') throw new ConflictError(`hrm: survey ${survey.id} is ${survey.status}`);
    const employment = await this.staff.activeEmployment(uow, respondent);
    if (!employment) throw new ForbiddenError('hrm: only current employees answer surveys');
    const issues = answerIssues(survey.questions, answers);
    if (issues.length) throw new ValidationError('hrm: the answers do not fit the survey', issues);
    const now = this.options.now();
    const tables = this.deps.db.in(uow);
    const inserted = await tables('hrm_survey_participations')
      .insert({ survey_id: survey.id, party_id: respondent, participated_at: now })
      .onConflict(['survey_id', 'party_id'])
      .ignore()
      .returning('party_id');
    if (inserted.length === 0) throw new ConflictError(`hrm: you have already answered survey ${survey.id}`);
    await tables('hrm_survey_responses').insert({
      // A random (v4) id: a time-ordered id would date the answer and link it to the participation.
      id: randomUUID(),
      survey_id: survey.id,
      unit_id: employment.attributes.unitId,
      manager_id: await this.staff.currentManagerId(uow, respondent),
      respondent_id: survey.anonymous ? null : respondent,
      answers: JSON.stringify(answers),
    });
    await this.deps.interactions.create(uow, {
      type: INTERACTIONS.surveyParticipation,
      occurredAt: now.toISOString(),
      direction: 'internal',
      subject: survey.title,
      attributes: { surveyId: survey.id },
      participants: [{ partyId: respondent, role: 'employee' }],
    });
    uow.emit(hrm.events.surveyParticipated, { surveyId: survey.id, partyId: respondent }, { type: 'hrm.survey', id: survey.id });
    return { surveyId: survey.id, participated: true };
  }

  /** How many took part, out of the current employees (counts only). */
  async participation(ctx: QueryContext, id: string) {
    const survey = await this.find(ctx, id);
    const [{ n }] = await this.deps.db.in(ctx)('hrm_survey_participations').where({ survey_id: survey.id }).count<{ n: string }[]>('* as n');
    const participants = Number(n);
    const eligible = await this.staff.countEmployed(ctx);
    return { surveyId: survey.id, participants, eligible, rate: eligible ? Math.round((participants / eligible) * 10000) / 100 : null };
  }

  /** The individual answers of a NON-anonymous survey, by respondent; an anonymous survey never serves them (409). */
  async namedAnswers(ctx: QueryContext, id: string, page: { limit: number; cursor?: string }): Promise<Page<NamedAnswer>> {
    const survey = await this.find(ctx, id);
    if (survey.anonymous) throw new ConflictError(`hrm: survey ${survey.id} is anonymous; its answers are served only aggregated, under the threshold`);
    // respondent_id is null on every anonymous answer: the condition is a second lock on the same door.
    const q = this.deps.db.in(ctx)('hrm_survey_responses').where({ survey_id: survey.id }).whereNotNull('respondent_id').select('respondent_id', 'unit_id', 'answers');
    return keysetPage(q, page, [{ column: 'respondent_id', type: 'uuid' }], (rows: Array<{ respondent_id: string; unit_id: string | null; answers: Record<string, number | string> }>) =>
      rows.map((row) => ({ respondentId: row.respondent_id, unitId: row.unit_id, answers: row.answers })),
    );
  }

  /** Aggregated results, overall and per unit, under the threshold (an anonymous survey: once closed). */
  async results(ctx: QueryContext, id: string): Promise<SurveyResults> {
    const survey = await this.find(ctx, id);
    // Results that change while answers arrive would tell who just answered what.
    if (survey.anonymous && survey.status !== 'closed') throw new ConflictError(`hrm: results of anonymous survey ${survey.id} are available once it is closed`);
    const responses = (await this.responsesOf(ctx, [survey.id])).get(survey.id)!;
    const overall = responses.length >= survey.minGroupSize ? { suppressed: false as const, ...summarize(survey, responses) } : { suppressed: true as const };
    const units = overall.suppressed ? [] : groupResults(survey, responses, (x) => x.unitId, survey.minGroupSize).map(({ key, ...rest }) => ({ unitId: key, ...rest }));
    return { surveyId: survey.id, anonymous: survey.anonymous, minGroupSize: survey.minGroupSize, overall, units };
  }

  /** A unit's eNPS over the last closed surveys (suppressed below the threshold). */
  unitTrend(ctx: QueryContext, unitId: string, limit: number): Promise<EnpsTrend> {
    return this.trend(ctx, limit, (x) => x.unitId, unitId);
  }

  /** Manager conduct: the eNPS of a manager's reports over the last closed surveys; a scoped manager reads only its own. */
  managerTrend(ctx: QueryContext, managerId: string, limit: number): Promise<EnpsTrend> {
    if (ctx.principal.scopePartyId && ctx.principal.scopePartyId !== managerId) throw new NotFoundError('Manager', managerId);
    return this.trend(ctx, limit, (x) => x.managerId, managerId);
  }

  /** The unit's eNPS in the last two of the recent closed surveys where it was shown, oldest first (never an individual answer). */
  async shownUnitEnps(ctx: QueryContext, unitId: string): Promise<number[]> {
    const surveys = await this.closedEnpsSurveys(ctx, 12);
    const responses = await this.responsesOf(
      ctx,
      surveys.map((s) => s.id),
    );
    return surveys
      .map((s) => {
        const list = responses.get(s.id)!;
        if (list.length < s.minGroupSize) return null;
        const group = groupResults(s, list, (x) => x.unitId, s.minGroupSize).find((g) => g.key === unitId);
        return group && !group.suppressed ? group.enps : null;
      })
      .filter((e): e is number => e !== null)
      .slice(0, 2)
      .reverse();
  }

  private async trend(ctx: QueryContext, limit: number, keyOf: GroupKey, key: string): Promise<EnpsTrend> {
    const surveys = await this.closedEnpsSurveys(ctx, limit);
    const responses = await this.responsesOf(
      ctx,
      surveys.map((s) => s.id),
    );
    const data = surveys.reverse().flatMap((survey) => {
      const list = responses.get(survey.id)!;
      if (!list.some((x) => keyOf(x) === key)) return [];
      const outcome = list.length >= survey.minGroupSize ? groupResults(survey, list, keyOf, survey.minGroupSize).find((g) => g.key === key) : undefined;
      const shown = outcome && !outcome.suppressed ? outcome : null;
      return [{ surveyId: survey.id, title: survey.title, closedAt: survey.closedAt!, suppressed: !shown, responses: shown?.responses ?? null, enps: shown?.enps ?? null }];
    });
    return { data };
  }

  /** The most recently closed surveys that ask an eNPS question, newest first, among the last `limit` closed. */
  private async closedEnpsSurveys(ctx: QueryContext, limit: number): Promise<Survey[]> {
    const rows: object[] = await this.deps.db
      .in(ctx)('hrm_surveys')
      .where({ status: 'closed' })
      .orderBy([
        { column: 'closed_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit)
      .select(surveyRecord.columns());
    return rows.map((row) => surveyRecord.fromRow(row)).filter((s) => s.questions.some((q) => q.type === 'enps'));
  }

  /** At close: eNPS per shown unit and its free-text comments become kernel observations about the unit, never about a person. */
  private async recordIndicators(uow: UnitOfWork, survey: Survey, now: Date): Promise<void> {
    const responses = (await this.responsesOf(uow, [survey.id])).get(survey.id)!;
    if (responses.length < survey.minGroupSize) return;
    const textQuestions = survey.questions.filter((q) => q.type === 'text');
    const shown = groupResults(survey, responses, (x) => x.unitId, survey.minGroupSize).filter((g): g is ShownGroup => !g.suppressed);
    for (const group of shown) {
      if (group.enps !== null) {
        await this.deps.observations.record(uow, {
          indicator: INDICATORS.enps,
          subjectId: group.key,
          value: group.enps,
          observedAt: now.toISOString(),
          details: { surveyId: survey.id, responses: group.responses },
        });
      }
      const comments = responses
        .filter((x) => x.unitId === group.key)
        .flatMap((x) => textQuestions.map((q) => ({ questionId: q.id, text: x.answers[q.id] })))
        .filter((c): c is { questionId: string; text: string } => typeof c.text === 'string')
        // Sorted by content: the stored order of the answers must not carry over.
        .sort((a, b) => a.questionId.localeCompare(b.questionId) || a.text.localeCompare(b.text));
      for (const comment of comments) {
        await this.deps.observations.record(uow, {
          indicator: INDICATORS.engagementComment,
          subjectId: group.key,
          text: comment.text,
          observedAt: now.toISOString(),
          details: { surveyId: survey.id, questionId: comment.questionId },
        });
      }
    }
  }

  /** The answers of some surveys, without any respondent (aggregation never needs it). */
  private async responsesOf(ctx: QueryContext, surveyIds: readonly string[]): Promise<Map<string, StoredResponse[]>> {
    const rows: Array<{ survey_id: string; unit_id: string | null; manager_id: string | null; answers: Record<string, unknown> }> = surveyIds.length
      ? await this.deps.db
          .in(ctx)('hrm_survey_responses')
          .whereIn('survey_id', [...surveyIds])
          .select('survey_id', 'unit_id', 'manager_id', 'answers')
      : [];
    const out = new Map<string, StoredResponse[]>(surveyIds.map((id) => [id, []]));
    for (const r of rows) out.get(r.survey_id)!.push({ unitId: r.unit_id, managerId: r.manager_id, answers: r.answers });
    return out;
  }

  private async find(ctx: QueryContext, id: string): Promise<Survey> {
    const row = await this.deps.db.in(ctx)('hrm_surveys').where({ id }).first(surveyRecord.columns());
    if (!row) throw new NotFoundError('Survey', id);
    return surveyRecord.fromRow(row);
  }

  private async requireStatus(uow: UnitOfWork, id: string, from: Survey['status'], done: string): Promise<Survey> {
    const survey = await this.find(uow, id);
    if (survey.status !== from) throw new ConflictError(`hrm: survey ${survey.id} is ${survey.status}; only a ${from} survey can be ${done}`);
    return survey;
  }

  /** Surveys are for the firm's staff: a scoped caller must be a current employee. */
  private async requireStaff(ctx: QueryContext): Promise<void> {
    if (!(await this.staff.callerIsStaff(ctx))) throw new ForbiddenError('hrm: surveys are for employees of the tenant');
  }
}
