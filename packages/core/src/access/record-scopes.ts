import type { Knex } from 'knex';
import { PluginError } from '../errors.js';
import { CONNECTION, sql, type QueryContext } from '../kernel/context.js';
import { tenantTables, type TenantTables } from '../storage/tenant-tables.js';

/**
 * Given the scoped party, returns a query selecting the ids of `resource` records that
 * party may see. Contributions to one resource are OR'd (a union), so a plugin can widen
 * what a partner sees of kernel records (e.g. customers it registered) without touching
 * the kernel's own rule. `tables` are the contributing plugin's own, in the caller's tenant;
 * kernel data comes from the kernel's views (`relationships.query(ctx, …)`), never scoped
 * themselves (a rule must not depend on the rules it defines).
 */
export type ScopeContribution = (args: { tables: TenantTables; ctx: QueryContext; partyId: string }) => Knex.QueryBuilder;

interface ScopeEntry {
  owner: string;
  contribute: ScopeContribution;
}

export class RecordScopes {
  private readonly resources = new Map<string, { owner: string; entries: ScopeEntry[] }>();

  constructor(private readonly isActive: (owner: string) => boolean) {}

  /** Declares a scoped resource (`crm.deals`) and its base rule. */
  define(owner: string, resource: string, contribute: ScopeContribution): void {
    if (this.resources.has(resource)) {
      throw new PluginError(owner, `record scope "${resource}" is already declared by plugin "${this.resources.get(resource)!.owner}"`);
    }
    this.resources.set(resource, { owner, entries: [{ owner, contribute }] });
  }

  /** Adds a rule to a resource another owner declared. */
  extend(owner: string, resource: string, contribute: ScopeContribution): void {
    const entry = this.resources.get(resource);
    if (!entry) throw new PluginError(owner, `record scope "${resource}" is not declared; declare it or require the plugin that does`);
    entry.entries.push({ owner, contribute });
  }

  has(resource: string): boolean {
    return this.resources.has(resource);
  }

  list(): Array<{ resource: string; owner: string; contributors: string[] }> {
    return [...this.resources.entries()].map(([resource, e]) => ({ resource, owner: e.owner, contributors: e.entries.map((x) => x.owner) }));
  }

  /**
   * Restricts `query` to what the caller may see: `column in (visible ids)`. A tenant-wide
   * principal is not restricted. Compiled into the query, so it uses the index and never
   * filters after loading.
   */
  apply<Q extends Knex.QueryBuilder>(query: Q, ctx: QueryContext, resource: string, column: string): Q {
    const partyId = ctx.principal.scopePartyId;
    if (!partyId) return query;
    const resourceEntry = this.resources.get(resource);
    if (!resourceEntry) throw new Error(`record scope "${resource}" is not declared`);
    const parts = resourceEntry.entries.filter((e) => this.isActive(e.owner)).map((e) => e.contribute({ tables: tenantTables(sql(ctx), ctx.tenantId, e.owner), ctx, partyId }));
    if (parts.length === 0) return query.whereRaw('false') as Q;
    const [first, ...rest] = parts;
    const visible = rest.length === 0 ? first : sql(ctx).queryBuilder().select('*').from(first.union(rest, true).as('scope_union'));
    return query.whereIn(column, visible as Knex.QueryBuilder) as Q;
  }

  /** True when the caller may see the record `id` of `resource`. */
  async canSee(ctx: QueryContext, resource: string, id: string): Promise<boolean> {
    if (!ctx.principal.scopePartyId) return true;
    const base = sql(ctx)
      .select(sql(ctx).raw('1'))
      .from(sql(ctx).raw('(select ?::uuid as id) as candidate', [id]));
    const row = await this.apply(base, ctx, resource, 'candidate.id').first();
    return row !== undefined;
  }
}

/** The kernel's own rules: a scoped principal sees its party, the parties it is related to,
 *  its relationships, the interactions it took part in and observations about it or its relationships. */
export function defineKernelScopes(scopes: RecordScopes): void {
  // The party itself comes from its own row (a FROM-less `select ?` is dropped by knex's union).
  scopes.define('core', 'parties', ({ ctx: { tenantId, [CONNECTION]: db }, partyId }) =>
    db('rapport_parties')
      .select('id')
      .where({ tenant_id: tenantId, id: partyId })
      .union(
        [
          db('rapport_relationships').select('to_party_id as id').where({ tenant_id: tenantId, from_party_id: partyId }),
          db('rapport_relationships').select('from_party_id as id').where({ tenant_id: tenantId, to_party_id: partyId }),
        ],
        true,
      ),
  );
  scopes.define('core', 'relationships', ({ ctx: { tenantId, [CONNECTION]: db }, partyId }) =>
    db('rapport_relationships')
      .select('id')
      .where({ tenant_id: tenantId, from_party_id: partyId })
      .union([db('rapport_relationships').select('id').where({ tenant_id: tenantId, to_party_id: partyId })], true),
  );
  scopes.define('core', 'interactions', ({ ctx: { tenantId, [CONNECTION]: db }, partyId }) =>
    db('rapport_interaction_participants').select('interaction_id as id').where({ tenant_id: tenantId, party_id: partyId }),
  );
  scopes.define('core', 'observations', ({ ctx: { tenantId, [CONNECTION]: db }, partyId }) =>
    db('rapport_observations')
      .select('id')
      .where({ tenant_id: tenantId, subject_type: 'party', subject_id: partyId })
      .union(
        [
          db('rapport_observations as o')
            .select('o.id')
            .join('rapport_relationships as r', function () {
              this.on('r.tenant_id', 'o.tenant_id').andOn('r.id', 'o.subject_id');
            })
            .where('o.tenant_id', tenantId)
            .where('o.subject_type', 'relationship')
            .where((w) => w.where('r.from_party_id', partyId).orWhere('r.to_party_id', partyId)),
        ],
        true,
      ),
  );
}
