import type { Knex } from 'knex';
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../errors.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import { newId } from '../util/ids.js';
import type { Page } from '../util/cursor.js';
import { applyTextList, keysetPage, type KeysetKey } from '../http/keyset.js';
import { checkPartyAttributes, mergeAttributes } from './attributes.js';
import { normalizedPoints } from './contact-points.js';
import { sql, type QueryContext } from './context.js';
import { contactPointsView, partiesView, type ContactPointViewFilter, type PartyViewFilter } from './views.js';
import type { KernelDeps } from './kernel.js';
import { PARTY_COLUMNS, toParty, type PartyRow } from './rows.js';
import { preparedSelect } from '../storage/prepared-select.js';
import { partyIdsMatching } from '../search/service.js';
import { applyFieldFilters, fieldSortPage, type FieldListQuery } from '../fields/list-query.js';
import type { PartyCreateInput, PartyUpdateInput } from './schemas.js';
import type { ContactPoint, Party, PartyKind } from './types.js';

const NEWEST_FIRST: readonly KeysetKey[] = [{ column: 'p.id', type: 'uuid', direction: 'desc' }];

type PartyWithPointsRow = PartyRow & { contact_points: ContactPoint[] };

/**
 * A party's contact points, in their order, as a column of its own row: a page of parties is
 * one statement, not one plus a read of their points (measured on PostgreSQL with a page of
 * 50 at 16 connections: 1.17 × the pages a second).
 */
function contactPointsSql(alias: string): string {
  return `coalesce((select json_agg(json_build_object('kind', cp.kind, 'value', cp.value) order by cp.position) from rapport_contact_points cp where cp.tenant_id = "${alias}".tenant_id and cp.party_id = "${alias}".id), '[]'::json) as contact_points`;
}

function contactPointsColumn(db: Knex, alias: string): Knex.Raw {
  return db.raw(contactPointsSql(alias));
}

const PARTY_BY_ID_SQL = `select ${PARTY_COLUMNS.map((c) => `"p"."${c}"`).join(', ')}, ${contactPointsSql('p')} from "rapport_parties" as "p" where "p"."tenant_id" = ? and "p"."id" = ?`;

function withInlinePoints({ contact_points: points, ...row }: PartyWithPointsRow): Party {
  return toParty(row, points);
}

export interface PartyListQuery {
  kind?: PartyKind;
  /** Case-insensitive substring of the name. */
  q?: string;
  /** Case-insensitive prefix of the name. */
  startsWith?: string;
  /** By name, a to z (`name`) or z to a (`-name`), instead of newest first. */
  sort?: 'name' | '-name';
  /** Parties that have this contact point (normalized compare). */
  contact?: ContactPoint;
  archived?: boolean;
  ids?: string[];
  /** Custom field filters and sort (`parseFieldQuery`). */
  fields?: FieldListQuery;
  limit: number;
  cursor?: string;
}

export interface DuplicateCandidate {
  party: Party;
  matches: Array<{ kind: string; normalized: string }>;
}

export class PartyService {
  constructor(private readonly deps: KernelDeps) {}

  /** The parties view (v1) of the context's tenant, for a plugin's own queries; see kernel/views.ts. */
  query(ctx: QueryContext, filter: PartyViewFilter = {}): Knex.QueryBuilder {
    return partiesView(ctx, filter, this.deps.scopes);
  }

  /** The contact points view (v1): party_id, kind, value, normalized, position. */
  contactPointQuery(ctx: QueryContext, filter: ContactPointViewFilter = {}): Knex.QueryBuilder {
    return contactPointsView(ctx, filter);
  }

  /** Scoped base query: the tenant's parties the caller may see. */
  visible(ctx: QueryContext, alias = 'rapport_parties'): Knex.QueryBuilder {
    const query = sql(ctx)(alias === 'rapport_parties' ? 'rapport_parties' : `rapport_parties as ${alias}`).where(`${alias}.tenant_id`, ctx.tenantId);
    return this.deps.scopes.apply(query, ctx, 'parties', `${alias}.id`);
  }

