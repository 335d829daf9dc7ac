import { NotFoundError, ValidationError, hasPermission, iso, type Principal, type QueryContext } from '@rapport/core';
import type { Employee, Employment } from '@rapport/hrm-contract';
import { PERMISSIONS, SCOPES, TYPES } from '../declarations.js';
import type { HrmDeps } from '../deps.js';

/** An `hrm.employment` relationship as the kernel's relationships view gives it. */
export interface EmploymentRow {
  id: string;
  to_party_id: string;
  status: string;
  valid_from: Date | null;
  valid_to: Date | null;
  attributes: { unitId: string; positionId?: string | null; endReason?: string | null };
  version: number;
}

const EMPLOYMENT_COLUMNS = ['id', 'to_party_id', 'status', 'valid_from', 'valid_to', 'attributes', 'version'];

function toEmployment(row: EmploymentRow): Employment {
  return {
    relationshipId: row.id,
    status: row.status,
    unitId: row.attributes.unitId,
    positionId: row.attributes.positionId ?? null,
    start: iso(row.valid_from),
    end: iso(row.valid_to),
    endReason: row.attributes.endReason ?? null,
  };
}

/**
 * Who works here: employments and reporting lines as kernel relationships, read through the
 * kernel's views, and which employees a caller may see. Reads only; EmployeeService writes.
 */
export class StaffDirectory {
  constructor(private readonly deps: HrmDeps) {}

  /** Which employees a scoped caller reaches: itself, plus everyone below it in the reporting tree with hrm.team:read. */
  scopeFor(principal: Principal): string {
    return hasPermission(principal, PERMISSIONS.teamRead) ? SCOPES.team : SCOPES.self;
  }

  /**
   * Profiles of the given people in three queries whatever their number: the parties, their
   * employments, their reporting lines (both directions).
   */
  async profiles(ctx: QueryContext, ids: readonly string[]): Promise<Employee[]> {
    if (ids.length === 0) return [];
    const { parties, relationships } = this.deps;
    const people: Array<{ id: string; name: string }> = await parties.query(ctx, { ids, kind: 'person' }).select('id', 'name');
    const employments: EmploymentRow[] = await relationships
      .query(ctx, { type: TYPES.employment, toPartyId: ids })
      .orderBy([
        { column: 'created_at', order: 'asc' },
        { column: 'id', order: 'asc' },
      ])
      .select(EMPLOYMENT_COLUMNS);
    const lines: Array<{ from_party_id: string; to_party_id: string }> = await relationships
      .query(ctx, { type: TYPES.reportsTo, status: 'active' })
      .where((w) => w.whereIn('to_party_id', [...ids]).orWhereIn('from_party_id', [...ids]))
      .orderBy('to_party_id')
      .select('from_party_id', 'to_party_id');
    const latest = new Map<string, EmploymentRow>();
    for (const e of employments) {
      const previous = latest.get(e.to_party_id);
      // The active one wins; otherwise the most recent.
      if (!previous || previous.status !== 'active' || e.status === 'active') latest.set(e.to_party_id, e);
    }
    const byId = new Map(people.map((p) => [p.id, p]));
    return ids
      .filter((id) => byId.has(id))
      .map((id) => {
        const employment = latest.get(id);
        return {
          id,
          name: byId.get(id)!.name,
          employment: employment ? toEmployment(employment) : null,
          managerId: lines.find((l) => l.to_party_id === id)?.from_party_id ?? null,
          reportIds: lines.filter((l) => l.from_party_id === id).map((l) => l.to_party_id),
        };
      });
  }

  async profile(ctx: QueryContext, id: string): Promise<Employee | undefined> {
    return (await this.profiles(ctx, [id]))[0];
  }

  /** An employee the caller may see (404 otherwise, exactly as if it did not exist). */
  async visible(ctx: QueryContext, id: string): Promise<Employee> {
    const visible = await this.deps.scopes.canSee(ctx, this.scopeFor(ctx.principal), id);
    const employee = visible ? await this.profile(ctx, id) : undefined;
    if (!employee || !employee.employment) throw new NotFoundError('Employee', id);
    return employee;
  }

  async activeEmployment(ctx: QueryContext, partyId: string): Promise<EmploymentRow | undefined> {
    return await this.deps.relationships.query(ctx, { type: TYPES.employment, toPartyId: partyId, status: 'active' }).first(EMPLOYMENT_COLUMNS);
  }

  async isEmployed(ctx: QueryContext, partyId: string): Promise<boolean> {
    return (await this.activeEmployment(ctx, partyId)) !== undefined;
  }

  /** A 400 naming the field when the party is not a current employee. */
  async requireEmployed(ctx: QueryContext, partyId: string, field: string): Promise<void> {
    if (!(await this.isEmployed(ctx, partyId))) throw new ValidationError(`${field}: ${partyId} is not a current employee`, [{ path: field, message: 'not employed' }]);
  }

  /** The firm's own principals, and a scoped caller while it is a current employee. */
  async callerIsStaff(ctx: QueryContext): Promise<boolean> {
    const scoped = ctx.principal.scopePartyId;
    return !scoped || (await this.isEmployed(ctx, scoped));
  }

  async currentManagerId(ctx: QueryContext, partyId: string): Promise<string | null> {
    const row = await this.deps.relationships.query(ctx, { type: TYPES.reportsTo, toPartyId: partyId, status: 'active' }).first('from_party_id');
    return row?.from_party_id ?? null;
  }

  /** Everyone currently employed, by id; within `unitIds` when given. */
  async currentEmployeeIds(ctx: QueryContext, unitIds?: readonly string[]): Promise<string[]> {
    const q = this.deps.relationships.query(ctx, { type: TYPES.employment, status: 'active' }).distinct('to_party_id as id').orderBy('to_party_id');
    if (unitIds?.length) q.whereRaw("attributes->>'unitId' = any(?::text[])", [[...unitIds]]);
    const rows: Array<{ id: string }> = await q;
    return rows.map((r) => r.id);
  }

  async countEmployed(ctx: QueryContext): Promise<number> {
    const [{ n }] = await this.deps.relationships.query(ctx, { type: TYPES.employment, status: 'active' }).countDistinct<{ n: string }[]>('to_party_id as n');
    return Number(n);
  }

  /** The people among `partyIds` who are currently employed. */
  async employedAmong(ctx: QueryContext, partyIds: readonly string[]): Promise<Set<string>> {
    if (partyIds.length === 0) return new Set();
    const rows: Array<{ to_party_id: string }> = await this.deps.relationships.query(ctx, { type: TYPES.employment, status: 'active', toPartyId: partyIds }).select('to_party_id');
    return new Set(rows.map((r) => r.to_party_id));
  }
}
