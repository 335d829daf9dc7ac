import { createRapportClient, login, ok, type RapportClient } from '@rapport/client';

/** The permissions of an employee in self-service: answer surveys, use the service desk, read its own records. */
export const EMPLOYEE_PERMISSIONS = ['hrm.employees:read', 'hrm.org:read', 'hrm.surveys:read', 'hrm.surveys:respond', 'hrm.desk:read', 'hrm.desk:write', 'hrm.timeline:write'];

/** Units and employees: a production unit of four with its manager, and the IT unit that serves them. */
export async function setUpOrganization(admin: RapportClient) {
  const production = ok(await admin.POST('/api/v1/hrm/units', { body: { name: 'Production' } }));
  const it = ok(await admin.POST('/api/v1/hrm/units', { body: { name: 'IT' } }));
  const hire = async (name: string, unitId: string, managerId?: string) =>
    ok(
      await admin.POST('/api/v1/hrm/employees', {
        body: { person: { name, contactPoints: [{ kind: 'email', value: `${name.split(' ')[0].toLowerCase()}@northwind.example` }] }, unitId, start: '2024-01-15T00:00:00Z', managerId },
      }),
    );
  const manager = await hire('Maria Keller', production.id);
  const team = [
    await hire('Tom Berg', production.id, manager.id),
    await hire('Ana Silva', production.id, manager.id),
    await hire('Raj Patel', production.id, manager.id),
    await hire('Eva Lind', production.id, manager.id),
  ];
  const helpdesk = await hire('Omar Haddad', it.id);
  ok(await admin.POST('/api/v1/roles', { body: { name: 'employee', permissions: EMPLOYEE_PERMISSIONS, description: 'Self-service' } }));
  return { production, it, manager, team, helpdesk };
}

/** A client acting as the employee: an API key scoped to the person, so it sees only its own reach. */
export async function employeeClient(admin: RapportClient, baseUrl: string, partyId: string): Promise<RapportClient> {
  const key = ok(await admin.POST('/api/v1/keys', { body: { name: `self-service ${partyId}`, roles: ['employee'], partyId, scoped: true } }));
  return createRapportClient({ baseUrl, apiKey: key.token });
}

/** A pulse survey answered anonymously by the team, closed, and its result read back. */
export async function runPulseSurvey(admin: RapportClient, respondents: RapportClient[], answers: Array<{ recommend: number; comment?: string }>) {
  const survey = ok(
    await admin.POST('/api/v1/hrm/surveys', {
      body: {
        title: 'How are we doing?',
        kind: 'pulse',
        minGroupSize: 3,
        questions: [
          { id: 'recommend', type: 'enps', text: 'Would you recommend Northwind as an employer?' },
          { id: 'comment', type: 'text', text: 'One thing to change?' },
        ],
      },
    }),
  );
  ok(await admin.POST('/api/v1/hrm/surveys/{id}/open', { params: { path: { id: survey.id } } }));
  for (const [i, employee] of respondents.entries()) {
    ok(await employee.POST('/api/v1/hrm/surveys/{id}/responses', { params: { path: { id: survey.id } }, body: { answers: answers[i] } }));
  }
  ok(await admin.POST('/api/v1/hrm/surveys/{id}/close', { params: { path: { id: survey.id } } }));
  return ok(await admin.GET('/api/v1/hrm/surveys/{id}/results', { params: { path: { id: survey.id } } }));
}

/**
 * The service desk as internal service: IT publishes a service with a target, an employee
 * (logged in with a password, a session) raises a request, IT resolves it, the employee rates it.
 */
export async function serviceDeskRound(admin: RapportClient, baseUrl: string, it: { id: string }, employee: { id: string; email: string; password: string }) {
  const service = ok(await admin.POST('/api/v1/hrm/services', { body: { unitId: it.id, name: 'New access badge', resolutionTargetMinutes: 8 * 60 } }));
  ok(await admin.POST('/api/v1/users', { body: { email: employee.email, password: employee.password, roles: ['employee'], partyId: employee.id, scoped: true } }));
  const session = await login({ baseUrl, email: employee.email, password: employee.password });
  try {
    const opened = ok(await session.client.POST('/api/v1/hrm/requests', { body: { serviceId: service.id, title: 'Badge stopped working at gate 2' } }));
    const resolved = ok(
      await admin.PATCH('/api/v1/hrm/requests/{id}', {
        params: { path: { id: opened.id }, header: { 'If-Match': `"${opened.version}"` } },
        body: { status: 'resolved' },
      }),
    );
    return ok(await session.client.POST('/api/v1/hrm/requests/{id}/rating', { params: { path: { id: resolved.id } }, body: { score: 5, comment: 'Fixed within the hour' } }));
  } finally {
    await session.logout();
  }
}
