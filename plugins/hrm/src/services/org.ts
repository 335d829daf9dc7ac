import { ConflictError, NotFoundError, ValidationError, decodeCursor, toPage, type Page, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';
import { TYPES } from '../declarations.js';
import type { Employee, Employment, Unit } from '../types.js';
import { iso } from './context.js';

type Db = QueryContext['db'];

/** Units (kind `unit` parties) with their current parent, in one query. */
export async function loadUnits(db: Db, tenantId: string, ids?: readonly string[]): Promise<Unit[]> {
  const q = db('rapport_parties as p')
    .leftJoin('rapport_relationships as r', function () {
      this.on('r.tenant_id', 'p.tenant_id').andOn('r.from_party_id', 'p.id').andOnVal('r.type', TYPES.partOf).andOnVal('r.status', 'active');
    })
    .where({ 'p.tenant_id': tenantId, 'p.kind': 'unit' })
    .whereNull('p.archived_at')
    .select('p.id', 'p.name', 'r.to_party_id as parent_id');
  if (ids) q.whereIn('p.id', ids);
  const rows: Array<{ id: string; name: string; parent_id: string | null }> = await q;
  return rows.map((r) => ({ id: r.id, name: r.name, parentId: r.parent_id ?? null }));
}

export async function requireUnit(db: Db, tenantId: string, id: string, field = 'unitId'): Promise<Unit> {
  const [unit] = await loadUnits(db, tenantId, [id]);
  if (!unit) throw new ValidationError(`${field}: unit ${id} does not exist`, [{ path: field, message: 'unknown unit' }]);
  return unit;
}

/** Ancestors of a unit (itself first), in one recursive query; bounded so bad data cannot loop. */
export async function ancestorsOf(db: Db, tenantId: string, unitId: string): Promise<string[]> {
  const result = await db.raw(
    `with recursive up(id, depth) as (
       select ?::uuid, 0
       union all
       select r.to_party_id, up.depth + 1 from rapport_relationships r join up on r.from_party_id = up.id
       where r.tenant_id = ? and r.type = ? and r.status = 'active' and up.depth < 1000
     ) select id from up`,
    [unitId, tenantId, TYPES.partOf],
  );
  return (result.rows as Array<{ id: string }>).map((r) => r.id);
}

/** Sets (or clears) a unit's parent; refuses a move that would make the tree a cycle. */
export async function setParent(app: Rapport, uow: UnitOfWork, unitId: string, parentId: string | null): Promise<{ unit: Unit; previousParentId: string | null }> {
  const [unit] = await loadUnits(uow.trx, uow.tenantId, [unitId]);
  if (!unit) throw new NotFoundError('Unit', unitId);
  if (parentId) {
    await requireUnit(uow.trx, uow.tenantId, parentId, 'parentId');
    const chain = await ancestorsOf(uow.trx, uow.tenantId, parentId);
    if (chain.includes(unitId)) {
      throw new ConflictError(`hrm: unit ${unitId} cannot be placed under ${parentId}: the unit tree would have a cycle`);
    }
  }
  if (unit.parentId === parentId) return { unit, previousParentId: unit.parentId };
  const current = await uow.trx('rapport_relationships')
    .where({ tenant_id: uow.tenantId, type: TYPES.partOf, from_party_id: unitId, status: 'active' })
    .select('id', 'version');
  for (const rel of current) await app.services.relationships.update(uow, rel.id, { status: 'ended', validTo: new Date().toISOString() }, rel.version);
  if (parentId) await app.services.relationships.create(uow, { type: TYPES.partOf, fromPartyId: unitId, toPartyId: parentId });
  return { unit: { ...unit, parentId }, previousParentId: unit.parentId };
}

interface EmploymentRow {
  id: string;
  version?: number;
  to_party_id: string;
  status: string;
  valid_from: Date | null;
  valid_to: Date | null;
  attributes: { unitId: string; positionId?: string | null; endReason?: string | null };
}

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
 * Profiles of the given people in three queries whatever their number: the parties, their
 * latest employment, their reporting lines (both directions).
 */
export async function loadEmployees(db: Db, tenantId: string, ids: readonly string[]): Promise<Employee[]> {
  if (ids.length === 0) return [];
  const parties: Array<{ id: string; name: string }> = await db('rapport_parties')
    .where({ tenant_id: tenantId, kind: 'person' })
    .whereIn('id', ids)
    .select('id', 'name');
  const employments: EmploymentRow[] = await db('rapport_relationships')
    .where({ tenant_id: tenantId, type: TYPES.employment })
    .whereIn('to_party_id', ids)
    .orderBy([{ column: 'created_at', order: 'asc' }, { column: 'id', order: 'asc' }])
    .select('id', 'to_party_id', 'status', 'valid_from', 'valid_to', 'attributes');
  const lines: Array<{ from_party_id: string; to_party_id: string }> = await db('rapport_relationships')
    .where({ tenant_id: tenantId, type: TYPES.reportsTo, status: 'active' })
    .where((w) => w.whereIn('to_party_id', ids).orWhereIn('from_party_id', ids))
    .orderBy('to_party_id')
    .select('from_party_id', 'to_party_id');
  const latest = new Map<string, EmploymentRow>();
  for (const e of employments) {
    const previous = latest.get(e.to_party_id);
    // The active one wins; otherwise the most recent.
    if (!previous || previous.status !== 'active' || e.status === 'active') latest.set(e.to_party_id, e);
  }
  const byId = new Map(parties.map((p) => [p.id, p]));
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

export async function activeEmployment(db: Db, tenantId: string, partyId: string): Promise<EmploymentRow | undefined> {
  return db('rapport_relationships')
    .where({ tenant_id: tenantId, type: TYPES.employment, to_party_id: partyId, status: 'active' })
    .first('id', 'to_party_id', 'status', 'valid_from', 'valid_to', 'attributes', 'version');
}

export async function currentManagerId(db: Db, tenantId: string, partyId: string): Promise<string | null> {
  const row = await db('rapport_relationships').where({ tenant_id: tenantId, type: TYPES.reportsTo, to_party_id: partyId, status: 'active' }).first('from_party_id');
  return row?.from_party_id ?? null;
}

/** Replaces a person's manager (ends the current line, starts the new one). Refuses cycles. */
export async function setManager(app: Rapport, uow: UnitOfWork, partyId: string, managerId: string | null): Promise<string | null> {
  if (managerId === partyId) throw new ValidationError('managerId: a person cannot manage themselves', [{ path: 'managerId', message: 'same as the employee' }]);
  if (managerId) {
    if (!(await activeEmployment(uow.trx, uow.tenantId, managerId))) {
      throw new ValidationError(`managerId: ${managerId} is not a current employee`, [{ path: 'managerId', message: 'not employed' }]);
    }
    const chain: Array<{ id: string }> = (
      await uow.trx.raw(
        `with recursive up(id, depth) as (
           select ?::uuid, 0
           union all
           select r.from_party_id, up.depth + 1 from rapport_relationships r join up on r.to_party_id = up.id
           where r.tenant_id = ? and r.type = ? and r.status = 'active' and up.depth < 1000
         ) select id from up`,
        [managerId, uow.tenantId, TYPES.reportsTo],
      )
    ).rows;
    if (chain.some((c) => c.id === partyId)) throw new ConflictError(`hrm: ${partyId} cannot report to ${managerId}: the reporting line would have a cycle`);
  }
  const previous = await currentManagerId(uow.trx, uow.tenantId, partyId);
  if (previous === managerId) return previous;
  const current = await uow.trx('rapport_relationships').where({ tenant_id: uow.tenantId, type: TYPES.reportsTo, to_party_id: partyId, status: 'active' }).select('id', 'version');
  for (const rel of current) await app.services.relationships.update(uow, rel.id, { status: 'ended', validTo: new Date().toISOString() }, rel.version);
  if (managerId) await app.services.relationships.create(uow, { type: TYPES.reportsTo, fromPartyId: managerId, toPartyId: partyId });
  return previous;
}

/**
 * A page of a per-unit catalog (positions, the service desk's services), oldest first.
 * Catalogs are for the firm's staff: a scoped caller without a current employment sees none.
 */
export async function listUnitCatalog<R extends { id: string }, T>(
  ctx: QueryContext,
  query: { limit: number; cursor?: string; unitId?: string },
  table: string,
  where: Record<string, unknown>,
  map: (row: R) => T,
): Promise<Page<T>> {
  if (ctx.principal.scopePartyId && !(await activeEmployment(ctx.db, ctx.tenantId, ctx.principal.scopePartyId))) return { data: [], nextCursor: null };
  const after = decodeCursor(query.cursor, ['uuid']);
  const q = ctx.db(table).where({ ...where, tenant_id: ctx.tenantId });
  if (query.unitId) q.where('unit_id', query.unitId);
  if (after) q.where('id', '>', after[0]);
  const rows: R[] = await q.orderBy('id').limit(query.limit + 1);
  return toPage(rows, query.limit, map, (row) => [row.id]);
}

export interface EmploymentStart {
  partyId: string;
  unitId: string;
  positionId?: string | null;
  start: string;
  managerId?: string | null;
}

/**
 * Starts an employment of an existing person (a new hire or a hired candidate: the same party,
 * never a copy). Runs the `hrm.employment.start` filter in the transaction, so onboarding
 * checklists (and other plugins) act on the new employment or veto it with the hire.
 */
export async function startEmployment(app: Rapport, uow: UnitOfWork, input: EmploymentStart): Promise<Employee> {
  await requireUnit(uow.trx, uow.tenantId, input.unitId);
  if (input.positionId && !(await uow.trx('hrm_positions').where({ tenant_id: uow.tenantId, id: input.positionId }).first('id'))) {
    throw new ValidationError(`positionId: position ${input.positionId} does not exist`, [{ path: 'positionId', message: 'unknown position' }]);
  }
  if (await activeEmployment(uow.trx, uow.tenantId, input.partyId)) throw new ConflictError(`hrm: person ${input.partyId} is already employed`);
  const tenant = await uow.trx('rapport_tenants').where({ id: uow.tenantId }).first('self_party_id');
  const relationship = await app.services.relationships.create(uow, {
    type: TYPES.employment,
    fromPartyId: tenant.self_party_id,
    toPartyId: input.partyId,
    validFrom: input.start,
    attributes: { unitId: input.unitId, positionId: input.positionId ?? null },
  });
  if (input.managerId) await setManager(app, uow, input.partyId, input.managerId);
  const [employee] = await loadEmployees(uow.trx, uow.tenantId, [input.partyId]);
  await uow.filter('hrm.employment.start', { employee, employmentId: relationship.id });
  uow.emit('hrm.employee.hired', { employee }, { type: 'hrm.employee', id: input.partyId });
  return employee;
}

/** Ends the current employment (a leaver) and the reporting line; the history stays. */
export async function endEmployment(app: Rapport, uow: UnitOfWork, partyId: string, end: string, reason: string | null): Promise<Employee> {
  const employment = await activeEmployment(uow.trx, uow.tenantId, partyId);
  if (!employment) throw new NotFoundError('Active employment of', partyId);
  await app.services.relationships.update(uow, employment.id, { status: 'ended', validTo: end, attributes: { ...employment.attributes, endReason: reason } }, employment.version);
  await setManager(app, uow, partyId, null);
  const [employee] = await loadEmployees(uow.trx, uow.tenantId, [partyId]);
  uow.emit('hrm.employment.ended', { employee }, { type: 'hrm.employee', id: employee.id });
  return employee;
}
