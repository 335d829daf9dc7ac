import {
  ConflictError,
  NotFoundError,
  ValidationError,
  isoRequired,
  keysetPage,
  newId,
  type Interaction,
  type InteractionViewRow,
  type Page,
  type PartyCreateInput,
  type QueryContext,
  type UnitOfWork,
} from '@rapport/core';
import { FINAL_RECRUITING_STAGES, hrm, type Application, type Employee, type Opening } from '@rapport/hrm-contract';
import { callerPartyId } from '../caller.js';
import { INDICATORS, INTERACTIONS, SCOPES, TYPES } from '../declarations.js';
import type { HrmDeps } from '../deps.js';
import type { ResolvedHrmOptions } from '../options.js';
import { openingRecord } from '../records.js';
import type { EmployeeService } from './employees.js';
import type { PositionService } from './positions.js';
import type { StaffDirectory } from './staff.js';
import type { UnitService } from './units.js';

/** A candidacy as read: the hrm.recruiting relationship, its opening's id and the candidate's name. */
interface ApplicationRow {
  id: string;
  to_party_id: string;
  name: string;
  status: string;
  opening_id: string;
  attributes: { openingId: string; source?: string | null };
  valid_from: Date | null;
  created_at: Date;
  updated_at: Date;
  version: number;
}

function toApplication(row: ApplicationRow): Application {
  return {
    id: row.id,
    candidateId: row.to_party_id,
    candidateName: row.name,
    openingId: row.opening_id,
    stage: row.status,
    source: row.attributes.source ?? null,
    appliedAt: isoRequired(row.valid_from ?? row.created_at),
    updatedAt: isoRequired(row.updated_at),
    version: row.version,
  };
}

const isFinal = (stage: string) => (FINAL_RECRUITING_STAGES as readonly string[]).includes(stage);

export interface CandidateInput {
  partyId?: string;
  person?: Pick<PartyCreateInput, 'name' | 'contactPoints'>;
  source?: string;
}

export interface InterviewFeedback {
  rating: string;
  summary?: string;
  occurredAt?: string;
  interviewerPartyId?: string;
}

/**
 * Recruiting: openings (`hrm_openings`) and candidacies, each a kernel `hrm.recruiting`
 * relationship (employer → candidate) whose status is the stage. A scoped principal reaches
 * the openings it is hiring manager of, and through them their candidacies.
 */
export class RecruitingService {
  /** Units of work inside a hire: only they may set a candidacy to `hired`, so a hire always starts the employment. */
  private readonly hiring = new WeakSet<UnitOfWork>();

  constructor(
    private readonly deps: HrmDeps,
    private readonly collaborators: { staff: StaffDirectory; units: UnitService; positions: PositionService; employees: EmployeeService },
    private readonly options: ResolvedHrmOptions,
  ) {}

  isHiring(uow: UnitOfWork): boolean {
    return this.hiring.has(uow);
  }

  async createOpening(uow: UnitOfWork, input: { title: string; unitId: string; positionId?: string | null; hiringManagerId?: string | null }): Promise<Opening> {
    const { units, positions, staff } = this.collaborators;
    await units.require(uow, input.unitId);
    if (input.positionId) await positions.require(uow, input.positionId);
    if (input.hiringManagerId) await staff.requireEmployed(uow, input.hiringManagerId, 'hiringManagerId');
    const row = {
      id: newId(),
      title: input.title,
      unit_id: input.unitId,
      position_id: input.positionId ?? null,
      hiring_manager_id: input.hiringManagerId ?? null,
      status: 'open',
      created_at: this.options.now(),
    };
    await this.deps.db.in(uow)('hrm_openings').insert(row);
    const opening = openingRecord.fromRow(row);
    uow.emit(hrm.events.openingCreated, { opening }, { type: 'hrm.opening', id: opening.id });
    return opening;
  }

