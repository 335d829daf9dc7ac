import { z } from 'zod';
import { idParams, ConflictError, ForbiddenError, NotFoundError, ValidationError, decodeCursor, hasPermission, newId, pageOf, pageQuery, toPage, type RouteBuilder } from '@rapport/core';
import { INTERACTIONS, PERMISSIONS } from '../declarations.js';
import type { ResolvedHrmOptions } from '../options.js';
import { iso } from '../services/context.js';
import { toOnboardingItem, type OnboardingItemRow, type TemplateItem } from '../services/onboarding.js';
import { requireUnit } from '../services/org.js';
import { name } from './schemas.js';
import { visibleEmployee } from './org.js';

const OWNERS = ['hr', 'manager', 'employee'] as const;
const templateItem = z.strictObject({ title: z.string().trim().min(1).max(300), owner: z.enum(OWNERS), dueDays: z.number().int().min(0).max(365) });
const templateSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  unitId: z.uuid().nullable(),
  positionId: z.uuid().nullable(),
  items: z.array(z.object({ title: z.string(), owner: z.enum(OWNERS), dueDays: z.number() })),
  createdAt: z.string(),
});
const itemSchema = z.object({
  id: z.uuid(),
  employeeId: z.uuid(),
  employmentId: z.uuid(),
  templateId: z.uuid(),
  position: z.number(),
  title: z.string(),
  owner: z.enum(OWNERS),
  dueAt: z.string(),
  doneAt: z.string().nullable(),
  doneByPartyId: z.uuid().nullable(),
  overdue: z.boolean(),
});

interface TemplateRow {
  id: string;
  name: string;
  unit_id: string | null;
  position_id: string | null;
  items: TemplateItem[];
  created_at: Date;
}

export function onboardingRoutes(r: RouteBuilder, options: ResolvedHrmOptions): void {
  r.post('/onboarding/templates', {
    summary: 'Define an onboarding checklist for a unit (and its subunits) and/or a position; new employments that fit get its items',
    permission: PERMISSIONS.onboardingManage,
    body: z.strictObject({ name, unitId: z.uuid().nullable().optional(), positionId: z.uuid().nullable().optional(), items: z.array(templateItem).min(1).max(100) }),
    response: templateSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        if (ctx.principal.scopePartyId) throw new ForbiddenError('hrm: onboarding templates are managed by HR (unscoped principals)');
        if (ctx.body.unitId) await requireUnit(uow.trx, uow.tenantId, ctx.body.unitId);
        if (ctx.body.positionId && !(await uow.trx('hrm_positions').where({ tenant_id: uow.tenantId, id: ctx.body.positionId }).first('id'))) {
          throw new ValidationError(`positionId: position ${ctx.body.positionId} does not exist`, [{ path: 'positionId', message: 'unknown position' }]);
        }
        const row: TemplateRow = { id: newId(), name: ctx.body.name, unit_id: ctx.body.unitId ?? null, position_id: ctx.body.positionId ?? null, items: ctx.body.items, created_at: options.now() };
        await uow.trx('hrm_onboarding_templates').insert({ ...row, tenant_id: uow.tenantId, items: JSON.stringify(row.items) });
        return toTemplate(row);
      }),
  });

  r.get('/onboarding/templates', {
    summary: 'List onboarding checklist templates',
    permission: PERMISSIONS.onboardingManage,
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(templateSchema),
    handler: async (ctx) => {
      if (ctx.principal.scopePartyId) throw new ForbiddenError('hrm: onboarding templates are managed by HR (unscoped principals)');
      const after = decodeCursor(ctx.query.cursor, ['uuid']);
      const q = ctx.db('hrm_onboarding_templates').where({ tenant_id: ctx.tenantId });
      if (after) q.where('id', '>', after[0]);
      const rows: TemplateRow[] = await q.orderBy('id').limit(ctx.query.limit + 1);
      return toPage(rows, ctx.query.limit, toTemplate, (row) => [row.id]);
    },
  });

  r.get('/employees/:id/onboarding', {
    summary: "An employee's onboarding checklist with progress (scoped: its own, its reports' with hrm.team:read)",
    permission: PERMISSIONS.onboardingRead,
    params: idParams,
    response: z.object({ employeeId: z.uuid(), total: z.number(), done: z.number(), overdue: z.number(), items: z.array(itemSchema) }),
    handler: async (ctx) => {
      await visibleEmployee(ctx, ctx.params.id);
      const now = options.now();
      const rows: OnboardingItemRow[] = await ctx.db('hrm_onboarding_items').where({ tenant_id: ctx.tenantId, employee_id: ctx.params.id }).orderBy(['employment_id', 'position']);
      const items = rows.map((row) => toOnboardingItem(row, now));
      return { employeeId: ctx.params.id, total: items.length, done: items.filter((i) => i.doneAt).length, overdue: items.filter((i) => i.overdue).length, items };
    },
  });

  r.post('/onboarding/items/:id/done', {
    summary: "Tick an onboarding item: the employee its own items, a manager (hrm.team:read) its reports' manager items, HR any; recorded on the timeline",
    permission: PERMISSIONS.onboardingWrite,
    params: idParams,
    response: itemSchema,
    status: 200,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const row: OnboardingItemRow | undefined = await uow.trx('hrm_onboarding_items').where({ tenant_id: uow.tenantId, id: ctx.params.id }).forUpdate().first();
        if (!row) throw new NotFoundError('Onboarding item', ctx.params.id);
        await visibleEmployee(ctx, row.employee_id, uow.trx).catch(() => {
          throw new NotFoundError('Onboarding item', ctx.params.id);
        });
        const scoped = ctx.principal.scopePartyId;
        if (scoped) {
          const own = row.owner === 'employee' && scoped === row.employee_id;
          // visibleEmployee above already placed the employee in the caller's reporting tree.
          const asManager = row.owner === 'manager' && scoped !== row.employee_id && hasPermission(ctx.principal, PERMISSIONS.teamRead);
          if (!own && !asManager) throw new ForbiddenError(`hrm: onboarding item ${row.id} belongs to ${row.owner === 'hr' ? 'HR' : `the ${row.owner}`}`);
        }
        if (row.done_at) throw new ConflictError(`hrm: onboarding item ${row.id} is already done`);
        const now = options.now();
        const doer = scoped ?? ctx.principal.partyId ?? null;
        await uow.trx('hrm_onboarding_items').where({ tenant_id: uow.tenantId, id: row.id }).update({ done_at: now, done_by_party_id: doer });
        const participants = [{ partyId: row.employee_id, role: 'employee' }];
        if (doer && doer !== row.employee_id) participants.push({ partyId: doer, role: row.owner === 'manager' ? 'manager' : 'hr' });
        // Authorized above; a manager's report further down the tree is outside its kernel scope.
        await ctx.app.services.interactions.create(uow.unscoped(), {
          type: INTERACTIONS.onboardingStep,
          occurredAt: now.toISOString(),
          direction: 'internal',
          subject: row.title,
          attributes: { onboardingItemId: row.id },
          participants,
        });
        const item = toOnboardingItem({ ...row, done_at: now, done_by_party_id: doer }, now);
        uow.emit('hrm.onboarding.item-done', { item }, { type: 'hrm.employee', id: row.employee_id });
        return item;
      }),
  });
}

function toTemplate(row: TemplateRow) {
  return { id: row.id, name: row.name, unitId: row.unit_id, positionId: row.position_id, items: row.items, createdAt: iso(row.created_at)! };
}
