import type { Formatters, Principal, PrincipalUser } from './hooks.js';

const BCP47: Record<string, string> = { en: 'en-GB', uk: 'uk-UA' };

/** Intl formatters for a language; the shell makes them again when the language changes. */
export function makeFormatters(locale: string): Formatters {
  const tag = BCP47[locale] ?? locale;
  const date = new Intl.DateTimeFormat(tag, { dateStyle: 'medium' });
  const dateTime = new Intl.DateTimeFormat(tag, { dateStyle: 'medium', timeStyle: 'short' });
  const number = new Intl.NumberFormat(tag);
  const percent = new Intl.NumberFormat(tag, { style: 'percent', maximumFractionDigits: 1 });
  const money = new Map<string, Intl.NumberFormat>();
  const asDate = (d: string | Date) => (d instanceof Date ? d : new Date(d));
  return {
    locale,
    date: (d) => date.format(asDate(d)),
    dateTime: (d) => dateTime.format(asDate(d)),
    number: (n) => number.format(n),
    percent: (n) => percent.format(n),
    money: (amount, currency) => {
      let format = money.get(currency);
      if (!format) money.set(currency, (format = new Intl.NumberFormat(tag, { style: 'currency', currency })));
      return format.format(amount);
    },
  };
}

// Kept in step with TENANT_WIDE_PERMISSIONS in @rapport/core: a scoped principal never holds these.
const TENANT_WIDE = new Set(['access:manage', 'audit:read', 'webhooks:read', 'webhooks:write', 'plugins:manage', 'imports:write', 'jobs:read', 'jobs:manage', 'metrics:read']);

function grants(granted: ReadonlySet<string>, permission: string): boolean {
  if (granted.has('*') || granted.has(permission)) return true;
  const [resource, action] = permission.split(':');
  if (action && granted.has(`${resource}:*`)) return true;
  const dot = resource.indexOf('.');
  return dot > 0 && granted.has(`${resource.slice(0, dot)}.*`);
}

/** The principal of `GET /api/v1/auth/me`, with `can` answering as the server's permission check does. */
export function makePrincipal(me: { user?: PrincipalUser | null; roles: string[]; permissions: string[]; partyId?: string | null; scopePartyId?: string | null }): Principal {
  const granted = new Set(me.permissions);
  const scoped = Boolean(me.scopePartyId);
  return {
    user: me.user ?? null,
    partyId: me.partyId ?? undefined,
    roles: me.roles,
    permissions: me.permissions,
    scoped,
    can: (permission) => !(scoped && TENANT_WIDE.has(permission)) && grants(granted, permission),
  };
}
