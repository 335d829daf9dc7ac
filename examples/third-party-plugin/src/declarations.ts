import { z } from 'zod';
import type { PluginApi } from '@rapport/core';
import { LEDGER } from './migrations.js';

export const MEMBER = 'loyalty.member';
export const REDEMPTION = 'loyalty.redemption';
export const BALANCE = 'loyalty.balance';
export const LEDGER_SCOPE = 'loyalty.ledger';

export const PERMISSIONS = {
  pointsRead: 'loyalty.points:read',
  pointsWrite: 'loyalty.points:write',
  membersWrite: 'loyalty.members:write',
} as const;

/** The kernel records the plugin adds: a relationship type, an interaction type, an indicator, permissions, a record scope. */
export function declare(api: PluginApi): void {
  api.relationshipTypes.define({
    key: MEMBER,
    title: 'Loyalty program membership',
    fromRole: 'program',
    toRole: 'member',
    toKinds: ['person', 'organization'],
    statuses: ['active', 'suspended', 'ended'],
    activeStatuses: ['active'],
    transitions: { active: ['suspended', 'ended'], suspended: ['active', 'ended'], ended: [] },
  });
  api.interactionTypes.define({
    key: REDEMPTION,
    title: 'Points redeemed',
    participantRoles: ['member', 'program'],
    attributes: z.strictObject({ points: z.number().int().positive(), entryId: z.uuid() }),
  });
  api.indicators.define({ key: BALANCE, title: 'Loyalty points balance', subject: 'party', kind: 'quantitative', unit: 'points', aggregate: 'last' });
  api.permissions.define({ key: PERMISSIONS.pointsRead, description: 'Read balances and the points ledger' });
  api.permissions.define({ key: PERMISSIONS.pointsWrite, description: 'Award and redeem points' });
  api.permissions.define({ key: PERMISSIONS.membersWrite, description: 'Enroll members' });
  // A member's own portal key (scoped to its party) sees its own ledger only.
  api.recordScopes.define(LEDGER_SCOPE, ({ tables, partyId }) => tables(LEDGER).select('id').where('party_id', partyId));
}
