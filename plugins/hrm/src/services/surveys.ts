import { randomUUID } from 'node:crypto';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { hrm, type EnpsTrend, type NamedAnswer, type Survey, type SurveyQuestion, type SurveyResults } from '@rapport/hrm-contract';
import { callerPartyId } from '../caller.js';
import { INDICATORS, INTERACTIONS, TYPES } from '../declarations.js';
import type { HrmDeps } from '../deps.js';
import { answerIssues, groupResults, summarize, type GroupOutcome, type StoredResponse } from '../domain/survey-results.js';
import { SMALLEST_ALLOWED_GROUP, type ResolvedHrmOptions } from '../options.js';
import { padForSealing, shuffled, unpadSealed } from '../domain/anonymity.js';
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

/** One group (a unit, a manager's reports) of a closed survey, as its trends show it. */
interface GroupFigure {
  key: string;
  suppressed: boolean;
  responses: number | null;
  enps: number | null;
}

/** What a closed survey keeps of its groups: the results as served, and each group's figure. */
interface SurveySnapshot {
  results: SurveyResults;
  units: GroupFigure[];
  managers: GroupFigure[];
}

/** Each answer of an anonymous survey is sealed under this purpose until the survey closes. */
const answerPurpose = (surveyId: string) => `hrm_sealed_answers:${surveyId}`;

