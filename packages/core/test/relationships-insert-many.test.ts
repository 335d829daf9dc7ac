import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';

const TYPE = 'links.employment';
const links = definePlugin({
  name: 'links',
  version: '1.0.0',
  setup(api) {
    api.relationshipTypes.define({
      key: TYPE,
      fromRole: 'employee',
      toRole: 'employer',
      fromKinds: ['person'],
      toKinds: ['organization'],
      attributes: z.strictObject({ title: z.string().optional() }),
    });
  },
});

/* RelationshipService.insertMany: the bulk path plugin importers use; same checks as create. */
describe('relationships.insertMany', () => {
  let t: TestApp;
  let ada: string;
  let acme: string;
  let globex: string;

  beforeAll(async () => {
    t = await createTestApp({ plugins: [links] });
    const party = async (kind: string, name: string) => (await t.admin.post('/api/v1/parties', { kind, name })).body.id as string;
    ada = await party('person', 'Ada');
    acme = await party('organization', 'Acme');
    globex = await party('organization', 'Globex');
  });
  afterAll(() => t?.close());

  const count = async () => Number((await t.app.knex('rapport_relationships').count('* as n').first())!.n);

  it('inserts valid relationships, readable like created ones', async () => {
    const type = TYPE;
    const created = await t.app.transaction((uow) =>
      t.app.services.relationships.insertMany(uow, [
        { type, fromPartyId: ada, toPartyId: acme, attributes: { title: 'Engineer' } },
        { type, fromPartyId: ada, toPartyId: globex, validFrom: '2024-01-01T00:00:00Z' },
      ]),
    );
    expect(created).toHaveLength(2);
    const read = (await t.admin.get(`/api/v1/relationships/${created[1].id}`)).body;
    expect(read).toMatchObject({ type, fromPartyId: ada, toPartyId: globex, fromRole: 'employee', toRole: 'employer', status: 'active', version: 1, validFrom: '2024-01-01T00:00:00.000Z' });
    expect((await t.admin.get(`/api/v1/relationships/${created[0].id}`)).body.attributes).toEqual({ title: 'Engineer' });
  });

  it('refuses the whole batch on an invalid input, naming the problem', async () => {
    const before = await count();
    const type = TYPE;
    const attempt = (inputs: any[]) => t.app.transaction((uow) => t.app.services.relationships.insertMany(uow, inputs));
    await expect(
      attempt([
        { type, fromPartyId: ada, toPartyId: acme },
        { type, fromPartyId: ada, toPartyId: ada },
      ]),
    ).rejects.toThrow(/two different parties/);
    await expect(attempt([{ type, fromPartyId: ada, toPartyId: '00000000-0000-4000-8000-000000000000' }])).rejects.toThrow(/does not exist/);
    await expect(attempt([{ type: 'nope.nothing', fromPartyId: ada, toPartyId: acme }])).rejects.toThrow();
    await expect(attempt([{ type, fromPartyId: ada, toPartyId: acme, status: 'no-such-status' }])).rejects.toThrow();
    await expect(attempt([{ type, fromPartyId: acme, toPartyId: ada }])).rejects.toThrow(); // wrong kinds at the ends
    await expect(attempt([{ type, fromPartyId: ada, toPartyId: acme, attributes: { salary: 1 } }])).rejects.toThrow();
    expect(await count()).toBe(before);
  });
});
