/**
 * Typed references: how a plugin names what it offers (services, filters, events) and how
 * another plugin asks for it, with the type carried by the reference rather than chosen by
 * the consumer. A reference is a small frozen object; the implementation stays with its
 * owner, so a plugin can depend on another's contract package without depending on its code.
 */

const SERVICE = 'service';
const FILTER = 'filter';
const EVENT = 'event';

/** A service of the kernel (`core.parties`) or of a plugin (`prm.registrations`). */
export interface ServiceRef<T> {
  readonly kind: typeof SERVICE;
  /** `<owner>.<name>`. */
  readonly id: string;
  /** `core` or the plugin that provides it. */
  readonly owner: string;
  /** Asks for the service only when its owner is in the system and enabled (resolved on each call). */
  optional(): OptionalServiceRef<T>;
  /** Type carrier only; never set. */
  readonly __type?: T;
}

export interface OptionalServiceRef<T> {
  readonly kind: 'optional-service';
  readonly ref: ServiceRef<T>;
}

/** A filter point: runs inside the write's transaction; handlers may change or veto the payload. */
export interface FilterRef<P> {
  readonly kind: typeof FILTER;
  /** The filter's name, `<owner>.<name>` (`prm.registration.convert`). */
  readonly name: string;
  readonly owner: string;
  readonly __type?: P;
}

/** An event: heard after commit by listeners, and delivered by webhooks. */
export interface EventRef<P> {
  readonly kind: typeof EVENT;
  /** The event's name, `<owner>.<name>` (`crm.deal.won`). */
  readonly name: string;
  readonly owner: string;
  readonly __type?: P;
}

export type DependencyRef = ServiceRef<unknown> | OptionalServiceRef<unknown>;

/** What a declared dependency resolves to: the service, or for an optional one a function returning it or undefined. */
export type Resolved<R> = R extends OptionalServiceRef<infer T> ? () => T | undefined : R extends ServiceRef<infer T> ? T : never;

export type ResolvedDeps<D> = { readonly [K in keyof D]: Resolved<D[K]> };

const OWNER = /^[a-z][a-z0-9-]{0,39}$/;
const LOCAL_NAME = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$/;

function split(id: string, what: string): { owner: string } {
  const dot = id.indexOf('.');
  const owner = dot > 0 ? id.slice(0, dot) : '';
  if (!OWNER.test(owner) || !LOCAL_NAME.test(id.slice(dot + 1))) {
    throw new Error(`A ${what} reference must be named "<owner>.<name>" in lower case (e.g. "crm.deal.won"), not "${id}"`);
  }
  return { owner };
}

export function serviceRef<T>(id: string): ServiceRef<T> {
  const { owner } = split(id, 'service');
  const ref: ServiceRef<T> = Object.freeze({
    kind: SERVICE,
    id,
    owner,
    optional: (): OptionalServiceRef<T> => Object.freeze({ kind: 'optional-service' as const, ref }),
  });
  return ref;
}

export function filterRef<P>(name: string): FilterRef<P> {
  return Object.freeze({ kind: FILTER, name, ...split(name, 'filter') });
}

export function eventRef<P>(name: string): EventRef<P> {
  return Object.freeze({ kind: EVENT, name, ...split(name, 'event') });
}

export function isServiceRef(value: unknown): value is ServiceRef<unknown> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === SERVICE;
}

export function isOptionalServiceRef(value: unknown): value is OptionalServiceRef<unknown> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'optional-service';
}

/**
 * Declared in a contract (`service<T>()`, `filter<P>('registration.convert')`,
 * `event<P>('deal.won')`); the owner's name is put in front when the contract is defined.
 * A service's name defaults to its key in kebab case (`leadScoring` → `crm.lead-scoring`); filters and events name themselves, since their
 * dotted names are what webhook subscribers and logs see.
 */
export interface Slot<K extends string, T> {
  readonly slot: K;
  readonly name?: string;
  readonly __type?: T;
}

export const service = <T>(name?: string): Slot<'service', T> => ({ slot: 'service', name });
export const filter = <P>(name: string): Slot<'filter', P> => ({ slot: 'filter', name });
export const event = <P>(name: string): Slot<'event', P> => ({ slot: 'event', name });

type Named<S> = {
  readonly [K in keyof S]: S[K] extends Slot<'service', infer T> ? ServiceRef<T> : S[K] extends Slot<'filter', infer P> ? FilterRef<P> : S[K] extends Slot<'event', infer P> ? EventRef<P> : never;
};

export interface ContractShape {
  services?: Record<string, Slot<'service', unknown>>;
  filters?: Record<string, Slot<'filter', unknown>>;
  events?: Record<string, Slot<'event', unknown>>;
}

export interface Contract<S extends ContractShape> {
  readonly owner: string;
  readonly services: Named<NonNullable<S['services']>>;
  readonly filters: Named<NonNullable<S['filters']>>;
  readonly events: Named<NonNullable<S['events']>>;
}

/**
 * A plugin's published contract: its services, the filters it runs for others and the events
 * it emits, each a typed reference named `<owner>.<key>`. Lives in a small package of its own
 * (`@rapport/prm-contract`) that the plugin and its consumers both import:
 *
 *   export const prm = defineContract('prm', {
 *     services: { registrations: service<RegistrationsApi>() },
 *     filters: { registrationConvert: filter<ConvertPayload>('registration.convert') },
 *     events: { registrationApproved: event<{ registration: Registration }>('registration.approved') },
 *   });
 *
 * `prm.filters.registrationConvert.name` is then `prm.registration.convert`.
 */
const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function defineContract<const S extends ContractShape>(owner: string, shape: S): Contract<S> {
  if (!OWNER.test(owner)) throw new Error(`A contract's owner must be a plugin name, not "${owner}"`);
  const name = <R>(slots: Record<string, Slot<string, unknown>> | undefined, make: (id: string) => R) =>
    Object.freeze(Object.fromEntries(Object.entries(slots ?? {}).map(([key, slot]) => [key, make(`${owner}.${slot.name ?? kebab(key)}`)])));
  return Object.freeze({
    owner,
    services: name(shape.services, serviceRef),
    filters: name(shape.filters, filterRef),
    events: name(shape.events, eventRef),
  }) as unknown as Contract<S>;
}
