import { z } from 'zod';
import {
  ConflictError,
  NotFoundError,
  ValidationError,
  decodeCursor,
  idParams,
  newId,
  pageOf,
  pageQuery,
  toPage,
  type QueryContext,
  type RequestContext,
  type RouteBuilder,
} from '@rapport/core';
import { PERMISSIONS, SCOPES, TYPES } from '../declarations.js';
import type { Position } from '../types.js';
import { employeeScope, iso, queryContext } from '../services/context.js';
import { activeEmployment, listUnitCatalog, loadEmployees, loadUnits, requireUnit, setManager, setParent, startEmployment, endEmployment } from '../services/org.js';
import { employeeSchema, name, positionSchema, timestamp, unitSchema } from './schemas.js';

export function orgRoutes(r: RouteBuilder): void {
  r.get('/units', {
    summary: 'List units (the organization tree, flat with parentId)',
    permission: PERMISSIONS.orgRead,
    query: z.strictObject({ ...pageQuery, parentId: z.uuid().optional() }),
    response: pageOf(unitSchema),
    handler: async (ctx) => {
      const after = decodeCursor(ctx.query.cursor, ['uuid']);
      const q = ctx.db('rapport_parties as p').where({ 'p.tenant_id': ctx.tenantId, 'p.kind': 'unit' }).whereNull('p.archived_at').select('p.id');
      ctx.app.scopes.apply(q, queryContext(ctx), SCOPES.units, 'p.id');
      if (ctx.query.parentId) {
        q.whereIn('p.id', ctx.db('rapport_relationships').select('from_party_id').where({ tenant_id: ctx.tenantId, type: TYPES.partOf, status: 'active', to_party_id: ctx.query.parentId }));
      }
      if (after) q.where('p.id', '>', after[0]);
      const ids: Array<{ id: string }> = await q.orderBy('p.id').limit(ctx.query.limit + 1);
      const units = new Map((await loadUnits(ctx.db, ctx.tenantId, ids.map((i) => i.id))).map((u) => [u.id, u]));
      return toPage(ids, ctx.query.limit, (row) => units.get(row.id)!, (row) => [row.id]);
    },
  });

  r.get('/units/:id', {
    summary: 'Get a unit with its parent, children and headcount',
    permission: PERMISSIONS.orgRead,
    params: idParams,
    response: unitSchema.extend({ childIds: z.array(z.uuid()), headcount: z.number() }),
    handler: async (ctx) => {
      const visible = await ctx.app.scopes.canSee(queryContext(ctx), SCOPES.units, ctx.params.id);
      const [unit] = visible ? await loadUnits(ctx.db, ctx.tenantId, [ctx.params.id]) : [];
      if (!unit) throw new NotFoundError('Unit', ctx.params.id);
      const children: Array<{ id: string }> = await ctx.db('rapport_relationships')
        .where({ tenant_id: ctx.tenantId, type: TYPES.partOf, status: 'active', to_party_id: unit.id })
        .orderBy('from_party_id')
        .select('from_party_id as id');
      const headcount = await ctx.db('rapport_relationships')
        .where({ tenant_id: ctx.tenantId, type: TYPES.employment, status: 'active' })
        .whereRaw("attributes->>'unitId' = ?", [unit.id])
        .count<{ n: string }[]>('* as n');
      return { ...unit, childIds: children.map((c) => c.id), headcount: Number(headcount[0].n) };
    },
  });

  r.post('/units', {
    summary: 'Create a unit (a party of kind unit), optionally under a parent unit',
    permission: PERMISSIONS.orgWrite,
    body: z.strictObject({ name, parentId: z.uuid().nullable().optional() }),
    response: unitSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        if (ctx.body.parentId) await requireUnit(uow.trx, uow.tenantId, ctx.body.parentId, 'parentId');
        const party = await ctx.app.services.parties.create(uow, { kind: 'unit', name: ctx.body.name });
        const parentId = ctx.body.parentId ?? null;
        if (parentId) await ctx.app.services.relationships.create(uow, { type: TYPES.partOf, fromPartyId: party.id, toPartyId: parentId });
        const unit = { id: party.id, name: party.name, parentId };
        uow.emit('hrm.unit.created', { unit }, { type: 'hrm.unit', id: unit.id });
        return unit;
      }),
  });

  r.put('/units/:id/parent', {
    summary: 'Move a unit in the tree (null: top level); a move that would create a cycle is a 409',
    permission: PERMISSIONS.orgWrite,
    params: idParams,
    body: z.strictObject({ parentId: z.uuid().nullable() }),
    response: unitSchema,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const { unit, previousParentId } = await setParent(ctx.app, uow, ctx.params.id, ctx.body.parentId);
        if (previousParentId !== unit.parentId) uow.emit('hrm.unit.moved', { unit, previousParentId }, { type: 'hrm.unit', id: unit.id });
        return unit;
      }),
  });

  r.get('/positions', {
    summary: 'List positions',
    permission: PERMISSIONS.orgRead,
    query: z.strictObject({ ...pageQuery, unitId: z.uuid().optional() }),
    response: pageOf(positionSchema),
    handler: (ctx) => listUnitCatalog(queryContext(ctx), ctx.query, 'hrm_positions', {}, toPosition),
  });

  r.post('/positions', {
    summary: 'Create a position',
    permission: PERMISSIONS.orgWrite,
    body: z.strictObject({ title: name, unitId: z.uuid().nullable().optional(), grade: z.string().trim().min(1).max(50).nullable().optional() }),
    response: positionSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        if (ctx.body.unitId) await requireUnit(uow.trx, uow.tenantId, ctx.body.unitId);
        const row = { tenant_id: uow.tenantId, id: newId(), title: ctx.body.title, unit_id: ctx.body.unitId ?? null, grade: ctx.body.grade ?? null, created_at: new Date() };
        await uow.trx('hrm_positions').insert(row);
        const position = toPosition(row);
        uow.emit('hrm.position.created', { position }, { type: 'hrm.position', id: position.id });
        return position;
      }),
  });

  r.post('/employees', {
    summary: 'Hire: an employment (employer = the tenant, employee = a person), optionally a manager',
    description: 'Give `partyId` of an existing person (a candidate, say) or `person` to create one.',
    permission: PERMISSIONS.employeesWrite,
    body: z
      .strictObject({
        partyId: z.uuid().optional(),
        person: z.strictObject({ name, contactPoints: z.array(z.strictObject({ kind: z.enum(['email', 'phone', 'domain', 'url', 'other']), value: z.string().trim().min(1).max(320) })).max(50).optional() }).optional(),
        unitId: z.uuid(),
        positionId: z.uuid().nullable().optional(),
        start: timestamp,
        managerId: z.uuid().nullable().optional(),
      })
      .refine((b) => (b.partyId === undefined) !== (b.person === undefined), { message: 'give exactly one of partyId and person' }),
    response: employeeSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        let partyId: string;
        if (ctx.body.partyId) {
          const party = await ctx.app.services.parties.get(uow, ctx.body.partyId);
          if (party.kind !== 'person') throw new ValidationError('partyId: an employee is a person', [{ path: 'partyId', message: `kind is ${party.kind}` }]);
          partyId = party.id;
        } else {
          await requireUnit(uow.trx, uow.tenantId, ctx.body.unitId);
          partyId = (await ctx.app.services.parties.create(uow, { kind: 'person', name: ctx.body.person!.name, contactPoints: ctx.body.person!.contactPoints })).id;
        }
        const employee = await startEmployment(ctx.app, uow, { partyId, unitId: ctx.body.unitId, positionId: ctx.body.positionId, start: ctx.body.start, managerId: ctx.body.managerId });
        return employee;
      }),
  });

  r.get('/employees', {
    summary: 'List employees (a scoped principal: itself, and its reports with hrm.team:read)',
    permission: PERMISSIONS.employeesRead,
    query: z.strictObject({ ...pageQuery, unitId: z.uuid().optional(), managerId: z.uuid().optional(), status: z.enum(['active', 'ended']).optional() }),
    response: pageOf(employeeSchema),
    handler: async (ctx) => {
      const after = decodeCursor(ctx.query.cursor, ['uuid']);
      const q = ctx.db('rapport_relationships as e').where({ 'e.tenant_id': ctx.tenantId, 'e.type': TYPES.employment }).distinct('e.to_party_id as id');
      ctx.app.scopes.apply(q, queryContext(ctx), employeeScope(ctx.principal), 'e.to_party_id');
      if (ctx.query.status) q.where('e.status', ctx.query.status);
      if (ctx.query.unitId) q.where('e.status', 'active').whereRaw("e.attributes->>'unitId' = ?", [ctx.query.unitId]);
      if (ctx.query.managerId) {
        q.whereIn('e.to_party_id', ctx.db('rapport_relationships').select('to_party_id').where({ tenant_id: ctx.tenantId, type: TYPES.reportsTo, status: 'active', from_party_id: ctx.query.managerId }));
      }
      if (after) q.where('e.to_party_id', '>', after[0]);
      const ids: Array<{ id: string }> = await q.orderBy('e.to_party_id').limit(ctx.query.limit + 1);
      const page = ids.slice(0, ctx.query.limit).map((i) => i.id);
      const employees = new Map((await loadEmployees(ctx.db, ctx.tenantId, page)).map((e) => [e.id, e]));
      return toPage(ids, ctx.query.limit, (row) => employees.get(row.id)!, (row) => [row.id]);
    },
  });

  r.get('/me', {
    summary: "The caller's own employee profile",
    permission: PERMISSIONS.employeesRead,
    response: employeeSchema,
    handler: async (ctx) => {
      const partyId = ctx.principal.scopePartyId ?? ctx.principal.partyId;
      const [employee] = partyId ? await loadEmployees(ctx.db, ctx.tenantId, [partyId]) : [];
      if (!employee) throw new NotFoundError('Employee profile of the caller');
      return employee;
    },
  });

  r.get('/employees/:id', {
    summary: 'Get an employee profile: employment, manager, reports',
    permission: PERMISSIONS.employeesRead,
    params: idParams,
    response: employeeSchema,
    handler: async (ctx) => {
      const employee = await visibleEmployee(ctx, ctx.params.id);
      return employee;
    },
  });

  r.post('/employees/:id/end-employment', {
    summary: 'End the current employment (leaver)',
    permission: PERMISSIONS.employeesWrite,
    params: idParams,
    body: z.strictObject({ end: timestamp, reason: z.string().trim().min(1).max(500).optional() }),
    response: employeeSchema,
    status: 200,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const employee = await endEmployment(ctx.app, uow, ctx.params.id, ctx.body.end, ctx.body.reason ?? null);
        return employee;
      }),
  });

  r.put('/employees/:id/manager', {
    summary: "Set (or clear) an employee's manager; a cycle in the reporting line is a 409",
    permission: PERMISSIONS.employeesWrite,
    params: idParams,
    body: z.strictObject({ managerId: z.uuid().nullable() }),
    response: employeeSchema,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        if (!(await activeEmployment(uow.trx, uow.tenantId, ctx.params.id))) throw new NotFoundError('Employee', ctx.params.id);
        const previousManagerId = await setManager(ctx.app, uow, ctx.params.id, ctx.body.managerId);
        const [employee] = await loadEmployees(uow.trx, uow.tenantId, [ctx.params.id]);
        if (previousManagerId !== ctx.body.managerId) uow.emit('hrm.manager.changed', { employee, previousManagerId }, { type: 'hrm.employee', id: employee.id });
        return employee;
      }),
  });

}

/** An employee the caller may see (404 otherwise, exactly as if it did not exist). */
export async function visibleEmployee(ctx: RequestContext<any, any, any>, id: string, db: QueryContext['db'] = ctx.db) {
  // Inside a write, `db` is the transaction (PGlite has one connection).
  const visible = await ctx.app.scopes.canSee({ db, tenantId: ctx.tenantId, principal: ctx.principal }, employeeScope(ctx.principal), id);
  const [employee] = visible ? await loadEmployees(db, ctx.tenantId, [id]) : [];
  if (!employee || !employee.employment) throw new NotFoundError('Employee', id);
  return employee;
}

function toPosition(row: { id: string; title: string; unit_id: string | null; grade: string | null; created_at: Date }): Position {
  return { id: row.id, title: row.title, unitId: row.unit_id, grade: row.grade, createdAt: iso(row.created_at)! };
}
