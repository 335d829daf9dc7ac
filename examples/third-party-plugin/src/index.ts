import { z } from 'zod';
import { definePlugin, VetoError, type PluginDefinition } from '@rapport/core';
import { awardOnDealWon } from './deal-won.js';
import { balanceOf, LEDGER, type LedgerEntry } from './ledger.js';
import { loyaltyRoutes } from './routes/index.js';

export { POINTS_PER_AMOUNT } from './deal-won.js';
export type { LedgerEntry } from './ledger.js';

declare module '@rapport/core' {
  interface HookMap {
    'loyalty.points.awarded': { entry: LedgerEntry; balance: number };
    'loyalty.points.redeemed': { entry: LedgerEntry; balance: number };
  }
}

/**
 * Customer loyalty points — a plugin outside the first-party set, written only against the
 * public API of @rapport/core. Works alone; with the CRM installed, won deals earn points.
 */
const plugin: PluginDefinition = definePlugin({
  name: 'loyalty',
  version: '0.1.0',
  description: 'Customer loyalty points: membership, a points ledger, redemptions, points for won deals',
  requires: { core: '^0.1.0' },
  migrations: [
    {
      name: '0001_ledger',
      up: (knex) =>
        knex.schema.createTable(LEDGER, (t) => {
          t.uuid('tenant_id').notNullable();
          t.uuid('id').notNullable();
          t.uuid('party_id').notNullable();
          t.integer('points').notNullable();
          t.text('reason').notNullable();
          t.text('source').notNullable();
          // The event that earned the entry: unique, so a redelivered event awards once.
          t.uuid('source_event_id');
          t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
          t.primary(['tenant_id', 'id']);
          t.index(['tenant_id', 'party_id', 'id']);
          t.unique(['tenant_id', 'source_event_id']);
        }),
      down: (knex) => knex.schema.dropTable(LEDGER),
    },
  ],
  setup(api) {
    api.relationshipTypes.define({
      key: 'loyalty.member',
      title: 'Loyalty program membership',
      fromRole: 'program',
      toRole: 'member',
      toKinds: ['person', 'organization'],
      statuses: ['active', 'suspended', 'ended'],
      activeStatuses: ['active'],
      transitions: { active: ['suspended', 'ended'], suspended: ['active', 'ended'], ended: [] },
    });
    api.interactionTypes.define({
      key: 'loyalty.redemption',
      title: 'Points redeemed',
      participantRoles: ['member', 'program'],
      attributes: z.strictObject({ points: z.number().int().positive(), entryId: z.uuid() }),
    });
    api.indicators.define({ key: 'loyalty.balance', title: 'Loyalty points balance', subject: 'party', kind: 'quantitative', unit: 'points', aggregate: 'last' });
    api.permissions.define({ key: 'loyalty.points:read', description: 'Read balances and the points ledger' });
    api.permissions.define({ key: 'loyalty.points:write', description: 'Award and redeem points' });
    api.permissions.define({ key: 'loyalty.members:write', description: 'Enroll members' });

    // A member's own portal key (scoped to its party) sees its own ledger only.
    api.recordScopes.define('loyalty.ledger', ({ db, tenantId, partyId }) => db(LEDGER).select('id').where({ tenant_id: tenantId, party_id: partyId }));

    // Archiving a member who still holds points would silently forfeit them: refuse it.
    api.hooks.filter('party.archive', async ({ party }, ctx) => {
      const balance = await balanceOf(ctx.trx, ctx.tenantId, party.id);
      if (balance > 0) throw new VetoError(`loyalty: party ${party.id} still holds ${balance} points; redeem or expire them before archiving it`);
    });

    awardOnDealWon(api);
    api.routes(loyaltyRoutes);
  },
});

export default plugin;
