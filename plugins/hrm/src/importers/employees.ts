import { z } from 'zod';
import {
  hasPermission,
  isoDate,
  isoTimestamp,
  normalizeContactPoint,
  type ImportBatchResult,
  type Importer,
  type ImportRecord,
  type PartyCreateInput,
  type RejectedRow,
  type RelationshipCreateInput,
  type RowError,
  type UnitOfWork,
} from '@rapport/core';
import { hrm } from '@rapport/hrm-contract';
import { PERMISSIONS, TYPES } from '../declarations.js';
import type { HrmDeps } from '../deps.js';
import type { OnboardingService } from '../services/onboarding.js';
import type { PositionService } from '../services/positions.js';
import type { StaffDirectory } from '../services/staff.js';
import type { UnitService } from '../services/units.js';
import { HRM_TIME_RANGE, inHrmTimeRange } from '../routes/inputs.js';

const rowSchema = z.strictObject({
  name: z.string().trim().min(1).max(300),
  email: z.email().max(320),
  unit: z.string().trim().min(1).max(300),
  start: z.union([isoDate, isoTimestamp]).refine(inHrmTimeRange, HRM_TIME_RANGE),
  position: z.string().trim().min(1).max(300).optional(),
  manager_email: z.email().max(320).optional(),
});
type Row = z.infer<typeof rowSchema>;

interface Accepted {
  line: number;
  data: Row;
  email: string;
  unitId: string;
  positionId: string | null;
  /** An existing person with this e-mail (no copy), or null to create one. */
  existingId: string | null;
  managerEmail: string | null;
}

export interface EmployeesImporterServices {
  staff: StaffDirectory;
  units: UnitService;
  positions: PositionService;
  onboarding: OnboardingService;
}

/**
 * `hrm.employees`: people with their employment, the unit by name, the position by title and the
 * manager by e-mail (an existing current employee or a row of the same file). An existing person
 * with the e-mail is employed as is (no copy). Per batch a fixed number of queries: units,
 * positions, people by e-mail, their employments, then one insert per table, whatever its size.
 */
export function employeesImporter(deps: HrmDeps, services: EmployeesImporterServices): Importer {
  return {
    name: 'hrm.employees',
    description: 'Employees: a person, its employment in a unit (by name), its position (by title) and manager (by e-mail)',
    columns: [
      { name: 'name', required: true, description: 'Full name' },
      { name: 'email', required: true, description: 'Work e-mail; an existing person with it is employed, not copied' },
      { name: 'unit', required: true, description: 'Unit name (unique among units)' },
      { name: 'start', required: true, description: 'First day, YYYY-MM-DD or an ISO timestamp' },
      { name: 'position', description: 'Position title (unique among positions)' },
      { name: 'manager_email', description: 'E-mail of the manager: a current employee, or a row of the same file' },
    ],
    importBatch: (uow, rows) => importEmployees(uow, rows, deps, services),
  };
}

