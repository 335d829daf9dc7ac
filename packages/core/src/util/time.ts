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

/**
 * A calendar day, `YYYY-MM-DD`, from a DATE column: the driver gives a Date at local midnight
 * (read back with local getters, or the day shifts by the server's offset) or the text itself.
 */
export function calendarDay(value: Date | string): string;
export function calendarDay(value: Date | string | null | undefined): string | null;
export function calendarDay(value: Date | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.slice(0, 10);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${String(value.getFullYear()).padStart(4, '0')}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}`;
}