  /** By id; a scoped caller: the openings it is hiring manager of. */
  listOpenings(ctx: QueryContext, query: { limit: number; cursor?: string; status?: Opening['status']; unitId?: string }): Promise<Page<Opening>> {
    const q = this.deps.db.in(ctx)('hrm_openings').select(openingRecord.columns());
    this.deps.scopes.apply(q, ctx, SCOPES.openings, 'id');
    if (query.status) q.where('status', query.status);
    if (query.unitId) q.where('unit_id', query.unitId);
    return keysetPage(q, query, [{ column: 'id', type: 'uuid' }], (rows: object[]) => rows.map((row) => openingRecord.fromRow(row)));
  }

  /** An opening the caller may see; 404 otherwise. */
  async opening(ctx: QueryContext, id: string): Promise<Opening> {
    const q = this.deps.db.in(ctx)('hrm_openings').where({ id }).select(openingRecord.columns());
    this.deps.scopes.apply(q, ctx, SCOPES.openings, 'id');
    const row = await q.first();
    if (!row) throw new NotFoundError('Opening', id);
    return openingRecord.fromRow(row);
  }

  /** No new candidates; candidacies in progress keep their stage. */
  async closeOpening(uow: UnitOfWork, id: string): Promise<Opening> {
    const current = await this.opening(uow, id);
    if (current.status === 'closed') throw new ConflictError(`hrm: opening ${current.id} is already closed`);
    await this.deps.db.in(uow)('hrm_openings').where({ id: current.id }).update({ status: 'closed' });
    const opening = { ...current, status: 'closed' as const };
    uow.emit(hrm.events.openingClosed, { opening }, { type: 'hrm.opening', id: opening.id });
    return opening;
  }

  /** An existing person or a new one, once per opening, at the first stage. */
  async addCandidate(uow: UnitOfWork, openingId: string, input: CandidateInput): Promise<Application> {
    const opening = await this.opening(uow, openingId);
    if (opening.status !== 'open') throw new ConflictError(`hrm: opening ${opening.id} is closed`);
    let candidateId: string;
    if (input.partyId) {
      const party = await this.deps.parties.get(uow, input.partyId);
      if (party.kind !== 'person') throw new ValidationError('partyId: a candidate is a person', [{ path: 'partyId', message: `kind is ${party.kind}` }]);
      candidateId = party.id;
      const existing: { id: string } | undefined = await this.deps.relationships
        .query(uow, { type: TYPES.recruiting, toPartyId: candidateId })
        .whereRaw("attributes->>'openingId' = ?", [opening.id])
        .first('id');
      if (existing) throw new ConflictError(`hrm: person ${candidateId} is already a candidate for opening ${opening.id} (application ${existing.id})`);
    } else {
      candidateId = (await this.deps.parties.create(uow, { kind: 'person', name: input.person!.name, contactPoints: input.person!.contactPoints })).id;
    }
    const relationship = await this.deps.relationships.create(uow, {
      type: TYPES.recruiting,
      fromPartyId: await this.deps.tenants.selfPartyId(uow),
      toPartyId: candidateId,
      validFrom: this.options.now().toISOString(),
      attributes: { openingId: opening.id, source: input.source ?? null },
    });
    await this.recordStage(uow, { id: relationship.id, to_party_id: candidateId, opening_id: opening.id }, null, relationship.status, null);
    const application = await this.application(uow, relationship.id);
    uow.emit(hrm.events.candidateApplied, { application }, { type: 'hrm.application', id: application.id });
    return application;
  }

  /** By id; a scoped caller: the candidacies of the openings it is hiring manager of. */
  listCandidacies(ctx: QueryContext, query: { limit: number; cursor?: string; openingId?: string; stage?: string; candidateId?: string }): Promise<Page<Application>> {
    const q = this.applicationsQuery(ctx);
    if (query.openingId) q.where('o.id', query.openingId);
    if (query.stage) q.where('a.status', query.stage);
    if (query.candidateId) q.where('a.to_party_id', query.candidateId);
    return keysetPage(q, query, [{ column: 'a.id', type: 'uuid' }], (rows: ApplicationRow[]) => rows.map(toApplication));
  }

  async application(ctx: QueryContext, id: string): Promise<Application> {
    return toApplication(await this.visibleApplication(ctx, id));
  }

