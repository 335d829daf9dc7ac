import type { Knex } from 'knex';
import { ValidationError } from '../errors.js';
import { hasPermission } from '../access/principal.js';
import type { RecordScopes } from '../access/record-scopes.js';
import { sql, type QueryContext } from '../kernel/context.js';
import type { KernelRegistries } from '../kernel/kernel.js';
import { keysetPage, keysetWindow, type KeysetKey } from '../http/keyset.js';
import type { Page } from '../util/cursor.js';
import { documentExpression, titleExpression } from './sql.js';

/** Best match first; ties by id, so no hit is skipped or repeated across pages. */
const BEST_FIRST: readonly KeysetKey[] = [
  { column: 'rank', type: 'number', direction: 'desc' },
  { column: 'id', type: 'uuid', direction: 'desc' },
];

interface HitRow {
  type: string;
  id: string;
  title: string | null;
  snippet: string | null;
  rank: number | string;
}

export interface SearchHit {
  type: string;
  id: string;
  title: string;
  snippet: string | null;
  rank: number;
}

export interface SearchQuery {
  q: string;
  types?: string[];
  limit: number;
  cursor?: string;
}

/** What one query string becomes: the lower-cased text, its contact-point form, its tsquery. */
export interface SearchTerms {
  /** Lower-cased, single-spaced: compared with names and titles by trigrams. */
  text: string;
  /** The contact point form: a bare domain, an e-mail address, digits. */
  point: string;
  /** `point` without its ending (`.example`, `.com`): what trigrams compare contact points on. */
  pointCore: string;
  tsquery: string;
}

/*
 * Words nearly every company name has ("GmbH", "Ltd", "Inc"): their trigrams are in a quarter
 * of all names, so the trigram index would hand back tens of thousands of candidates to
 * recheck. They are left out of the trigram text when other words remain ("ACME GmbH"
 * compares as "acme"); full text still sees them.
 */
const LEGAL_FORMS = new Set([
  'gmbh',
  'ltd',
  'inc',
  'llc',
  'llp',
  'plc',
  'corp',
  'co',
  'ag',
  'kg',
  'sa',
  'sas',
  'sarl',
  'srl',
  'spa',
  'bv',
  'nv',
  'oy',
  'ab',
  'as',
  'pty',
  'limited',
  'gbr',
  'ug',
  'se',
]);

/**
 * Lower case and single spaces for trigrams; a URL or `www.` host reduced to the bare domain
 * contact points store; words (letters and digits) as prefixes joined by `&` for full text.
 * Words are all the tsquery holds, so nothing the caller types is tsquery syntax.
 */
