import { z } from 'zod';
import { idParams, pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { announcementReceiptsSchema, announcementSchema } from '@rapport/hrm-contract';
import { PERMISSIONS } from '../declarations.js';
import type { HrmServices } from '../services/index.js';

/** Announcements: published by the firm; employees (scoped principals) read those addressed to them and mark them. */
export function announcementRoutes(r: RouteBuilder, { announcements }: HrmServices): void {
  r.post('/announcements', {
    summary: 'Publish an announcement to units (and their subunits) or, without units, to everyone',
    permission: PERMISSIONS.announcementsWrite,
    body: z.strictObject({
      title: z.string().trim().min(1).max(300),
      body: z.string().trim().min(1).max(50000),
      unitIds: z.array(z.uuid()).max(200).default([]),
      requiresAck: z.boolean().default(false),
    }),
    response: announcementSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => announcements.publish(uow, ctx.body)),
  });

  r.get('/announcements', {
    summary: 'Announcements (newest first); a scoped employee sees those addressed to it, with its read/acknowledged times',
    permission: PERMISSIONS.announcementsRead,
    audience: 'any',
    query: z.strictObject({ ...pageQuery }),
    response: pageOf(announcementSchema),
    handler: (ctx) => announcements.list(ctx, ctx.query),
  });

  r.post('/announcements/:id/read', {
    summary: 'Mark an announcement read (as oneself)',
    permission: PERMISSIONS.announcementsRead,
    audience: 'any',
    params: idParams,
    response: announcementSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => announcements.mark(uow, ctx.params.id, 'read')),
  });

  r.post('/announcements/:id/acknowledge', {
    summary: 'Acknowledge an announcement (as oneself; implies read)',
    permission: PERMISSIONS.announcementsRead,
    audience: 'any',
    params: idParams,
    response: announcementSchema,
    status: 200,
    handler: (ctx) => ctx.transaction((uow) => announcements.mark(uow, ctx.params.id, 'acknowledge')),
  });

  r.get('/announcements/:id/receipts', {
    summary: 'Who of the audience read and acknowledged an announcement',
    permission: PERMISSIONS.announcementsWrite,
    params: idParams,
    response: announcementReceiptsSchema,
    handler: (ctx) => announcements.receipts(ctx, ctx.params.id),
  });
}
