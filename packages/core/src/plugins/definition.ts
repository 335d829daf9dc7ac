import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { ScopeContribution } from '../access/record-scopes.js';
import type { RouteBuilder } from '../http/routes.js';
import type { EventHandler, FilterHandler } from '../hooks/types.js';
import type { Importer } from '../import/importer.js';
import type {
  IndicatorDefinition,
  InteractionTypeDefinition,
  PartyAttributeDefinition,
  PermissionDefinition,
  RelationshipTypeDefinition,
} from '../kernel/types.js';
import type { Migration } from '../storage/migrations.js';
import type { Rapport } from '../app/rapport.js';
import type { ScheduledTaskContext } from '../jobs/scheduler.js';

/**
 * What a plugin can declare in `setup`. Declarations only: no database access here, so
 * every plugin's setup can run before any migration (phase 1 of the boot).
 */
export interface PluginApi {
  /** This plugin's name. */
  readonly plugin: string;
  readonly logger: Logger;
  /**
   * The system this plugin is set up in. Its services, `transaction()` and `knex` serve
   * handlers, routes and tasks once the system has booted, not `setup` itself (the database
   * is not migrated yet). Keep it rather than a module variable: one process may run several.
   */
  readonly app: Rapport;
  relationshipTypes: { define(definition: RelationshipTypeDefinition): void };
  interactionTypes: { define(definition: InteractionTypeDefinition): void };
  indicators: { define(definition: IndicatorDefinition): void };
  partyAttributes: { define(definition: PartyAttributeDefinition): void };
  permissions: { define(definition: PermissionDefinition): void };
  recordScopes: {
    /** Declares a resource of this plugin (`crm.deals`) and what a scoped principal sees of it. */
    define(resource: string, contribute: ScopeContribution): void;
    /** Widens what a scoped principal sees of a resource declared elsewhere (kernel `parties`, say). */
    extend(resource: string, contribute: ScopeContribution): void;
  };
  hooks: {
    /** Runs inside the write's transaction; may change the payload or veto with VetoError. */
    filter<N extends string>(name: N, handler: FilterHandler<N>, options?: { priority?: number }): void;
    /** Runs after commit; failures are logged and never affect the write. Wildcards: `crm.deal.*`. */
    on<N extends string>(pattern: N, handler: EventHandler<N>): void;
  };
  /** Routes mounted under /api/v1/<plugin>. */
  routes(register: (router: RouteBuilder) => void): void;
  /** Adds a CSV importer to `rapport import` and to the import API. */
  importers: { define(importer: Importer): void };
  schedule: {
    /**
     * A recurring task, `<plugin>.<name>` (`prm.expire-registrations`), run every `intervalMs`
     * (at least 1000) by one node at a time, and only while the plugin is enabled. A failing
     * run is logged and tried again at the next interval. See docs/jobs.md.
     */
    every(name: string, intervalMs: number, run: (ctx: ScheduledTaskContext) => Promise<void>): void;
  };
  /** Offers a service other plugins can `use`. */
  provide(name: string, service: unknown): void;
  /** A service another plugin provides; resolve it lazily (after setup), e.g. in a handler. */
  use<T = unknown>(name: string): () => T | undefined;
}

/** Given to install, upgrade, uninstall, start and stop. */
export interface LifecycleContext {
  readonly plugin: string;
  readonly knex: Knex;
  readonly logger: Logger;
  readonly app: Rapport;
}

export interface PluginDefinition {
  /** Lower-case, `[a-z][a-z0-9-]*`: the route prefix and the namespace of everything the plugin declares. */
  name: string;
  /** semver of the package. */
  version: string;
  description?: string;
  requires?: {
    /** semver range of @rapport/core this plugin works with. */
    core?: string;
    /** Other plugins by name → semver range. They boot first. */
    plugins?: Record<string, string>;
  };
  migrations?: Migration[];
  setup?(api: PluginApi): void;
  /** Once, after the first migration run. */
  install?(ctx: LifecycleContext): Promise<void> | void;
  /** When the package is newer than the recorded version, after its pending migrations. */
  upgrade?(ctx: LifecycleContext, fromVersion: string): Promise<void> | void;
  /** Before the plugin is removed; with `purge` its tables are dropped right after. */
  uninstall?(ctx: LifecycleContext, options: { purge: boolean }): Promise<void> | void;
  /** Each start while enabled (jobs, timers). */
  start?(ctx: LifecycleContext): Promise<void> | void;
  stop?(ctx: LifecycleContext): Promise<void> | void;
}

/** What a plugin name must match (also checked by `rapport create-plugin`). */
export const PLUGIN_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/** Identity at runtime; it exists for the types and for one early check of the name. */
export function definePlugin<T extends PluginDefinition>(definition: T): T {
  if (!PLUGIN_NAME_PATTERN.test(definition.name)) {
    throw new Error(`Plugin name "${definition.name}" must match ${PLUGIN_NAME_PATTERN} (it becomes a URL prefix and a namespace)`);
  }
  return definition;
}
