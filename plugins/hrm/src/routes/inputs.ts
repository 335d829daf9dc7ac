import { z } from 'zod';
import { contactPointSchema, isoTimestamp } from '@rapport/core';

/* Input pieces several of HRM's routes take. */

export const name = z.string().trim().min(1).max(300);
/** A new person (a hire, a candidate): a name and, optionally, contact points. */
export const newPerson = z.strictObject({ name, contactPoints: z.array(contactPointSchema).max(50).optional() });

const EARLIEST = Date.parse('1900-01-01T00:00:00Z');
const LATEST = Date.parse('9000-01-01T00:00:00Z');
export const HRM_TIME_RANGE = 'a time from 1900-01-01 to 8999-12-31';

/**
 * Whether a time HRM takes (a start, an end, a period) is from 1900 to the end of 8999, so
 * every date derived from it (onboarding due dates up to a year on, SLA targets) stays a date
 * PostgreSQL and JavaScript hold, rather than a 500 past year 9999.
 */
export function inHrmTimeRange(value: string): boolean {
  const at = Date.parse(value);
  return at >= EARLIEST && at < LATEST;
}

export const hrmTimestamp = isoTimestamp.refine(inHrmTimeRange, HRM_TIME_RANGE);
