import { ok, type RapportClient } from '@rapport/client';

/**
 * The first ten minutes with a CRM-only system, through the typed client: an account with a
 * contact, the customer lifecycle (lead → customer), a pipeline, a deal moved to won, and
 * a call — each of which lands on the account's timeline.
 */
export async function firstDeal(client: RapportClient) {
  const { selfPartyId } = ok(await client.GET('/api/v1/tenant'));
  const account = ok(
    await client.POST('/api/v1/parties', {
      body: { kind: 'organization', name: 'Contoso Bakeries', contactPoints: [{ kind: 'domain', value: 'contoso-bakeries.example' }], attributes: { 'crm.industry': 'Food' } },
    }),
  );
  const contact = ok(
    await client.POST('/api/v1/parties', {
      body: { kind: 'person', name: 'Dana Fields', contactPoints: [{ kind: 'email', value: 'dana@contoso-bakeries.example' }] },
    }),
  );
  ok(await client.POST('/api/v1/relationships', { body: { type: 'crm.contact', fromPartyId: contact.id, toPartyId: account.id, attributes: { jobTitle: 'Owner' } } }));

  // One relationship carries the whole lifecycle; its status changes, nothing is copied.
  const lifecycle = ok(await client.POST('/api/v1/relationships', { body: { type: 'crm.customer', fromPartyId: selfPartyId, toPartyId: account.id } }));

  const pipeline = ok(
    await client.POST('/api/v1/crm/pipelines', {
      body: {
        name: 'Sales',
        stages: [
          { name: 'Qualify', probability: 20 },
          { name: 'Propose', probability: 60 },
          { name: 'Won', outcome: 'won' },
          { name: 'Lost', outcome: 'lost' },
        ],
      },
    }),
  );
  const deal = ok(
    await client.POST('/api/v1/crm/deals', {
      body: { title: 'Contoso ovens', pipelineId: pipeline.id, accountId: account.id, contactIds: [contact.id], amount: 9_800, currency: 'EUR' },
    }),
  );
  ok(await client.POST('/api/v1/crm/activities', { body: { type: 'crm.call', accountId: account.id, contactIds: [contact.id], subject: 'Agreed on the oven model', direction: 'outbound' } }));
  const won = pipeline.stages.find((stage) => stage.outcome === 'won')!;
  const closed = ok(await client.POST('/api/v1/crm/deals/{id}/move', { params: { path: { id: deal.id } }, body: { stageId: won.id } }));

  // Winning the deal makes the lead a customer (PATCH needs the version it read: If-Match).
  const customer = ok(
    await client.PATCH('/api/v1/relationships/{id}', {
      params: { path: { id: lifecycle.id }, header: { 'If-Match': `"${lifecycle.version}"` } },
      body: { status: 'customer' },
    }),
  );
  return { account, contact, pipeline, deal: closed, customer };
}
