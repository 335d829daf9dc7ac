import { ValidationError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { hrm, type ExitInterview, type ExitReasons } from '@rapport/hrm-contract';
import { INDICATORS, INTERACTIONS } from '../declarations.js';
import type { HrmDeps } from '../deps.js';
import { aggregateExitReasons, quarterOf, type ExitReasonRow } from '../domain/exit-reasons.js';
import type { ResolvedHrmOptions } from '../options.js';
import { exitInterviewRecord } from '../records.js';
import type { EmployeeService } from './employees.js';
import type { StaffDirectory } from './staff.js';

export interface ExitInterviewInput {
  reasons: string[];
  comment?: string;
  outcome: 'retained' | 'left';
  confidential: boolean;
  /** The last day, when the person leaves. */
  end?: string;
  conductedAt?: string;
}

/** A confidential interview's reasons are served only aggregated. */
function toInterview(row: object & { confidential: boolean; reasons: string[] }): ExitInterview {
  return exitInterviewRecord.fromRow(row, { reasons: row.confidential ? null : row.reasons });
}

/**
 * Exit interviews (`hrm_exit_interviews`). A confidential one keeps its reasons and comment out
 * of the timeline, events and observations; they appear only in per-unit aggregates at the
 * anonymity threshold, for ended quarters.
 */
export class ExitInterviewService {
  constructor(
    private readonly deps: HrmDeps,
    private readonly collaborators: { staff: StaffDirectory; employees: EmployeeService },
    private readonly options: ResolvedHrmOptions,
  ) {}

  /** "retained" keeps the employment; "left" ends it (at `end`). */
  async record(uow: UnitOfWork, employeeId: string, input: ExitInterviewInput): Promise<ExitInterview> {
    const { staff, employees } = this.collaborators;
    if (new Set(input.reasons).size !== input.reasons.length) throw new ValidationError('reasons: each reason once', [{ path: 'reasons', message: 'duplicate reason' }]);
    // A confidential interview is dated by the clock: a chosen date could move it into a period already served.
    if (input.confidential && input.conductedAt)
      throw new ValidationError('conductedAt: a confidential interview is dated when it is recorded', [{ path: 'conductedAt', message: 'not allowed when confidential' }]);
    const employee = await staff.visible(uow, employeeId);
    const active = await staff.isEmployed(uow, employee.id);
    if (input.outcome === 'left' && active && !input.end)
      throw new ValidationError('end: the last day is needed to end the employment', [{ path: 'end', message: 'required when the outcome is left' }]);
    if (input.outcome === 'retained' && !active) throw new ValidationError('outcome: the employment has already ended', [{ path: 'outcome', message: 'cannot be retained' }]);
    if (input.outcome === 'retained' && input.end) throw new ValidationError('end: a retained employee keeps the employment', [{ path: 'end', message: 'not allowed when retained' }]);
    const conductedAt = input.conductedAt ? new Date(input.conductedAt) : this.options.now();
    const id = newId();
    const interviewer = uow.principal.partyId ?? null;
    const hr = interviewer && interviewer !== employee.id ? interviewer : null;
    const interaction = await this.deps.interactions.create(uow, {
      type: INTERACTIONS.exitInterview,
      occurredAt: conductedAt.toISOString(),
      direction: 'internal',
      subject: 'Exit interview',
      // The timeline never carries a confidential interview's reasons.
      summary: input.confidential ? null : `Reasons: ${input.reasons.join(', ')}`,
      attributes: { exitInterviewId: id, outcome: input.outcome },
      participants: [{ partyId: employee.id, role: 'employee' }, ...(hr ? [{ partyId: hr, role: 'hr' }] : [])],
    });
    const row = {
      id,
      employee_id: employee.id,
      unit_id: employee.employment!.unitId,
      reasons: JSON.stringify(input.reasons),
      confidential: input.confidential,
      outcome: input.outcome,
      conducted_at: conductedAt,
      interaction_id: interaction.id,
      comment: input.confidential ? (input.comment ?? null) : null,
    };
    await this.deps.db.in(uow)('hrm_exit_interviews').insert(row);
    if (input.comment && !input.confidential) {
      await this.deps.observations.record(uow, {
        indicator: INDICATORS.exitComment,
        subjectId: employee.id,
        text: input.comment,
        observedAt: conductedAt.toISOString(),
        observerPartyId: hr,
        interactionId: interaction.id,
        details: { exitInterviewId: id, reasons: input.reasons, outcome: input.outcome },
      });
    }
    if (input.outcome === 'left' && active) await employees.endEmployment(uow, employee.id, input.end!, input.confidential ? null : input.reasons.join(', '));
    uow.emit(hrm.events.exitInterviewRecorded, { exitInterviewId: id, employeeId: employee.id, outcome: input.outcome, confidential: input.confidential }, { type: 'hrm.employee', id: employee.id });
    return toInterview({ ...row, reasons: input.reasons });
  }

  /** An employee's interviews, oldest first (confidential ones without their reasons). */
  async list(ctx: QueryContext, employeeId: string, page: { limit: number; cursor?: string }): Promise<Page<ExitInterview>> {
    await this.collaborators.staff.visible(ctx, employeeId);
    const q = this.deps.db
      .in(ctx)('hrm_exit_interviews')
      .where({ employee_id: employeeId })
      .select([...exitInterviewRecord.columns(), 'reasons']);
    return keysetPage(
      q,
      page,
      [
        { column: 'conducted_at', type: 'timestamp' },
        { column: 'id', type: 'uuid' },
      ],
      (rows: Array<object & { confidential: boolean; reasons: string[] }>) => rows.map(toInterview),
    );
  }

  /** Reasons and outcomes per unit for a quarter; confidential interviews only once it ended and at the threshold. */
  async reasons(ctx: QueryContext, period: string | undefined): Promise<ExitReasons> {
    const now = this.options.now();
    const quarter = quarterOf(period, now);
    const rows: ExitReasonRow[] = await this.deps.db
      .in(ctx)('hrm_exit_interviews')
      .where('conducted_at', '>=', quarter.from)
      .where('conducted_at', '<', quarter.to)
      .select('unit_id', 'reasons', 'confidential', 'outcome', 'comment');
    const ended = quarter.to.getTime() <= now.getTime();
    const { minGroupSize, exitReasons } = this.options;
    return { period: quarter.period, from: quarter.from.toISOString(), to: quarter.to.toISOString(), ended, minGroupSize, units: aggregateExitReasons(rows, exitReasons, { ended, minGroupSize }) };
  }
}
