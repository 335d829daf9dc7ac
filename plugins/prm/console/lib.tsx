import { ok } from '@rapport/client';
import { useApi, useT } from '@rapport/console-sdk';

export const NS = 'prm';

/** The typed client of the signed-in user's session (the console adds no privileged path). */
export function useClient() {
  return useApi().client;
}

export function usePrmT() {
  return useT(NS);
}

export { ok };
// The pieces every page repeats are the console's own, shared with the kernel pages and the other plugins.
export { DataSelect, Failure, Loading, PageLink, Query, statusOf } from '@rapport/console-sdk';
