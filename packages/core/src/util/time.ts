/** What `Date.prototype.toISOString` writes for years 0001–9999: such a string is its own normal form. */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** PostgreSQL returns Date objects; the API speaks ISO 8601 strings. */
export function iso(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return isoRequired(value);
}

/**
 * The UTC ISO 8601 form of a time. A string already in that form is returned as it is (a bulk
 * import passes one per row: parsing and printing it again cost more than the rest of its
 * checks); any other form (an offset, no milliseconds) is converted.
 */
export function isoRequired(value: Date | string): string {
  if (value instanceof Date) return value.toISOString();
  return CANONICAL.test(value) ? value : new Date(value).toISOString();
}
