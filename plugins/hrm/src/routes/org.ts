import { z } from 'zod';
import { idParams, pageOf, pageQuery, textListQuery, type RouteBuilder } from '@rapport/core';
import { employeeSchema, positionSchema, unitDetailSchema, unitSchema } from '@rapport/hrm-contract';
import { PERMISSIONS } from '../declarations.js';
import type { HrmServices } from '../services/index.js';
import { name, newPerson, hrmTimestamp } from './inputs.js';

/** Units, positions and employees. Employees (scoped principals) read the org chart and their own reach of profiles. */
export function orgRoutes(r: RouteBuilder, { units, positions, employees, staff }: HrmServices): void {
  r.get('/units', {
    summary: 'List units (the organization tree, flat with parentId)',
    permission: PERMISSIONS.orgRead,
    audience: 'any',
    query: z.strictObject({ ...pageQuery, parentId: z.uuid().optional() }),
    response: pageOf(unitSchema),
    handler: (ctx) => units.list(ctx, ctx.query),
  });

  r.get('/units/:id', {
    summary: 'Get a unit with its parent, children and headcount',
    permission: PERMISSIONS.orgRead,
    audience: 'any',
    params: idParams,
    response: unitDetailSchema,
    handler: (ctx) => units.detail(ctx, ctx.params.id),
  });

  r.post('/units', {
    summary: 'Create a unit (a party of kind unit), optionally under a parent unit',
    permission: PERMISSIONS.orgWrite,
    body: z.strictObject({ name, parentId: z.uuid().nullable().optional() }),
    response: unitSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => units.create(uow, ctx.body)),
  });

  r.put('/units/:id/parent', {
    summary: 'Move a unit in the tree (null: top level); a move that would create a cycle is a 409',
    permission: PERMISSIONS.orgWrite,
    params: idParams,
    body: z.strictObject({ parentId: z.uuid().nullable() }),
    response: unitSchema,
    handler: (ctx) => ctx.transaction((uow) => units.move(uow, ctx.params.id, ctx.body.parentId)),
  });

  r.get('/positions', {
    summary: 'List positions',
    permission: PERMISSIONS.orgRead,
    audience: 'any',
    query: z.strictObject({ ...pageQuery, unitId: z.uuid().optional() }),
    response: pageOf(positionSchema),
    handler: (ctx) => positions.list(ctx, ctx.query),
  });

  r.post('/positions', {
    summary: 'Create a position',
    permission: PERMISSIONS.orgWrite,
    body: z.strictObject({ title: name, unitId: z.uuid().nullable().optional(), grade: z.string().trim().min(1).max(50).nullable().optional() }),
    response: positionSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => positions.create(uow, ctx.body)),
  });

  r.post('/employees', {
    summary: 'Hire: an employment (employer = the tenant, employee = a person), optionally a manager',
    description: 'Give `partyId` of an existing person (a candidate, say) or `person` to create one.',
    permission: PERMISSIONS.employeesWrite,
    body: z
      .strictObject({
        partyId: z.uuid().optional(),
        person: newPerson.optional(),
        unitId: z.uuid(),
        positionId: z.uuid().nullable().optional(),
        start: hrmTimestamp,
        managerId: z.uuid().nullable().optional(),
      })
      .refine((b) => (b.partyId === undefined) !== (b.person === undefined), { message: 'give exactly one of partyId and person' }),
    response: employeeSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => employees.hire(uow, ctx.body)),
  });

  r.get('/employees', {
    summary: 'List employees (a scoped principal: itself, and its reports with hrm.team:read)',
    permission: PERMISSIONS.employeesRead,
    audience: 'any',
    description: 'By person id, or by name with `sort=name` / `sort=-name`; `q` and `startsWith` match the name, case-insensitively.',
    query: z.strictObject({ ...pageQuery, unitId: z.uuid().optional(), managerId: z.uuid().optional(), status: z.enum(['active', 'ended']).optional(), ...textListQuery('name') }),
    response: pageOf(employeeSchema),
    handler: (ctx) => employees.list(ctx, ctx.query),
  });

  r.get('/me', {
    summary: "The caller's own employee profile",
    permission: PERMISSIONS.employeesRead,
    audience: 'any',
    response: employeeSchema,
    handler: (ctx) => employees.me(ctx),
  });

  r.get('/employees/:id', {
    summary: 'Get an employee profile: employment, manager, reports',
    permission: PERMISSIONS.employeesRead,
    audience: 'any',
    params: idParams,
    response: employeeSchema,
    handler: (ctx) => staff.visible(ctx, ctx.params.id),
  });

  r.post('/employees/:id/end-employment', {
    summary: 'End the current employment (leaver)',
    permission: PERMISSIONS.employeesWrite,
    params: idParams,
    body: z.strictObject({ end: hrmTimestamp, reason: z.string().trim().min(1).max(500).optional() }),
    response: employeeSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => employees.endEmployment(uow, ctx.params.id, ctx.body.end, ctx.body.reason ?? null)),
  });

  r.put('/employees/:id/manager', {
    summary: "Set (or clear) an employee's manager; a cycle in the reporting line is a 409",
    permission: PERMISSIONS.employeesWrite,
    params: idParams,
    body: z.strictObject({ managerId: z.uuid().nullable() }),
    response: employeeSchema,
    handler: (ctx) => ctx.transaction((uow) => employees.changeManager(uow, ctx.params.id, ctx.body.managerId)),
  });
}
