import { ok, type RapportClient } from '@rapport/client';

/**
 * The demo's people, one per persona of the console, each with the roles (and for the
 * external ones, the record scope) that persona has in a real system. The passwords are the
 * demo's and are listed in the README: never use them, or this seed, anywhere else.
 */
export interface DemoUser {
  persona: 'admin' | 'sales-rep' | 'partner' | 'supplier' | 'employee' | 'manager' | 'hr';
  email: string;
  name: string;
  password: string;
  roles: string[];
  /** How the user's party is found: a contact point of the party. */
  party?: { email: string } | { domain: string };
  /** An external principal: sees only what is connected to its party. */
  scoped?: boolean;
}

const KERNEL_READ = ['parties:read', 'relationships:read', 'interactions:read', 'observations:read', 'meta:read'];
const EMPLOYEE = [
  ...KERNEL_READ,
  'hrm.employees:read',
  'hrm.surveys:read',
  'hrm.surveys:respond',
  'hrm.desk:read',
  'hrm.desk:write',
  'hrm.reviews:read',
  'hrm.reviews:write',
  'hrm.announcements:read',
  'hrm.onboarding:read',
  'hrm.onboarding:write',
  'hrm.timeline:write',
];

/** The roles the personas hold (created when missing; an operator's changes to them are kept). */
export const DEMO_ROLES: Array<{ name: string; description: string; permissions: string[] }> = [
  {
    name: 'sales-rep',
    description: 'A sales rep: accounts, own deals, tasks and activities, reports',
    permissions: [
      ...KERNEL_READ,
      'parties:write',
      'relationships:write',
      'interactions:write',
      'crm.deals:read',
      'crm.deals:write',
      'crm.pipelines:read',
      'crm.accounts:read',
      'crm.activities:read',
      'crm.activities:write',
      'crm.tasks:read',
      'crm.tasks:write',
      'crm.reports:read',
      'crm.scoring:read',
    ],
  },
  {
    name: 'partner',
    description: "A channel partner's staff in the partner portal (scoped to the partner)",
    permissions: [
      ...KERNEL_READ,
      'interactions:write',
      'prm.partners:read',
      'prm.registrations:read',
      'prm.registrations:write',
      'prm.leads:read',
      'prm.leads:write',
      'prm.mdf:read',
      'prm.mdf:write',
      'prm.training:read',
      'prm.plans:read',
      'prm.plans:write',
      'prm.documents:read',
      'prm.documents:write',
      'prm.scorecards:read',
    ],
  },
  {
    name: 'supplier',
    description: "A supplier's staff in the supplier portal (scoped to the supplier)",
    permissions: [...KERNEL_READ, 'prm.suppliers:read', 'prm.rfqs:read', 'prm.rfqs:write', 'prm.purchase-orders:read', 'prm.purchase-orders:write', 'prm.scorecards:read', 'prm.documents:read'],
  },
  { name: 'employee', description: "An employee's own space (scoped to the employee)", permissions: EMPLOYEE },
  {
    name: 'manager',
    description: "A manager: the employee's own space and the team below in the reporting tree",
    permissions: [...EMPLOYEE, 'hrm.team:read', 'hrm.engagement:read', 'hrm.retention:read', 'hrm.org:read', 'hrm.recruiting:read', 'hrm.onboarding:read'],
  },
  { name: 'hr', description: 'People & Culture: every HRM record', permissions: [...KERNEL_READ, 'parties:write', 'relationships:write', 'interactions:write', 'hrm.*'] },
];

export const DEMO_USERS: DemoUser[] = [
  { persona: 'admin', email: 'admin@northwind.example', name: 'Alex Admin', password: 'northwind-admin', roles: ['admin'] },
  { persona: 'sales-rep', email: 'lena.novak@northwind.example', name: 'Lena Novak', password: 'northwind-sales', roles: ['sales-rep'], party: { email: 'lena.novak@northwind.example' } },
  {
    persona: 'partner',
    email: 'pat@alpha-resellers.example',
    name: 'Pat Alvarez',
    password: 'northwind-partner',
    roles: ['partner'],
    party: { domain: 'alpha-resellers.example' },
    scoped: true,
  },
  { persona: 'supplier', email: 'sam@steelworks.example', name: 'Sam Steel', password: 'northwind-supplier', roles: ['supplier'], party: { domain: 'steelworks.example' }, scoped: true },
  { persona: 'employee', email: 'tom.berg@northwind.example', name: 'Tom Berg', password: 'northwind-employee', roles: ['employee'], party: { email: 'tom.berg@northwind.example' }, scoped: true },
  {
    persona: 'manager',
    email: 'maria.keller@northwind.example',
    name: 'Maria Keller',
    password: 'northwind-manager',
    roles: ['manager'],
    party: { email: 'maria.keller@northwind.example' },
    scoped: true,
  },
  { persona: 'hr', email: 'ines.moreau@northwind.example', name: 'Ines Moreau', password: 'northwind-hr-team', roles: ['hr'], party: { email: 'ines.moreau@northwind.example' } },
];

/** Creates the personas' roles and users that are missing; run on every start, after the data seed. */
export async function ensureDemoUsers(client: RapportClient): Promise<{ created: string[] }> {
  const roles = new Set(ok(await client.GET('/api/v1/roles')).data.map((role) => role.name));
  for (const role of DEMO_ROLES) {
    if (!roles.has(role.name)) ok(await client.POST('/api/v1/roles', { body: role }));
  }
  const existing = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = ok(await client.GET('/api/v1/users', { params: { query: { limit: 200, cursor } } }));
    for (const user of page.data) existing.add(user.email.toLowerCase());
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const created: string[] = [];
  for (const user of DEMO_USERS) {
    if (existing.has(user.email)) continue;
    let partyId: string | undefined;
    if (user.party) {
      const party = ok(await client.GET('/api/v1/parties', { params: { query: user.party } })).data[0];
      if (!party) throw new Error(`seed: the party of demo user ${user.email} (${JSON.stringify(user.party)}) is missing`);
      partyId = party.id;
    }
    ok(await client.POST('/api/v1/users', { body: { email: user.email, name: user.name, password: user.password, roles: user.roles, partyId, scoped: user.scoped ?? false } }));
    created.push(user.email);
  }
  return { created };
}
