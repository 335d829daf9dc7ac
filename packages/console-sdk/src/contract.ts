import type { ComponentType } from 'react';

/** The named places of the kernel's pages where plugins' widgets render. */
export type ConsoleZone = 'party.page' | 'relationship.page' | 'dashboard';

export const CONSOLE_ZONES: readonly ConsoleZone[] = ['party.page', 'relationship.page', 'dashboard'];

/** The props each zone gives its widgets. */
export interface ZoneProps {
  'party.page': { partyId: string };
  'relationship.page': { relationshipId: string };
  dashboard: Record<string, never>;
}

/** A component loaded on first use, so a plugin's pages cost the sign-in page nothing. */
export type Lazy<P> = () => Promise<{ default: ComponentType<P> }>;

export interface ConsolePage {
  /** Relative to the console, e.g. `crm/pipeline`; may hold route parameters (`crm/deals/:id`). */
  path: string;
  /** An i18n key in the plugin's namespace. */
  title: string;
  icon?: ComponentType<{ size?: number }>;
  /** Shown and routed only for principals holding it, e.g. `crm:read`. The API checks again. */
  permission?: string;
  /** Where the page is listed: the main navigation (default), the settings group, or nowhere (reached by link). */
  nav?: 'main' | 'settings' | false;
  component: Lazy<object>;
}

export interface ConsoleWidget<Z extends ConsoleZone = ConsoleZone> {
  /** Unique within the plugin. */
  id: string;
  zone: Z;
  /** An i18n key in the plugin's namespace. */
  title: string;
  permission?: string;
  /** Lower renders first; 100 by default. */
  order?: number;
  component: Lazy<ZoneProps[Z]>;
}

/** What a timeline renderer receives: one interaction as the API answers it. */
export interface TimelineRendererProps {
  interaction: unknown;
}

export interface ConsolePlugin {
  /** The server plugin's name; also the i18n namespace of its messages. */
  id: string;
  /** Every string of the plugin's console part, complete in both languages. */
  messages: { en: Record<string, string>; uk: Record<string, string> };
  pages?: ConsolePage[];
  // A widget's props depend on its zone; the list holds widgets of every zone.
  widgets?: ConsoleWidget<any>[];
  /** Renderers for the plugin's interaction types on the party timeline, by interaction type. */
  timeline?: Record<string, Lazy<TimelineRendererProps>>;
  settings?: ConsolePage[];
}

/**
 * Declares a plugin's console part. Checks what the compiler cannot: the same keys in both
 * languages, relative page paths and unique widget ids, so a mistake fails at build time
 * with the plugin's name rather than as a blank page.
 */
export function defineConsolePlugin(plugin: ConsolePlugin): ConsolePlugin {
  const where = `console plugin "${plugin.id}"`;
  if (!plugin.id || !/^[a-z0-9@/_.-]+$/i.test(plugin.id)) throw new TypeError(`${where}: id must be the server plugin's name`);
  const en = Object.keys(plugin.messages?.en ?? {});
  const uk = new Set(Object.keys(plugin.messages?.uk ?? {}));
  const missing = en.filter((key) => !uk.has(key));
  const extra = [...uk].filter((key) => !(key in plugin.messages.en));
  if (missing.length) throw new TypeError(`${where}: messages.uk lacks ${missing.join(', ')}`);
  if (extra.length) throw new TypeError(`${where}: messages.en lacks ${extra.join(', ')}`);
  for (const page of [...(plugin.pages ?? []), ...(plugin.settings ?? [])]) {
    if (page.path.startsWith('/') || page.path === '') throw new TypeError(`${where}: page path "${page.path}" must be relative, e.g. "crm/pipeline"`);
    if (!(page.title in plugin.messages.en)) throw new TypeError(`${where}: page title "${page.title}" is not a key of messages.en`);
  }
  const ids = new Set<string>();
  for (const widget of plugin.widgets ?? []) {
    if (ids.has(widget.id)) throw new TypeError(`${where}: widget id "${widget.id}" is used twice`);
    ids.add(widget.id);
    if (!(widget.title in plugin.messages.en)) throw new TypeError(`${where}: widget title "${widget.title}" is not a key of messages.en`);
  }
  return plugin;
}
