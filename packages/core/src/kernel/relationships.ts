import type { Knex } from 'knex';
import { keysetPage } from '../http/keyset.js';
import { ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError } from '../errors.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import { newId } from '../util/ids.js';
import type { Page } from '../util/cursor.js';
import { checkTypedAttributes } from './attributes.js';
import { applyFieldFilters, fieldSortPage, type FieldListQuery } from '../fields/list-query.js';
import { sql, type QueryContext } from './context.js';
import { reachableView, relationshipsView, type ReachableFilter, type RelationshipViewFilter } from './views.js';
import type { KernelDeps } from './kernel.js';
import type { PartyService } from './parties.js';
import { RELATIONSHIP_COLUMNS, toRelationship, type RelationshipRow } from './rows.js';
import type { RelationshipCreateInput, RelationshipUpdateInput } from './schemas.js';
import type { Relationship, RelationshipTypeDefinition } from './types.js';

export interface RelationshipListQuery {
  type?: string;
  status?: string;
  /** Relationships with this party at either end… */
  partyId?: string;
  /** …playing this role (requires partyId). */
  role?: string;
  /** `true`: only those live now (an active status, inside the validity window); `false`: only the others. */
  active?: boolean;
  /** Custom field filters (`parseFieldQuery`). */
  fields?: FieldListQuery;
  limit: number;
  cursor?: string;
}

const DEFAULT_STATUSES = ['active', 'ended'] as const;

export function statusesOf(type: RelationshipTypeDefinition): readonly string[] {
  return type.statuses && type.statuses.length > 0 ? type.statuses : DEFAULT_STATUSES;
}

export function activeStatusesOf(type: RelationshipTypeDefinition): readonly string[] {
  return type.activeStatuses ?? [statusesOf(type)[0]];
}

export class RelationshipService {
  constructor(
    private readonly deps: KernelDeps,
    private readonly parties: PartyService,
  ) {}

  /** The relationships view (v1) of the context's tenant, for a plugin's own queries; see kernel/views.ts. */
  query(ctx: QueryContext, filter: RelationshipViewFilter = {}): Knex.QueryBuilder {
    return relationshipsView(ctx, filter, this.deps.scopes);
  }

  /**
   * The parties reachable along relationships of one type from a set of origins (origin,
   * party_id, depth): a reporting tree, a unit's ancestors, a partner hierarchy. One recursive
   * query, bounded by `maxDepth`.
   */
  reachable(ctx: QueryContext, filter: ReachableFilter): Knex.QueryBuilder {
    return reachableView(ctx, filter);
  }

  visible(ctx: QueryContext, alias = 'r'): Knex.QueryBuilder {
    const query = sql(ctx)(`rapport_relationships as ${alias}`).where(`${alias}.tenant_id`, ctx.tenantId);
    return this.deps.scopes.apply(query, ctx, 'relationships', `${alias}.id`);
  }

  async create(uow: UnitOfWork, input: RelationshipCreateInput): Promise<Relationship> {
    const { input: data } = await uow.filter('relationship.create', { input: structuredClone(input) });
    // Before the ends are looked up: the answer is 403 whether or not the caller can see them.
    refuseScopedWrite(uow, this.requireType(data.type));
    const ends = await this.parties.requireLive(uow, [data.fromPartyId, data.toPartyId], 'partyId');
    const row = await this.newRow(uow, data, ends, new Date());
    await sql(uow)('rapport_relationships').insert(toInsert(uow, row));
    const relationship = toRelationship(row);
    uow.emit('relationship.created', { relationship }, { type: 'relationship', id: relationship.id });
    return relationship;
  }

  /**
   * Inserts relationships in multi-row statements, with the same checks as `create` (type,
   * status, party kinds, validity, typed attributes, the caller's scope, live parties: one
   * query for all ends). For bulk paths such as a plugin's importer, which runs the
   * `relationship.create` filter per row itself and emits one `relationship.created` per
   * relationship. The first invalid input throws and nothing is inserted.
   */
  async insertMany(uow: UnitOfWork, inputs: RelationshipCreateInput[], now = new Date()): Promise<Relationship[]> {
    if (inputs.length === 0) return [];
    for (const data of inputs) refuseScopedWrite(uow, this.requireType(data.type));
    const ends = await this.parties.requireLive(uow, [...new Set(inputs.flatMap((i) => [i.fromPartyId, i.toPartyId]))], 'partyId');
    const rows: RelationshipRow[] = [];
    for (const data of inputs) rows.push(await this.newRow(uow, data, ends, now));
    const size = 4000; // 14 columns per row: far below PostgreSQL's 65,535 bind parameters
    for (let i = 0; i < rows.length; i += size) {
      await sql(uow)('rapport_relationships').insert(rows.slice(i, i + size).map((row) => toInsert(uow, row)));
    }
    return rows.map(toRelationship);
  }

