import type { Knex } from 'knex';
import type { Principal } from '../access/principal.js';

/**
 * The connection a context reads and writes on. A symbol the package does not export: code
 * outside the kernel passes contexts along but cannot take the raw connection from one (a
 * plugin reaches its own tables through its tenant-bound database handle, and raw SQL only
 * through that handle's `unsafeKnex`).
 */
export const CONNECTION: unique symbol = Symbol('rapport.connection');

/** What a read needs: the tenant, the caller, and (hidden) the connection — the open transaction when inside a write. */
export interface QueryContext {
  readonly tenantId: string;
  readonly principal: Principal;
  readonly [CONNECTION]: Knex;
}

/** The connection of a context: the transaction of a unit of work, or the root connection. */
export function sql<C extends { readonly [CONNECTION]: Knex }>(ctx: C): C[typeof CONNECTION] {
  return ctx[CONNECTION];
}

export function queryContext(connection: Knex, tenantId: string, principal: Principal): QueryContext {
  return { tenantId, principal, [CONNECTION]: connection };
}