  async create(uow: UnitOfWork, input: PartyCreateInput): Promise<Party> {
    const { input: filtered } = await uow.filter('party.create', { input: structuredClone(input) });
    const [party] = await this.insertMany(uow, [filtered]);
    uow.emit('party.created', { party }, { type: 'party', id: party.id });
    return party;
  }

  /**
   * Inserts validated parties in multi-row statements. Used by `create` and by bulk
   * import, which runs filters per row itself and emits one event per party.
   */
  async insertMany(uow: UnitOfWork, inputs: PartyCreateInput[], now = new Date()): Promise<Party[]> {
    const rows: PartyRow[] = [];
    const points: Array<{ tenant_id: string; party_id: string; kind: string; value: string; normalized: string; position: number }> = [];
    const pointsByParty = new Map<string, ContactPoint[]>();
    for (const input of inputs) {
      const id = newId();
      const attributes = await checkPartyAttributes(this.deps.fields, this.deps.registries.partyAttributes, uow, input.kind, input.attributes ?? {});
      for (const key of Object.keys(attributes)) if (attributes[key] === null) delete attributes[key];
      const normalized = normalizedPoints(input.contactPoints ?? []);
      normalized.forEach((p, position) => points.push({ tenant_id: uow.tenantId, party_id: id, kind: p.kind, value: p.value, normalized: p.normalized, position }));
      pointsByParty.set(
        id,
        normalized.map(({ kind, value }) => ({ kind, value })),
      );
      rows.push({ id, kind: input.kind, name: input.name.trim(), attributes, archived_at: null, merged_into_id: null, version: 1, created_at: now, updated_at: now });
    }
    await insertChunked(
      sql(uow),
      'rapport_parties',
      rows.map((r) => ({ ...r, tenant_id: uow.tenantId, attributes: JSON.stringify(r.attributes) })),
      10,
    );
    await insertChunked(sql(uow), 'rapport_contact_points', points, 6);
    return rows.map((row) => toParty(row, pointsByParty.get(row.id) ?? []));
  }

  async get(ctx: QueryContext, id: string): Promise<Party> {
    const [party] = ctx.principal.scopePartyId ? await this.getMany(ctx, [id]) : await this.getTenantWide(ctx, id);
    if (!party) throw new NotFoundError('Party', id);
    return party;
  }

  /**
   * The hot read of a party by id for a tenant-wide caller (no record scope to compile):
   * the same statement as `getMany`, written once instead of built per request.
   * A scoped caller always goes through `visible`, which adds its scope as a subquery.
   */
  private async getTenantWide(ctx: QueryContext, id: string): Promise<Party[]> {
    return (await preparedSelect<PartyWithPointsRow>(sql(ctx), PARTY_BY_ID_SQL, [ctx.tenantId, id])).map(withInlinePoints);
  }

  /** Parties by id in one query plus one for their contact points; missing or invisible ids are left out. */
  async getMany(ctx: QueryContext, ids: readonly string[]): Promise<Party[]> {
    if (ids.length === 0) return [];
    const rows: PartyWithPointsRow[] = await this.visible(ctx)
      .whereIn('id', [...new Set(ids)])
      .select([...PARTY_COLUMNS, contactPointsColumn(sql(ctx), 'rapport_parties')]);
    return rows.map(withInlinePoints);
  }

