import { z } from 'zod';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** `limit` above the cap is clamped, not refused: the cap protects the server, not the client's intent. */
export const pageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_PAGE_SIZE)
    .transform((n) => Math.min(n, MAX_PAGE_SIZE)),
  cursor: z.string().max(500).optional(),
};

export const idParams = z.strictObject({ id: z.uuid() });

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable(), prevCursor: z.string().optional() });
}

export const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');
