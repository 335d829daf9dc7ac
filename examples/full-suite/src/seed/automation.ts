import { ok } from '@rapport/client';
import type { SeedContext } from './context.js';

/*
 * The two automation rules of the demo, as data (docs/automation.md). Conditions and
 * parameters are JSON Logic over { event, payload, record, steps }.
 */

/** A won deal: an onboarding task for the account's owner, and a note that tells them. */
export const DEAL_WON_RULE = {
  name: 'Deal won → onboarding task for the account owner',
  description: 'Opens the onboarding task (owner of the account, else of the deal) and notifies them with a note on their timeline and the account’s.',
  trigger: { event: 'crm.deal.won' },
  actions: [
    {
      type: 'crm.create-task',
      params: {
        title: { cat: ['Onboarding: ', { var: 'payload.deal.title' }] },
        accountId: { var: 'payload.deal.accountId' },
        dealId: { var: 'payload.deal.id' },
        assignToAccountOwner: true,
        dueInDays: 7,
      },
    },
    {
      type: 'create-interaction',
      params: {
        interactionType: 'note',
        subject: { cat: ['Deal won — onboarding task opened: ', { var: 'payload.deal.title' }] },
        summary: 'Opened by the automation rule “Deal won → onboarding task for the account owner”.',
        partyIds: [{ var: 'steps.0.assigneePartyId' }, { var: 'payload.deal.accountId' }],
        role: 'subject',
      },
    },
  ],
};

/** A supplier's on-time delivery below 90 %: a review on the supply relationship. */
export const SUPPLIER_ON_TIME_RULE = {
  name: 'Supplier on-time rate below 90 % → review',
  description: 'Opens a supplier performance review when a scorecard snapshot records on-time delivery under 90 %.',
  trigger: { event: 'observation.created' },
  conditions: {
    and: [{ '==': [{ var: 'payload.observation.indicator' }, 'prm.on-time-delivery'] }, { '<': [{ var: 'payload.observation.value' }, 90] }],
  },
  actions: [
    {
      type: 'create-interaction',
      params: {
        interactionType: 'prm.supplier-review',
        subject: { cat: ['On-time delivery at ', { var: 'payload.observation.value' }, ' % — review the supplier'] },
        relationshipId: { var: 'payload.observation.subjectId' },
      },
    },
  ],
};

export const EXAMPLE_RULES = [DEAL_WON_RULE, SUPPLIER_ON_TIME_RULE];

/** Creates the example rules that are not there yet (found by name). */
export async function seedAutomation(ctx: SeedContext): Promise<void> {
  const existing = new Set(ok(await ctx.client.GET('/api/v1/automation/rules', { params: { query: { limit: 200 } } })).data.map((r) => r.name));
  for (const rule of EXAMPLE_RULES) {
    if (!existing.has(rule.name)) ok(await ctx.client.POST('/api/v1/automation/rules', { body: rule }));
  }
}
