import { ok } from '@rapport/client';
import { daysFromNow, type SeedContext } from './context.js';

/**
 * HRM, internal marketing: units, employees with reporting lines, a pulse survey, a service
 * desk with a request, kudos and a one-to-one on an employee's timeline.
 */
export async function seedPeople(ctx: SeedContext) {
  const { client } = ctx;
  const unit = async (name: string, parentId?: string) => ok(await client.POST('/api/v1/hrm/units', { body: { name, parentId } }));
  const operations = await unit('Operations');
  const assembly = await unit('Assembly', operations.id);
  const sales = await unit('Sales');
  const it = await unit('IT');
  const people = await unit('People & Culture');

  const hire = async (name: string, email: string, unitId: string, startDaysAgo: number, managerId?: string) =>
    ok(
      await client.POST('/api/v1/hrm/employees', {
        body: { person: { name, contactPoints: [{ kind: 'email', value: email }] }, unitId, start: daysFromNow(ctx, -startDaysAgo), managerId },
      }),
    );
  const maria = await hire('Maria Keller', 'maria.keller@northwind.example', operations.id, 2_000);
  const tom = await hire('Tom Berg', 'tom.berg@northwind.example', assembly.id, 400, maria.id);
  const lena = await hire('Lena Novak', 'lena.novak@northwind.example', sales.id, 900);
  const omar = await hire('Omar Haddad', 'omar.haddad@northwind.example', it.id, 1_200);
  await hire('Ines Moreau', 'ines.moreau@northwind.example', people.id, 700);

  const survey = ok(
    await client.POST('/api/v1/hrm/surveys', {
      body: {
        title: 'Quarterly pulse',
        kind: 'pulse',
        questions: [
          { id: 'recommend', type: 'enps', text: 'How likely are you to recommend Northwind as an employer?' },
          { id: 'tools', type: 'scale', text: 'I have the tools I need to do my job', min: 1, max: 5 },
          { id: 'comment', type: 'text', text: 'What should we change first?' },
        ],
      },
    }),
  );
  ok(await client.POST('/api/v1/hrm/surveys/{id}/open', { params: { path: { id: survey.id } } }));

  const laptop = ok(
    await client.POST('/api/v1/hrm/services', {
      body: { unitId: it.id, name: 'Laptop replacement', description: 'Broken or slow laptops', resolutionTargetMinutes: 2 * 24 * 60, responseTargetMinutes: 240 },
    }),
  );
  ok(await client.POST('/api/v1/hrm/requests', { body: { serviceId: laptop.id, title: 'Laptop screen flickers', requesterPartyId: tom.id } }));

  ok(await client.POST('/api/v1/hrm/kudos', { body: { fromPartyId: maria.id, toPartyId: omar.id, message: 'Thanks for getting the line PCs back up overnight' } }));
  ok(
    await client.POST('/api/v1/hrm/employees/{id}/timeline', {
      params: { path: { id: tom.id } },
      body: { kind: 'one-to-one', withPartyId: maria.id, withRole: 'manager', subject: 'Quarterly one-to-one', occurredAt: daysFromNow(ctx, -3) },
    }),
  );

  return { units: { operations, assembly, sales, it, people }, employees: { maria, tom, lena, omar }, survey };
}