  /** Checks one input against its type, its ends and the caller's scope; returns the row to insert. */
  private async newRow(uow: UnitOfWork, data: RelationshipCreateInput, ends: Map<string, { kind: string }>, now: Date): Promise<RelationshipRow> {
    const type = this.requireType(data.type);
    if (data.fromPartyId === data.toPartyId) {
      throw new ValidationError('A relationship needs two different parties', [{ path: 'toPartyId', message: 'same as fromPartyId' }]);
    }
    checkKind(type, 'from', ends.get(data.fromPartyId)!.kind);
    checkKind(type, 'to', ends.get(data.toPartyId)!.kind);
    // A scoped principal may only create relationships it is itself part of.
    const scopeParty = uow.principal.scopePartyId;
    if (scopeParty && data.fromPartyId !== scopeParty && data.toPartyId !== scopeParty) {
      throw new NotFoundError('Party', data.fromPartyId === scopeParty ? data.toPartyId : data.fromPartyId);
    }
    const statuses = statusesOf(type);
    const status = data.status ?? statuses[0];
    if (!statuses.includes(status)) throw invalidStatus(type, status);
    checkValidity(data.validFrom ?? null, data.validTo ?? null);
    return {
      id: newId(),
      type: type.key,
      from_party_id: data.fromPartyId,
      to_party_id: data.toPartyId,
      from_role: type.fromRole,
      to_role: type.toRole,
      status,
      valid_from: data.validFrom ? new Date(data.validFrom) : null,
      valid_to: data.validTo ? new Date(data.validTo) : null,
      attributes: await checkTypedAttributes(this.deps.fields, uow, 'relationship', type, data.attributes),
      version: 1,
      created_at: now,
      updated_at: now,
    };
  }

  async get(ctx: QueryContext, id: string): Promise<Relationship> {
    const row: RelationshipRow | undefined = await this.visible(ctx)
      .where('r.id', id)
      .first(RELATIONSHIP_COLUMNS.map((c) => `r.${c}`));
    if (!row) throw new NotFoundError('Relationship', id);
    return toRelationship(row);
  }

  async list(ctx: QueryContext, query: RelationshipListQuery): Promise<Page<Relationship>> {
    const q = this.visible(ctx).select(RELATIONSHIP_COLUMNS.map((c) => `r.${c}`));
    if (query.type) q.where('r.type', query.type);
    if (query.status) q.where('r.status', query.status);
    if (query.fields) applyFieldFilters(q, 'r', query.fields);
    if (query.partyId) {
      const partyId = query.partyId;
      const role = query.role;
      q.where((w) =>
        w
          .where((a) => {
            a.where('r.from_party_id', partyId);
            if (role) a.where('r.from_role', role);
          })
          .orWhere((b) => {
            b.where('r.to_party_id', partyId);
            if (role) b.where('r.to_role', role);
          }),
      );
    } else if (query.role) {
      const role = query.role;
      q.where((w) => w.where('r.from_role', role).orWhere('r.to_role', role));
    }
    if (query.active !== undefined) {
      // Pairs of (type, active status) across every declared type, so records of a disabled
      // plugin's type still answer the filter the same way.
      const live = this.deps.registries.relationshipTypes.list({ includeInactive: true }).flatMap((t) => activeStatusesOf(t).map((s) => [t.key, s]));
      const isLive = (w: Knex.QueryBuilder) => {
        if (live.length) w.whereIn(['r.type', 'r.status'], live);
        else w.whereRaw('false');
        w.where((v) => v.whereNull('r.valid_from').orWhere('r.valid_from', '<=', sql(ctx).fn.now()));
        w.where((v) => v.whereNull('r.valid_to').orWhere('r.valid_to', '>', sql(ctx).fn.now()));
      };
      if (query.active) q.where(isLive);
      else q.whereNot(isLive);
    }
    const map = (rows: RelationshipRow[]) => rows.map(toRelationship);
    if (query.fields?.sort) return fieldSortPage(q, 'r', query.fields.sort, query, map);
    return keysetPage(q, query, [{ column: 'r.id', type: 'uuid', direction: 'desc' }], map);
  }

