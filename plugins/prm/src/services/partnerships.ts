import type { QueryContext } from '@rapport/core';
import type { PrmDeps } from '../deps.js';
import { PARTNER_TYPE, SUPPLIER_TYPE } from './portal.js';

/** What PRM reads of a relationship between the firm and a partner or supplier. */
export interface FirmRelationship {
  id: string;
  status: string;
  attributes: { kind?: string; program?: string; tier?: string; territories?: string[] };
}

const COLUMNS = ['id', 'status', 'attributes'];

/**
 * The firm's partnerships (`prm.partner`, self party → partner) and supply relationships
 * (`prm.supplier`, supplier → self party), read through the kernel's relationships view,
 * tenant-wide: the callers check first that the caller acts for the partner or supplier.
 */
export class Partnerships {
  constructor(private readonly deps: Pick<PrmDeps, 'relationships' | 'tenants'>) {}

  /** The partner's active partnership, optionally of one program. */
  async active(ctx: QueryContext, partnerId: string, program?: string): Promise<FirmRelationship | undefined> {
    const query = this.deps.relationships.query(ctx, { type: PARTNER_TYPE, fromPartyId: await this.self(ctx), toPartyId: partnerId, status: 'active' });
    if (program !== undefined) query.whereRaw("attributes->>'program' = ?", [program]);
    return query.first(COLUMNS);
  }

  /** The partner's latest partnership, whatever its status. */
  async latest(ctx: QueryContext, partnerId: string): Promise<FirmRelationship | undefined> {
    return this.deps.relationships
      .query(ctx, { type: PARTNER_TYPE, fromPartyId: await this.self(ctx), toPartyId: partnerId })
      .orderBy('created_at', 'desc')
      .first(COLUMNS);
  }

  /** A partnership still in play (neither rejected nor ended): a second application is refused while there is one. */
  async live(ctx: QueryContext, partnerId: string): Promise<FirmRelationship | undefined> {
    return this.deps.relationships
      .query(ctx, { type: PARTNER_TYPE, fromPartyId: await this.self(ctx), toPartyId: partnerId })
      .whereNotIn('status', ['rejected', 'ended'])
      .first(COLUMNS);
  }

  /** The supplier's latest supply relationship, whatever its status. */
  async latestSupply(ctx: QueryContext, supplierId: string): Promise<FirmRelationship | undefined> {
    return this.deps.relationships
      .query(ctx, { type: SUPPLIER_TYPE, fromPartyId: supplierId, toPartyId: await this.self(ctx) })
      .orderBy('created_at', 'desc')
      .first(COLUMNS);
  }

  /**
   * The supplier's relationship that has not ended; `lock` holds its row until the write
   * ends, so its status cannot change (to blocked, say) while an order is placed.
   */
  async currentSupply(ctx: QueryContext, supplierId: string, options: { lock?: boolean } = {}): Promise<FirmRelationship | undefined> {
    const query = this.deps.relationships.query(ctx, { type: SUPPLIER_TYPE, fromPartyId: supplierId, toPartyId: await this.self(ctx) }).whereNot('status', 'ended');
    if (options.lock) query.forUpdate();
    return query.first(COLUMNS);
  }

  /** The firm's own party (the tenant's self party). */
  self(ctx: QueryContext): Promise<string> {
    return this.deps.tenants.selfPartyId(ctx);
  }
}
