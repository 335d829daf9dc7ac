import { normalizeContactPoint, type Rapport, type RowError, type UnitOfWork } from '@rapport/core';

/*
 * Natural keys of the CRM importers: a party is found by a contact point (e-mail, domain)
 * or, for organizations, by name. Every lookup is ONE query for the whole batch, with the
 * keys as array parameters (`unnest`): a row-value IN list of thousands of pairs is slow on
 * PostgreSQL and breaks PGlite.
 */

export type PointKind = 'email' | 'domain';
export type Found = { id: string; kind: string } | 'ambiguous';

export const pointKey = (kind: PointKind, normalized: string) => `${kind}:${normalized}`;
/** Names match case- and space-insensitively ("ACME  ltd" = "Acme Ltd"). */
export const nameKey = (name: string) => name.trim().replace(/\s+/g, ' ').toLowerCase();
export const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

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

  name(value: string | undefined): string | undefined {
    const given = blank(value);
    if (!given) return undefined;
    const key = nameKey(given);
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
export async function resolveKeys(uow: UnitOfWork, app: Rapport, request: KeyRequest): Promise<Resolved> {
  const resolved: Resolved = { byPoint: new Map(), byName: new Map() };
  const add = (map: Map<string, Found>, key: string, id: string, kind: string) => {
    const seen = map.get(key);
    map.set(key, seen && (seen === 'ambiguous' || seen.id !== id) ? 'ambiguous' : { id, kind });
  };
  if (request.points.size > 0) {
    const wanted = [...request.points.values()];
    const query = uow
      .trx('rapport_contact_points as c')
      .join('rapport_parties as p', function () {
        this.on('p.tenant_id', 'c.tenant_id').andOn('p.id', 'c.party_id');
      })
      .join(uow.trx.raw('unnest(?::text[], ?::text[]) as k(kind, normalized)', [wanted.map((w) => w.kind), wanted.map((w) => w.normalized)]), function () {
        this.on('k.kind', 'c.kind').andOn('k.normalized', 'c.normalized');
      })
      .where('c.tenant_id', uow.tenantId)
      .whereNull('p.archived_at')
      .whereNull('p.merged_into_id')
      .distinct('c.party_id', 'p.kind as party_kind', 'c.kind', 'c.normalized');
    const rows: Array<{ party_id: string; party_kind: string; kind: PointKind; normalized: string }> = await app.scopes.apply(query, uow, 'parties', 'p.id');
    for (const row of rows) add(resolved.byPoint, pointKey(row.kind, row.normalized), row.party_id, row.party_kind);
  }
  if (request.names.size > 0) {
    const query = uow
      .trx('rapport_parties as p')
      .where('p.tenant_id', uow.tenantId)
      .where('p.kind', 'organization')
      .whereNull('p.archived_at')
      .whereNull('p.merged_into_id')
      .whereRaw(`lower(regexp_replace(btrim(p.name), '\\s+', ' ', 'g')) = any(?::text[])`, [[...request.names]])
      .select('p.id', 'p.name');
    const rows: Array<{ id: string; name: string }> = await app.scopes.apply(query, uow, 'parties', 'p.id');
    for (const row of rows) add(resolved.byName, nameKey(row.name), row.id, 'organization');
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