  async update(uow: UnitOfWork, id: string, patch: RelationshipUpdateInput, expectedVersion?: number): Promise<Relationship> {
    const row: RelationshipRow | undefined = await this.visible(uow)
      .where('r.id', id)
      .forUpdate()
      .first(RELATIONSHIP_COLUMNS.map((c) => `r.${c}`));
    if (!row) throw new NotFoundError('Relationship', id);
    if (expectedVersion !== undefined && row.version !== expectedVersion) {
      throw new PreconditionFailedError(`Relationship ${id} is at version ${row.version}, not ${expectedVersion}`, { currentVersion: row.version });
    }
    const current = toRelationship(row);
    const { patch: change } = await uow.filter('relationship.update', { current, patch: structuredClone(patch) });
    const type = this.deps.registries.relationshipTypes.usable(current.type);
    if (!type) {
      throw new ValidationError(`Relationship type "${current.type}" is not available (its plugin is disabled or not installed)`, [{ path: 'type', message: 'type unavailable' }]);
    }
    refuseScopedWrite(uow, type);
    const status = change.status ?? current.status;
    if (status !== current.status) {
      if (!statusesOf(type).includes(status)) throw invalidStatus(type, status);
      const allowed = type.transitions?.[current.status];
      if (type.transitions && !allowed?.includes(status)) {
        throw new ValidationError(`${type.key}: cannot move from "${current.status}" to "${status}"`, [
          { path: 'status', message: `allowed from "${current.status}": ${(allowed ?? []).join(', ') || 'none'}` },
        ]);
      }
    }
    const validFrom = change.validFrom !== undefined ? change.validFrom : current.validFrom;
    const validTo = change.validTo !== undefined ? change.validTo : current.validTo;
    checkValidity(validFrom, validTo);
    const attributes = change.attributes ? await checkTypedAttributes(this.deps.fields, uow, 'relationship', type, change.attributes, current.attributes) : current.attributes;
    await sql(uow)('rapport_relationships')
      .where({ tenant_id: uow.tenantId, id })
      .update({
        status,
        valid_from: validFrom === null ? null : new Date(validFrom),
        valid_to: validTo === null ? null : new Date(validTo),
        attributes: JSON.stringify(attributes),
        version: current.version + 1,
        updated_at: new Date(),
      });
    const relationship = await this.get(uow, id);
    uow.emit('relationship.updated', { relationship, previous: current }, { type: 'relationship', id });
    return relationship;
  }

  requireType(key: string): RelationshipTypeDefinition {
    const type = this.deps.registries.relationshipTypes.usable(key);
    if (!type) throw new ValidationError(`Unknown relationship type "${key}"`, [{ path: 'type', message: 'unknown or disabled relationship type' }]);
    return type;
  }
}

function checkKind(type: RelationshipTypeDefinition, end: 'from' | 'to', kind: string): void {
  const kinds = end === 'from' ? type.fromKinds : type.toKinds;
  if (kinds && !kinds.includes(kind as never)) {
    const role = end === 'from' ? type.fromRole : type.toRole;
    throw new ValidationError(`${type.key}: the ${role} must be a ${kinds.join(' or ')}, not a ${kind}`, [{ path: `${end}PartyId`, message: `wrong party kind for ${role}` }]);
  }
}

function checkValidity(from: string | null, to: string | null): void {
  if (from && to && Date.parse(to) <= Date.parse(from)) {
    throw new ValidationError('validTo must be after validFrom', [{ path: 'validTo', message: 'before validFrom' }]);
  }
}

function invalidStatus(type: RelationshipTypeDefinition, status: string): ValidationError {
  return new ValidationError(`${type.key}: unknown status "${status}"`, [{ path: 'status', message: `one of ${statusesOf(type).join(', ')}` }]);
}

function toInsert(uow: UnitOfWork, row: RelationshipRow) {
  return { ...row, tenant_id: uow.tenantId, attributes: JSON.stringify(row.attributes) };
}

function refuseScopedWrite(uow: UnitOfWork, type: RelationshipTypeDefinition): void {
  if (type.internalOnly && uow.principal.scopePartyId) {
    throw new ForbiddenError(`${type.key} relationships are internal: a principal scoped to a party cannot create or change one`);
  }
}
