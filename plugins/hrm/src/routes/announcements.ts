import { z } from 'zod';
import { idParams, ConflictError, ForbiddenError, NotFoundError, decodeCursor, newId, pageOf, pageQuery, toPage, type QueryContext, type RequestContext, type RouteBuilder } from '@rapport/core';
import { PERMISSIONS, TYPES } from '../declarations.js';
import type { ResolvedHrmOptions } from '../options.js';
import { iso } from '../services/context.js';
import { activeEmployment, requireUnit } from '../services/org.js';

const announcementSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  body: z.string(),
  unitIds: z.array(z.uuid()),
  requiresAck: z.boolean(),
  publishedAt: z.string(),
  readAt: z.string().nullable().optional(),
  acknowledgedAt: z.string().nullable().optional(),
});

interface AnnouncementRow {
  id: string;
  title: string;
  body: string;
  unit_ids: string[];
  requires_ack: boolean;
  published_at: Date;
  read_at?: Date | null;
  acknowledged_at?: Date | null;
}

export function announcementRoutes(r: RouteBuilder, options: ResolvedHrmOptions): void {
  r.post('/announcements', {
    summary: 'Publish an announcement to units (and their subunits) or, without units, to everyone',
    permission: PERMISSIONS.announcementsWrite,
    body: z.strictObject({ title: z.string().trim().min(1).max(300), body: z.string().trim().min(1).max(50000), unitIds: z.array(z.uuid()).max(200).default([]), requiresAck: z.boolean().default(false) }),
    response: announcementSchema,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        if (ctx.principal.scopePartyId) throw new ForbiddenError('hrm: announcements are published by unscoped principals');
        for (const id of ctx.body.unitIds) await requireUnit(uow.trx, uow.tenantId, id, 'unitIds');
        const unitIds = ctx.body.unitIds.length ? await withDescendants(uow.trx, uow.tenantId, ctx.body.unitIds) : [];
        const row: AnnouncementRow = { id: newId(), title: ctx.body.title, body: ctx.body.body, unit_ids: unitIds, requires_ack: ctx.body.requiresAck, published_at: options.now() };
        await uow.trx('hrm_announcements').insert({ ...row, tenant_id: uow.tenantId, unit_ids: JSON.stringify(unitIds) });
        const announcement = toAnnouncement(row);
        uow.emit('hrm.announcement.published', { announcement }, { type: 'hrm.announcement', id: row.id });
        return announcement;
      }),
  });

  r.get('/announcements', {
    summary: 'Announcements (newest first); a scoped employee sees those addressed to it, with its read/acknowledged times',
    permission: PERMISSIONS.announcementsRead,
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(announcementSchema),
    handler: async (ctx) => {
      const after = decodeCursor(ctx.query.cursor, ['uuid']);
      const q = audienceQuery(ctx, ctx.db, await callerUnit(ctx, ctx.db));
      if (after) q.where('a.id', '<', after[0]);
      const rows: AnnouncementRow[] = await q.orderBy('a.id', 'desc').limit(ctx.query.limit + 1);
      return toPage(rows, ctx.query.limit, toAnnouncement, (row) => [row.id]);
    },
  });

  for (const action of ['read', 'acknowledge'] as const) {
    r.post(`/announcements/:id/${action}`, {
      summary: action === 'read' ? 'Mark an announcement read (as oneself)' : 'Acknowledge an announcement (as oneself; implies read)',
      permission: PERMISSIONS.announcementsRead,
      params: idParams,
      response: announcementSchema,
      status: 200,
      handler: (ctx) =>
        ctx.transaction(async (uow) => {
          const self = ctx.principal.scopePartyId ?? ctx.principal.partyId;
          if (!self) throw new ForbiddenError('hrm: only a principal linked to an employee reads announcements');
          const row: AnnouncementRow | undefined = await audienceQuery(ctx, uow.trx, await callerUnit(ctx, uow.trx), self).where('a.id', ctx.params.id).first();
          if (!row) throw new NotFoundError('Announcement', ctx.params.id);
          if (action === 'acknowledge' && !row.requires_ack) throw new ConflictError(`hrm: announcement ${row.id} does not ask for acknowledgement`);
          const now = options.now();
          await uow.trx('hrm_announcement_receipts')
            .insert({ tenant_id: uow.tenantId, announcement_id: row.id, party_id: self, read_at: now, acknowledged_at: action === 'acknowledge' ? now : null })
            .onConflict(['tenant_id', 'announcement_id', 'party_id'])
            .merge(action === 'acknowledge' ? { acknowledged_at: uow.trx.raw('coalesce(hrm_announcement_receipts.acknowledged_at, excluded.acknowledged_at)') } : ['tenant_id']);
          const receipt = await uow.trx('hrm_announcement_receipts').where({ tenant_id: uow.tenantId, announcement_id: row.id, party_id: self }).first('read_at', 'acknowledged_at');
          uow.emit(action === 'read' ? 'hrm.announcement.read' : 'hrm.announcement.acknowledged', { announcementId: row.id, partyId: self }, { type: 'hrm.announcement', id: row.id });
          return toAnnouncement({ ...row, read_at: receipt.read_at, acknowledged_at: receipt.acknowledged_at });
        }),
    });
  }

  r.get('/announcements/:id/receipts', {
    summary: 'Who of the audience read and acknowledged an announcement',
    permission: PERMISSIONS.announcementsWrite,
    params: idParams,
    response: z.object({ announcementId: z.uuid(), audience: z.number(), read: z.number(), acknowledged: z.number(), pendingRead: z.array(z.uuid()), pendingAcknowledgement: z.array(z.uuid()) }),
    handler: async (ctx) => {
      if (ctx.principal.scopePartyId) throw new ForbiddenError('hrm: receipts are tenant-wide');
      const row: AnnouncementRow | undefined = await ctx.db('hrm_announcements').where({ tenant_id: ctx.tenantId, id: ctx.params.id }).first();
      if (!row) throw new NotFoundError('Announcement', ctx.params.id);
      const audience = ctx.db('rapport_relationships').where({ tenant_id: ctx.tenantId, type: TYPES.employment, status: 'active' }).distinct('to_party_id as id').orderBy('to_party_id');
      if (row.unit_ids.length) audience.whereRaw("attributes->>'unitId' = any(?::text[])", [row.unit_ids]);
      const people: Array<{ id: string }> = await audience;
      const receipts: Array<{ party_id: string; acknowledged_at: Date | null }> = await ctx.db('hrm_announcement_receipts').where({ tenant_id: ctx.tenantId, announcement_id: row.id }).select('party_id', 'acknowledged_at');
      const read = new Map(receipts.map((x) => [x.party_id, x]));
      const inAudience = people.map((p) => p.id);
      return {
        announcementId: row.id,
        audience: inAudience.length,
        read: inAudience.filter((id) => read.has(id)).length,
        acknowledged: inAudience.filter((id) => read.get(id)?.acknowledged_at).length,
        pendingRead: inAudience.filter((id) => !read.has(id)),
        pendingAcknowledgement: row.requires_ack ? inAudience.filter((id) => !read.get(id)?.acknowledged_at) : [],
      };
    },
  });
}

