import type { Knex } from 'knex';
import type { Migration } from '../storage/migrations.js';
import { createSearchIndexes } from './sql.js';

/**
 * Search (docs/search.md): pg_trgm, and expression indexes on the source tables rather than
 * a separate search table, so a search document can never lag its record: PostgreSQL
 * maintains the indexes in the very statement that writes the row, imports included.
 */
export const searchMigration: Migration = {
  name: '0011_search',
  async up(knex: Knex) {
    // In `public`, which every search path here includes (a per-schema copy would vanish with its schema).
    await knex.raw('create extension if not exists pg_trgm with schema public');
    await createSearchIndexes(knex, 'rapport_parties', { title: 'name' });
    await createSearchIndexes(knex, 'rapport_interactions', { title: 'subject', text: ['summary'] });
    // Contact points: e-mail addresses, phone digits and bare domains as normalized.
    await knex.raw('create index rapport_contact_points_search_idx on rapport_contact_points using gin (normalized gin_trgm_ops)');
  },
};
