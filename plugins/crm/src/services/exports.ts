import type { Knex } from 'knex';
import { keysetBatches, type CsvColumn, type QueryContext } from '@rapport/core';
import { CONTACT_TYPE, CUSTOMER_TYPE } from '@rapport/crm-contract';
import type { CrmDeps } from '../deps.js';
import { whereDeals, type DealFilter, type DealService } from './deals.js';

/*
 * CSV exports read in keyset batches (by id) through the same scoped queries as the lists:
 * a sales rep exports its own deals only, a scoped principal what its record scopes allow.
 * Nothing is loaded whole; see `sendCsv` in @rapport/core.
 */

type Row = Record<string, unknown>;

const column = (header: string, key = header): CsvColumn<Row> => ({ header, value: (row) => row[key] });
const attribute = (header: string, key: string): CsvColumn<Row> => ({ header, value: (row) => (row.attributes as Row | null)?.[key] });

/** Batches of `query()` in the order of its `id` column, the key of the row property `id`. */
function byId(query: () => Knex.QueryBuilder, idColumn: string): AsyncGenerator<Row[]> {
  return keysetBatches<Row>((after, limit) => {
    const q = query().orderBy(idColumn).limit(limit);
    if (after) q.where(idColumn, '>', after.id as string);
    return q;
  });
}

export const DEAL_EXPORT_COLUMNS: CsvColumn<Row>[] = [
  column('id'),
  column('title'),
  column('amount'),
  column('currency'),
  column('pipeline'),
  column('stage'),
  column('status'),
  column('expected_close'),
  column('account_id'),
  column('account_name'),
  column('owner_party_id'),
  column('closed_at'),
  column('created_at'),
];

export const ACCOUNT_EXPORT_COLUMNS: CsvColumn<Row>[] = [
  column('id', 'party_id'),
  column('name'),
  column('kind'),
  column('status'),
  column('domain'),
  column('email'),
  column('phone'),
  attribute('industry', 'crm.industry'),
  attribute('size', 'crm.size'),
  attribute('source', 'crm.source'),
  attribute('owner_party_id', 'crm.owner'),
  column('relationship_id'),
];

export const CONTACT_EXPORT_COLUMNS: CsvColumn<Row>[] = [
  column('id', 'person_id'),
  column('name'),
  column('email'),
  column('phone'),
  column('organization_id'),
  column('organization_name'),
  column('organization_domain'),
  attribute('job_title', 'jobTitle'),
  column('status'),
  column('relationship_id'),
];

export class ExportService {
  constructor(
    private readonly deps: CrmDeps,
    private readonly deals: DealService,
  ) {}

  /** The caller's visible deals with their pipeline, stage and account names. */
  dealRows(ctx: QueryContext, filter: DealFilter): AsyncGenerator<Row[]> {
    const { raw } = this.deps.db.in(ctx);
    return byId(
      () =>
        whereDeals(
          this.deals
            .visible(ctx)
            .join('crm_stages as s', 's.id', 'd.stage_id')
            .join('crm_pipelines as pl', 'pl.id', 'd.pipeline_id')
            // The account's name only where the caller may see the account: a rep scoped to its own
            // deals may own one whose account is outside its reach.
            .leftJoin(this.deps.parties.query(ctx, { visible: true }).select('id', 'name').as('a'), 'a.id', 'd.account_id')
            .select(
              'd.id',
              'd.title',
              'd.amount',
              'd.currency',
              'pl.name as pipeline',
              's.name as stage',
              'd.status',
              raw(`to_char(d.expected_close, 'YYYY-MM-DD') as expected_close`),
              'd.account_id',
              'a.name as account_name',
              'd.owner_party_id',
              'd.closed_at',
              'd.created_at',
            ),
          filter,
        ),
      'd.id',
    );
  }

  /** Our customers: the customer end of `crm.customer` relationships in which the self party is the vendor. */
  async accountRows(ctx: QueryContext, filter: { status?: string }): Promise<AsyncGenerator<Row[]>> {
    const self = await this.deps.tenants.selfPartyId(ctx);
    const { parties, relationships } = this.deps;
    return byId(
      () =>
        relationships
          .query(ctx, { type: CUSTOMER_TYPE, fromPartyId: self, status: filter.status, visible: true })
          .join(parties.query(ctx, { visible: true }).as('p'), 'p.id', 'relationships.to_party_id')
          .whereNull('p.merged_into_id')
          .select(
            'relationships.id',
            'relationships.id as relationship_id',
            'p.id as party_id',
            'p.name',
            'p.kind',
            'relationships.status',
            'p.attributes',
            this.contactPoints(ctx, 'p', 'domain', 'domain'),
            this.contactPoints(ctx, 'p', 'email', 'email'),
            this.contactPoints(ctx, 'p', 'phone', 'phone'),
          ),
      'relationships.id',
    );
  }

  /** People and the organizations they work at (`crm.contact`), one line per link. */
  contactRows(ctx: QueryContext, filter: { organizationId?: string }): AsyncGenerator<Row[]> {
    const { parties, relationships } = this.deps;
    return byId(
      () =>
        relationships
          .query(ctx, { type: CONTACT_TYPE, toPartyId: filter.organizationId, visible: true })
          .join(parties.query(ctx, { visible: true }).as('p'), 'p.id', 'relationships.from_party_id')
          .join(parties.query(ctx, { visible: true }).as('o'), 'o.id', 'relationships.to_party_id')
          .select(
            'relationships.id',
            'relationships.id as relationship_id',
            'p.id as person_id',
            'p.name',
            this.contactPoints(ctx, 'p', 'email', 'email'),
            this.contactPoints(ctx, 'p', 'phone', 'phone'),
            'o.id as organization_id',
            'o.name as organization_name',
            this.contactPoints(ctx, 'o', 'domain', 'organization_domain'),
            'relationships.attributes',
            'relationships.status',
          ),
      'relationships.id',
    );
  }

  /** The contact points of one kind of the party `alias`, `;`-separated: a correlated subquery per row of the batch's one statement. */
  private contactPoints(ctx: QueryContext, alias: string, kind: string, as: string): Knex.QueryBuilder {
    const { raw } = this.deps.db.in(ctx);
    return this.deps.parties
      .contactPointQuery(ctx, { kind })
      .select(raw(`string_agg(value, ';' order by position)`))
      .whereRaw('?? = ??', ['contact_points.party_id', `${alias}.id`])
      .as(as);
  }
}
