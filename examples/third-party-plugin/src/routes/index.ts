import { z } from 'zod';
import { ConflictError, decodeCursor, pageOf, pageQuery, relationshipSchema, toPage, type RouteBuilder } from '@rapport/core';
import { appendEntry, balanceOf, isMember, LEDGER, programPartyId, toEntry, type LedgerRow } from '../ledger.js';
import { balanceSchema, entrySchema, movementSchema, pointsInput, tierFor } from '../schemas.js';

/** Mounted under /api/v1/loyalty. */
export function loyaltyRoutes(r: RouteBuilder): void {
  r.post('/members', {
    summary: 'Enroll a customer in the loyalty program',
    description: 'Creates the `loyalty.member` relationship from the firm to the party; 409 if it is already a member.',
    permission: 'loyalty.members:write',
    body: z.strictObject({ partyId: z.uuid() }),
    response: relationshipSchema,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        await ctx.app.services.parties.get(uow, ctx.body.partyId);
        if (await isMember(ctx.app, uow, ctx.body.partyId)) throw new ConflictError(`loyalty: party ${ctx.body.partyId} is already a member`);
        const program = await programPartyId(uow.trx, uow.tenantId);
        return ctx.app.services.relationships.create(uow, { type: 'loyalty.member', fromPartyId: program, toPartyId: ctx.body.partyId });
      }),
  });

  r.get('/members/:partyId/balance', {
    summary: 'Points balance and tier of a party',
    permission: 'loyalty.points:read',
    params: z.strictObject({ partyId: z.uuid() }),
    response: balanceSchema,
    handler: async (ctx) => {
      const qctx = { db: ctx.db, tenantId: ctx.tenantId, principal: ctx.principal };
      await ctx.app.services.parties.get(qctx, ctx.params.partyId); // 404 outside the caller's reach
      const balance = await balanceOf(ctx.db, ctx.tenantId, ctx.params.partyId);
      return { partyId: ctx.params.partyId, member: await isMember(ctx.app, qctx, ctx.params.partyId), balance, tier: tierFor(balance) };
    },
  });

  r.get('/ledger', {
    summary: 'Point movements, newest first',
    permission: 'loyalty.points:read',
    query: z.strictObject({ ...pageQuery, partyId: z.uuid().optional() }),
    response: pageOf(entrySchema),
    handler: async (ctx) => {
      const after = decodeCursor(ctx.query.cursor, ['uuid']);
      const query = ctx.db<LedgerRow>(LEDGER).where({ tenant_id: ctx.tenantId }).orderBy('id', 'desc').limit(ctx.query.limit + 1);
      if (ctx.query.partyId) query.where('party_id', ctx.query.partyId);
      if (after) query.where('id', '<', after[0]);
      const rows: LedgerRow[] = await ctx.app.scopes.apply(query, { db: ctx.db, tenantId: ctx.tenantId, principal: ctx.principal }, 'loyalty.ledger', 'id');
      return toPage(rows, ctx.query.limit, toEntry, (row) => [row.id]);
    },
  });

  r.post('/awards', {
    summary: 'Award points to a member by hand',
    permission: 'loyalty.points:write',
    body: pointsInput,
    response: movementSchema,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        await requireMember(ctx.app, uow, ctx.body.partyId);
        const moved = (await appendEntry(ctx.app, uow, { ...ctx.body, source: 'manual' }))!;
        uow.emit('loyalty.points.awarded', moved, { type: 'loyalty.entry', id: moved.entry.id });
        return moved;
      }),
  });

  r.post('/redemptions', {
    summary: 'Redeem points',
    description: 'Spends points (409 when the balance is lower) and records a `loyalty.redemption` interaction on the member’s timeline.',
    permission: 'loyalty.points:write',
    body: pointsInput,
    response: movementSchema,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        await requireMember(ctx.app, uow, ctx.body.partyId);
        const { partyId, points, reason } = ctx.body;
        const moved = (await appendEntry(ctx.app, uow, { partyId, points: -points, reason, source: 'redemption' }))!;
        if (moved.balance < 0) throw new ConflictError(`loyalty: party ${partyId} has ${moved.balance + points} points, fewer than the ${points} to redeem`);
        await ctx.app.services.interactions.create(uow, {
          type: 'loyalty.redemption',
          subject: `Redeemed ${points} points: ${reason}`,
          attributes: { points, entryId: moved.entry.id },
          participants: [{ partyId, role: 'member' }, { partyId: await programPartyId(uow.trx, uow.tenantId), role: 'program' }],
        });
        uow.emit('loyalty.points.redeemed', moved, { type: 'loyalty.entry', id: moved.entry.id });
        return moved;
      }),
  });
}

async function requireMember(app: Parameters<typeof isMember>[0], uow: Parameters<typeof isMember>[1], partyId: string): Promise<void> {
  await app.services.parties.get(uow, partyId); // 404 outside the caller's reach
  if (!(await isMember(app, uow, partyId))) throw new ConflictError(`loyalty: party ${partyId} is not a member of the loyalty program`);
}
