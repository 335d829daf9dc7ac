import { Fragment, type ReactNode } from 'react';
import { ok } from '@rapport/client';
import { useApi, useT } from '@rapport/console-sdk';

export const NS = 'hrm';

/** The typed client of the signed-in user's session (the console adds no privileged path). */
export function useClient() {
  return useApi().client;
}

export function useHrmT() {
  return useT(NS);
}

export { ok };
// The pieces every page repeats are the console's own, shared with the kernel pages and the other plugins.
export { DataSelect, Failure, Loading, PageLink, Query, statusOf } from '@rapport/console-sdk';

/* A sentence whose values are elements (a name or a message the user typed, marked `translate="no"`)
 * is still one translated string: `t` fills each value with a marker, and the markers are then
 * replaced by the elements, so each language orders the words as its grammar wants. */
const MARK = '\uE000';

/** The values to give `t` for a sentence with element values: `t('kudos.thanked', slots('from', 'message'))`. */
export function slots<K extends string>(...names: K[]): Record<K, string> {
  return Object.fromEntries(names.map((name) => [name, `${MARK}${name}${MARK}`])) as Record<K, string>;
}

/** The translated sentence with each slot replaced by its element. */
export function Sentence({ text, values }: { text: string; values: Record<string, ReactNode> }) {
  const parts = text.split(new RegExp(`${MARK}(\\w+)${MARK}`));
  return <>{parts.map((part, i) => (i % 2 === 1 ? <Fragment key={i}>{values[part]}</Fragment> : part))}</>;
}
