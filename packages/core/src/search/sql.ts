import type { Knex } from 'knex';

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
 */
export async function createSearchIndexes(knex: Knex, table: string, spec: { title: string; text?: readonly string[] }): Promise<void> {
  if (!IDENTIFIER.test(table)) throw new Error(`"${table}" is not a table name`);
  await knex.raw(`create index ${table}_search_title_idx on ${table} using gin (${titleExpression(spec.title)} gin_trgm_ops)`);
  await knex.raw(`create index ${table}_search_document_idx on ${table} using gin (${documentExpression(spec.title, spec.text ?? [])})`);
}

export async function dropSearchIndexes(knex: Knex, table: string): Promise<void> {
  if (!IDENTIFIER.test(table)) throw new Error(`"${table}" is not a table name`);
  await knex.raw(`drop index if exists ${table}_search_title_idx`);
  await knex.raw(`drop index if exists ${table}_search_document_idx`);
}
