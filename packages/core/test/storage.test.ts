import { describe, expect, it } from 'vitest';
import { isolatedDatabase } from '@rapport/testing';
import { openDatabase } from '../src/storage/database.js';

describe('storage', () => {
  it('counts deleted and updated rows the same way on both databases', async () => {
    const isolated = await isolatedDatabase();
    const db = openDatabase(isolated.config);
    try {
      await db.knex.schema.createTable('counting', (t) => t.integer('n'));
      await db.knex('counting').insert([{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect(await db.knex('counting').where('n', '>', 1).update({ n: 9 })).toBe(2);
      expect(await db.knex('counting').where('n', 9).delete()).toBe(2);
      expect(await db.knex('counting').where('n', 42).delete()).toBe(0);
      expect(await db.knex('counting').count('* as c').first()).toEqual({ c: 1 });
    } finally {
      await db.close();
      await isolated.dispose();
    }
  });
});
