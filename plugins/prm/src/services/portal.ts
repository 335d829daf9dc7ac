import type { Knex } from 'knex';
import { NotFoundError, type QueryContext } from '@rapport/core';

export const STAFF_TYPE = 'prm.staff';
export const PARTNER_TYPE = 'prm.partner';
export const SUPPLIER_TYPE = 'prm.supplier';

/**
 * The parties a scoped principal acts for in the portal: its own party and, when that party
 * is a person, every organization it is active staff of (`prm.staff`). A partner's staff
 * member thus sees the organization's registrations, RFQs and POs, and nothing else.
 */
export function portalParties(db: Knex, tenantId: string, partyId: string): Knex.QueryBuilder {
  return db('rapport_parties')
    .select('id')
    .where({ tenant_id: tenantId, id: partyId })
    .union(
      [
        db('rapport_relationships')
          .select('to_party_id as id')
          .where({ tenant_id: tenantId, type: STAFF_TYPE, from_party_id: partyId, status: 'active' }),
      ],
      true,
    );
}

/** Fails with 404 (as if it did not exist) when a scoped caller does not act for `partyId`. */
export async function requireActsFor(ctx: QueryContext, partyId: string): Promise<void> {
  const scope = ctx.principal.scopePartyId;
  if (!scope) return;
  const row = await ctx.db
    .select('id')
    .from(portalParties(ctx.db, ctx.tenantId, scope).as('p'))
    .where('id', partyId)
    .first();
  if (!row) throw new NotFoundError('Party', partyId);
}

/** The party that stands for the firm running this system (the tenant's self party). */
export async function selfPartyId(db: Knex, tenantId: string): Promise<string> {
  const row = await db('rapport_tenants').where({ id: tenantId }).first('self_party_id');
  return row.self_party_id as string;
}

/** Case and spacing folded, punctuation dropped: "ACME, Inc." and "acme inc" compare equal. */
export function normalizeName(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
