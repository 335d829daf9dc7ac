import { normalizeContactPoint, normalizeName, type RowError, type UnitOfWork } from '@rapport/core';
import type { CrmDeps } from '../deps.js';

/*
 * Natural keys of the CRM importers: a party is found by a contact point (e-mail, domain)
 * or, for organizations, by name. Every lookup is ONE query for the whole batch, with the
 * keys as array parameters (`unnest`): a row-value IN list of thousands of pairs is slow on
 * PostgreSQL and breaks PGlite.
 */

export type PointKind = 'email' | 'domain';
export type Found = { id: string; kind: string } | 'ambiguous';

export const pointKey = (kind: PointKind, normalized: string) => `${kind}:${normalized}`;
export const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

/**
 * A name folded as core's `normalizeName` folds it, in SQL: the parties view compares one
 * name, and a batch compares all of its names in one statement.
 */
const NAME_KEY_SQL = `lower(regexp_replace(btrim(name), '\\s+', ' ', 'g'))`;

/** The keys a batch wants resolved, collected while its rows are checked. */
export class KeyRequest {
  readonly points = new Map<string, { kind: PointKind; normalized: string }>();
  readonly names = new Set<string>();

  /** Normalizes like the kernel (`https://www.acme.example/` → `acme.example`); a bad value becomes a row error. */
  point(kind: PointKind, value: string | undefined, column: string, errors: RowError[]): string | undefined {
    const given = blank(value);
    if (!given) return undefined;
    try {
      const normalized = normalizeContactPoint({ kind, value: given });
      const key = pointKey(kind, normalized);
      this.points.set(key, { kind, normalized });
      return key;
    } catch (error) {
      errors.push({ column, message: (error as Error).message });
      return undefined;
    }
  }

  /** Names match case- and space-insensitively ("ACME  ltd" = "Acme Ltd"). */
  name(value: string | undefined): string | undefined {
    const given = blank(value);
    if (!given) return undefined;
    const key = normalizeName(given);
    this.names.add(key);
    return key;
  }
}

export interface Resolved {
  byPoint: Map<string, Found>;
  /** Organizations by name key. */
  byName: Map<string, Found>;
}

/**
 * Live (not archived, not merged) parties the importing principal may see, for every
 * requested contact point and organization name: two queries at most. A key two parties
 * share is 'ambiguous' — the row is rejected rather than attached to a guess.
 */
export async function resolveKeys(uow: UnitOfWork, { db, parties }: CrmDeps, request: KeyRequest): Promise<Resolved> {
  const resolved: Resolved = { byPoint: new Map(), byName: new Map() };
  const add = (map: Map<string, Found>, key: string, id: string, kind: string) => {
    const seen = map.get(key);
    map.set(key, seen && (seen === 'ambiguous' || seen.id !== id) ? 'ambiguous' : { id, kind });
  };
  const { raw } = db.in(uow);
  if (request.points.size > 0) {
    const wanted = [...request.points.values()];
    const rows: Array<{ party_id: string; party_kind: string; kind: PointKind; normalized: string }> = await parties
      .contactPointQuery(uow)
      .join(parties.query(uow, { live: true, visible: true }).as('p'), 'p.id', 'contact_points.party_id')
      .join(raw('unnest(?::text[], ?::text[]) as k(kind, normalized)', [wanted.map((w) => w.kind), wanted.map((w) => w.normalized)]), function () {
        this.on('k.kind', 'contact_points.kind').andOn('k.normalized', 'contact_points.normalized');
      })
      .distinct('contact_points.party_id', 'p.kind as party_kind', 'contact_points.kind', 'contact_points.normalized');
    for (const row of rows) add(resolved.byPoint, pointKey(row.kind, row.normalized), row.party_id, row.party_kind);
  }
  if (request.names.size > 0) {
    const rows: Array<{ id: string; name: string }> = await parties
      .query(uow, { kind: 'organization', live: true, visible: true })
      .whereRaw(`${NAME_KEY_SQL} = any(?::text[])`, [[...request.names]])
      .select('id', 'name');
    for (const row of rows) add(resolved.byName, normalizeName(row.name), row.id, 'organization');
  }
  return resolved;
}

/** A found party of the wanted kind, or the row error saying why not. */
export function pick(found: Found | undefined, what: string, kinds: readonly string[]): { id: string } | { error: string } {
  if (!found) return { error: `no ${what}` };
  if (found === 'ambiguous') return { error: `several parties match (${what}); make the key unique or merge the duplicates` };
  if (!kinds.includes(found.kind)) return { error: `party ${found.id} matches but is a ${found.kind}, not a ${kinds.join(' or ')}` };
  return { id: found.id };
}
