import { z } from 'zod';
import { relationshipSchema, type RouteBuilder } from '@rapport/core';
import { PARTNER_KINDS } from '@rapport/prm-contract';
import type { OnboardingService } from '../services/onboarding.js';

/** The portal's way in (`any`): an organization, or its staff, applies to the partner program or as a supplier. */
export function onboardingRoutes(r: RouteBuilder, onboarding: OnboardingService): void {
  r.post('/partners/applications', {
    summary: 'Apply to become a channel partner (from the portal or on behalf of an organization)',
    tags: ['prm'],
    permission: 'prm.partners:write',
    audience: 'any',
    body: z.strictObject({
      partnerId: z.uuid(),
      kind: z.enum(PARTNER_KINDS),
      applicationNote: z.string().trim().min(1).max(5000).optional(),
    }),
    response: relationshipSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => onboarding.applyAsPartner(uow, ctx.body)),
  });
  r.post('/suppliers/applications', {
    summary: 'Apply as a supplier with the qualification questionnaire (the firm is the buyer)',
    tags: ['prm'],
    permission: 'prm.suppliers:write',
    audience: 'any',
    body: z.strictObject({
      supplierId: z.uuid(),
      categories: z.array(z.string().trim().min(1).max(100)).max(50).optional(),
      qualification: z.record(z.string().min(1).max(100), z.union([z.string().max(5000), z.number(), z.boolean()])),
    }),
    response: relationshipSchema,
    status: 201,
    handler: (ctx) => ctx.transaction((uow) => onboarding.applyAsSupplier(uow, ctx.body)),
  });
}
