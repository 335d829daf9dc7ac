import { ok } from '@rapport/client';
import { dateFromNow, ensureParty, relate, type SeedContext } from './context.js';

export const PARTNER_PROGRAM = 'Northwind Partner Program';

/** PRM sell side: a program with tiers, two resellers, a deal registration and market development funds. */
export async function seedPartners(ctx: SeedContext) {
  const { client, selfPartyId } = ctx;
  ok(
    await client.POST('/api/v1/prm/programs', {
      body: {
        name: PARTNER_PROGRAM,
        description: 'Resellers of our packaging and conveyor machines',
        tiers: [
          { name: 'silver', criteria: {} },
          { name: 'gold', criteria: { partnerSourcedRevenue: 250_000, approvedRegistrations: 3 } },
        ],
      },
    }),
  );
  const alpha = await ensureParty(ctx, { kind: 'organization', name: 'Alpha Machinery Resellers', contactPoints: [{ kind: 'domain', value: 'alpha-resellers.example' }] });
  const nordic = await ensureParty(ctx, { kind: 'organization', name: 'Nordic Industrial Supply', contactPoints: [{ kind: 'domain', value: 'nordic-industrial.example' }] });
  const partnership = await relate(ctx, {
    type: 'prm.partner',
    fromPartyId: selfPartyId,
    toPartyId: alpha.id,
    status: 'active',
    attributes: { kind: 'reseller', program: PARTNER_PROGRAM, tier: 'silver' },
  });
  // A second partner still in review: the onboarding funnel has something in it.
  await relate(ctx, { type: 'prm.partner', fromPartyId: selfPartyId, toPartyId: nordic.id, status: 'review', attributes: { kind: 'distributor', applicationNote: 'Covers Scandinavia' } });

  const registration = ok(
    await client.POST('/api/v1/prm/registrations', {
      body: {
        partnerId: alpha.id,
        customerName: 'Umbrella Pharma',
        customerDomain: 'umbrella-pharma.example',
        value: 75_000,
        currency: 'EUR',
        expectedCloseDate: dateFromNow(ctx, 90),
        notes: 'Two blister-packaging lines',
      },
    }),
  );
  ok(await client.POST('/api/v1/prm/registrations/{id}/approve', { params: { path: { id: registration.id } }, body: { reason: 'No conflict; protected for 90 days' } }));

  const budget = ok(await client.POST('/api/v1/prm/mdf/budgets', { body: { program: PARTNER_PROGRAM, period: `${ctx.now.getUTCFullYear()}-H2`, currency: 'EUR', amount: 20_000 } }));
  const mdf = ok(await client.POST('/api/v1/prm/mdf/requests', { body: { budgetId: budget.id, partnerId: alpha.id, activity: 'Booth at the regional packaging fair', amount: 5_000 } }));
  ok(await client.POST('/api/v1/prm/mdf/requests/{id}/approve', { params: { path: { id: mdf.id } }, body: { reason: 'Matches the program goals' } }));

  return { alpha, nordic, partnership, registration };
}
