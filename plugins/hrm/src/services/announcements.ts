import { ConflictError, ForbiddenError, NotFoundError, iso, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { hrm, type Announcement } from '@rapport/hrm-contract';
import { callerPartyId } from '../caller.js';
import type { HrmDeps } from '../deps.js';
import type { ResolvedHrmOptions } from '../options.js';
import { announcementRecord } from '../records.js';
import type { StaffDirectory } from './staff.js';
import type { UnitService } from './units.js';

type Receipt = { read_at?: Date | null; acknowledged_at?: Date | null };

/** Announcements to units (`hrm_announcements`) and who read and acknowledged them (`hrm_announcement_receipts`). */
export class AnnouncementService {
  constructor(
    private readonly deps: HrmDeps,
    private readonly staff: StaffDirectory,
    private readonly units: UnitService,
    private readonly options: ResolvedHrmOptions,
  ) {}

  /** To units (their subunits expanded now) or, without units, to everyone. */
  async publish(uow: UnitOfWork, input: { title: string; body: string; unitIds: string[]; requiresAck: boolean }): Promise<Announcement> {
    for (const id of input.unitIds) await this.units.require(uow, id, 'unitIds');
    const unitIds = input.unitIds.length ? await this.units.withDescendants(uow, input.unitIds) : [];
    const row = { id: newId(), title: input.title, body: input.body, unit_ids: JSON.stringify(unitIds), requires_ack: input.requiresAck, published_at: this.options.now() };
    await this.deps.db.in(uow)('hrm_announcements').insert(row);
    const announcement = announcementRecord.fromRow(row);
    uow.emit(hrm.events.announcementPublished, { announcement }, { type: 'hrm.announcement', id: row.id });
    return announcement;
  }

  /** Newest first: all for unscoped callers; for an employee, those addressed to it, with its read and acknowledged times. */
  async list(ctx: QueryContext, page: { limit: number; cursor?: string }): Promise<Page<Announcement>> {
    const q = this.audience(ctx, await this.callerUnit(ctx), callerPartyId(ctx.principal));
    return keysetPage(q, page, [{ column: 'a.id', type: 'uuid', direction: 'desc' }], (rows: Array<object & Receipt>) => rows.map(toAnnouncement));
  }

  /** Marks an announcement read, or acknowledged (which implies read), as oneself. */
  async mark(uow: UnitOfWork, id: string, action: 'read' | 'acknowledge'): Promise<Announcement> {
    const self = callerPartyId(uow.principal);
    if (!self) throw new ForbiddenError('hrm: only a principal linked to an employee reads announcements');
    const row: ({ id: string; requires_ack: boolean } & Receipt) | undefined = await this.audience(uow, await this.callerUnit(uow), self)
      .where('a.id', id)
      .first();
    if (!row) throw new NotFoundError('Announcement', id);
    if (action === 'acknowledge' && !row.requires_ack) throw new ConflictError(`hrm: announcement ${row.id} does not ask for acknowledgement`);
    const now = this.options.now();
    const tables = this.deps.db.in(uow);
    const upsert = tables('hrm_announcement_receipts')
      .insert({ announcement_id: row.id, party_id: self, read_at: now, acknowledged_at: action === 'acknowledge' ? now : null })
      .onConflict(['announcement_id', 'party_id']);
    // The first read and the first acknowledgement are the ones kept.
    if (action === 'acknowledge') await upsert.merge({ acknowledged_at: tables.raw('coalesce(hrm_announcement_receipts.acknowledged_at, excluded.acknowledged_at)') });
    else await upsert.ignore();
    const receipt: Receipt = await tables('hrm_announcement_receipts').where({ announcement_id: row.id, party_id: self }).first('read_at', 'acknowledged_at');
    uow.emit(action === 'read' ? hrm.events.announcementRead : hrm.events.announcementAcknowledged, { announcementId: row.id, partyId: self }, { type: 'hrm.announcement', id: row.id });
    return toAnnouncement({ ...row, ...receipt });
  }

  /** Who of the audience (current employees of its units, or everyone) read and acknowledged it. */
  async receipts(ctx: QueryContext, id: string) {
    const tables = this.deps.db.in(ctx);
    const row: { id: string; unit_ids: string[]; requires_ack: boolean } | undefined = await tables('hrm_announcements').where({ id }).first('id', 'unit_ids', 'requires_ack');
    if (!row) throw new NotFoundError('Announcement', id);
    const audience = await this.staff.currentEmployeeIds(ctx, row.unit_ids);
    const receipts: Array<{ party_id: string; acknowledged_at: Date | null }> = await tables('hrm_announcement_receipts').where({ announcement_id: row.id }).select('party_id', 'acknowledged_at');
    const read = new Map(receipts.map((x) => [x.party_id, x]));
    return {
      announcementId: row.id,
      audience: audience.length,
      read: audience.filter((p) => read.has(p)).length,
      acknowledged: audience.filter((p) => read.get(p)?.acknowledged_at).length,
      pendingRead: audience.filter((p) => !read.has(p)),
      pendingAcknowledgement: row.requires_ack ? audience.filter((p) => !read.get(p)?.acknowledged_at) : [],
    };
  }

  /**
   * The unit a scoped caller belongs to (`null`: not an employee, sees nothing); unscoped callers
   * see every announcement. Resolved before the query is built: an async function returning a
   * knex builder would run it (builders are thenables).
   */
  private async callerUnit(ctx: QueryContext): Promise<string | null | undefined> {
    if (!ctx.principal.scopePartyId) return undefined;
    const employment = await this.staff.activeEmployment(ctx, ctx.principal.scopePartyId);
    return employment ? employment.attributes.unitId : null;
  }

  /** Announcements the caller may see, with the receipt of `self` when the caller is a person. */
  private audience(ctx: QueryContext, unit: string | null | undefined, self: string | null) {
    const q = this.deps.db.in(ctx)('hrm_announcements as a').select(announcementRecord.columns('a'));
    if (self) {
      q.leftJoin('hrm_announcement_receipts as x', (join) => join.on('x.announcement_id', 'a.id').andOnVal('x.party_id', self)).select('x.read_at', 'x.acknowledged_at');
    }
    if (unit === null) q.whereRaw('false');
    else if (unit !== undefined) q.where((w) => w.whereRaw("a.unit_ids = '[]'::jsonb").orWhereRaw('a.unit_ids \\? ?', [unit]));
    return q;
  }
}

function toAnnouncement(row: object & Receipt): Announcement {
  const receipt = row.read_at !== undefined ? { readAt: iso(row.read_at), acknowledgedAt: iso(row.acknowledged_at) } : {};
  return announcementRecord.fromRow(row, receipt);
}
