import { ConflictError, NotFoundError, ValidationError, keysetPage, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { hrm, type Unit, type UnitDetail } from '@rapport/hrm-contract';
import { SCOPES, TYPES } from '../declarations.js';
import type { HrmDeps } from '../deps.js';

interface UnitRow {
  id: string;
  name: string;
  parent_id: string | null;
}

const toUnit = (row: UnitRow): Unit => ({ id: row.id, name: row.name, parentId: row.parent_id ?? null });

/** The unit tree: parties of kind `unit`, each `hrm.part-of` its parent. Walks of the tree are recursive kernel views. */
export class UnitService {
  constructor(private readonly deps: HrmDeps) {}

  /** Units (not archived) with their current parent, as one query to page or filter further. */
  private unitsQuery(ctx: QueryContext, ids?: readonly string[]) {
    const parents = this.deps.relationships.query(ctx, { type: TYPES.partOf, status: 'active' }).as('r');
    return this.deps.parties
      .query(ctx, { kind: 'unit', ...(ids && { ids }) })
      .whereNull('parties.archived_at')
      .leftJoin(parents, 'r.from_party_id', 'parties.id')
      .select('parties.id', 'parties.name', 'r.to_party_id as parent_id');
  }

  async units(ctx: QueryContext, ids: readonly string[]): Promise<Unit[]> {
    const rows: UnitRow[] = await this.unitsQuery(ctx, ids);
    return rows.map(toUnit);
  }

  async isUnit(ctx: QueryContext, partyId: string): Promise<boolean> {
    return (await this.units(ctx, [partyId])).length === 1;
  }

  /** A 400 naming the field when the unit does not exist. */
  async require(ctx: QueryContext, id: string, field = 'unitId'): Promise<Unit> {
    const [unit] = await this.units(ctx, [id]);
    if (!unit) throw new ValidationError(`${field}: unit ${id} does not exist`, [{ path: field, message: 'unknown unit' }]);
    return unit;
  }

  /** The tree, flat, by id; a scoped caller sees it only while it is an employee. */
  list(ctx: QueryContext, query: { limit: number; cursor?: string; parentId?: string }): Promise<Page<Unit>> {
    const q = this.unitsQuery(ctx);
    this.deps.scopes.apply(q, ctx, SCOPES.units, 'parties.id');
    if (query.parentId) {
      q.whereIn('parties.id', this.deps.relationships.query(ctx, { type: TYPES.partOf, status: 'active', toPartyId: query.parentId }).select('from_party_id'));
    }
    return keysetPage(q, query, [{ column: 'parties.id', type: 'uuid' }], (rows: UnitRow[]) => rows.map(toUnit));
  }

  async detail(ctx: QueryContext, id: string): Promise<UnitDetail> {
    const visible = await this.deps.scopes.canSee(ctx, SCOPES.units, id);
    const [unit] = visible ? await this.units(ctx, [id]) : [];
    if (!unit) throw new NotFoundError('Unit', id);
    const children: Array<{ id: string }> = await this.deps.relationships
      .query(ctx, { type: TYPES.partOf, status: 'active', toPartyId: unit.id })
      .orderBy('from_party_id')
      .select('from_party_id as id');
    const [{ n }] = await this.deps.relationships.query(ctx, { type: TYPES.employment, status: 'active' }).whereRaw("attributes->>'unitId' = ?", [unit.id]).count<{ n: string }[]>('* as n');
    return { ...unit, childIds: children.map((c) => c.id), headcount: Number(n) };
  }

  async create(uow: UnitOfWork, input: { name: string; parentId?: string | null }): Promise<Unit> {
    const parentId = input.parentId ?? null;
    if (parentId) await this.require(uow, parentId, 'parentId');
    const party = await this.deps.parties.create(uow, { kind: 'unit', name: input.name });
    if (parentId) await this.deps.relationships.create(uow, { type: TYPES.partOf, fromPartyId: party.id, toPartyId: parentId });
    const unit = { id: party.id, name: party.name, parentId };
    uow.emit(hrm.events.unitCreated, { unit }, { type: 'hrm.unit', id: unit.id });
    return unit;
  }

  /** Sets (or clears) a unit's parent; refuses a move that would make the tree a cycle. */
  async move(uow: UnitOfWork, unitId: string, parentId: string | null): Promise<Unit> {
    const [unit] = await this.units(uow, [unitId]);
    if (!unit) throw new NotFoundError('Unit', unitId);
    if (parentId) {
      await this.require(uow, parentId, 'parentId');
      if ((await this.ancestorsOf(uow, parentId)).includes(unitId)) {
        throw new ConflictError(`hrm: unit ${unitId} cannot be placed under ${parentId}: the unit tree would have a cycle`);
      }
    }
    if (unit.parentId === parentId) return unit;
    const current: Array<{ id: string; version: number }> = await this.deps.relationships.query(uow, { type: TYPES.partOf, fromPartyId: unitId, status: 'active' }).select('id', 'version');
    for (const line of current) await this.deps.relationships.update(uow, line.id, { status: 'ended', validTo: new Date().toISOString() }, line.version);
    if (parentId) await this.deps.relationships.create(uow, { type: TYPES.partOf, fromPartyId: unitId, toPartyId: parentId });
    const moved = { ...unit, parentId };
    uow.emit(hrm.events.unitMoved, { unit: moved, previousParentId: unit.parentId }, { type: 'hrm.unit', id: unitId });
    return moved;
  }

  /** The unit and every unit above it. */
  private async ancestorsOf(ctx: QueryContext, unitId: string): Promise<string[]> {
    const rows: Array<{ party_id: string }> = await this.deps.relationships.reachable(ctx, { type: TYPES.partOf, from: unitId, along: 'from-to', maxDepth: 1000 }).select('party_id');
    return rows.map((r) => r.party_id);
  }

  /** The units and every unit below them, sorted. */
  async withDescendants(ctx: QueryContext, roots: readonly string[]): Promise<string[]> {
    const rows: Array<{ party_id: string }> = await this.deps.relationships
      .reachable(ctx, { type: TYPES.partOf, from: roots, along: 'to-from', maxDepth: 1000 })
      .distinct('party_id')
      .orderBy('party_id');
    return rows.map((r) => r.party_id);
  }

  /** Each unit with itself and every unit above it, in one query for all of them. */
  async chainsOf(ctx: QueryContext, unitIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const rows: Array<{ origin: string; party_id: string }> = await this.deps.relationships.reachable(ctx, { type: TYPES.partOf, from: unitIds, along: 'from-to' }).select('origin', 'party_id');
    const chains = new Map<string, Set<string>>();
    for (const row of rows) {
      const chain = chains.get(row.origin) ?? new Set<string>();
      chain.add(row.party_id);
      chains.set(row.origin, chain);
    }
    return chains;
  }

  /** Units by name, compared lower-cased, in one query: name → ids (several: ambiguous). */
  async idsByName(ctx: QueryContext, names: readonly string[]): Promise<Map<string, string[]>> {
    const wanted = [...new Set(names.map((n) => n.toLowerCase()))];
    const out = new Map<string, string[]>();
    if (wanted.length === 0) return out;
    const rows: Array<{ id: string; name: string }> = await this.deps.parties
      .query(ctx, { kind: 'unit' })
      .whereNull('archived_at')
      // Under "C", as the parties' name index is (equality is bytewise either way).
      .whereRaw('lower(name) collate "C" = any(?::text[])', [wanted])
      .select('id', 'name');
    for (const row of rows) out.set(row.name.toLowerCase(), [...(out.get(row.name.toLowerCase()) ?? []), row.id]);
    return out;
  }
}
