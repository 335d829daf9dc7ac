import type { Knex } from 'knex';
import { ConflictError, NotFoundError, ValidationError, applyTextList, keysetPage, type Page, type PartyCreateInput, type QueryContext, type TextListFilter, type UnitOfWork } from '@rapport/core';
import { hrm, type Employee } from '@rapport/hrm-contract';
import { callerPartyId } from '../caller.js';
import { TYPES } from '../declarations.js';
import type { HrmDeps } from '../deps.js';
import type { PositionService } from './positions.js';
import type { StaffDirectory } from './staff.js';
import type { UnitService } from './units.js';

export interface EmploymentStart {
  partyId: string;
  unitId: string;
  positionId?: string | null;
  start: string;
  managerId?: string | null;
}

export interface Hire extends Omit<EmploymentStart, 'partyId'> {
  /** An existing person (a candidate, say)… */
  partyId?: string;
  /** …or a new one. */
  person?: Pick<PartyCreateInput, 'name' | 'contactPoints'>;
}

/** Employments and reporting lines: hiring, leaving, changing managers. */
export class EmployeeService {
  constructor(
    private readonly deps: HrmDeps,
    private readonly staff: StaffDirectory,
    private readonly units: UnitService,
    private readonly positions: PositionService,
  ) {}

  /**
   * Employees by id, or by name (`sort`, `q`, `startsWith`); a scoped caller sees itself, and
   * its reports with hrm.team:read. By id the list walks the employment relationships in
   * person order (an index on tenant, type, to_party_id); by name it walks the parties' name
   * index and keeps the people with an employment, so either stays one index walk.
   */
  list(ctx: QueryContext, query: TextListFilter & { limit: number; cursor?: string; unitId?: string; managerId?: string; status?: 'active' | 'ended' }): Promise<Page<Employee>> {
    const { relationships, parties, scopes } = this.deps;
    const employments = (q: Knex.QueryBuilder) => {
      if (query.status) q.where('status', query.status);
      if (query.unitId) q.where('status', 'active').whereRaw("attributes->>'unitId' = ?", [query.unitId]);
      return q;
    };
    const reportsTo = () => relationships.query(ctx, { type: TYPES.reportsTo, status: 'active', fromPartyId: query.managerId }).select('to_party_id');
    const profiles = async (rows: Array<{ id: string }>) => {
      const employees = new Map(
        (
          await this.staff.profiles(
            ctx,
            rows.map((r) => r.id),
          )
        ).map((e) => [e.id, e]),
      );
      return rows.map((r) => employees.get(r.id)!);
    };
    if (query.sort || query.q || query.startsWith) {
      const q = parties
        .query(ctx)
        .select('parties.id')
        .whereExists(employments(relationships.query(ctx, { type: TYPES.employment }).select('relationships.to_party_id').whereRaw('relationships.to_party_id = parties.id')));
      scopes.apply(q, ctx, this.staff.scopeFor(ctx.principal), 'parties.id');
      if (query.managerId) q.whereIn('parties.id', reportsTo());
      const keys = applyTextList(q, 'parties.name', 'parties.id', query, [{ column: 'parties.id', type: 'uuid' }]);
      return keysetPage(q, query, keys, profiles);
    }
    const q = employments(relationships.query(ctx, { type: TYPES.employment }).distinct('relationships.to_party_id as id'));
    scopes.apply(q, ctx, this.staff.scopeFor(ctx.principal), 'relationships.to_party_id');
    if (query.managerId) q.whereIn('relationships.to_party_id', reportsTo());
    return keysetPage(q, query, [{ column: 'relationships.to_party_id', type: 'uuid', property: 'id' }], profiles);
  }

  /** The caller's own profile. */
  async me(ctx: QueryContext): Promise<Employee> {
    const partyId = callerPartyId(ctx.principal);
    const employee = partyId ? await this.staff.profile(ctx, partyId) : undefined;
    if (!employee) throw new NotFoundError('Employee profile of the caller');
    return employee;
  }

  /** Hires an existing person or a new one. */
  async hire(uow: UnitOfWork, { partyId, person, ...employment }: Hire): Promise<Employee> {
    if (partyId) {
      const party = await this.deps.parties.get(uow, partyId);
      if (party.kind !== 'person') throw new ValidationError('partyId: an employee is a person', [{ path: 'partyId', message: `kind is ${party.kind}` }]);
    } else {
      await this.units.require(uow, employment.unitId);
      partyId = (await this.deps.parties.create(uow, { kind: 'person', name: person!.name, contactPoints: person!.contactPoints })).id;
    }
    return this.startEmployment(uow, { ...employment, partyId });
  }