/**
 * The unit a scoped caller belongs to (`null`: not an employee, sees nothing); unscoped callers
 * see every announcement. Resolved before the query is built: an async function returning a
 * knex builder would run it (builders are thenables).
 */
async function callerUnit(ctx: RequestContext<any, any, any>, db: QueryContext['db']): Promise<string | null | undefined> {
  if (!ctx.principal.scopePartyId) return undefined;
  const employment = await activeEmployment(db, ctx.tenantId, ctx.principal.scopePartyId);
  return employment ? employment.attributes.unitId : null;
}

/** Announcements the caller may see: all for unscoped callers; for an employee, those to everyone or to its unit. */
function audienceQuery(ctx: RequestContext<any, any, any>, db: QueryContext['db'], unit: string | null | undefined, self = ctx.principal.scopePartyId ?? ctx.principal.partyId) {
  const q = db('hrm_announcements as a').where('a.tenant_id', ctx.tenantId).select('a.*');
  if (self) {
    q.leftJoin('hrm_announcement_receipts as x', function () {
      this.on('x.tenant_id', 'a.tenant_id').andOn('x.announcement_id', 'a.id').andOnVal('x.party_id', self);
    }).select('x.read_at', 'x.acknowledged_at');
  }
  if (unit === null) q.whereRaw('false');
  else if (unit !== undefined) q.where((w) => w.whereRaw("a.unit_ids = '[]'::jsonb").orWhereRaw('a.unit_ids \\? ?', [unit]));
  return q;
}

async function withDescendants(db: QueryContext['db'], tenantId: string, roots: readonly string[]): Promise<string[]> {
  const result = await db.raw(
    `with recursive down(id, depth) as (
       select unnest(?::uuid[]), 0
       union
       select r.from_party_id, down.depth + 1 from rapport_relationships r join down on r.to_party_id = down.id
       where r.tenant_id = ? and r.type = ? and r.status = 'active' and down.depth < 1000
     ) select distinct id from down order by id`,
    [[...roots] as string[], tenantId, TYPES.partOf] as never,
  );
  return (result.rows as Array<{ id: string }>).map((r) => r.id);
}

function toAnnouncement(row: AnnouncementRow) {
  return {
    id: row.id,
    title: row.title,
    body: row.body,
    unitIds: row.unit_ids,
    requiresAck: row.requires_ack,
    publishedAt: iso(row.published_at)!,
    ...(row.read_at !== undefined && { readAt: iso(row.read_at), acknowledgedAt: iso(row.acknowledged_at) }),
  };
}
