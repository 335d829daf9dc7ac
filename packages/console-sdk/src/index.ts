/**
 * @rapport/console-sdk — what a plugin's console part is written against: the types of its
 * pages, widgets and timeline renderers, and the hooks its components call (the API client
 * of the signed-in user's own session, who that user is, translations and locale formats).
 * The console shell (@rapport/console) provides the hooks; a plugin's `./console` entry
 * default-exports `defineConsolePlugin({...})`. The shared pieces of every page (loading and
 * failure states, the page header, links between pages, a select of records' names) are here too. docs/console.md describes the contract.
 */
export type { ConsoleZone, ZoneProps, Lazy, ConsolePage, ConsoleWidget, ConsolePlugin, TimelineRendererProps } from './contract.js';
export { defineConsolePlugin, CONSOLE_ZONES } from './contract.js';
export { ConsoleContext, ConsoleProvider, useApi, usePrincipal, useT, useFormat, type ConsoleApi, type ConsoleValue, type Principal, type PrincipalUser, type Formatters } from './hooks.js';
export { makeFormatters, makePrincipal } from './format.js';
export { Loading, Failure, Query, PageHeader, PageLink, DataSelect, statusOf, problemOf, problemText } from './ui.js';
