import type { Knex } from 'knex';
import type { Principal } from '../access/principal.js';

/** What a read needs: a connection (the open transaction when inside a write), the tenant and the caller. */
export interface QueryContext {
  readonly db: Knex;
  readonly tenantId: string;
  readonly principal: Principal;
}