export function searchTerms(q: string): SearchTerms {
  const text = q.trim().toLowerCase().replace(/\s+/g, ' ');
  const point = text
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    .replace(/^www\./, '')
    .replace(/[/?#].*$/, '')
    .replace(/\.$/, '');
  const words = text.match(/[\p{L}\p{N}]+/gu) ?? [];
  if (words.length === 0) throw new ValidationError('The search has no letters or digits', [{ path: 'q', message: 'type a word to search for' }]);
  const distinctive = words.filter((w) => !LEGAL_FORMS.has(w));
  const trigramText = distinctive.length && distinctive.length < words.length ? distinctive.join(' ') : text;
  // Every domain of a tenant may end in the same TLD: its trigrams would match them all.
  const core = point.replace(/\.[a-z]{2,}$/, '');
  return {
    text: trigramText,
    point,
    pointCore: core.length >= 3 ? core : point,
    tsquery: words
      .slice(0, 16)
      .map((w) => `${w}:*`)
      .join(' & '),
  };
}

const KERNEL_TYPES = [
  { type: 'party', permission: 'parties:read' },
  { type: 'interaction', permission: 'interactions:read' },
] as const;

/**
 * Search across parties (names, contact points), interactions (subject, summary) and the
 * records plugins declare searchable. Every source is one SELECT with the caller's record
 * scope compiled into it (`scopes.apply`), ranked, cut at the page size after the keyset
 * position; the sources are one UNION ALL ordered by (rank, id) — one statement, on both
 * databases. docs/search.md.
 */
export class SearchService {
  constructor(
    private readonly registries: KernelRegistries,
    private readonly scopes: RecordScopes,
  ) {}

  /** The types a caller may search: kernel ones and enabled plugins' sources, by read permission. */
  typesFor(ctx: QueryContext): string[] {
    return [
      ...KERNEL_TYPES.filter((t) => hasPermission(ctx.principal, t.permission)).map((t) => t.type),
      ...this.registries.searchSources
        .list()
        .filter((s) => hasPermission(ctx.principal, s.permission))
        .map((s) => s.key),
    ];
  }

  async search(ctx: QueryContext, query: SearchQuery): Promise<Page<SearchHit>> {
    const terms = searchTerms(query.q);
    const allowed = this.typesFor(ctx);
    if (query.types) {
      const known = ['party', 'interaction', ...this.registries.searchSources.list().map((s) => s.key)];
      const unknown = query.types.filter((t) => !known.includes(t));
      if (unknown.length) throw new ValidationError(`Unknown search types: ${unknown.join(', ')}`, [{ path: 'types', message: `one of ${known.join(', ')}` }]);
    }
    const types = query.types ? allowed.filter((t) => query.types!.includes(t)) : allowed;
    const db = sql(ctx);
    const parts = types.map((type) => this.page(db, this.source(ctx, type, terms), query));
    if (parts.length === 0) {
      keysetWindow(db.queryBuilder(), query, BEST_FIRST); // a bad cursor is a 400 even when no type is searchable
      return { data: [], nextCursor: null };
    }
    // Each source is cut to the page's window first, so the union sorts at most a page and one per source.
    const union = db.select('type', 'id', 'title', 'snippet', 'rank').from(db.raw(`(${parts.map(() => '(?)').join(' union all ')}) as hits`, parts));
    return keysetPage(union, query, BEST_FIRST, (rows: HitRow[]) => rows.map((r) => ({ type: r.type, id: r.id, title: r.title ?? '', snippet: r.snippet, rank: Number(r.rank) })));
  }

  /** Each source's statement (for EXPLAIN in the benchmark). */
  explainable(ctx: QueryContext, query: SearchQuery): Array<{ sql: string; bindings: readonly unknown[] }> {
    const terms = searchTerms(query.q);
    return this.typesFor(ctx).map((type) => this.page(sql(ctx), this.source(ctx, type, terms), { limit: query.limit }).toSQL());
  }

  /** One source's hits in the page's keyset window, best first, at most a page and one. */
  private page(db: Knex, source: Knex.QueryBuilder, page: { limit: number; cursor?: string | undefined }): Knex.QueryBuilder {
    const q = db.from(source.as('s')).select('s.type', 's.id', 's.title', 's.snippet', 's.rank');
    keysetWindow(q, page, BEST_FIRST);
    return q;
  }

  private source(ctx: QueryContext, type: string, terms: SearchTerms): Knex.QueryBuilder {
    if (type === 'party') return this.scopes.apply(partyHits(ctx, terms), ctx, 'parties', 'p.id');
    if (type === 'interaction') return this.scopes.apply(interactionHits(ctx, terms), ctx, 'interactions', 'i.id');
    const source = this.registries.searchSources.usable(type)!;
    const title = titleExpression(source.title, 't');
    const document = documentExpression(source.title, source.text ?? [], 't');
    const db = sql(ctx);
    const q = db(`${source.table} as t`)
      .where('t.tenant_id', ctx.tenantId)
      .whereRaw(`(${title} % ? or ? <% ${title} or ${document} @@ to_tsquery('simple', ?))`, [terms.text, terms.text, terms.tsquery])
      .select(
        db.raw('?::text as type', [type]),
        't.id',
        db.raw(`t."${source.title}"::text as title`),
        db.raw('null::text as snippet'),
        db.raw(`greatest(similarity(${title}, ?), word_similarity(?, ${title}), ts_rank(${document}, to_tsquery('simple', ?)))::float8 as rank`, [terms.text, terms.text, terms.tsquery]),
      );
    source.restrict?.(q, ctx, 't');
    return this.scopes.apply(q, ctx, source.resource, 't.id');
  }
}

const PARTY_TITLE = titleExpression('name', 'p0');
/**
 * Contact points share their endings (`.example`, `@gmail.com`): above pg_trgm's default 0.3
 * two unrelated domains of one TLD would match. Half their trigrams must be shared.
 */
const CONTACT_POINT_SIMILARITY = 0.5;
/** …unless the query is a whole word of one (`acme` in ada@acme.example). */
const CONTACT_POINT_WORD_SIMILARITY = 0.8;
const PARTY_DOCUMENT = documentExpression('name', [], 'p0');

/**
 * Parties whose name is like the query (trigram similarity, word similarity, or its words
 * as prefixes) or that hold a contact point like it (`www.acme.example` finds the party whose
 * domain is acme.example). Each branch is a GIN index scan; the best rank per party wins.
 */
function matchingParties(ctx: QueryContext, terms: SearchTerms): Knex.Raw {
  return sql(ctx).raw(
    `select id, max(rank) as rank from (
       select p0.id, (greatest(similarity(${PARTY_TITLE}, ?), word_similarity(?, ${PARTY_TITLE}), ts_rank(${PARTY_DOCUMENT}, to_tsquery('simple', ?))) + case when ${PARTY_TITLE} = ? then 1 else 0 end) as rank
       from rapport_parties as p0
       where p0.tenant_id = ? and (${PARTY_TITLE} % ? or ? <% ${PARTY_TITLE} or ${PARTY_DOCUMENT} @@ to_tsquery('simple', ?))
       union all
       select cp.party_id as id, (case when cp.normalized = ? then 1 else greatest(similarity(cp.normalized, ?), 0.9 * strict_word_similarity(?, cp.normalized)) end) as rank
       from rapport_contact_points as cp
       where cp.tenant_id = ? and (cp.normalized = ?
         or (cp.normalized % ? and similarity(cp.normalized, ?) >= ${CONTACT_POINT_SIMILARITY})
         or (? <<% cp.normalized and strict_word_similarity(?, cp.normalized) >= ${CONTACT_POINT_WORD_SIMILARITY}))
     ) as matched group by id`,
    [
      ...[terms.text, terms.text, terms.tsquery, terms.text, ctx.tenantId, terms.text, terms.text, terms.tsquery],
      ...[terms.point, terms.point, terms.pointCore, ctx.tenantId, terms.point, terms.pointCore, terms.pointCore, terms.pointCore, terms.pointCore],
    ],
  );
}

function partyHits(ctx: QueryContext, terms: SearchTerms): Knex.QueryBuilder {
  const db = sql(ctx);
  return db
    .from(db.raw('(?) as h', [matchingParties(ctx, terms)]))
    .join('rapport_parties as p', function () {
      this.on('p.id', 'h.id').andOn('p.tenant_id', db.raw('?::uuid', [ctx.tenantId]));
    })
    .whereNull('p.merged_into_id')
    .whereNull('p.archived_at')
    .select(db.raw("'party'::text as type"), 'p.id', 'p.name as title', db.raw('null::text as snippet'), db.raw('h.rank::float8 as rank'));
}

/** The stored tsvector of subject and summary (generated column, migration 0011_search). */
const INTERACTION_DOCUMENT = 'i.search_document';

function interactionHits(ctx: QueryContext, terms: SearchTerms): Knex.QueryBuilder {
  const db = sql(ctx);
  return (
    db('rapport_interactions as i')
      .where('i.tenant_id', ctx.tenantId)
      // Full text only: trigrams over a million subjects cost 10–20 ms a query even when nothing matches (docs/performance.md).
      .whereRaw(`${INTERACTION_DOCUMENT} @@ to_tsquery('simple', ?)`, [terms.tsquery])
      .select(
        db.raw("'interaction'::text as type"),
        'i.id',
        db.raw('coalesce(i.subject, i.type) as title'),
        db.raw('left(i.summary, 200) as snippet'),
        db.raw(`ts_rank(${INTERACTION_DOCUMENT}, to_tsquery('simple', ?))::float8 as rank`, [terms.tsquery]),
      )
  );
}

/**
 * The ids of parties a `GET /parties?q=` matches: the search's own predicate, so the list
 * and the search agree (and both use the trigram and full-text indexes).
 */
export function partyIdsMatching(ctx: QueryContext, q: string): Knex.QueryBuilder {
  const db = sql(ctx);
  return db.from(db.raw('(?) as m', [matchingParties(ctx, searchTerms(q))])).select('m.id');
}
