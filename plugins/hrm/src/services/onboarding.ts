import { insertUnnest, newId, type FilterContext } from '@rapport/core';
import { TYPES } from '../declarations.js';
import type { ResolvedHrmOptions } from '../options.js';
import type { Employee, OnboardingItem, OnboardingOwner } from '../types.js';
import { iso } from './context.js';

export interface TemplateItem {
  title: string;
  owner: OnboardingOwner;
  /** Due this many days after the employment starts. */
  dueDays: number;
}

export interface OnboardingItemRow {
  id: string;
  employee_id: string;
  employment_id: string;
  template_id: string;
  position: number;
  title: string;
  owner: OnboardingOwner;
  due_at: Date;
  done_at: Date | null;
  done_by_party_id: string | null;
}

export function toOnboardingItem(row: OnboardingItemRow, now: Date): OnboardingItem {
  return {
    id: row.id,
    employeeId: row.employee_id,
    employmentId: row.employment_id,
    templateId: row.template_id,
    position: row.position,
    title: row.title,
    owner: row.owner,
    dueAt: iso(row.due_at)!,
    doneAt: iso(row.done_at),
    doneByPartyId: row.done_by_party_id,
    overdue: row.done_at === null && new Date(row.due_at).getTime() < now.getTime(),
  };
}

/**
 * Gives new employments the checklists that fit them: templates for the unit or any unit
 * above it (or for every unit), and for the position (or any position). A fixed number of
 * queries for any number of employments (an import batch): the templates, the unit chains
 * (one recursive query), one insert.
 */
export async function instantiateOnboardingMany(ctx: FilterContext, hires: ReadonlyArray<{ employee: Employee; employmentId: string }>, options: ResolvedHrmOptions): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const employed = hires.filter((h) => h.employee.employment);
  if (employed.length === 0) return out;
  const templates: Array<{ id: string; unit_id: string | null; position_id: string | null; items: TemplateItem[] }> = await ctx
    .trx('hrm_onboarding_templates')
    .where({ tenant_id: ctx.tenantId })
    .orderBy(['created_at', 'id'])
    .select('id', 'unit_id', 'position_id', 'items');
  if (templates.length === 0) return out;
  const unitIds = [...new Set(employed.map((h) => h.employee.employment!.unitId))];
  const chains = await unitChains(ctx, unitIds);
  const rows: Array<Record<string, unknown>> = [];
  for (const { employee, employmentId } of employed) {
    const employment = employee.employment!;
    const units = chains.get(employment.unitId) ?? new Set([employment.unitId]);
    const start = new Date(employment.start ?? options.now());
    let position = 0;
    const ids: string[] = [];
    for (const template of templates) {
      if (template.unit_id && !units.has(template.unit_id)) continue;
      if (template.position_id && template.position_id !== employment.positionId) continue;
      for (const item of template.items) {
        const id = newId();
        ids.push(id);
        rows.push({
          tenant_id: ctx.tenantId,
          id,
          employee_id: employee.id,
          employment_id: employmentId,
          template_id: template.id,
          position: position++,
          title: item.title,
          owner: item.owner,
          due_at: new Date(start.getTime() + item.dueDays * 86_400_000),
          done_at: null,
          done_by_party_id: null,
        });
      }
    }
    if (ids.length) out.set(employee.id, ids);
  }
  if (rows.length === 0) return out;
  await insertUnnest(ctx.trx, 'hrm_onboarding_items', ITEM_COLUMNS, rows);
  for (const { employee, employmentId } of employed) {
    const itemIds = out.get(employee.id);
    if (itemIds) ctx.emit('hrm.onboarding.assigned', { employeeId: employee.id, employmentId, itemIds }, { type: 'hrm.employee', id: employee.id });
  }
  return out;
}

const ITEM_COLUMNS = {
  tenant_id: 'uuid',
  id: 'uuid',
  employee_id: 'uuid',
  employment_id: 'uuid',
  template_id: 'uuid',
  position: 'int',
  title: 'text',
  owner: 'text',
  due_at: 'timestamptz',
  done_at: 'timestamptz',
  done_by_party_id: 'uuid',
};

/** Each unit with itself and every unit above it, in one recursive query. */
async function unitChains(ctx: FilterContext, unitIds: string[]): Promise<Map<string, Set<string>>> {
  const result = await ctx.trx.raw(
    `with recursive up(origin, id, depth) as (
       select u, u, 0 from unnest(?::uuid[]) as u
       union
       select up.origin, r.to_party_id, up.depth + 1 from rapport_relationships r join up on r.from_party_id = up.id
       where r.tenant_id = ? and r.type = ? and r.status = 'active' and up.depth < 100
     ) select distinct origin, id from up`,
    [unitIds, ctx.tenantId, TYPES.partOf],
  );
  const chains = new Map<string, Set<string>>();
  for (const row of result.rows as Array<{ origin: string; id: string }>) {
    const set = chains.get(row.origin) ?? new Set<string>();
    set.add(row.id);
    chains.set(row.origin, set);
  }
  return chains;
}

/** One new employment (the `hrm.employment.start` filter). */
export async function instantiateOnboarding(ctx: FilterContext, employee: Employee, employmentId: string, options: ResolvedHrmOptions): Promise<string[]> {
  return (await instantiateOnboardingMany(ctx, [{ employee, employmentId }], options)).get(employee.id) ?? [];
}
