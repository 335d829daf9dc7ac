import { ValidationError, type Interaction, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { callerPartyId } from '../caller.js';
import { INTERACTIONS } from '../declarations.js';
import type { HrmDeps } from '../deps.js';
import type { StaffDirectory } from './staff.js';

/** Timeline entries HRM records by hand (kudos has its own method; requests and surveys come from their modules). */
const TIMELINE_KINDS = { 'one-to-one': INTERACTIONS.oneToOne, feedback: INTERACTIONS.feedback, 'onboarding-step': INTERACTIONS.onboardingStep } as const;

export interface TimelineEntry {
  kind: keyof typeof TIMELINE_KINDS;
  occurredAt?: string;
  subject?: string;
  summary?: string;
  /** The other person of a one-to-one or feedback, in `withRole`. */
  withPartyId?: string;
  withRole: 'manager' | 'colleague' | 'hr';
}

/** The employee timeline: kernel interactions with the employee as a participant. */
export class TimelineService {
  constructor(
    private readonly deps: HrmDeps,
    private readonly staff: StaffDirectory,
  ) {}

  async record(uow: UnitOfWork, employeeId: string, entry: TimelineEntry): Promise<Interaction> {
    await this.staff.visible(uow, employeeId);
    const participants = [{ partyId: employeeId, role: 'employee' }];
    if (entry.withPartyId && entry.withPartyId !== employeeId) participants.push({ partyId: entry.withPartyId, role: entry.withRole });
    return this.deps.interactions.create(uow, {
      type: TIMELINE_KINDS[entry.kind],
      occurredAt: entry.occurredAt,
      direction: 'internal',
      subject: entry.subject ?? null,
      summary: entry.summary ?? null,
      participants,
    });
  }

  /** The interactions of the employee the caller may see. */
  async list(ctx: QueryContext, employeeId: string, query: { limit: number; cursor?: string; type?: string }): Promise<Page<Interaction>> {
    await this.staff.visible(ctx, employeeId);
    return this.deps.interactions.partyTimeline(ctx, employeeId, query);
  }

  /** Recognition between two current employees, on both timelines. */
  async kudos(uow: UnitOfWork, input: { toPartyId: string; message: string; fromPartyId?: string }): Promise<Interaction> {
    // Giving kudos in someone else's name is an HR tool for unscoped callers only.
    const giver = input.fromPartyId && !uow.principal.scopePartyId ? input.fromPartyId : callerPartyId(uow.principal);
    if (!giver) throw new ValidationError('fromPartyId: the caller is not linked to a person; name the giver', [{ path: 'fromPartyId', message: 'required' }]);
    if (giver === input.toPartyId) throw new ValidationError('toPartyId: kudos go to someone else', [{ path: 'toPartyId', message: 'same as the giver' }]);
    await this.staff.requireEmployed(uow, giver, 'fromPartyId');
    await this.staff.requireEmployed(uow, input.toPartyId, 'toPartyId');
    return this.deps.interactions.create(uow, {
      type: INTERACTIONS.kudos,
      direction: 'internal',
      summary: input.message,
      participants: [
        { partyId: giver, role: 'giver' },
        { partyId: input.toPartyId, role: 'receiver' },
      ],
    });
  }
}
