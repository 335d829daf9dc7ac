import { z } from 'zod';
import { pageOf, pageQuery, relationshipSchema, type RouteBuilder } from '@rapport/core';
import { loyalty } from '../contract.js';
import { PERMISSIONS } from '../declarations.js';
import { balanceSchema, entrySchema, movementSchema } from '../records.js';
import type { LedgerService } from '../services/ledger.js';

const pointsInput = z.strictObject({
  partyId: z.uuid(),
  points: z.number().int().positive().max(1_000_000),
  reason: z.string().trim().min(1).max(200),
});

/** Mounted under /api/v1/loyalty. Each route validates, calls the ledger service and returns. */
export function loyaltyRoutes(r: RouteBuilder, ledger: LedgerService): void {
  r.post('/members', {
    summary: 'Enroll a customer in the loyalty program',
    description: 'Creates the `loyalty.member` relationship from the firm to the party; 409 if it is already a member.',
    permission: PERMISSIONS.membersWrite,
    body: z.strictObject({ partyId: z.uuid() }),
    response: relationshipSchema,
    handler: (ctx) => ctx.transaction((uow) => ledger.enroll(uow, ctx.body.partyId)),
  });

  r.get('/members/:partyId/balance', {
    summary: 'Points balance and tier of a party',
    permission: PERMISSIONS.pointsRead,
    // A member's own portal key reads its balance; the party read is within its reach (404 otherwise).
    audience: 'any',
    params: z.strictObject({ partyId: z.uuid() }),
    response: balanceSchema,
    handler: (ctx) => ledger.balance(ctx, ctx.params.partyId),
  });

  r.get('/ledger', {
    summary: 'Point movements, newest first',
    permission: PERMISSIONS.pointsRead,
    audience: 'any',
    query: z.strictObject({ ...pageQuery, partyId: z.uuid().optional() }),
    response: pageOf(entrySchema),
    handler: (ctx) => ledger.ledger(ctx, ctx.query),
  });

  r.post('/awards', {
    summary: 'Award points to a member by hand',
    permission: PERMISSIONS.pointsWrite,
    body: pointsInput,
    response: movementSchema,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const moved = await ledger.award(uow, ctx.body);
        uow.emit(loyalty.events.pointsAwarded, moved, { type: 'loyalty.entry', id: moved.entry.id });
        return moved;
      }),
  });

  r.post('/redemptions', {
    summary: 'Redeem points',
    description: 'Spends points (409 when the balance is lower) and records a `loyalty.redemption` interaction on the member’s timeline.',
    permission: PERMISSIONS.pointsWrite,
    body: pointsInput,
    response: movementSchema,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        const moved = await ledger.redeem(uow, ctx.body);
        uow.emit(loyalty.events.pointsRedeemed, moved, { type: 'loyalty.entry', id: moved.entry.id });
        return moved;
      }),
  });
}
