import type { Knex } from 'knex';
import { newId } from '../util/ids.js';
import type { Tenant } from './types.js';
import { sql, type QueryContext } from './context.js';

/**
 * A tenant and its self party (the firm running the system, itself a party) are created
 * together; everything the tenant owns hangs off its id.
 */
export async function createTenant(db: Knex, name: string): Promise<Tenant> {
  const tenantId = newId();
  const selfPartyId = newId();
  await db.transaction(async (trx) => {
    await trx('rapport_parties').insert({ tenant_id: tenantId, id: selfPartyId, kind: 'organization', name, attributes: '{}' });
    await trx('rapport_tenants').insert({ id: tenantId, name, self_party_id: selfPartyId });
    await trx('rapport_roles').insert(builtinRoles(tenantId));
  });
  return { id: tenantId, name, selfPartyId };
}

export async function findTenant(db: Knex, id: string): Promise<Tenant | undefined> {
  const row = await db('rapport_tenants').where({ id }).first('id', 'name', 'self_party_id');
  return row ? { id: row.id, name: row.name, selfPartyId: row.self_party_id } : undefined;
}

export async function listTenants(db: Knex): Promise<Tenant[]> {
  const rows = await db('rapport_tenants').orderBy('created_at').select('id', 'name', 'self_party_id');
  return rows.map((row: { id: string; name: string; self_party_id: string }) => ({ id: row.id, name: row.name, selfPartyId: row.self_party_id }));
}

/** The first tenant, created on first start so a fresh system is usable at once. */
export async function ensureDefaultTenant(db: Knex, name: string): Promise<Tenant> {
  const [first] = await listTenants(db);
  return first ?? createTenant(db, name);
}

/** admin holds everything; viewer reads everything; roles are per tenant and editable. */
function builtinRoles(tenantId: string) {
  return [
    { tenant_id: tenantId, name: 'admin', description: 'Every permission', permissions: JSON.stringify(['*']), builtin: true },
    {
      tenant_id: tenantId,
      name: 'viewer',
      description: 'Read every kernel record',
      permissions: JSON.stringify(['parties:read', 'relationships:read', 'interactions:read', 'observations:read', 'meta:read']),
      builtin: true,
    },
  ];
}

/**
 * Tenants as plugins see them: the self party of the caller's tenant (the firm's own end of
 * its relationships) and the tenant list for work that runs across tenants. A tenant's self
 * party never changes, so it is read once per tenant and process.
 */
export class TenantService {
  private readonly selfParties = new Map<string, string>();

  constructor(private readonly root: () => Knex) {}

  /** The firm's own party in the context's tenant. */
  async selfPartyId(ctx: QueryContext): Promise<string> {
    const known = this.selfParties.get(ctx.tenantId);
    if (known) return known;
    const tenant = await findTenant(sql(ctx), ctx.tenantId);
    if (!tenant) throw new Error(`tenant ${ctx.tenantId} does not exist`);
    this.selfParties.set(tenant.id, tenant.selfPartyId);
    return tenant.selfPartyId;
  }

  get(id: string, ctx?: QueryContext): Promise<Tenant | undefined> {
    return findTenant(ctx ? sql(ctx) : this.root(), id);
  }

  list(ctx?: QueryContext): Promise<Tenant[]> {
    return listTenants(ctx ? sql(ctx) : this.root());
  }
}
