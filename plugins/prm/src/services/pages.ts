import type { KeysetKey } from '@rapport/core';

/** Newest first by `column`, then by id: the order of PRM's lists (the cursor holds both). */
export function newestFirst(column = 'created_at'): KeysetKey[] {
  return [
    { column, type: 'timestamp', direction: 'desc' },
    { column: 'id', type: 'uuid', direction: 'desc' },
  ];
}
