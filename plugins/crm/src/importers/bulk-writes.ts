import { RapportError, partyCreateSchema, type Party, type PartyCreateInput, type Relationship, type RelationshipCreateInput, type RowError, type UnitOfWork } from '@rapport/core';
import type { CrmDeps } from '../deps.js';

/** Turns a schema issue path into the CSV column it came from. */
export type ColumnOf = (path: ReadonlyArray<PropertyKey>) => string | undefined;

/*
 * The set-based writes the CRM importers share: parties and relationships through the
 * kernel's multi-row inserts, one event per record.
 */

/**
 * A party a row wants created, checked by the kernel's schema and the `party.create`
 * filters (a plugin's veto rejects that row only). `columnOf` maps an issue path to the
 * CSV column; returns the row errors instead when it is refused.
 */
export async function checkedPartyInput(uow: UnitOfWork, input: PartyCreateInput, columnOf: ColumnOf): Promise<PartyCreateInput | RowError[]> {
  const parsed = partyCreateSchema.safeParse(input);
  if (!parsed.success) return parsed.error.issues.map((issue) => ({ column: columnOf(issue.path), message: issue.message }));
  try {
    return (await uow.filter('party.create', { input: parsed.data })).input;
  } catch (error) {
    if (!(error instanceof RapportError)) throw error;
    return [{ message: error.message }];
  }
}

/** The kernel's multi-row party insert (it validates attributes and contact points), then one `party.created` each. */
export async function insertParties(uow: UnitOfWork, { parties }: CrmDeps, inputs: PartyCreateInput[]): Promise<Party[]> {
  if (inputs.length === 0) return [];
  const created = await parties.insertMany(uow, inputs);
  for (const party of created) uow.emit('party.created', { party }, { type: 'party', id: party.id });
  return created;
}

/**
 * Relationships between live parties the importer already resolved, in one statement.
 * Each first passes the `relationship.create` filters, then the kernel checks them all as
 * `create` would; a veto or a bad row throws, and the import engine then bisects the batch
 * until that row stands alone and is rejected with the reason.
 */
export async function insertRelationships(uow: UnitOfWork, { relationships }: CrmDeps, links: RelationshipCreateInput[]): Promise<Relationship[]> {
  if (links.length === 0) return [];
  const inputs: RelationshipCreateInput[] = [];
  for (const link of links) inputs.push((await uow.filter('relationship.create', { input: link })).input);
  const created = await relationships.insertMany(uow, inputs);
  for (const relationship of created) uow.emit('relationship.created', { relationship }, { type: 'relationship', id: relationship.id });
  return created;
}

/** Which of these (from, to) pairs already have a relationship of the type: one query. */
export async function existingPairs(uow: UnitOfWork, { db, relationships }: CrmDeps, type: string, pairs: Array<[from: string, to: string]>): Promise<Set<string>> {
  const found = new Set<string>();
  if (pairs.length === 0) return found;
  const { raw } = db.in(uow);
  const rows: Array<{ from_party_id: string; to_party_id: string }> = await relationships
    .query(uow, { type })
    .join(raw('unnest(?::uuid[], ?::uuid[]) as k(from_id, to_id)', [pairs.map((p) => p[0]), pairs.map((p) => p[1])]), function () {
      this.on('k.from_id', 'relationships.from_party_id').andOn('k.to_id', 'relationships.to_party_id');
    })
    .distinct('relationships.from_party_id', 'relationships.to_party_id');
  for (const row of rows) found.add(`${row.from_party_id}>${row.to_party_id}`);
  return found;
}
