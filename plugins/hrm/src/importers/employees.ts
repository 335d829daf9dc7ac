import { z } from 'zod';
import {
  hasPermission,
  insertUnnest,
  isoDate,
  isoTimestamp,
  newId,
  normalizeContactPoint,
  type ImportBatchResult,
  type Importer,
  type ImportRecord,
  type PartyCreateInput,
  type Rapport,
  type Relationship,
  type RejectedRow,
  type RowError,
  type UnitOfWork,
} from '@rapport/core';
import { PERMISSIONS, TYPES } from '../declarations.js';
import type { ResolvedHrmOptions } from '../options.js';
import { instantiateOnboardingMany } from '../services/onboarding.js';
import { loadEmployees } from '../services/org.js';

const rowSchema = z.strictObject({
  name: z.string().trim().min(1).max(300),
  email: z.email().max(320),
  unit: z.string().trim().min(1).max(300),
  start: z.union([isoDate, isoTimestamp]),
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

const RELATIONSHIP_COLUMNS = {
  tenant_id: 'uuid',
  id: 'uuid',
  type: 'text',
  from_party_id: 'uuid',
  to_party_id: 'uuid',
  from_role: 'text',
  to_role: 'text',
  status: 'text',
  valid_from: 'timestamptz',
  valid_to: 'timestamptz',
  attributes: 'jsonb',
  version: 'int',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
};

/**
 * `hrm.employees`: people with their employment, the unit by name, the position by title and the
 * manager by e-mail (an existing current employee or a row of the same file). An existing person
 * with the e-mail is employed as is (no copy). Per batch a fixed number of queries: units,
 * positions, people by e-mail, their employments, then one insert per table, whatever its size.
 */
export function employeesImporter(options: ResolvedHrmOptions): Importer {
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
    importBatch: (uow, rows, app) => importEmployees(uow, rows, app, options),
  };
}

async function importEmployees(uow: UnitOfWork, rows: ImportRecord[], app: Rapport, options: ResolvedHrmOptions): Promise<ImportBatchResult> {
  if (!hasPermission(uow.principal, PERMISSIONS.employeesWrite) || uow.principal.scopePartyId) {
    return { imported: 0, rejected: rows.map((r) => ({ line: r.line, errors: [{ message: `hrm: importing employees needs ${PERMISSIONS.employeesWrite} and an unscoped principal` }] })) };
  }
  const rejected: RejectedRow[] = [];
  const parsed: Array<{ line: number; data: Row }> = [];
  for (const { line, record } of rows) {
    const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());
    const result = rowSchema.safeParse({ name: record.name, email: blank(record.email), unit: record.unit, start: blank(record.start), position: blank(record.position), manager_email: blank(record.manager_email) });
    if (result.success) parsed.push({ line, data: result.data });
    else rejected.push({ line, errors: result.error.issues.map((i) => ({ column: String(i.path[0] ?? ''), message: i.message })) });
  }

  const units = await byLowerName(uow, 'rapport_parties', 'name', parsed.map((p) => p.data.unit), { kind: 'unit', archived_at: null });
  const positions = await byLowerName(uow, 'hrm_positions', 'title', parsed.flatMap((p) => (p.data.position ? [p.data.position] : [])), {});
  const emails = new Set(parsed.flatMap((p) => [p.data.email, ...(p.data.manager_email ? [p.data.manager_email] : [])]).map(normalEmail));
  const people: Array<{ party_id: string; normalized: string }> = emails.size
    ? await uow.trx('rapport_contact_points as cp')
        .join('rapport_parties as p', function () {
          this.on('p.tenant_id', 'cp.tenant_id').andOn('p.id', 'cp.party_id');
        })
        .where({ 'cp.tenant_id': uow.tenantId, 'cp.kind': 'email', 'p.kind': 'person' })
        .whereNull('p.archived_at')
        .whereIn('cp.normalized', [...emails])
        .select('cp.party_id', 'cp.normalized')
    : [];
  const personByEmail = new Map<string, string[]>();
  for (const p of people) personByEmail.set(p.normalized, [...(personByEmail.get(p.normalized) ?? []), p.party_id]);
  const employedIds = new Set<string>(
    people.length
      ? (
          await uow.trx('rapport_relationships')
            .where({ tenant_id: uow.tenantId, type: TYPES.employment, status: 'active' })
            .whereIn('to_party_id', [...new Set(people.map((p) => p.party_id))])
            .select('to_party_id')
        ).map((r: { to_party_id: string }) => r.to_party_id)
      : [],
  );

  // Row-level checks against what exists.
  let accepted: Accepted[] = [];
  const seen = new Set<string>();
  for (const { line, data } of parsed) {
    const errors: RowError[] = [];
    const email = normalEmail(data.email);
    const unit = one(units.get(data.unit.toLowerCase()), 'unit', 'unit', errors);
    const position = data.position ? one(positions.get(data.position.toLowerCase()), 'position', 'position', errors) : null;
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
  for (let changed = true; changed; ) {
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
    const { input } = await uow.filter('party.create', { input: { kind: 'person', name: row.data.name, contactPoints: [{ kind: 'email', value: row.data.email }] } as PartyCreateInput });
    inputs.push(input);
  }
  const created = await app.services.parties.insertMany(uow, inputs);
  for (const party of created) uow.emit('party.created', { party }, { type: 'party', id: party.id });
  const newIds = created.map((p) => p.id);
  const partyOf = new Map<string, string>();
  for (const row of accepted) partyOf.set(row.email, row.existingId ?? newIds.shift()!);

  const tenant = await uow.trx('rapport_tenants').where({ id: uow.tenantId }).first('self_party_id');
  const now = new Date();
  const relationshipRows: Array<Record<string, unknown>> = [];
  const employmentOf = new Map<string, string>();
  const add = (type: string, from: string, to: string, fromRole: string, toRole: string, validFrom: Date | null, attributes: Record<string, unknown>) => {
    const id = newId();
    relationshipRows.push({ tenant_id: uow.tenantId, id, type, from_party_id: from, to_party_id: to, from_role: fromRole, to_role: toRole, status: 'active', valid_from: validFrom, valid_to: null, attributes: JSON.stringify(attributes), version: 1, created_at: now, updated_at: now });
    return id;
  };
  for (const row of accepted) {
    const partyId = partyOf.get(row.email)!;
    employmentOf.set(partyId, add(TYPES.employment, tenant.self_party_id, partyId, 'employer', 'employee', new Date(row.data.start), { unitId: row.unitId, positionId: row.positionId }));
  }
  for (const row of accepted) {
    if (!row.managerEmail) continue;
    add(TYPES.reportsTo, currentManager(row.managerEmail) ?? partyOf.get(row.managerEmail)!, partyOf.get(row.email)!, 'manager', 'report', null, {});
  }
  await insertUnnest(uow.trx, 'rapport_relationships', RELATIONSHIP_COLUMNS, relationshipRows);
  for (const r of relationshipRows) uow.emit('relationship.created', { relationship: toRelationship(r) }, { type: 'relationship', id: r.id as string });

  const employees = await loadEmployees(uow.trx, uow.tenantId, accepted.map((a) => partyOf.get(a.email)!));
  await instantiateOnboardingMany(uow, employees.map((employee) => ({ employee, employmentId: employmentOf.get(employee.id)! })), options);
  for (const employee of employees) uow.emit('hrm.employee.hired', { employee }, { type: 'hrm.employee', id: employee.id });
  return { imported: accepted.length, rejected };
}

function normalEmail(email: string): string {
  return normalizeContactPoint({ kind: 'email', value: email });
}

/** Rows of a table by lower-cased name, in one query: name → ids (several = ambiguous). */
async function byLowerName(uow: UnitOfWork, table: string, column: string, names: string[], where: Record<string, unknown>): Promise<Map<string, string[]>> {
  const wanted = [...new Set(names.map((n) => n.toLowerCase()))];
  const out = new Map<string, string[]>();
  if (wanted.length === 0) return out;
  const rows: Array<{ id: string; name: string }> = await uow.trx(table).where({ ...where, tenant_id: uow.tenantId }).whereRaw(`lower(??) = any(?::text[])`, [column, wanted]).select('id', `${column} as name`);
  for (const row of rows) out.set(row.name.toLowerCase(), [...(out.get(row.name.toLowerCase()) ?? []), row.id]);
  return out;
}

function one(ids: string[] | undefined, column: string, what: string, errors: RowError[]): string | undefined {
  if (!ids || ids.length === 0) errors.push({ column, message: `no ${what} has this name` });
  else if (ids.length > 1) errors.push({ column, message: `${ids.length} ${what}s have this name` });
  else return ids[0];
  return undefined;
}

function toRelationship(r: Record<string, unknown>): Relationship {
  const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);
  return {
    id: r.id as string,
    type: r.type as string,
    fromPartyId: r.from_party_id as string,
    toPartyId: r.to_party_id as string,
    fromRole: r.from_role as string,
    toRole: r.to_role as string,
    status: 'active',
    validFrom: iso(r.valid_from),
    validTo: null,
    attributes: JSON.parse(r.attributes as string),
    version: 1,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}
