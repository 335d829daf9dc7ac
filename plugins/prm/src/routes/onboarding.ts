import { z } from 'zod';
import { ConflictError, type RouteBuilder } from '@rapport/core';
import { PARTNER_KINDS } from '../types.js';
import { PARTNER_TYPE, requireActsFor, selfPartyId } from '../services/portal.js';

const relationshipOut = z.object({ id: z.uuid(), type: z.string(), fromPartyId: z.uuid(), toPartyId: z.uuid(), status: z.string(), attributes: z.record(z.string(), z.unknown()), version: z.number() }).loose();

/**
 * The portal's way in: an organization (or its staff) applies to the partner program. The
 * applicant cannot see the firm's party before a relationship exists, so the route opens
 * the relationship on its behalf, always in the `application` stage.
 */
export function onboardingRoutes(r: RouteBuilder): void {
  r.post('/partners/applications', {
    summary: 'Apply to become a channel partner (from the portal or on behalf of an organization)',
    tags: ['prm'],
    permission: 'prm.partners:write',
    body: z.strictObject({
      partnerId: z.uuid(),
      kind: z.enum(PARTNER_KINDS),
      applicationNote: z.string().trim().min(1).max(5000).optional(),
    }),
    response: relationshipOut,
    status: 201,
    handler: (ctx) =>
      ctx.transaction(async (uow) => {
        await requireActsFor(uow, ctx.body.partnerId);
        const self = await selfPartyId(uow.trx, uow.tenantId);
        const existing = await uow.trx('rapport_relationships')
          .where({ tenant_id: uow.tenantId, type: PARTNER_TYPE, from_party_id: self, to_party_id: ctx.body.partnerId })
          .whereNotIn('status', ['rejected', 'ended'])
          .first('id', 'status');
        if (existing) throw new ConflictError(`prm: party ${ctx.body.partnerId} already has a partnership (${existing.status})`, { relationshipId: existing.id });
        const elevated = uow.unscoped();
        const relationship = await ctx.app.services.relationships.create(elevated, {
          type: PARTNER_TYPE,
          fromPartyId: self,
          toPartyId: ctx.body.partnerId,
          status: 'application',
          attributes: { kind: ctx.body.kind, ...(ctx.body.applicationNote ? { applicationNote: ctx.body.applicationNote } : {}) },
        });
        await ctx.app.services.interactions.create(elevated, {
          type: 'prm.onboarding',
          direction: 'inbound',
          subject: 'Partner application received',
          relationshipId: relationship.id,
          participants: [
            { partyId: ctx.body.partnerId, role: 'partner' },
            { partyId: self, role: 'principal' },
          ],
        });
        return relationship;
      }),
  });
}