/**
 * Engagement surveys. Who took part (`hrm_survey_participations`) and what was answered
 * (`hrm_survey_responses`) are kept apart and never joined. An anonymous survey's answers are
 * sealed (`hrm_sealed_answers`, under the server's secret key) while it is open, so neither
 * their order, their transaction nor their groups can be read beside the participations. At
 * close the groups are computed once, under the threshold, and kept as figures
 * (`hrm_survey_snapshots`); the answers are then written again, all at once, in random order,
 * with random ids, without unit, manager, respondent or time — or stay sealed when fewer than
 * the threshold answered (nothing is ever served of them then).
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

  /** A survey; out of reach (a scoped caller not employed here) is the same 404 as unknown. */
  async get(ctx: QueryContext, id: string): Promise<Survey> {
    if (!(await this.staff.callerIsStaff(ctx))) throw new NotFoundError('Survey', id);
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

  /**
   * Closes a survey; the eNPS and comments of the groups above the threshold become
   * observations, and the groups' figures are kept. An anonymous survey's answers are opened,
   * and written again in random order, with random ids and no group — or kept sealed, in
   * random order, when fewer than the threshold answered.
   */
  async close(uow: UnitOfWork, id: string): Promise<Survey> {
    const survey = await this.requireStatus(uow, id, 'open', 'closed');
    const now = this.options.now();
    const tables = this.deps.db.in(uow);
    await tables('hrm_surveys').where({ id: survey.id }).update({ status: 'closed', closed_at: now });
    const closed = await this.find(uow, survey.id);
    const { clear, opened, sealed } = await this.collectAnswers(uow, closed);
    const responses = [...clear, ...opened];
    const snapshot = snapshotOf(closed, responses);
    await tables('hrm_survey_snapshots').insert({
      survey_id: closed.id,
      results: JSON.stringify(snapshot.results),
      units: JSON.stringify(snapshot.units),
      managers: JSON.stringify(snapshot.managers),
    });
    await this.recordIndicators(uow, closed, responses, now);
    if (closed.anonymous) {
      await tables('hrm_sealed_answers').where({ survey_id: closed.id }).delete();
      await tables('hrm_survey_responses').where({ survey_id: closed.id }).delete();
      if (responses.length >= closed.minGroupSize) {
        const rows = shuffled(responses).map((r) => ({ id: randomUUID(), survey_id: closed.id, unit_id: null, manager_id: null, respondent_id: null, answers: JSON.stringify(r.answers) }));
        for (let i = 0; i < rows.length; i += WRITE_BATCH) await tables('hrm_survey_responses').insert(rows.slice(i, i + WRITE_BATCH));
      } else {
        const resealed = [...sealed, ...clear.map((r) => this.deps.sealing.seal(uow.tenantId, answerPurpose(closed.id), padForSealing(JSON.stringify(r))))];
        const rows = shuffled(resealed).map((value) => ({ id: randomUUID(), survey_id: closed.id, sealed: value }));
        for (let i = 0; i < rows.length; i += WRITE_BATCH) await tables('hrm_sealed_answers').insert(rows.slice(i, i + WRITE_BATCH));
      }
    }
    uow.emit(hrm.events.surveyClosed, { survey: closed }, { type: 'hrm.survey', id: survey.id });
    return closed;
  }

  /**
   * Every answer of a survey with the groups it counts towards: the sealed ones opened, and
   * those in clear (a named survey's; an anonymous one's written before answers were sealed).
   */
  private async collectAnswers(uow: UnitOfWork, survey: Survey): Promise<{ clear: StoredResponse[]; opened: StoredResponse[]; sealed: string[] }> {
    const tables = this.deps.db.in(uow);
    const clear = (await this.responsesOf(uow, [survey.id])).get(survey.id)!;
    const sealedRows: Array<{ sealed: string }> = await tables('hrm_sealed_answers').where({ survey_id: survey.id }).select('sealed');
    const sealed = sealedRows.map((r) => r.sealed);
    const opened = sealed.map((value) => JSON.parse(unpadSealed(this.deps.sealing.open(uow.tenantId, answerPurpose(survey.id), value))) as StoredResponse);
    return { clear, opened, sealed };
  }

  /**
   * Answers a survey as oneself, once. The participation and the answers are two rows that
   * share nothing but the survey: an anonymous answer keeps only the groups it counts towards.
   */
  async respond(uow: UnitOfWork, id: string, answers: Record<string, number | string>): Promise<{ surveyId: string; participated: true }> {
    const respondent = callerPartyId(uow.principal);
    if (!respondent) throw new ForbiddenError('hrm: only a principal linked to an employee can answer a survey');
    // Surveys are out of reach of anyone not employed here: the same 404 as an unknown survey, whatever its state.
    const employment = await this.staff.activeEmployment(uow, respondent);
    if (!employment) throw new NotFoundError('Survey', id);
    const survey = await this.find(uow, id, 'share');
    if (survey.status === 'draft') throw new NotFoundError('Survey', survey.id);
    if (survey.status !== 'open') throw new ConflictError(`hrm: survey ${survey.id} is ${survey.status}`);
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
    const unitId = employment.attributes.unitId;
    const managerId = await this.staff.currentManagerId(uow, respondent);
    if (survey.anonymous) {
      // Sealed and padded: its place, its transaction and its size say nothing a participation does not.
      const sealed = this.deps.sealing.seal(uow.tenantId, answerPurpose(survey.id), padForSealing(JSON.stringify({ unitId, managerId, answers })));
      await tables('hrm_sealed_answers').insert({ id: randomUUID(), survey_id: survey.id, sealed });
    } else {
      await tables('hrm_survey_responses').insert({ id: randomUUID(), survey_id: survey.id, unit_id: unitId, manager_id: managerId, respondent_id: respondent, answers: JSON.stringify(answers) });
    }
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

  /** Aggregated results, overall and per unit, under the threshold (an anonymous survey: once closed, as computed at close). */
  async results(ctx: QueryContext, id: string): Promise<SurveyResults> {
    const survey = await this.find(ctx, id);
    // Results that change while answers arrive would tell who just answered what.
    if (survey.anonymous && survey.status !== 'closed') throw new ConflictError(`hrm: results of anonymous survey ${survey.id} are available once it is closed`);
    if (survey.status === 'closed') return (await this.snapshotsOf(ctx, [survey])).get(survey.id)!.results;
    return snapshotOf(survey, (await this.responsesOf(ctx, [survey.id])).get(survey.id)!).results;
  }

  /** A unit's eNPS over the last closed surveys (suppressed below the threshold); 404 for a unit that does not exist. */
  async unitTrend(ctx: QueryContext, unitId: string, limit: number): Promise<EnpsTrend> {
    const [unit] = await this.deps.parties.query(ctx, { ids: [unitId], kind: 'unit' }).select('id');
    if (!unit) throw new NotFoundError('Unit', unitId);
    return this.trend(ctx, limit, (s) => s.units, unitId);
  }

  /** Manager conduct: the eNPS of a manager's reports over the last closed surveys; a scoped manager reads only its own; 404 for anyone never employed here. */
  async managerTrend(ctx: QueryContext, managerId: string, limit: number): Promise<EnpsTrend> {
    if (ctx.principal.scopePartyId && ctx.principal.scopePartyId !== managerId) throw new NotFoundError('Manager', managerId);
    const [employment] = await this.deps.relationships.query(ctx, { type: TYPES.employment, toPartyId: managerId }).select('id').limit(1);
    if (!employment) throw new NotFoundError('Manager', managerId);
    return this.trend(ctx, limit, (s) => s.managers, managerId);
  }

  /** The unit's eNPS in the last two of the recent closed surveys where it was shown, oldest first (never an individual answer). */
  async shownUnitEnps(ctx: QueryContext, unitId: string): Promise<number[]> {
    const surveys = await this.closedEnpsSurveys(ctx, 12);
    const snapshots = await this.snapshotsOf(ctx, surveys);
    return surveys
      .map((s) => {
        const group = snapshots.get(s.id)!.units.find((g) => g.key === unitId);
        return group && !group.suppressed ? group.enps : null;
      })
      .filter((e): e is number => e !== null)
      .slice(0, 2)
      .reverse();
  }

  private async trend(ctx: QueryContext, limit: number, groupsOf: (snapshot: SurveySnapshot) => GroupFigure[], key: string): Promise<EnpsTrend> {
    const surveys = await this.closedEnpsSurveys(ctx, limit);
    const snapshots = await this.snapshotsOf(ctx, surveys);
    const data = surveys.reverse().flatMap((survey) => {
      const group = groupsOf(snapshots.get(survey.id)!).find((g) => g.key === key);
      if (!group) return [];
      return [{ surveyId: survey.id, title: survey.title, closedAt: survey.closedAt!, suppressed: group.suppressed, responses: group.responses, enps: group.enps }];
    });
    return { data };
  }

  /** What closed surveys kept at close; computed from their answers for a survey closed before figures were kept. */
  private async snapshotsOf(ctx: QueryContext, surveys: readonly Survey[]): Promise<Map<string, SurveySnapshot>> {
    const out = new Map<string, SurveySnapshot>();
    if (surveys.length === 0) return out;
    const rows: Array<{ survey_id: string; results: SurveyResults; units: GroupFigure[]; managers: GroupFigure[] }> = await this.deps.db
      .in(ctx)('hrm_survey_snapshots')
      .whereIn(
        'survey_id',
        surveys.map((s) => s.id),
      )
      .select('survey_id', 'results', 'units', 'managers');
    for (const row of rows) out.set(row.survey_id, { results: row.results, units: row.units, managers: row.managers });
    const missing = surveys.filter((s) => !out.has(s.id));
    if (missing.length) {
      const responses = await this.responsesOf(
        ctx,
        missing.map((s) => s.id),
      );
      for (const survey of missing) out.set(survey.id, snapshotOf(survey, responses.get(survey.id)!));
    }
    return out;
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
  private async recordIndicators(uow: UnitOfWork, survey: Survey, responses: readonly StoredResponse[], now: Date): Promise<void> {
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

  /**
   * `lock` inside a write: `share` for an answer (answers go side by side; a close waits for
   * them, so no answer arrives once the close has read them), `update` to open or close.
   */
  private async find(ctx: QueryContext, id: string, lock?: 'share' | 'update'): Promise<Survey> {
    const q = this.deps.db.in(ctx)('hrm_surveys').where({ id });
    if (lock === 'share') q.forShare();
    if (lock === 'update') q.forUpdate();
    const row = await q.first(surveyRecord.columns());
    if (!row) throw new NotFoundError('Survey', id);
    return surveyRecord.fromRow(row);
  }

  private async requireStatus(uow: UnitOfWork, id: string, from: Survey['status'], done: string): Promise<Survey> {
    const survey = await this.find(uow, id, 'update');
    if (survey.status !== from) throw new ConflictError(`hrm: survey ${survey.id} is ${survey.status}; only a ${from} survey can be ${done}`);
    return survey;
  }

  /** Surveys are for the firm's staff: a scoped caller must be a current employee. */
  private async requireStaff(ctx: QueryContext): Promise<void> {
    if (!(await this.staff.callerIsStaff(ctx))) throw new ForbiddenError('hrm: surveys are for employees of the tenant');
  }
}

/** Rows per insert statement when answers are written again at close. */
const WRITE_BATCH = 500;

/**
 * The results as served (overall and per unit, under the threshold) and the figure of each
 * unit and each manager's reports, as trends show them: a group with any answer is listed,
 * with its figures only when shown.
 */
function snapshotOf(survey: Survey, responses: readonly StoredResponse[]): SurveySnapshot {
  const enough = responses.length >= survey.minGroupSize;
  const overall = enough ? { suppressed: false as const, ...summarize(survey, responses) } : { suppressed: true as const };
  const figures = (keyOf: GroupKey): GroupFigure[] => {
    if (!enough) {
      const keys = [...new Set(responses.map(keyOf).filter((k): k is string => k !== null))].sort();
      return keys.map((key) => ({ key, suppressed: true, responses: null, enps: null }));
    }
    return groupResults(survey, responses, keyOf, survey.minGroupSize).map((g) =>
      g.suppressed ? { key: g.key, suppressed: true, responses: null, enps: null } : { key: g.key, suppressed: false, responses: g.responses, enps: g.enps },
    );
  };
  const units = enough ? groupResults(survey, responses, (x) => x.unitId, survey.minGroupSize).map(({ key, ...rest }) => ({ unitId: key, ...rest })) : [];
  return {
    results: { surveyId: survey.id, anonymous: survey.anonymous, minGroupSize: survey.minGroupSize, overall, units },
    units: figures((x) => x.unitId),
    managers: figures((x) => x.managerId),
  };
}
