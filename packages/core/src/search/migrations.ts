import type { Knex } from 'knex';
import type { Migration } from '../storage/migrations.js';
import { trigramOperatorClass } from '../storage/trigram.js';
import { createSearchIndexes, documentExpression } from './sql.js';

/**
 * Search (docs/search.md): pg_trgm, and indexes on the source tables (expressions, and a
 * generated column for interactions) rather than a separate search table, so a search
 * document can never lag its record: PostgreSQL maintains them in the very statement that
 * writes the row, imports included.
 */
export const searchMigration: Migration = {
  name: '0011_search',
  async up(knex: Knex) {
    // pg_trgm as the list indexes (0008_list_indexes) install it: in `public` where that is
    // writable (a per-schema copy would vanish with its schema), under an advisory lock so two
    // schemas migrating at once do not race to create it. Search cannot do without it.
    const trigram = await trigramOperatorClass(knex);
    if (!trigram) throw new Error('Search needs the pg_trgm extension (docs/search.md)');
    // Its title index is the list's rapport_parties_name_trgm_idx (createSearchIndexes reuses it).
    await createSearchIndexes(knex, 'rapport_parties', { title: 'name' });
    // Interactions are many and long: their tsvector is stored (a generated column), so ranking
    // and rechecking a thousand matches reads it instead of parsing every subject and summary again.
    await knex.raw(`alter table rapport_interactions add column search_document tsvector generated always as (${documentExpression('subject', ['summary'])}) stored`);
    await knex.raw('create index rapport_interactions_search_document_idx on rapport_interactions using gin (search_document)');
    // Contact points: e-mail addresses, phone digits and bare domains as normalized.
    await knex.raw(`create index rapport_contact_points_search_idx on rapport_contact_points using gin (normalized ${trigram})`);
  },
};
