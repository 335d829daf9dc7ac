import type { Knex } from 'knex';
import { keysetBatches, type CsvColumn, type QueryContext, type Rapport } from '@rapport/core';
import { visibleDeals } from './deals.js';
import { selfPartyId } from './counterparts.js';

/*
 * CSV exports read in keyset batches (by id) through the same scoped queries as the lists:
 * a sales rep exports its own deals only, an external principal what its record scopes
 * allow. Nothing is loaded whole; see `sendCsv` in @rapport/core.
 */

type Row = Record<string, unknown>;

const column = (header: string, key = header): CsvColumn<Row> => ({ header, value: (row) => row[key] });

/** Contact points of one kind of the party `alias`, `;`-separated (a correlated subquery, per exported row, within the batch's one statement). */
const points = (db: Knex, alias: string, kind: string, as: string) =>
  db.raw(`(select string_agg(cp.value, ';' order by cp.position) from rapport_contact_points cp where cp.tenant_id = ${alias}.tenant_id and cp.party_id = ${alias}.id and cp.kind = '${kind}') as ${as}`);

function keyset(query: () => Knex.QueryBuilder, idColumn: string) {
  return keysetBatches<Row>((after, limit) => {
    const q = query().orderBy(idColumn).limit(limit);
    if (after) q.where(idColumn, '>', after.id as string);
    return q;
  });
}

export interface DealExportFilter {
  pipelineId?: string;
  stageId?: string;
  status?: string;
  ownerPartyId?: string;
  accountId?: string;
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

export function dealRows(app: Rapport, ctx: QueryContext, filter: DealExportFilter) {
  return keyset(() => {
    const q = visibleDeals(app, ctx)
      .join('crm_stages as s', function () {
        this.on('s.tenant_id', 'd.tenant_id').andOn('s.id', 'd.stage_id');
      })
      .join('crm_pipelines as pl', function () {
        this.on('pl.tenant_id', 'd.tenant_id').andOn('pl.id', 'd.pipeline_id');
      })
      // The account's name only where the caller may see the account: a rep scoped to its own
      // deals may own one whose account is outside its reach.
      .leftJoin(app.scopes.apply(ctx.db('rapport_parties as ap').where('ap.tenant_id', ctx.tenantId).select('ap.tenant_id', 'ap.id', 'ap.name'), ctx, 'parties', 'ap.id').as('a'), function () {
        this.on('a.tenant_id', 'd.tenant_id').andOn('a.id', 'd.account_id');
      })
      .select(
        'd.id',
        'd.title',
        'd.amount',
        'd.currency',
        'pl.name as pipeline',
        's.name as stage',
        'd.status',
        ctx.db.raw(`to_char(d.expected_close, 'YYYY-MM-DD') as expected_close`),
        'd.account_id',
        'a.name as account_name',
        'd.owner_party_id',
        'd.closed_at',
        'd.created_at',
      );
    if (filter.pipelineId) q.where('d.pipeline_id', filter.pipelineId);
    if (filter.stageId) q.where('d.stage_id', filter.stageId);
    if (filter.status) q.where('d.status', filter.status);
    if (filter.ownerPartyId) q.where('d.owner_party_id', filter.ownerPartyId);
    if (filter.accountId) q.where('d.account_id', filter.accountId);
    return q;
  }, 'd.id');
}

const json = (value: unknown): Row | null => (typeof value === 'string' ? JSON.parse(value) : (value as Row | null));

export const ACCOUNT_EXPORT_COLUMNS: CsvColumn<Row>[] = [
  column('id', 'party_id'),
  column('name'),
  column('kind'),
  column('status'),
  column('domain'),
  column('email'),
  column('phone'),
  { header: 'industry', value: (r) => json(r.attributes)?.['crm.industry'] },
  { header: 'size', value: (r) => json(r.attributes)?.['crm.size'] },
  { header: 'source', value: (r) => json(r.attributes)?.['crm.source'] },
  { header: 'owner_party_id', value: (r) => json(r.attributes)?.['crm.owner'] },
  column('relationship_id'),
];

/** Our customers: the customer end of `crm.customer` relationships in which the self party is the vendor. */
export async function accountRows(app: Rapport, ctx: QueryContext, filter: { status?: string }) {
  const self = await selfPartyId(ctx);
  return keyset(() => {
    const q = app.services.relationships
      .visible(ctx, 'r')
      .join('rapport_parties as p', function () {
        this.on('p.tenant_id', 'r.tenant_id').andOn('p.id', 'r.to_party_id');
      })
      .where({ 'r.type': 'crm.customer', 'r.from_party_id': self })
      .whereNull('p.merged_into_id')
      .select('r.id', 'r.id as relationship_id', 'p.id as party_id', 'p.name', 'p.kind', 'r.status', 'p.attributes', points(ctx.db, 'p', 'domain', 'domain'), points(ctx.db, 'p', 'email', 'email'), points(ctx.db, 'p', 'phone', 'phone'));
    if (filter.status) q.where('r.status', filter.status);
    return app.scopes.apply(q, ctx, 'parties', 'p.id');
  }, 'r.id');
}

export const CONTACT_EXPORT_COLUMNS: CsvColumn<Row>[] = [
  column('id', 'person_id'),
  column('name'),
  column('email'),
  column('phone'),
  column('organization_id'),
  column('organization_name'),
  column('organization_domain'),
  { header: 'job_title', value: (r) => json(r.attributes)?.jobTitle },
  column('status'),
  column('relationship_id'),
];

/** People and the organizations they work at (`crm.contact`), one line per link. */
export function contactRows(app: Rapport, ctx: QueryContext, filter: { organizationId?: string }) {
  return keyset(() => {
    const q = app.services.relationships
      .visible(ctx, 'r')
      .join('rapport_parties as p', function () {
        this.on('p.tenant_id', 'r.tenant_id').andOn('p.id', 'r.from_party_id');
      })
      .join('rapport_parties as o', function () {
        this.on('o.tenant_id', 'r.tenant_id').andOn('o.id', 'r.to_party_id');
      })
      .where('r.type', 'crm.contact')
      .select(
        'r.id',
        'r.id as relationship_id',
        'p.id as person_id',
        'p.name',
        points(ctx.db, 'p', 'email', 'email'),
        points(ctx.db, 'p', 'phone', 'phone'),
        'o.id as organization_id',
        'o.name as organization_name',
        points(ctx.db, 'o', 'domain', 'organization_domain'),
        'r.attributes',
        'r.status',
      );
    if (filter.organizationId) q.where('r.to_party_id', filter.organizationId);
    app.scopes.apply(q, ctx, 'parties', 'p.id');
    return app.scopes.apply(q, ctx, 'parties', 'o.id');
  }, 'r.id');
}
