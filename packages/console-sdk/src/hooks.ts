import { createContext, createElement, useContext, type ReactNode } from 'react';
import type { OpenapiQueryClient } from 'openapi-react-query';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import type { paths, RapportClient } from '@rapport/client';

/** The signed-in user's own session: every call is checked by the API as that user. */
export interface ConsoleApi {
  /** openapi-fetch client; sends the session cookie and the CSRF header. */
  client: RapportClient;
  /** openapi-react-query over `client`: `$api.useQuery('get', '/api/v1/parties', {...})`. */
  $api: OpenapiQueryClient<paths>;
}

export interface PrincipalUser {
  id: string;
  email: string;
  name?: string;
}

export interface Principal {
  user: PrincipalUser | null;
  /** The party the user acts for (an employee, a partner's staff member), if linked. */
  partyId?: string;
  roles: string[];
  permissions: string[];
  /** An external user: the API shows only records connected to `partyId`. */
  scoped: boolean;
  /** Whether the granted permissions cover `permission` (wildcards as on the server). */
  can(permission: string): boolean;
}

export interface Formatters {
  /** The current language, `en` or `uk`. */
  locale: string;
  date(d: string | Date): string;
  dateTime(d: string | Date): string;
  number(n: number): string;
  money(amount: number, currency: string): string;
  percent(n: number): string;
}

export interface ConsoleValue {
  api: ConsoleApi;
  principal: Principal;
  format: Formatters;
}

export const ConsoleContext = createContext<ConsoleValue | null>(null);

/** Set by the console shell (or by a test rendering a plugin page) around every page and widget. */
export function ConsoleProvider({ value, children }: { value: ConsoleValue; children?: ReactNode }) {
  return createElement(ConsoleContext.Provider, { value }, children);
}

function useConsole(hook: string): ConsoleValue {
  const value = useContext(ConsoleContext);
  if (!value) throw new Error(`${hook}() must be called inside the console (a ConsoleProvider)`);
  return value;
}

export function useApi(): ConsoleApi {
  return useConsole('useApi').api;
}

export function usePrincipal(): Principal {
  return useConsole('usePrincipal').principal;
}

export function useFormat(): Formatters {
  return useConsole('useFormat').format;
}

/** i18next's `t` for a namespace: a plugin passes its id; the kernel's strings are the `console` namespace. */
export function useT(ns?: string): TFunction {
  return useTranslation(ns ?? 'console').t;
}
