/**
 * Opens a statement that reads across tenants without locking anything, to find which
 * tenants have work waiting; the work itself is then claimed one tenant at a time. On a
 * cluster sharded by tenant such a read visits every shard, which is allowed only without row
 * locks. The single-shard test accepts a cross-tenant statement only when it starts so.
 */
export const TENANT_DISCOVERY_COMMENT = 'tenant discovery';
export const TENANT_DISCOVERY = `/* ${TENANT_DISCOVERY_COMMENT} */`;

/** A table without a tenant of its own, and where it lives on a sharded cluster. */
export interface GlobalTable {
  table: string;
  /** `reference`: copied to every worker, so any shard can join it; `coordinator`: on the coordinator only. */
  placement: 'reference' | 'coordinator';
  why: string;
}

/**
 * The kernel's tables that are not distributed by tenant. The credential tables carry a
 * tenant but are looked up by the secret (or e-mail) before the tenant is known, so they stay
 * whole on every node instead of being split by tenant.
 */
export const kernelGlobalTables: readonly GlobalTable[] = [
  { table: 'rapport_tenants', placement: 'reference', why: 'the tenants themselves; every tenant-owned row refers to one' },
  { table: 'rapport_migrations', placement: 'coordinator', why: 'schema history, read and written by migrations on the coordinator only' },
  { table: 'rapport_plugins', placement: 'reference', why: 'which plugins are installed and enabled, read by every node at start and on change' },
  { table: 'rapport_scheduled_tasks', placement: 'coordinator', why: 'one lease per recurring task for the whole system, taken with an upsert' },
  { table: 'rapport_login_throttle', placement: 'coordinator', why: 'failed sign-ins by address and e-mail, counted before any tenant is known' },
  { table: 'rapport_rate_limits', placement: 'coordinator', why: 'request counts shared by all nodes; a key names its own tenant' },
  { table: 'rapport_api_keys', placement: 'reference', why: 'found by the hash of a bearer token, which names no tenant' },
  { table: 'rapport_sessions', placement: 'reference', why: 'found by the hash of a session token, which names no tenant' },
  { table: 'rapport_users', placement: 'reference', why: 'found by e-mail at sign-in, before the tenant is known' },
  { table: 'rapport_fed_links', placement: 'reference', why: 'found by link id when another system calls, before the tenant is known; a few rows per tenant' },
];
