import { NotFoundError, PreconditionFailedError, type QueryContext, type UnitOfWork } from '@rapport/core';
import { hrm, type PrivateRecord } from '@rapport/hrm-contract';
import type { HrmDeps } from '../deps.js';
import { privateRecord } from '../records.js';
import type { StaffDirectory } from './staff.js';

export type PrivateData = Pick<PrivateRecord, 'contract' | 'payBand' | 'privateContact' | 'notes'>;

/** HR-private data (`hrm_private`): never a party attribute, so kernel readers never see it. */
export class PrivateDataService {
  constructor(
    private readonly deps: HrmDeps,
    private readonly staff: StaffDirectory,
  ) {}

  /** Within the caller's reach of employees (a scoped employee: its own). */
  async get(ctx: QueryContext, partyId: string): Promise<PrivateRecord> {
    await this.staff.visible(ctx, partyId);
    const q = this.deps.db.in(ctx)('hrm_private').where({ party_id: partyId }).select(privateRecord.columns());
    const row = await this.deps.scopes.apply(q, ctx, this.staff.scopeFor(ctx.principal), 'party_id').first();
    if (!row) throw new NotFoundError('Private record of employee', partyId);
    return privateRecord.fromRow(row);
  }

  /** Creates or replaces the record; once it exists, `expectedVersion` (If-Match) must be its version. */
  async put(uow: UnitOfWork, partyId: string, data: PrivateData, expectedVersion: number | undefined): Promise<PrivateRecord> {
    await this.staff.visible(uow, partyId);
    const tables = this.deps.db.in(uow);
    const existing: { version: number } | undefined = await tables('hrm_private').where({ party_id: partyId }).forUpdate().first('version');
    if (existing && expectedVersion === undefined)
      throw new PreconditionFailedError('hrm: If-Match with the current version is required to replace private data', { currentVersion: existing.version });
    if (existing && expectedVersion !== existing.version) throw new PreconditionFailedError(`hrm: private data is at version ${existing.version}`, { currentVersion: existing.version });
    const row = {
      party_id: partyId,
      contract: JSON.stringify(data.contract),
      pay_band: data.payBand,
      private_contact: JSON.stringify(data.privateContact),
      notes: data.notes,
      version: (existing?.version ?? 0) + 1,
      updated_at: new Date(),
    };
    await tables('hrm_private').insert(row).onConflict(['party_id']).merge();
    uow.emit(hrm.events.privateUpdated, { partyId, version: row.version }, { type: 'hrm.private', id: partyId });
    return privateRecord.fromRow(row);
  }
}
