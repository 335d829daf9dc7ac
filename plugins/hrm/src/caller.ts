import type { Page, Principal } from '@rapport/core';

/** The person a principal acts as: the party it is scoped to, or else the one it is linked to. */
export function callerPartyId(principal: Principal): string | null {
  return principal.scopePartyId ?? principal.partyId;
}

/** What a list answers a caller it shows nothing to. */
export function emptyPage<T>(): Page<T> {
  return { data: [], nextCursor: null };
}
