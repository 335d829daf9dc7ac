import type { Knex } from 'knex';
import type { QueryContext } from '../kernel/context.js';

/**
 * A plugin record type that search finds (`api.search.define`): rows of the plugin's own
 * `table`, matched on `title` (typo-tolerant trigrams) and on `title` + `text` (full text),
 * limited for a scoped principal by the plugin's record scope `resource`, and only for
 * callers holding `permission`. The plugin's migration creates the two indexes with
 * `createSearchIndexes(knex, table, { title, text })`.
 */
export interface SearchSourceDefinition {
  /** The hit's type, `<plugin>.<record>` (`crm.deal`). */
  key: string;
  table: string;
  title: string;
  text?: readonly string[];
  /** A record scope the plugin declares (`crm.deals`). */
  resource: string;
  /** The permission that reads these records (`crm.deals:read`). */
  permission: string;
  /** Plural for people (`Deals`). */
  label?: string;
  /**
   * A rule beyond the record scope that the plugin's own lists apply (a sales rep sees only
   * the deals it owns): added to the search's WHERE on `alias.*`, never applied afterwards.
   */
  restrict?(query: Knex.QueryBuilder, ctx: QueryContext, alias: string): void;
}
