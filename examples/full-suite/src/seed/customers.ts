import { ok } from '@rapport/client';
import { dateFromNow, daysFromNow, ensureParty, relate, type SeedContext } from './context.js';

/**
 * CRM: customer accounts and their contacts, a pipeline with deals, activities, tasks and a
 * scoring rule. The sales rep (`repPartyId`) owns most deals and their tasks, one of them
 * overdue, so the rep's board, tasks and reports are not empty; one deal stays unowned.
 */
export async function seedCustomers(ctx: SeedContext, { repPartyId }: { repPartyId: string }) {
  const { client, selfPartyId } = ctx;
  const acme = await ensureParty(ctx, {
    kind: 'organization',
    name: 'Acme Foods',
    contactPoints: [{ kind: 'domain', value: 'acme-foods.example' }],
    attributes: { 'crm.industry': 'Food processing', 'crm.size': '201-1000', 'crm.source': 'Trade fair' },
  });
  const globex = await ensureParty(ctx, {
    kind: 'organization',
    name: 'Globex Energy',
    contactPoints: [{ kind: 'domain', value: 'globex-energy.example' }],
    attributes: { 'crm.industry': 'Energy', 'crm.size': '1001+' },
  });
  const initech = await ensureParty(ctx, {
    kind: 'organization',
    name: 'Initech Logistics',
    contactPoints: [{ kind: 'domain', value: 'initech-logistics.example' }],
    attributes: { 'crm.industry': 'Logistics', 'crm.source': 'Website' },
  });
  const ann = await ensureParty(ctx, { kind: 'person', name: 'Ann Ortiz', contactPoints: [{ kind: 'email', value: 'ann.ortiz@acme-foods.example' }] });
  const bo = await ensureParty(ctx, { kind: 'person', name: 'Bo Chen', contactPoints: [{ kind: 'email', value: 'bo.chen@globex-energy.example' }] });

  // One lifecycle relationship per account: self is the vendor, the account the customer.
  await relate(ctx, { type: 'crm.customer', fromPartyId: selfPartyId, toPartyId: acme.id, status: 'customer', attributes: { source: 'Trade fair' } });
  await relate(ctx, { type: 'crm.customer', fromPartyId: selfPartyId, toPartyId: globex.id, status: 'prospect' });
  await relate(ctx, { type: 'crm.customer', fromPartyId: selfPartyId, toPartyId: initech.id });
  await relate(ctx, { type: 'crm.contact', fromPartyId: ann.id, toPartyId: acme.id, attributes: { jobTitle: 'Head of purchasing' } });
  await relate(ctx, { type: 'crm.contact', fromPartyId: bo.id, toPartyId: globex.id, attributes: { jobTitle: 'Plant manager' } });

  const pipeline = ok(
    await client.POST('/api/v1/crm/pipelines', {
      body: {
        name: 'New machines',
        stages: [
          { name: 'Qualify', probability: 10 },
          { name: 'Propose', probability: 40 },
          { name: 'Negotiate', probability: 70 },
          { name: 'Won', outcome: 'won' },
          { name: 'Lost', outcome: 'lost' },
        ],
      },
    }),
  );
  const stage = (name: string) => pipeline.stages.find((s) => s.name === name)!.id;
  const deal = async (title: string, accountId: string, amount: number, stageName: string, contactIds: string[], ownerPartyId?: string) =>
    ok(
      await client.POST('/api/v1/crm/deals', {
        body: { title, accountId, amount, currency: 'EUR', pipelineId: pipeline.id, stageId: stage(stageName), contactIds, ownerPartyId, expectedClose: dateFromNow(ctx, 60) },
      }),
    );
  const line = await deal('Acme packaging line', acme.id, 120_000, 'Propose', [ann.id], repPartyId);
  await deal('Globex turbine retrofit', globex.id, 480_000, 'Qualify', [bo.id]);
  const pilot = await deal('Initech conveyor pilot', initech.id, 35_000, 'Qualify', [], repPartyId);
  const spares = await deal('Acme spare parts 2027', acme.id, 18_500, 'Negotiate', [ann.id], repPartyId);
  ok(await client.POST('/api/v1/crm/deals/{id}/move', { params: { path: { id: spares.id } }, body: { stageId: stage('Won') } }));

  await client
    .POST('/api/v1/crm/activities', {
      body: { type: 'crm.call', accountId: acme.id, contactIds: [ann.id], subject: 'Discovery call: packaging line throughput', direction: 'outbound', occurredAt: daysFromNow(ctx, -12) },
    })
    .then(ok);
  await client
    .POST('/api/v1/crm/activities', {
      body: { type: 'crm.meeting', accountId: globex.id, contactIds: [bo.id], subject: 'Site visit at the Globex plant', occurredAt: daysFromNow(ctx, -5) },
    })
    .then(ok);
  await client
    .POST('/api/v1/crm/activities', {
      body: { type: 'crm.email', accountId: initech.id, subject: 'Brochure and reference list sent', direction: 'outbound', occurredAt: daysFromNow(ctx, -2) },
    })
    .then(ok);
  ok(
    await client.POST('/api/v1/crm/tasks', {
      body: { title: 'Send the packaging line proposal to Acme', dueAt: daysFromNow(ctx, 3), accountId: acme.id, dealId: line.id, assigneePartyId: repPartyId },
    }),
  );
  ok(
    await client.POST('/api/v1/crm/tasks', {
      body: { title: 'Call Initech back about the conveyor pilot', dueAt: daysFromNow(ctx, -2), accountId: initech.id, dealId: pilot.id, assigneePartyId: repPartyId },
    }),
  );
  ok(await client.POST('/api/v1/crm/scoring/rules', { body: { name: 'Energy sector', points: 20, condition: { kind: 'attribute', key: 'crm.industry', equals: 'Energy' } } }));

  return { acme, globex, initech, ann, bo, pipeline };
}