  /** Moves a candidacy to another open stage, or ends it (rejected, withdrawn); hiring is `hire`. */
  async move(uow: UnitOfWork, id: string, stage: string, reason: string | null, expectedVersion: number | undefined): Promise<Application> {
    const row = await this.visibleApplication(uow, id, true);
    if (stage === 'hired') throw new ConflictError(`hrm: hire candidate ${row.to_party_id} with POST /applications/${row.id}/hire, which starts the employment`);
    if (stage === row.status) throw new ConflictError(`hrm: application ${row.id} is already at stage ${row.status}`);
    if (isFinal(row.status)) throw new ConflictError(`hrm: application ${row.id} is ${row.status}; it cannot move any more`);
    await this.deps.relationships.update(uow, row.id, { status: stage }, expectedVersion);
    await this.recordStage(uow, row, row.status, stage, reason);
    const application = await this.application(uow, row.id);
    uow.emit(hrm.events.candidateMoved, { application, previousStage: row.status }, { type: 'hrm.application', id: row.id });
    return application;
  }

  /**
   * Hires a candidate at the last open stage: the candidacy becomes `hired` and the same person
   * starts an employment (unit, position and manager default to the opening's).
   */
  async hire(
    uow: UnitOfWork,
    id: string,
    input: { start: string; unitId?: string; positionId?: string | null; managerId?: string | null },
    expectedVersion: number | undefined,
  ): Promise<{ application: Application; employee: Employee }> {
    const row = await this.visibleApplication(uow, id, true);
    const stages = this.options.recruitingStages;
    const last = stages[stages.length - 1];
    if (row.status !== last) throw new ConflictError(`hrm: application ${row.id} is at stage ${row.status}; a candidate is hired from stage ${last}`);
    const opening = await this.opening(uow, row.opening_id);
    this.hiring.add(uow);
    await this.deps.relationships.update(uow, row.id, { status: 'hired' }, expectedVersion);
    await this.recordStage(uow, row, row.status, 'hired', null);
    const employee = await this.collaborators.employees.startEmployment(uow, {
      partyId: row.to_party_id,
      unitId: input.unitId ?? opening.unitId,
      positionId: input.positionId !== undefined ? input.positionId : opening.positionId,
      managerId: input.managerId !== undefined ? input.managerId : opening.hiringManagerId,
      start: input.start,
    });
    const application = await this.application(uow, row.id);
    uow.emit(hrm.events.candidateHired, { application, employee }, { type: 'hrm.application', id: row.id });
    return { application, employee };
  }

  /**
   * Interview feedback: an interaction on the candidate's timeline, its rating kept as an
   * hrm.interview-rating observation (hidden from the candidate). A scoped hiring manager gives
   * it as itself on its own openings' candidates.
   */
  async feedback(uow: UnitOfWork, id: string, input: InterviewFeedback): Promise<Interaction> {
    const row = await this.visibleApplication(uow, id);
    const interviewer = input.interviewerPartyId && !uow.principal.scopePartyId ? input.interviewerPartyId : callerPartyId(uow.principal);
    if (!interviewer) throw new ValidationError('interviewerPartyId: the caller is not linked to a person; name the interviewer', [{ path: 'interviewerPartyId', message: 'required' }]);
    await this.collaborators.staff.requireEmployed(uow, interviewer, 'interviewerPartyId');
    if (isFinal(row.status)) throw new ConflictError(`hrm: application ${row.id} is ${row.status}; feedback is for candidacies in progress`);
    // Authorized above: the candidate is outside a scoped hiring manager's kernel scope.
    const write = uow.unscoped();
    const interaction = await this.deps.interactions.create(write, {
      type: INTERACTIONS.interview,
      occurredAt: input.occurredAt ?? this.options.now().toISOString(),
      direction: 'internal',
      subject: 'Interview',
      summary: input.summary ?? null,
      relationshipId: row.id,
      attributes: { openingId: row.opening_id, rating: input.rating },
      participants: [
        { partyId: row.to_party_id, role: 'candidate' },
        { partyId: interviewer, role: 'interviewer' },
      ],
    });
    await this.deps.observations.record(write, {
      indicator: INDICATORS.interviewRating,
      subjectId: row.to_party_id,
      label: input.rating,
      text: input.summary ?? null,
      observedAt: interaction.occurredAt,
      observerPartyId: interviewer,
      interactionId: interaction.id,
      details: { applicationId: row.id, openingId: row.opening_id },
    });
    uow.emit(hrm.events.interviewRecorded, { applicationId: row.id, candidateId: row.to_party_id, interactionId: interaction.id }, { type: 'hrm.application', id: row.id });
    return interaction;
  }