  /**
   * Starts an employment of an existing person (a new hire or a hired candidate: the same party,
   * never a copy). Runs the `hrm.employment.start` filter in the transaction, so onboarding
   * checklists (and other plugins) act on the new employment or veto it with the hire.
   */
  async startEmployment(uow: UnitOfWork, input: EmploymentStart): Promise<Employee> {
    await this.units.require(uow, input.unitId);
    if (input.positionId) await this.positions.require(uow, input.positionId);
    if (await this.staff.isEmployed(uow, input.partyId)) throw new ConflictError(`hrm: person ${input.partyId} is already employed`);
    const relationship = await this.deps.relationships.create(uow, {
      type: TYPES.employment,
      fromPartyId: await this.deps.tenants.selfPartyId(uow),
      toPartyId: input.partyId,
      validFrom: input.start,
      attributes: { unitId: input.unitId, positionId: input.positionId ?? null },
    });
    if (input.managerId) await this.setManager(uow, input.partyId, input.managerId);
    const employee = (await this.staff.profile(uow, input.partyId))!;
    await uow.filter(hrm.filters.employmentStart, { employee, employmentId: relationship.id });
    uow.emit(hrm.events.employeeHired, { employee }, { type: 'hrm.employee', id: input.partyId });
    return employee;
  }

  /** Ends the current employment (a leaver) and the reporting line; the history stays. */
  async endEmployment(uow: UnitOfWork, partyId: string, end: string, reason: string | null): Promise<Employee> {
    const employment = await this.staff.activeEmployment(uow, partyId);
    if (!employment) throw new NotFoundError('Active employment of', partyId);
    await this.deps.relationships.update(uow, employment.id, { status: 'ended', validTo: end, attributes: { ...employment.attributes, endReason: reason } }, employment.version);
    await this.setManager(uow, partyId, null);
    const employee = (await this.staff.profile(uow, partyId))!;
    uow.emit(hrm.events.employmentEnded, { employee }, { type: 'hrm.employee', id: employee.id });
    return employee;
  }

  /** Sets (or clears) the manager of a current employee; a cycle in the reporting line is a 409. */
  async changeManager(uow: UnitOfWork, partyId: string, managerId: string | null): Promise<Employee> {
    if (!(await this.staff.isEmployed(uow, partyId))) throw new NotFoundError('Employee', partyId);
    const previousManagerId = await this.setManager(uow, partyId, managerId);
    const employee = (await this.staff.profile(uow, partyId))!;
    if (previousManagerId !== managerId) uow.emit(hrm.events.managerChanged, { employee, previousManagerId }, { type: 'hrm.employee', id: employee.id });
    return employee;
  }

  /** Replaces a person's manager (ends the current line, starts the new one); returns the previous one. */
  private async setManager(uow: UnitOfWork, partyId: string, managerId: string | null): Promise<string | null> {
    if (managerId === partyId) throw new ValidationError('managerId: a person cannot manage themselves', [{ path: 'managerId', message: 'same as the employee' }]);
    if (managerId) {
      await this.staff.requireEmployed(uow, managerId, 'managerId');
      // Everyone above the new manager, the manager included: the person must not be among them.
      const above: Array<{ party_id: string }> = await this.deps.relationships
        .reachable(uow, { type: TYPES.reportsTo, from: managerId, along: 'to-from', maxDepth: 1000 })
        .where('party_id', partyId)
        .select('party_id');
      if (above.length) throw new ConflictError(`hrm: ${partyId} cannot report to ${managerId}: the reporting line would have a cycle`);
    }
    const previous = await this.staff.currentManagerId(uow, partyId);
    if (previous === managerId) return previous;
    const lines: Array<{ id: string; version: number }> = await this.deps.relationships.query(uow, { type: TYPES.reportsTo, toPartyId: partyId, status: 'active' }).select('id', 'version');
    for (const line of lines) await this.deps.relationships.update(uow, line.id, { status: 'ended', validTo: new Date().toISOString() }, line.version);
    if (managerId) await this.deps.relationships.create(uow, { type: TYPES.reportsTo, fromPartyId: managerId, toPartyId: partyId });
    return previous;
  }
}
