import type { Knex } from 'knex';
import { NotFoundError, type QueryContext } from '@rapport/core';
import { PRM_RELATIONSHIP_TYPES } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';

export const { partner: PARTNER_TYPE, supplier: SUPPLIER_TYPE, staff: STAFF_TYPE } = PRM_RELATIONSHIP_TYPES;

/**
 * Who a portal principal acts for: its own party and, when that party is a person, every
 * organization it is active staff of (`prm.staff`). A partner's staff member thus sees the
 * organization's registrations, RFQs and POs, and nothing else.
 */
export class PortalParties {
  constructor(private readonly deps: Pick<PrmDeps, 'parties' | 'relationships'>) {}

  /** The ids (`id`) of the parties `partyId` acts for, tenant-wide: for scope rules and PRM's own checks. */
  of(ctx: QueryContext, partyId: string): Knex.QueryBuilder {
    return this.deps.parties
      .query(ctx, { ids: [partyId] })
      .select('id')
      .union([this.deps.relationships.query(ctx, { type: STAFF_TYPE, fromPartyId: partyId, status: 'active' }).select('to_party_id as id')], true);
  }

  /** The caller's own portal parties, or null for a principal of the firm (who acts for anyone). */
  ofCaller(ctx: QueryContext): Knex.QueryBuilder | null {
    const scope = ctx.principal.scopePartyId;
    return scope ? this.of(ctx, scope) : null;
  }

  /** Whether the caller may act for `partyId`: always for the firm; for a portal principal, its own party or its employer. */
  async actsFor(ctx: QueryContext, partyId: string): Promise<boolean> {
    const scope = ctx.principal.scopePartyId;
    if (!scope || scope === partyId) return true;
    const staff = await this.deps.relationships.query(ctx, { type: STAFF_TYPE, fromPartyId: scope, toPartyId: partyId, status: 'active' }).first('id');
    return staff !== undefined;
  }

  /** Fails with 404 (as if it did not exist) when a portal caller does not act for `partyId`. */
  async requireActsFor(ctx: QueryContext, partyId: string): Promise<void> {
    if (!(await this.actsFor(ctx, partyId))) throw new NotFoundError('Party', partyId);
  }
}