  /** A candidate's recruiting timeline, newest first: stage changes and interviews of the candidacies the caller may see (none: 404). */
  async timeline(ctx: QueryContext, candidateId: string, page: { limit: number; cursor?: string }): Promise<Page<Interaction>> {
    const entries = this.deps.interactions.query(ctx, { type: [INTERACTIONS.recruitingStage, INTERACTIONS.interview] }).as('i');
    const q = this.candidaciesOf(ctx, candidateId).join(entries, 'i.relationship_id', 'a.id').select('i.*');
    const result = await keysetPage(q, page, [{ column: 'i.id', type: 'uuid', direction: 'desc' }], (rows: InteractionViewRow[]) =>
      // The candidate's recruiting entries are authorized by the scope above; their participants go with them.
      this.deps.interactions.withParticipants(ctx, rows),
    );
    if (result.data.length === 0 && !page.cursor && !(await this.candidaciesOf(ctx, candidateId).first('a.id'))) {
      // Nothing visible: a candidate outside the caller's reach answers 404, like one that does not exist.
      throw new NotFoundError('Candidate', candidateId);
    }
    return result;
  }

  /** Each stage change is an interaction on the candidate's timeline, so the history reads like a customer's. */
  private async recordStage(uow: UnitOfWork, application: Pick<ApplicationRow, 'id' | 'to_party_id' | 'opening_id'>, from: string | null, to: string, reason: string | null): Promise<void> {
    await this.deps.interactions.create(uow, {
      type: INTERACTIONS.recruitingStage,
      direction: 'internal',
      subject: from ? `${from} → ${to}` : to,
      summary: reason,
      relationshipId: application.id,
      attributes: { openingId: application.opening_id, from, to, reason },
      participants: [{ partyId: application.to_party_id, role: 'candidate' }],
    });
  }

  /**
   * Candidacies (`a`) with their opening (`o`), within the caller's scope of openings (applied
   * to the opening, in SQL): the query lists, gets and the timeline share.
   */
  private candidacies(ctx: QueryContext) {
    const relationships = this.deps.relationships
      .query(ctx, { type: TYPES.recruiting })
      .select('relationships.*', this.deps.db.in(ctx).raw("(relationships.attributes->>'openingId')::uuid as opening_id"))
      .as('a');
    const q = this.deps.db.in(ctx)('hrm_openings as o').join(relationships, 'a.opening_id', 'o.id');
    this.deps.scopes.apply(q, ctx, SCOPES.openings, 'o.id');
    return q;
  }

  private candidaciesOf(ctx: QueryContext, candidateId: string) {
    return this.candidacies(ctx).where('a.to_party_id', candidateId);
  }

  private applicationsQuery(ctx: QueryContext) {
    const candidates = this.deps.parties.query(ctx).as('p');
    return this.candidacies(ctx)
      .join(candidates, 'p.id', 'a.to_party_id')
      .select('a.id', 'a.to_party_id', 'p.name', 'a.status', 'a.opening_id', 'a.attributes', 'a.valid_from', 'a.created_at', 'a.updated_at', 'a.version');
  }

  /** 404 for a candidacy outside the caller's reach, as for one that does not exist. */
  private async visibleApplication(ctx: QueryContext, id: string, forUpdate = false): Promise<ApplicationRow> {
    const q = this.applicationsQuery(ctx).where('a.id', id);
    if (forUpdate) q.forUpdate();
    const row: ApplicationRow | undefined = await q.first();
    if (!row) throw new NotFoundError('Application', id);
    return row;
  }
}
