import { describe, expect, it } from 'vitest';
import { validate, version } from 'uuid';
import { newId } from '../src/util/ids.js';

describe('newId', () => {
  it('makes valid, distinct UUIDv7s in the order they were made, even many in one millisecond', () => {
    const before = Date.now();
    const ids = Array.from({ length: 20_000 }, () => newId());
    expect(ids.every((id) => validate(id) && version(id) === 7 && id === id.toLowerCase())).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1])).toBe(true);
    // The first 48 bits are the time in milliseconds.
    const ms = Number.parseInt(ids[0].replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });
});
