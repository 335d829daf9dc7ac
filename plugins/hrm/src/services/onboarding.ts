import { ConflictError, ForbiddenError, NotFoundError, hasPermission, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { hrm, type Employee, type OnboardingItem, type OnboardingOwner, type OnboardingTemplate } from '@rapport/hrm-contract';
import { INTERACTIONS, PERMISSIONS } from '../declarations.js';
import type { HrmDeps } from '../deps.js';
import type { ResolvedHrmOptions } from '../options.js';
import { onboardingItemRecord, onboardingTemplateRecord } from '../records.js';
import type { PositionService } from './positions.js';
import type { StaffDirectory } from './staff.js';
import type { UnitService } from './units.js';

const DAY_MS = 86_400_000;

/** `hrm_onboarding_items` as one `bulkInsert` writes it. */
const ITEM_COLUMNS = {
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

interface ItemRow {
  id: string;
  employee_id: string;
  owner: OnboardingOwner;
  title: string;
  due_at: Date;
  done_at: Date | null;
  done_by_party_id: string | null;
  [column: string]: unknown;
}

/** Onboarding checklists: templates per unit and position, their items instantiated when an employment starts. */
export class OnboardingService {
  constructor(
    private readonly deps: HrmDeps,
    private readonly collaborators: { staff: StaffDirectory; units: UnitService; positions: PositionService },
    private readonly options: ResolvedHrmOptions,
  ) {}

  private toItem(row: ItemRow, now: Date): OnboardingItem {
    return onboardingItemRecord.fromRow(row, { overdue: row.done_at === null && new Date(row.due_at).getTime() < now.getTime() });
  }

  /** For a unit (and its subunits) and/or a position; null: any. */
  async createTemplate(uow: UnitOfWork, input: Pick<OnboardingTemplate, 'name' | 'items'> & { unitId?: string | null; positionId?: string | null }): Promise<OnboardingTemplate> {
    if (input.unitId) await this.collaborators.units.require(uow, input.unitId);
    if (input.positionId) await this.collaborators.positions.require(uow, input.positionId);
    const row = { id: newId(), name: input.name, unit_id: input.unitId ?? null, position_id: input.positionId ?? null, items: JSON.stringify(input.items), created_at: this.options.now() };
    await this.deps.db.in(uow)('hrm_onboarding_templates').insert(row);
    return onboardingTemplateRecord.fromRow(row);
  }

  listTemplates(ctx: QueryContext, page: { limit: number; cursor?: string }): Promise<Page<OnboardingTemplate>> {
    const q = this.deps.db.in(ctx)('hrm_onboarding_templates').select(onboardingTemplateRecord.columns());
    return keysetPage(q, page, [{ column: 'id', type: 'uuid' }], (rows: object[]) => rows.map((row) => onboardingTemplateRecord.fromRow(row)));
  }

  /** An employee's items with progress (a scoped caller: its own, its reports' with hrm.team:read). */
  async checklist(ctx: QueryContext, employeeId: string) {
    await this.collaborators.staff.visible(ctx, employeeId);
    const now = this.options.now();
    const rows: ItemRow[] = await this.deps.db.in(ctx)('hrm_onboarding_items').where({ employee_id: employeeId }).orderBy(['employment_id', 'position']).select(onboardingItemRecord.columns());
    const items = rows.map((row) => this.toItem(row, now));
    return { employeeId, total: items.length, done: items.filter((i) => i.doneAt).length, overdue: items.filter((i) => i.overdue).length, items };
  }

  /**
   * Ticks an item: the employee its own items, a manager (hrm.team:read) its reports' manager
   * items, HR any. The completion goes on the employee's timeline.
   */
  async tick(uow: UnitOfWork, itemId: string): Promise<OnboardingItem> {
    const tables = this.deps.db.in(uow);
    const row: ItemRow | undefined = await tables('hrm_onboarding_items').where({ id: itemId }).forUpdate().first(onboardingItemRecord.columns());
    if (!row) throw new NotFoundError('Onboarding item', itemId);
    await this.collaborators.staff.visible(uow, row.employee_id).catch(() => {
      throw new NotFoundError('Onboarding item', itemId);
    });
    const scoped = uow.principal.scopePartyId;
    if (scoped) {
      const own = row.owner === 'employee' && scoped === row.employee_id;
      // `visible` above already placed the employee in the caller's reporting tree.
      const asManager = row.owner === 'manager' && scoped !== row.employee_id && hasPermission(uow.principal, PERMISSIONS.teamRead);
      if (!own && !asManager) throw new ForbiddenError(`hrm: onboarding item ${row.id} belongs to ${row.owner === 'hr' ? 'HR' : `the ${row.owner}`}`);
    }
    if (row.done_at) throw new ConflictError(`hrm: onboarding item ${row.id} is already done`);
    const now = this.options.now();
    const doer = scoped ?? uow.principal.partyId ?? null;
    await tables('hrm_onboarding_items').where({ id: row.id }).update({ done_at: now, done_by_party_id: doer });
    const participants = [{ partyId: row.employee_id, role: 'employee' }];
    if (doer && doer !== row.employee_id) participants.push({ partyId: doer, role: row.owner === 'manager' ? 'manager' : 'hr' });
    // Authorized above; a manager's report further down the tree is outside its kernel scope.
    await this.deps.interactions.create(uow.unscoped(), {
      type: INTERACTIONS.onboardingStep,
      occurredAt: now.toISOString(),
      direction: 'internal',
      subject: row.title,
      attributes: { onboardingItemId: row.id },
      participants,
    });
    const item = this.toItem({ ...row, done_at: now, done_by_party_id: doer }, now);
    uow.emit(hrm.events.onboardingItemDone, { item }, { type: 'hrm.employee', id: row.employee_id });
    return item;
  }

  /**
   * Gives new employments the checklists that fit them: templates for the unit or any unit
   * above it (or for every unit), and for the position (or any position). A fixed number of
   * queries for any number of employments (an import batch): the templates, the unit chains
   * (one recursive query), one insert.
   */
  async instantiate(uow: UnitOfWork, hires: ReadonlyArray<{ employee: Employee; employmentId: string }>): Promise<void> {
    const employed = hires.filter((h) => h.employee.employment);
    if (employed.length === 0) return;
    const tables = this.deps.db.in(uow);
    const templates: Array<{ id: string; unit_id: string | null; position_id: string | null; items: OnboardingTemplate['items'] }> = await tables('hrm_onboarding_templates')
      .orderBy(['created_at', 'id'])
      .select('id', 'unit_id', 'position_id', 'items');
    if (templates.length === 0) return;
    const chains = await this.collaborators.units.chainsOf(uow, [...new Set(employed.map((h) => h.employee.employment!.unitId))]);
    const rows: Array<Record<string, unknown>> = [];
    const assigned: Array<{ employeeId: string; employmentId: string; itemIds: string[] }> = [];
    for (const { employee, employmentId } of employed) {
      const employment = employee.employment!;
      const units = chains.get(employment.unitId) ?? new Set([employment.unitId]);
      const start = new Date(employment.start ?? this.options.now());
      const itemIds: string[] = [];
      for (const template of templates) {
        if (template.unit_id && !units.has(template.unit_id)) continue;
        if (template.position_id && template.position_id !== employment.positionId) continue;
        for (const item of template.items) {
          const id = newId();
          rows.push({
            id,
            employee_id: employee.id,
            employment_id: employmentId,
            template_id: template.id,
            position: itemIds.length,
            title: item.title,
            owner: item.owner,
            due_at: new Date(start.getTime() + item.dueDays * DAY_MS),
            done_at: null,
            done_by_party_id: null,
          });
          itemIds.push(id);
        }
      }
      if (itemIds.length) assigned.push({ employeeId: employee.id, employmentId, itemIds });
    }
    if (rows.length === 0) return;
    await tables.bulkInsert('hrm_onboarding_items', ITEM_COLUMNS, rows);
    for (const a of assigned) uow.emit(hrm.events.onboardingAssigned, a, { type: 'hrm.employee', id: a.employeeId });
  }
}