async function importEmployees(uow: UnitOfWork, rows: ImportRecord[], deps: HrmDeps, { staff, units, positions, onboarding }: EmployeesImporterServices): Promise<ImportBatchResult> {
  if (!hasPermission(uow.principal, PERMISSIONS.employeesWrite) || uow.principal.scopePartyId) {
    return { imported: 0, rejected: rows.map((r) => ({ line: r.line, errors: [{ message: `hrm: importing employees needs ${PERMISSIONS.employeesWrite} and an unscoped principal` }] })) };
  }
  const rejected: RejectedRow[] = [];
  const parsed: Array<{ line: number; data: Row }> = [];
  for (const { line, record } of rows) {
    const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
    const result = rowSchema.safeParse({
      name: record.name,
      email: blank(record.email),
      unit: record.unit,
      start: blank(record.start),
      position: blank(record.position),
      manager_email: blank(record.manager_email),
    });
    if (result.success) parsed.push({ line, data: result.data });
    else rejected.push({ line, errors: result.error.issues.map((i) => ({ column: String(i.path[0] ?? ''), message: i.message })) });
  }

  const unitIds = await units.idsByName(
    uow,
    parsed.map((p) => p.data.unit),
  );
  const positionIds = await positions.idsByTitle(
    uow,
    parsed.flatMap((p) => (p.data.position ? [p.data.position] : [])),
  );
  const emails = [...new Set(parsed.flatMap((p) => [p.data.email, ...(p.data.manager_email ? [p.data.manager_email] : [])]).map(normalEmail))];
  const personByEmail = await peopleByEmail(uow, deps, emails);
  const employedIds = await staff.employedAmong(uow, [...new Set([...personByEmail.values()].flat())]);

  // Row-level checks against what exists.
  let accepted: Accepted[] = [];
  const seen = new Set<string>();
  for (const { line, data } of parsed) {
    const errors: RowError[] = [];
    const email = normalEmail(data.email);
    const unit = one(unitIds.get(data.unit.toLowerCase()), 'unit', 'unit', errors);
    const position = data.position ? one(positionIds.get(data.position.toLowerCase()), 'position', 'position', errors) : null;
    const matches = personByEmail.get(email) ?? [];
    if (matches.length > 1) errors.push({ column: 'email', message: `${matches.length} people have this e-mail` });
    const existingId = matches.length === 1 ? matches[0] : null;
    if (existingId && employedIds.has(existingId)) errors.push({ column: 'email', message: 'this person is already employed' });
    if (seen.has(email)) errors.push({ column: 'email', message: 'the same e-mail is on an earlier row of this batch' });
    const managerEmail = data.manager_email ? normalEmail(data.manager_email) : null;
    if (managerEmail === email) errors.push({ column: 'manager_email', message: 'a person cannot manage themselves' });
    if (errors.length || !unit) {
      rejected.push({ line, errors });
      continue;
    }
    seen.add(email);
    accepted.push({ line, data, email, unitId: unit, positionId: position ?? null, existingId, managerEmail });
  }

  // Managers: a current employee, or an accepted row of this batch. Dropping a row can orphan
  // the rows it manages, so repeat until nothing changes; a cycle inside the file is refused.
  const currentManager = (email: string) => {
    const ids = personByEmail.get(email) ?? [];
    return ids.length === 1 && employedIds.has(ids[0]) ? ids[0] : null;
  };
  for (let changed = true; changed;) {
    changed = false;
    const inBatch = new Map(accepted.map((a) => [a.email, a]));
    const keep: Accepted[] = [];
    for (const row of accepted) {
      let error: string | null = null;
      if (row.managerEmail && !currentManager(row.managerEmail)) {
        if (!inBatch.has(row.managerEmail)) error = 'no current employee (or accepted row of this batch) has this e-mail';
        else {
          // Walk up inside the batch: coming back to this row is a cycle.
          let cursor = inBatch.get(row.managerEmail);
          for (let depth = 0; cursor && depth <= accepted.length; depth++) {
            if (cursor.email === row.email) {
              error = 'the managers in this file form a cycle';
              break;
            }
            cursor = cursor.managerEmail && !currentManager(cursor.managerEmail) ? inBatch.get(cursor.managerEmail) : undefined;
          }
        }
      }
      if (error) {
        rejected.push({ line: row.line, errors: [{ column: 'manager_email', message: error }] });
        changed = true;
      } else keep.push(row);
    }
    accepted = keep;
  }
  if (accepted.length === 0) return { imported: 0, rejected };

  // New people: the kernel's party.create filters per row, then one insert.
  const inputs: PartyCreateInput[] = [];
  for (const row of accepted.filter((a) => !a.existingId)) {
    const { input } = await uow.filter('party.create', { input: { kind: 'person', name: row.data.name, contactPoints: [{ kind: 'email', value: row.data.email }] } });
    inputs.push(input);
  }
  const created = await deps.parties.insertMany(uow, inputs);
  for (const party of created) uow.emit('party.created', { party }, { type: 'party', id: party.id });
  const newIds = created.map((p) => p.id);
  const partyOf = new Map<string, string>();
  for (const row of accepted) partyOf.set(row.email, row.existingId ?? newIds.shift()!);

  // Employments, then reporting lines: the kernel's relationship.create filters per row, then one insert.
  const self = await deps.tenants.selfPartyId(uow);
  const lines: RelationshipCreateInput[] = [
    ...accepted.map((row) => ({
      type: TYPES.employment,
      fromPartyId: self,
      toPartyId: partyOf.get(row.email)!,
      validFrom: new Date(row.data.start).toISOString(),
      attributes: { unitId: row.unitId, positionId: row.positionId },
    })),
    ...accepted.flatMap((row) =>
      row.managerEmail ? [{ type: TYPES.reportsTo, fromPartyId: currentManager(row.managerEmail) ?? partyOf.get(row.managerEmail)!, toPartyId: partyOf.get(row.email)! }] : [],
    ),
  ];
  const filtered: RelationshipCreateInput[] = [];
  for (const line of lines) filtered.push(uow.hasFilters('relationship.create') ? (await uow.filter('relationship.create', { input: line })).input : line);
  const relationships = await deps.relationships.insertMany(uow, filtered);
  for (const relationship of relationships) uow.emit('relationship.created', { relationship }, { type: 'relationship', id: relationship.id });
  const employmentOf = new Map(relationships.filter((r) => r.type === TYPES.employment).map((r) => [r.toPartyId, r.id]));

  const employees = await staff.profiles(
    uow,
    accepted.map((a) => partyOf.get(a.email)!),
  );
  await onboarding.instantiate(
    uow,
    employees.map((employee) => ({ employee, employmentId: employmentOf.get(employee.id)! })),
  );
  for (const employee of employees) uow.emit(hrm.events.employeeHired, { employee }, { type: 'hrm.employee', id: employee.id });
  return { imported: accepted.length, rejected };
}

function normalEmail(email: string): string {
  return normalizeContactPoint({ kind: 'email', value: email });
}

/** Live people (not archived) with these normalized e-mails, in one query: e-mail → party ids. */
async function peopleByEmail(uow: UnitOfWork, { parties }: HrmDeps, emails: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (emails.length === 0) return out;
  const people = parties.query(uow, { kind: 'person' }).whereNull('archived_at').select('id');
  const rows: Array<{ party_id: string; normalized: string }> = await parties
    .contactPointQuery(uow, { kind: 'email' })
    .whereIn('normalized', emails)
    .whereIn('party_id', people)
    .select('party_id', 'normalized');
  for (const row of rows) out.set(row.normalized, [...(out.get(row.normalized) ?? []), row.party_id]);
  return out;
}

function one(ids: string[] | undefined, column: string, what: string, errors: RowError[]): string | undefined {
  if (!ids || ids.length === 0) errors.push({ column, message: `no ${what} has this name` });
  else if (ids.length > 1) errors.push({ column, message: `${ids.length} ${what}s have this name` });
  else return ids[0];
  return undefined;
}
