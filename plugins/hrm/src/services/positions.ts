import { ValidationError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { hrm, type Position } from '@rapport/hrm-contract';
import { emptyPage } from '../caller.js';
import type { HrmDeps } from '../deps.js';
import { positionRecord } from '../records.js';
import type { StaffDirectory } from './staff.js';
import type { UnitService } from './units.js';

/** The positions catalog (`hrm_positions`). */
export class PositionService {
  constructor(
    private readonly deps: HrmDeps,
    private readonly units: UnitService,
    private readonly staff: StaffDirectory,
  ) {}

  /** Oldest first; for the firm's staff (a scoped caller without a current employment sees none). */
  async list(ctx: QueryContext, query: { limit: number; cursor?: string; unitId?: string }): Promise<Page<Position>> {
    if (!(await this.staff.callerIsStaff(ctx))) return emptyPage();
    const q = this.deps.db.in(ctx)('hrm_positions').select(positionRecord.columns());
    if (query.unitId) q.where('unit_id', query.unitId);
    return keysetPage(q, query, [{ column: 'id', type: 'uuid' }], (rows: object[]) => rows.map((row) => positionRecord.fromRow(row)));
  }

  async create(uow: UnitOfWork, input: { title: string; unitId?: string | null; grade?: string | null }): Promise<Position> {
    if (input.unitId) await this.units.require(uow, input.unitId);
    const row = { id: newId(), title: input.title, unit_id: input.unitId ?? null, grade: input.grade ?? null, created_at: new Date() };
    await this.deps.db.in(uow)('hrm_positions').insert(row);
    const position = positionRecord.fromRow(row);
    uow.emit(hrm.events.positionCreated, { position }, { type: 'hrm.position', id: position.id });
    return position;
  }

  /** A 400 naming `positionId` when the position does not exist. */
  async require(ctx: QueryContext, id: string): Promise<void> {
    if (!(await this.deps.db.in(ctx)('hrm_positions').where({ id }).first('id'))) {
      throw new ValidationError(`positionId: position ${id} does not exist`, [{ path: 'positionId', message: 'unknown position' }]);
    }
  }

  /** Positions by title, compared lower-cased, in one query: title → ids (several: ambiguous). */
  async idsByTitle(ctx: QueryContext, titles: readonly string[]): Promise<Map<string, string[]>> {
    const wanted = [...new Set(titles.map((t) => t.toLowerCase()))];
    const out = new Map<string, string[]>();
    if (wanted.length === 0) return out;
    const rows: Array<{ id: string; title: string }> = await this.deps.db.in(ctx)('hrm_positions').whereRaw('lower(title) = any(?::text[])', [wanted]).select('id', 'title');
    for (const row of rows) out.set(row.title.toLowerCase(), [...(out.get(row.title.toLowerCase()) ?? []), row.id]);
    return out;
  }
}
