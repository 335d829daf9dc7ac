import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRapportClient, login, ok, type RapportClient } from '@rapport/client';
import { createTestApp, type TestApp } from '@rapport/testing';
import crm from '@rapport/plugin-crm';
import prm from '@rapport/plugin-prm';
import hrm from '@rapport/plugin-hrm';
import { seedDemoData } from '../src/seed/index.js';
import { DEMO_USERS, ensureDemoUsers } from '../src/seed/users.js';

/* The console's personas: each signs in with the README's password and reaches what its role and scope allow. */
describe('examples/full-suite demo users', () => {
  let t: TestApp;
  let client: RapportClient;

  beforeAll(async () => {
    t = await createTestApp({ plugins: [crm, prm, hrm] });
    client = createRapportClient({ baseUrl: t.baseUrl, apiKey: t.adminToken });
    await seedDemoData(client);
    expect((await ensureDemoUsers(client)).created).toEqual(DEMO_USERS.map((u) => u.email));
  });
  afterAll(() => t?.close());

  const signIn = (persona: string) => {
    const user = DEMO_USERS.find((u) => u.persona === persona)!;
    return login({ baseUrl: t.baseUrl, email: user.email, password: user.password });
  };

  it('creates nothing on a second run', async () => {
    expect(await ensureDemoUsers(client)).toEqual({ created: [] });
  });

  it('lets every persona sign in, external ones scoped to their party', async () => {
    for (const user of DEMO_USERS) {
      const session = await signIn(user.persona);
      const me = ok(await session.client.GET('/api/v1/auth/me'));
      expect(me.roles, user.persona).toEqual(user.roles);
      expect(me.scopePartyId !== null, user.persona).toBe(user.scoped ?? false);
      expect(me.user?.email).toBe(user.email);
      await session.logout();
    }
  });

  it("shows the partner's user its own partner organisation and not the other partner", async () => {
    const session = await signIn('partner');
    const names = ok(await session.client.GET('/api/v1/parties', { params: { query: { limit: 200 } } })).data.map((p) => p.name);
    expect(names).toContain('Alpha Machinery Resellers');
    expect(names).not.toContain('Nordic Industrial Supply');
    expect((await session.client.GET('/api/v1/audit')).response.status).toBe(403);
  });

  it('gives the sales rep the CRM and not the HR records, and the employee no CRM', async () => {
    const rep = await signIn('sales-rep');
    // The rep's own deals and tasks (the demo pipeline is not empty for them), one task overdue.
    const deals = ok(await rep.client.GET('/api/v1/crm/deals')).data;
    expect(deals.map((d) => d.title).sort()).toEqual(['Acme packaging line', 'Acme spare parts 2027', 'Initech conveyor pilot']);
    const me = ok(await rep.client.GET('/api/v1/auth/me'));
    expect(new Set(deals.map((d) => d.ownerPartyId))).toEqual(new Set([me.partyId]));
    const tasks = ok(await rep.client.GET('/api/v1/crm/tasks')).data;
    expect(tasks.filter((task) => new Date(task.dueAt) < new Date()).map((task) => task.title)).toEqual(['Call Initech back about the conveyor pilot']);
    expect((await rep.client.GET('/api/v1/hrm/units')).response.status).toBe(403);
    const employee = await signIn('employee');
    expect((await employee.client.GET('/api/v1/crm/deals')).response.status).toBe(403);
  });
});
