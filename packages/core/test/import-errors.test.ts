import { describe, expect, it } from 'vitest';
import { isFatalError } from '../src/import/errors.js';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('telling a bad row from a broken import run', () => {
  it('bisects constraint violations, also as Citus reports them from a worker (XX000), and stops on other internal errors', () => {
    expect(isFatalError(pgError('23514', 'new row for relation "bulk_items" violates check constraint "bulk_items_code_check"'))).toBe(false);
    expect(isFatalError(pgError('XX000', 'new row for relation "bulk_items_102008" violates check constraint "bulk_items_code_check"'))).toBe(false);
    expect(isFatalError(pgError('XX000', 'duplicate key value violates unique constraint "bulk_items_pkey_102008"'))).toBe(false);
    expect(isFatalError(pgError('XX000', 'could not connect to node 127.0.0.1:9701'))).toBe(true);
    expect(isFatalError(pgError('42P01', 'relation "bulk_items" does not exist'))).toBe(true);
  });
});
