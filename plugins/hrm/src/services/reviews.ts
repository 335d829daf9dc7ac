import { randomUUID } from 'node:crypto';
import { ConflictError, ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { DEFAULT_FORMULA, hrm, type Goal, type ReviewCycle, type ReviewFeedback, type ReviewKind, type ScoreFormula, type Scores } from '@rapport/hrm-contract';
import { callerPartyId, emptyPage } from '../caller.js';
import type { HrmDeps } from '../deps.js';
import { finalScore } from '../domain/review-score.js';
import type { ResolvedHrmOptions } from '../options.js';
import { padForSealing, shuffled, unpadSealed } from '../domain/anonymity.js';
import { goalRecord, reviewCycleRecord } from '../records.js';
import type { StaffDirectory } from './staff.js';

export interface CycleDraft {
  name: string;
  periodStart: string;
  periodEnd: string;
  competencies: string[];
  scale: { name: string; levels: string[] };
  formula?: ScoreFormula;
}

export interface ReviewInput {
  subjectId: string;
  kind: ReviewKind;
  ratings: Record<string, string>;
  feedback?: string;
}

/** Each upward review is sealed under this purpose until its cycle closes. */
const upwardPurpose = (cycleId: string) => `hrm_sealed_reviews:${cycleId}`;
const WRITE_BATCH = 500;

/**
 * Performance reviews: cycles, goals (KPIs) and reviews (`hrm_review_cycles`, `hrm_goals`,
 * `hrm_reviews`). An upward review keeps no reviewer; who gave one is in `hrm_review_givers`.
 * While the cycle is open an upward review is sealed (`hrm_sealed_reviews`), so its row, its
 * transaction and its place beside the giver's row tell nothing; at close the upward reviews
 * of each subject with at least the threshold of them are written to `hrm_reviews` in random
 * order with random ids, and the others stay sealed (they are never served).
 */
export class ReviewService {
  constructor(
    private readonly deps: HrmDeps,
    private readonly staff: StaffDirectory,
    private readonly options: ResolvedHrmOptions,
  ) {}

  async createCycle(uow: UnitOfWork, draft: CycleDraft): Promise<ReviewCycle> {
    if (Date.parse(draft.periodEnd) <= Date.parse(draft.periodStart)) throw new ValidationError('periodEnd: must be after periodStart', [{ path: 'periodEnd', message: 'not after periodStart' }]);
    if (new Set(draft.scale.levels).size !== draft.scale.levels.length) throw new ValidationError('scale.levels: must be distinct', [{ path: 'scale.levels', message: 'duplicate level' }]);
    const formula = draft.formula ?? DEFAULT_FORMULA;
    if (formula.goals + formula.competencies === 0) throw new ValidationError('formula: goals and competencies cannot both weigh 0', [{ path: 'formula', message: 'all weights 0' }]);
    const row = {
      id: newId(),
      name: draft.name,
      period_start: new Date(draft.periodStart),
      period_end: new Date(draft.periodEnd),
      competencies: JSON.stringify(draft.competencies),
      scale: JSON.stringify(draft.scale),
      formula: JSON.stringify(formula),
      closed_at: null,
      created_at: this.options.now(),
    };
    await this.deps.db.in(uow)('hrm_review_cycles').insert(row);
    const cycle = reviewCycleRecord.fromRow(row);
    uow.emit(hrm.events.reviewCycleCreated, { cycle }, { type: 'hrm.review-cycle', id: cycle.id });
    return cycle;
  }

  /** Newest first; cycles are the firm's: a scoped caller sees them only while it is an employee. */
  async listCycles(ctx: QueryContext, query: { limit: number; cursor?: string; status?: 'open' | 'closed' }): Promise<Page<ReviewCycle>> {
    if (!(await this.staff.callerIsStaff(ctx))) return emptyPage();
    const q = this.deps.db.in(ctx)('hrm_review_cycles').select(reviewCycleRecord.columns());
    if (query.status === 'open') q.whereNull('closed_at');
    if (query.status === 'closed') q.whereNotNull('closed_at');
    return keysetPage(q, query, [{ column: 'id', type: 'uuid', direction: 'desc' }], (rows: object[]) => rows.map((row) => reviewCycleRecord.fromRow(row)));
  }

  async getCycle(ctx: QueryContext, id: string): Promise<ReviewCycle> {
    if (!(await this.staff.callerIsStaff(ctx))) throw new NotFoundError('Review cycle', id);
    return this.cycle(ctx, id);
  }

  /** No more reviews; upward results become available. */
  async closeCycle(uow: UnitOfWork, id: string): Promise<ReviewCycle> {
    const cycle = await this.cycle(uow, id, 'update');
    if (cycle.closedAt) throw new ConflictError(`hrm: review cycle ${cycle.id} is already closed`);
    const closedAt = this.options.now();
    await this.deps.db.in(uow)('hrm_review_cycles').where({ id: cycle.id }).update({ closed_at: closedAt });
    await this.releaseUpward(uow, cycle.id);
    const closed = { ...cycle, closedAt: closedAt.toISOString() };
    uow.emit(hrm.events.reviewCycleClosed, { cycle: closed }, { type: 'hrm.review-cycle', id: cycle.id });
    return closed;
  }

  /** A goal of an employee the caller may see (a scoped manager: its reports). */
  async setGoal(uow: UnitOfWork, cycleId: string, input: { employeeId: string; title: string; weight: number; target: number; actual?: number | null }): Promise<Goal> {
    await this.cycle(uow, cycleId);
    await this.staff.visible(uow, input.employeeId);
    const row = { id: newId(), cycle_id: cycleId, employee_id: input.employeeId, title: input.title, weight: input.weight, target: input.target, actual: input.actual ?? null, version: 1 };
    await this.deps.db.in(uow)('hrm_goals').insert(row);
    const goal = goalRecord.fromRow(row);
    uow.emit(hrm.events.goalSet, { goal }, { type: 'hrm.goal', id: goal.id });
    return goal;
  }

  /** Changes a goal at `expectedVersion` (If-Match); a goal of an employee out of reach is a 404. */
  async updateGoal(uow: UnitOfWork, id: string, change: { actual?: number | null; target?: number; weight?: number }, expectedVersion: number | undefined): Promise<Goal> {
    const tables = this.deps.db.in(uow);
    const row = await tables('hrm_goals').where({ id }).forUpdate().first(goalRecord.columns());
    if (!row) throw new NotFoundError('Goal', id);
    await this.staff.visible(uow, row.employee_id).catch(() => {
      throw new NotFoundError('Goal', id);
    });
    if (row.version !== expectedVersion) throw new PreconditionFailedError(`hrm: goal ${row.id} is at version ${row.version}`, { currentVersion: row.version });
    const patch = {
      ...(change.actual !== undefined && { actual: change.actual }),
      ...(change.target !== undefined && { target: change.target }),
      ...(change.weight !== undefined && { weight: change.weight }),
      version: row.version + 1,
    };
    await tables('hrm_goals').where({ id: row.id }).update(patch);
    const goal = goalRecord.fromRow({ ...row, ...patch });
    uow.emit(hrm.events.goalUpdated, { goal, previous: goalRecord.fromRow(row) }, { type: 'hrm.goal', id: goal.id });
    return goal;
  }

  /** A review as oneself: self, manager (of a report), peer, or upward (of one's manager, stored without the reviewer). */
  async submit(uow: UnitOfWork, cycleId: string, input: ReviewInput): Promise<{ cycleId: string; subjectId: string; kind: ReviewKind; submitted: true }> {
    const reviewer = callerPartyId(uow.principal);
    if (!reviewer) throw new ForbiddenError('hrm: only a principal linked to an employee gives reviews');
    // Cycles are out of reach of anyone not employed here: the same 404 as an unknown cycle, whatever its state.
    if (!(await this.staff.isEmployed(uow, reviewer))) throw new NotFoundError('Review cycle', cycleId);
    const cycle = await this.cycle(uow, cycleId, 'share');
    if (cycle.closedAt) throw new ConflictError(`hrm: review cycle ${cycle.id} is closed`);
    const { subjectId, kind, ratings } = input;
    await this.staff.requireEmployed(uow, subjectId, 'subjectId');
    if (!(await this.fits(uow, kind, reviewer, subjectId)))
      throw new ValidationError(`kind: a ${kind} review does not fit the reviewer and the subject`, [{ path: 'kind', message: 'wrong relation' }]);
    const unknown = Object.keys(ratings).filter((c) => !cycle.competencies.includes(c));
    const badLevel = Object.entries(ratings).filter(([, l]) => !cycle.scale.levels.includes(l));
    if (unknown.length || badLevel.length || Object.keys(ratings).length === 0) {
      throw new ValidationError(`ratings: rate the cycle's competencies on the ${cycle.scale.name} scale (${cycle.scale.levels.join(', ')})`, [
        ...unknown.map((c) => ({ path: `ratings.${c}`, message: 'not a competency of this cycle' })),
        ...badLevel.map(([c]) => ({ path: `ratings.${c}`, message: 'not a level of the scale' })),
      ]);
    }
    const tables = this.deps.db.in(uow);
    const given = await tables('hrm_review_givers')
      .insert({ cycle_id: cycle.id, subject_id: subjectId, reviewer_id: reviewer, kind })
      .onConflict(['cycle_id', 'subject_id', 'reviewer_id', 'kind'])
      .ignore()
      .returning('kind');
    if (given.length === 0) throw new ConflictError(`hrm: you already gave a ${kind} review of ${subjectId} in this cycle`);
    const reviewerId = kind === 'upward' ? null : reviewer;
    if (kind === 'upward') {
      const sealed = this.deps.sealing.seal(uow.tenantId, upwardPurpose(cycle.id), padForSealing(JSON.stringify({ ratings, feedback: input.feedback ?? null })));
      await tables('hrm_sealed_reviews').insert({ id: randomUUID(), cycle_id: cycle.id, subject_id: subjectId, sealed });
    } else {
      await tables('hrm_reviews').insert({
        id: randomUUID(),
        cycle_id: cycle.id,
        subject_id: subjectId,
        reviewer_id: reviewerId,
        kind,
        ratings: JSON.stringify(ratings),
        feedback: input.feedback ?? null,
      });
    }
    uow.emit(hrm.events.reviewSubmitted, { cycleId: cycle.id, subjectId, kind, reviewerId }, { type: 'hrm.review-cycle', id: cycle.id });
    return { cycleId: cycle.id, subjectId, kind, submitted: true };
  }

  /** An employee's scores in a cycle with the cycle's formula; upward results of an open cycle are held back. */
  async scores(ctx: QueryContext, cycleId: string, employeeId: string): Promise<Scores> {
    await this.staff.visible(ctx, employeeId);
    const cycle = await this.cycle(ctx, cycleId);
    const tables = this.deps.db.in(ctx);
    const goalRows: object[] = await tables('hrm_goals').where({ cycle_id: cycle.id, employee_id: employeeId }).orderBy('id').select(goalRecord.columns());
    const goals = goalRows.map((row) => goalRecord.fromRow(row));
    const reviews: Array<{ kind: ReviewKind; ratings: Record<string, string> }> = await tables('hrm_reviews').where({ cycle_id: cycle.id, subject_id: employeeId }).select('kind', 'ratings');
    // Upward results move as reviews arrive while the cycle is open, which would time them: closed cycles only.
    const score = finalScore(cycle.formula, goals, cycle.closedAt ? reviews : reviews.filter((r) => r.kind !== 'upward'), cycle.scale.levels, this.options.minGroupSize);
    // Sealed upward reviews: those of an open cycle, and those of a subject with fewer than the threshold.
    const [{ n: sealed }] = await tables('hrm_sealed_reviews').where({ cycle_id: cycle.id, subject_id: employeeId }).count<{ n: string }[]>('* as n');
    const heldBack = Number(sealed) > 0 || (!cycle.closedAt && reviews.some((r) => r.kind === 'upward'));
    if (heldBack && !(cycle.closedAt && score.byKind.upward.reviews > 0)) score.byKind.upward = { reviews: 0, score: null, suppressed: true };
    return { cycleId: cycle.id, employeeId, goals, goalScore: score.goals, byKind: score.byKind, competencyScore: score.competencies, final: score.final };
  }

  /** Written feedback about an employee; upward feedback unattributed and only from a group at the threshold of a closed cycle. */
  async feedback(ctx: QueryContext, cycleId: string, employeeId: string): Promise<ReviewFeedback> {
    await this.staff.visible(ctx, employeeId);
    const cycle = await this.cycle(ctx, cycleId);
    const rows: Array<{ kind: ReviewKind; reviewer_id: string | null; feedback: string | null }> = await this.deps.db
      .in(ctx)('hrm_reviews')
      .where({ cycle_id: cycleId, subject_id: employeeId })
      .orderBy(['kind', 'feedback'])
      .select('kind', 'reviewer_id', 'feedback');
    const upward = rows.filter((r) => r.kind === 'upward');
    const suppressed = !cycle.closedAt || upward.length < this.options.minGroupSize;
    return {
      attributed: rows.filter((r) => r.kind !== 'upward' && r.feedback).map((r) => ({ kind: r.kind, reviewerId: r.reviewer_id!, feedback: r.feedback! })),
      upward: { suppressed, feedback: suppressed ? [] : upward.flatMap((r) => (r.feedback ? [r.feedback] : [])).sort() },
    };
  }

  /** The employee's final scores in the last two closed cycles, oldest first (a retention signal). */
  async recentFinalScores(ctx: QueryContext, employeeId: string): Promise<number[]> {
    const tables = this.deps.db.in(ctx);
    const cycleRows: object[] = await tables('hrm_review_cycles').whereNotNull('closed_at').orderBy('closed_at', 'desc').limit(2).select(reviewCycleRecord.columns());
    const cycles = cycleRows.map((row) => reviewCycleRecord.fromRow(row));
    if (cycles.length === 0) return [];
    const cycleIds = cycles.map((c) => c.id);
    const goalRows: object[] = await tables('hrm_goals').where({ employee_id: employeeId }).whereIn('cycle_id', cycleIds).select(goalRecord.columns());
    const goals = goalRows.map((row) => goalRecord.fromRow(row));
    const reviews: Array<{ cycle_id: string; kind: ReviewKind; ratings: Record<string, string> }> = await tables('hrm_reviews')
      .where({ subject_id: employeeId })
      .whereIn('cycle_id', cycleIds)
      .select('cycle_id', 'kind', 'ratings');
    return cycles
      .map(
        (c) =>
          finalScore(
            c.formula,
            goals.filter((g) => g.cycleId === c.id),
            reviews.filter((r) => r.cycle_id === c.id),
            c.scale.levels,
            this.options.minGroupSize,
          ).final,
      )
      .filter((s): s is number => s !== null)
      .reverse();
  }

  /**
   * At close: the upward reviews of each subject with at least the threshold of them are
   * opened and written to `hrm_reviews`, all subjects' at once in random order, random ids, no
   * reviewer; the rest are sealed again in random order. Upward reviews in clear from before
   * sealing are taken along, so no row keeps its place beside its giver's.
   */
  private async releaseUpward(uow: UnitOfWork, cycleId: string): Promise<void> {
    const tables = this.deps.db.in(uow);
    const purpose = upwardPurpose(cycleId);
    const sealedRows: Array<{ subject_id: string; sealed: string }> = await tables('hrm_sealed_reviews').where({ cycle_id: cycleId }).select('subject_id', 'sealed');
    const clearRows: Array<{ subject_id: string; ratings: Record<string, string>; feedback: string | null }> = await tables('hrm_reviews')
      .where({ cycle_id: cycleId, kind: 'upward' })
      .select('subject_id', 'ratings', 'feedback');
    if (sealedRows.length === 0 && clearRows.length === 0) return;
    const reviews = [
      ...clearRows.map((r) => ({ subjectId: r.subject_id, ratings: r.ratings, feedback: r.feedback })),
      ...sealedRows.map((r) => ({
        subjectId: r.subject_id,
        ...(JSON.parse(unpadSealed(this.deps.sealing.open(uow.tenantId, purpose, r.sealed))) as { ratings: Record<string, string>; feedback: string | null }),
      })),
    ];
    const perSubject = new Map<string, number>();
    for (const r of reviews) perSubject.set(r.subjectId, (perSubject.get(r.subjectId) ?? 0) + 1);
    const released = reviews.filter((r) => perSubject.get(r.subjectId)! >= this.options.minGroupSize);
    const kept = reviews.filter((r) => perSubject.get(r.subjectId)! < this.options.minGroupSize);
    await tables('hrm_sealed_reviews').where({ cycle_id: cycleId }).delete();
    await tables('hrm_reviews').where({ cycle_id: cycleId, kind: 'upward' }).delete();
    const clear = shuffled(released).map((r) => ({
      id: randomUUID(),
      cycle_id: cycleId,
      subject_id: r.subjectId,
      reviewer_id: null,
      kind: 'upward',
      ratings: JSON.stringify(r.ratings),
      feedback: r.feedback,
    }));
    for (let i = 0; i < clear.length; i += WRITE_BATCH) await tables('hrm_reviews').insert(clear.slice(i, i + WRITE_BATCH));
    const sealed = shuffled(kept).map((r) => ({
      id: randomUUID(),
      cycle_id: cycleId,
      subject_id: r.subjectId,
      sealed: this.deps.sealing.seal(uow.tenantId, purpose, padForSealing(JSON.stringify({ ratings: r.ratings, feedback: r.feedback }))),
    }));
    for (let i = 0; i < sealed.length; i += WRITE_BATCH) await tables('hrm_sealed_reviews').insert(sealed.slice(i, i + WRITE_BATCH));
  }

  /** Whether a review of `kind` fits who gives it and whom it is about (the reporting line). */
  private async fits(ctx: QueryContext, kind: ReviewKind, reviewer: string, subjectId: string): Promise<boolean> {
    switch (kind) {
      case 'self':
        return reviewer === subjectId;
      case 'manager':
        return (await this.staff.currentManagerId(ctx, subjectId)) === reviewer;
      case 'upward':
        return (await this.staff.currentManagerId(ctx, reviewer)) === subjectId;
      case 'peer':
        return reviewer !== subjectId;
    }
  }

  /** `lock` inside a write: `share` for a review (a close waits for those under way), `update` to close. */
  private async cycle(ctx: QueryContext, id: string, lock?: 'share' | 'update'): Promise<ReviewCycle> {
    const q = this.deps.db.in(ctx)('hrm_review_cycles').where({ id });
    if (lock === 'share') q.forShare();
    if (lock === 'update') q.forUpdate();
    const row = await q.first(reviewCycleRecord.columns());
    if (!row) throw new NotFoundError('Review cycle', id);
    return reviewCycleRecord.fromRow(row);
  }
}
