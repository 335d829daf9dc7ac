import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { newId, NotFoundError, ValidationError, type Principal } from '@rapport/core';
import { samplePlugin } from './fixtures/test-plugin.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ plugins: [samplePlugin().plugin] });
});
afterAll(() => t?.close());

describe('UnitOfWork.unscoped()', () => {
  it('lets a plugin step reach past the caller scope in the same transaction, keeping the actor', async () => {
    const [a, b] = await t.app.transaction(async (uow) =>
      Promise.all([t.app.services.parties.create(uow, { kind: 'organization', name: 'Scoped A' }), t.app.services.parties.create(uow, { kind: 'organization', name: 'Unrelated B' })]),
    );
    const principal: Principal = { kind: 'api-key', id: newId(), tenantId: t.tenantId, roles: ['admin'], permissions: new Set(['*']), partyId: a.id, scopePartyId: a.id };
    const call = {
      type: 'sample.call',
      participants: [
        { partyId: a.id, role: 'caller' },
        { partyId: b.id, role: 'callee' },
      ],
    };

    // Scoped, B is invisible.
    await expect(t.app.transaction((uow) => t.app.services.interactions.create(uow, call), { principal })).rejects.toBeInstanceOf(ValidationError);

    const interaction = await t.app.transaction(
      async (uow) => {
        const view = uow.unscoped();
        expect(view.principal.scopePartyId).toBeNull();
        expect(view.principal.id).toBe(principal.id);
        expect(uow.principal.scopePartyId).toBe(a.id); // the caller's own context is untouched
        await expect(t.app.services.parties.get(uow, b.id)).rejects.toBeInstanceOf(NotFoundError);
        const created = await t.app.services.interactions.create(view, call);
        expect(uow.events.map((e) => e.name)).toEqual(['interaction.created']); // one event list
        return created;
      },
      { principal },
    );
    const audit = await t.app.knex('rapport_audit').where({ record_id: interaction.id }).first();
    expect(audit).toMatchObject({ action: 'interaction.created', actor_kind: 'api-key', actor_id: principal.id });
    expect((await t.outbox({ name: 'interaction.created' })).some((e) => e.payload.interaction.id === interaction.id)).toBe(true);
  });

  it('returns the same unit of work for an unscoped caller', async () => {
    await t.app.transaction(async (uow) => {
      expect(uow.unscoped()).toBe(uow);
    });
  });
});
