import type { Knex } from 'knex';
import { trigramOperatorClass } from '../storage/trigram.js';

/*
 * The expressions search matches on. Each is indexed exactly as written here (expression
 * indexes, maintained by PostgreSQL in the writing transaction), so the planner can use the
 * index only if the query spells the expression the same way: both come from these functions.
 * The text search configuration is 'simple' (no stemming, no stop words): names, domains and
 * subjects in any language match as typed.
 */

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function column(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`"${name}" is not a column name`);
  return `"${name}"`;
}

const prefixed = (alias: string | undefined, name: string) => (alias ? `${alias}.${column(name)}` : column(name));

/** The short text typo tolerance runs on (trigrams): lower-cased. */
export function titleExpression(title: string, alias?: string): string {
  return `lower(${prefixed(alias, title)})`;
}

/** The document full-text search runs on: the title and the longer texts. */
export function documentExpression(title: string, text: readonly string[], alias?: string): string {
  const parts = [title, ...text].map((name) => `coalesce(${prefixed(alias, name)}, '')`);
  return `to_tsvector('simple', ${parts.join(" || ' ' || ")})`;
}

/**
 * The two indexes a searchable table needs: trigrams on its title, a tsvector of its
 * document. For a plugin's migration (`createSearchIndexes(knex, 'crm_deals', { title: 'title' })`),
 * after the kernel's 0011_search migration has installed pg_trgm.
 *
 * A list's "contains" filter (`applyTextList`) already wants a trigram index on the same
 * `lower(title)`, made by the table's list-index migration through `trigramOperatorClass`:
 * when the table has one, it is the title index search uses too, rather than a second,
 * identical index that every write would maintain and the planner would pick at random.
 */
export async function createSearchIndexes(knex: Knex, table: string, spec: { title: string; text?: readonly string[] }): Promise<void> {
  if (!IDENTIFIER.test(table)) throw new Error(`"${table}" is not a table name`);
  if (!(await hasTitleTrigramIndex(knex, table, spec.title))) {
    const trigram = await trigramOperatorClass(knex);
    if (!trigram) throw new Error(`Search needs the pg_trgm extension for ${table} (docs/search.md)`);
    await knex.raw(`create index ${table}_search_title_idx on ${table} using gin (${titleExpression(spec.title)} ${trigram})`);
  }
  await knex.raw(`create index ${table}_search_document_idx on ${table} using gin (${documentExpression(spec.title, spec.text ?? [])})`);
}

/** Whether `table` (as the search path finds it) has a GIN trigram index on exactly `lower(title)`. */
async function hasTitleTrigramIndex(knex: Knex, table: string, title: string): Promise<boolean> {
  column(title);
  // pg_get_indexdef prints `… USING gin (lower(name) public.gin_trgm_ops)`; a varchar column as `lower((name)::text)`.
  const definition = `USING gin \\(lower\\(\\(?"?${title}"?\\)?(::text)?\\) ([^ ]+\\.)?gin_trgm_ops\\)$`;
  const result = await knex.raw(
    `select 1 from pg_index x join pg_class i on i.oid = x.indexrelid join pg_am am on am.oid = i.relam
     where x.indrelid = to_regclass(?) and am.amname = 'gin' and x.indnatts = 1 and x.indpred is null and pg_get_indexdef(x.indexrelid) ~ ?`,
    [table, definition],
  );
  return (result.rows as unknown[]).length > 0;
}

export async function dropSearchIndexes(knex: Knex, table: string): Promise<void> {
  if (!IDENTIFIER.test(table)) throw new Error(`"${table}" is not a table name`);
  await knex.raw(`drop index if exists ${table}_search_title_idx`);
  await knex.raw(`drop index if exists ${table}_search_document_idx`);
}
