import { describe, expect, it } from 'vitest';
import { iso, isoRequired } from '../src/util/time.js';

describe('ISO 8601 times', () => {
  it('keeps a UTC time already in normal form, and converts every other form to it', () => {
    expect(isoRequired('2024-05-03T07:30:00.000Z')).toBe('2024-05-03T07:30:00.000Z');
    expect(isoRequired('2024-05-03T09:30:00+02:00')).toBe('2024-05-03T07:30:00.000Z');
    expect(isoRequired('2024-05-03T07:30:00Z')).toBe('2024-05-03T07:30:00.000Z');
    expect(isoRequired('2024-05-03T07:30:00.5Z')).toBe('2024-05-03T07:30:00.500Z');
    expect(isoRequired(new Date(Date.UTC(2024, 4, 3, 7, 30)))).toBe('2024-05-03T07:30:00.000Z');
    expect(iso(null)).toBeNull();
    expect(iso('2024-05-03T09:30:00-02:00')).toBe('2024-05-03T11:30:00.000Z');
  });
});
