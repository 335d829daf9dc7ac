/** One page of a Rapport list: `{ data, nextCursor }` (keyset; `null` after the last page). */
export interface PageOf<T> {
  data: T[];
  nextCursor: string | null;
}

/**
 * Follows `nextCursor` until the last page and returns every item, stopping after `max`
 * items (default 10,000) so a huge list cannot exhaust memory unnoticed:
 * `collectPages((cursor) => ok(client.GET('/api/v1/parties', { params: { query: { cursor, limit: 200 } } })))`.
 */
export async function collectPages<T>(page: (cursor: string | undefined) => Promise<PageOf<T>> | PageOf<T>, max = 10_000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    items.push(...next.data);
    if (items.length > max) throw new RangeError(`collectPages: more than ${max} items; raise max or page through them yourself`);
    cursor = next.nextCursor ?? undefined;
  } while (cursor);
  return items;
}