  /**
   * Newest first, or by name (`sort`), keyset-paginated either way; every order is an index
   * led by the tenant (primary key, or rapport_parties_name_idx), so a page deep in the list
   * reads what the first one does.
   */
  async list(ctx: QueryContext, query: PartyListQuery): Promise<Page<Party>> {
    const sort = query.fields?.sort;
    const q = this.visible(ctx, 'p').select([...PARTY_COLUMNS.map((c) => `p.${c}`), contactPointsColumn(sql(ctx), 'p')]);
    if (query.kind) q.where('p.kind', query.kind);
    if (query.archived === true) q.whereNotNull('p.archived_at');
    else if (query.archived === false || query.archived === undefined) q.whereNull('p.archived_at');
    if (query.q) {
      const text = query.q;
      // A substring of the name (as the lists have it, read from the trigram index on
      // lower(name)), or what search matches: typos, words, contact points. One set of ids, a
      // UNION of the two, rather than `like … or id in (search)`: an OR with a subquery can
      // only be a filter on a walk of the whole list, while each arm of the union is an index scan.
      const named = sql(ctx)('rapport_parties as n').select('n.id').where('n.tenant_id', ctx.tenantId);
      applyTextList(named, 'n.name', 'n.id', { q: text }, NEWEST_FIRST);
      q.whereIn('p.id', /[\p{L}\p{N}]/u.test(text) ? named.union(partyIdsMatching(ctx, text)) : named);
    }
    if (query.fields) applyFieldFilters(q, 'p', query.fields);
    // The name's prefix and order (the name substring is `q` above).
    const keys = applyTextList(q, 'p.name', 'p.id', { ...query, q: undefined }, NEWEST_FIRST);
    if (query.ids) q.whereIn('p.id', query.ids);
    if (query.contact) {
      const [point] = normalizedPoints([query.contact]);
      q.whereExists((sub) =>
        sub
          .select(sql(ctx).raw('1'))
          .from('rapport_contact_points as cp')
          .whereRaw('cp.tenant_id = p.tenant_id and cp.party_id = p.id')
          .where({ 'cp.kind': point.kind, 'cp.normalized': point.normalized }),
      );
    }
    const map = (rows: PartyWithPointsRow[]) => rows.map(withInlinePoints);
    if (sort) return fieldSortPage(q, 'p', sort, query, map);
    return keysetPage(q, query, keys, map);
  }

  async update(uow: UnitOfWork, id: string, patch: PartyUpdateInput, expectedVersion?: number): Promise<Party> {
    const current = await this.lockForWrite(uow, id, expectedVersion);
    const filtered = await uow.filter('party.update', { current, patch: structuredClone(patch) });
    const change = filtered.patch;
    const attributes = change.attributes
      ? mergeAttributes(current.attributes, await checkPartyAttributes(this.deps.fields, this.deps.registries.partyAttributes, uow, current.kind, change.attributes))
      : current.attributes;
    const row = await this.writeRow(uow, id, { name: change.name?.trim() ?? current.name, attributes: JSON.stringify(attributes), version: current.version + 1, updated_at: new Date() });
    const points = change.contactPoints ? await this.replaceContactPoints(uow, id, change.contactPoints) : current.contactPoints;
    const party = toParty(row, points);
    uow.emit('party.updated', { party, previous: current }, { type: 'party', id });
    return party;
  }

  async archive(uow: UnitOfWork, id: string, expectedVersion?: number): Promise<Party> {
    const current = await this.lockForWrite(uow, id, expectedVersion);
    if (current.archivedAt) return current;
    await uow.filter('party.archive', { party: current });
    const self = await sql(uow)('rapport_tenants').where({ id: uow.tenantId, self_party_id: id }).first();
    if (self) throw new ConflictError('The self party of a tenant cannot be archived');
    const now = new Date();
    const party = toParty(await this.writeRow(uow, id, { archived_at: now, version: current.version + 1, updated_at: now }), current.contactPoints);
    uow.emit('party.archived', { party }, { type: 'party', id });
    return party;
  }

  async restore(uow: UnitOfWork, id: string, expectedVersion?: number): Promise<Party> {
    const current = await this.lockForWrite(uow, id, expectedVersion);
    if (!current.archivedAt) return current;
    if (current.mergedIntoId) throw new ConflictError(`Party ${id} was merged into ${current.mergedIntoId} and cannot be restored`);
    const party = toParty(await this.writeRow(uow, id, { archived_at: null, version: current.version + 1, updated_at: new Date() }), current.contactPoints);
    uow.emit('party.restored', { party }, { type: 'party', id });
    return party;
  }

  /** Other parties sharing a normalized contact point with `id`: candidates to merge. */
  async duplicatesOf(ctx: QueryContext, id: string): Promise<DuplicateCandidate[]> {
    await this.get(ctx, id);
    const matches: Array<{ party_id: string; kind: string; normalized: string }> = await this.deps.scopes
      .apply(
        sql(ctx)('rapport_contact_points as other')
          .join('rapport_contact_points as mine', function () {
            this.on('mine.tenant_id', 'other.tenant_id').andOn('mine.kind', 'other.kind').andOn('mine.normalized', 'other.normalized');
          })
          .where('mine.tenant_id', ctx.tenantId)
          .where('mine.party_id', id)
          .whereNot('other.party_id', id),
        ctx,
        'parties',
        'other.party_id',
      )
      .select('other.party_id', 'other.kind', 'other.normalized')
      .limit(500);
    const parties = await this.getMany(
      ctx,
      matches.map((m) => m.party_id),
    );
    return parties
      .filter((p) => !p.mergedIntoId)
      .map((party) => ({
        party,
        matches: matches.filter((m) => m.party_id === party.id).map(({ kind, normalized }) => ({ kind, normalized })),
      }));
  }

  /** Fails with 404 unless the party exists and the caller may see it; reads nothing of it (a timeline needs only that). */
  async requireVisible(ctx: QueryContext, id: string): Promise<void> {
    const found = ctx.principal.scopePartyId ? await this.visible(ctx).where('id', id).first('id') : await sql(ctx)('rapport_parties').where({ tenant_id: ctx.tenantId, id }).first('id');
    if (!found) throw new NotFoundError('Party', id);
  }

  /** Writes a locked party's row and answers it as written: no second read of what this statement just set. */
  private async writeRow(uow: UnitOfWork, id: string, values: Record<string, unknown>): Promise<PartyRow> {
    const [row]: PartyRow[] = await sql(uow)('rapport_parties').where({ tenant_id: uow.tenantId, id }).update(values).returning(PARTY_COLUMNS);
    return row;
  }

  /** Loads a visible party under a row lock and checks the caller's expected version. */
  async lockForWrite(uow: UnitOfWork, id: string, expectedVersion?: number): Promise<Party> {
    const row: PartyWithPointsRow | undefined = await this.visible(uow)
      .where('id', id)
      .forUpdate()
      .first([...PARTY_COLUMNS, contactPointsColumn(sql(uow), 'rapport_parties')]);
    if (!row) throw new NotFoundError('Party', id);
    if (expectedVersion !== undefined && row.version !== expectedVersion) {
      throw new PreconditionFailedError(`Party ${id} is at version ${row.version}, not ${expectedVersion}`, { currentVersion: row.version });
    }
    return withInlinePoints(row);
  }

  /** Fails with 400 naming the field unless every id is a visible, live party. */
  async requireLive(ctx: QueryContext, ids: readonly string[], field: string): Promise<Map<string, Party>> {
    const found = new Map((await this.getMany(ctx, ids)).map((p) => [p.id, p]));
    for (const id of ids) {
      const party = found.get(id);
      if (!party) throw new ValidationError(`${field}: party ${id} does not exist`, [{ path: field, message: 'unknown party' }]);
      if (party.archivedAt) throw new ValidationError(`${field}: party ${id} is archived`, [{ path: field, message: 'archived party' }]);
    }
    return found;
  }

  /** Replaces a party's contact points; answers them as stored, in their order. */
  private async replaceContactPoints(uow: UnitOfWork, partyId: string, points: ContactPoint[]): Promise<ContactPoint[]> {
    await sql(uow)('rapport_contact_points').where({ tenant_id: uow.tenantId, party_id: partyId }).delete();
    const normalized = normalizedPoints(points);
    if (normalized.length === 0) return [];
    await sql(uow)('rapport_contact_points').insert(
      normalized.map((p, position) => ({ tenant_id: uow.tenantId, party_id: partyId, kind: p.kind, value: p.value, normalized: p.normalized, position })),
    );
    return normalized.map((p) => ({ kind: p.kind, value: p.value }));
  }
}

/** Multi-row inserts kept under PostgreSQL's 65,535 bind parameters. */
export async function insertChunked(db: Knex, table: string, rows: object[], columns: number): Promise<void> {
  const size = Math.max(1, Math.floor(60000 / columns));
  for (let i = 0; i < rows.length; i += size) await db(table).insert(rows.slice(i, i + size));
}
