import type { Knex } from 'knex';
import type { DocumentTypeDefinition, ReceiveHandler } from '../federation/documents.js';
import type { Logger } from 'pino';
import type { ScopeContribution } from '../access/record-scopes.js';
import type { Contract, DependencyRef, ResolvedDeps, ServiceRef } from '../contract/refs.js';
import type { RouteBuilder } from '../http/routes.js';
import type { EventHandler, EventKey, FilterKey } from '../hooks/types.js';
import type { FilterHandler } from '../hooks/unit-of-work.js';
import type { Importer } from '../import/importer.js';
import type { IndicatorDefinition, InteractionTypeDefinition, PartyAttributeDefinition, PermissionDefinition, RelationshipTypeDefinition } from '../kernel/types.js';
import type { Migration } from '../storage/migrations.js';
import type { GlobalTable } from '../storage/sharding.js';
import type { FieldRecordTypeDefinition } from '../fields/service.js';
import type { SearchSourceDefinition } from '../search/sources.js';
import type { ScheduledTaskContext } from '../jobs/task.js';
import type { AttachableRecordDefinition, AttachmentScanner } from '../attachments/registry.js';
import type { AutomationActionDefinition } from '../automation/actions.js';

/** What a plugin may ask for: core capabilities (`coreServices.*`) and other plugins' services (their contracts' refs). */
export type Deps = Readonly<Record<string, DependencyRef>>;

/**
 * What a plugin declares in `setup`: the kernel records it adds, its hooks, routes, importers,
 * tasks and services. Declarations only, and no database access: every plugin's setup runs
 * before any migration (phase 1 of the boot). What the plugin uses at run time comes in as
 * `deps`, the second argument of `setup`.
 */
export interface PluginApi {
  /** This plugin's name. */
  readonly plugin: string;
  readonly logger: Logger;
  relationshipTypes: { define(definition: RelationshipTypeDefinition): void };
  interactionTypes: { define(definition: InteractionTypeDefinition): void };
  indicators: { define(definition: IndicatorDefinition): void };
  partyAttributes: { define(definition: PartyAttributeDefinition): void };
  permissions: { define(definition: PermissionDefinition): void };
  /**
   * Opts a record type of this plugin into custom fields (docs/custom-fields.md): administrators
   * may then define fields of `key`; the plugin checks values with `coreServices.fields` on
   * every write and stores them in `column` (jsonb, `attributes` by default) of `table`.
   */
  customFields: { allow(definition: FieldRecordTypeDefinition): void };
  /** Makes a record type of this plugin searchable (docs/search.md); its migration creates the indexes with `createSearchIndexes`. */
  search: { define(definition: SearchSourceDefinition): void };
  recordScopes: {
    /** Declares a resource of this plugin (`crm.deals`) and what a scoped principal sees of it. */
    define(resource: string, contribute: ScopeContribution): void;
    /** Widens what a scoped principal sees of a resource declared elsewhere (kernel `parties`, say). */
    extend(resource: string, contribute: ScopeContribution): void;
  };
  hooks: {
    /**
     * Runs inside the write's transaction; may change the payload or veto with VetoError.
     * A kernel filter by name (`party.archive`) or another plugin's by its contract's ref.
     */
    filter<K extends FilterKey>(filter: K, handler: FilterHandler<K>, options?: { priority?: number }): void;
    /**
     * Runs after commit; failures are logged and never affect the write. A kernel event by name,
     * a plugin's by its ref (typed payload), or a pattern (`crm.deal.*`, payload unknown).
     */
    on<K extends EventKey | string>(event: K, handler: EventHandler<K>): void;
  };
  /** Routes mounted under /api/v1/<plugin>. */
  routes(register: (router: RouteBuilder) => void): void;
  /**
   * Rapport Link (docs/federation.md): a document type this plugin exchanges with linked
   * systems: author role, wire schema (the allowlist of what leaves), how a record becomes a
   * wire body and how a received one is applied here.
   */
  federation: {
    documentType(definition: DocumentTypeDefinition<any, any>): void;
    /** This plugin's own effect of a received document of a type declared by any plugin, in the same inbox transaction. */
    onReceive(type: string, handler: ReceiveHandler): void;
  };
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
  attachments: {
    /** Lets files be attached to a record type of this plugin (`crm.deal`): `find` answers whether the caller may see a record (docs/attachments.md). */
    records(definition: AttachableRecordDefinition): void;
    /** Sees every new file before it can be downloaded; `{ quarantine: true, reason }` keeps it from being downloaded. */
    scan(scanner: AttachmentScanner): void;
  };
  automation: {
    /** An action automation rules can name (`<plugin>.<action>`), with the schema of its parameters (docs/automation.md). */
    action<P>(definition: AutomationActionDefinition<P>): void;
  };
  /** Implements a service of this plugin's contract, for the plugins that list its ref in their `deps`. */
  provide<T>(ref: ServiceRef<T>, service: T): void;
}

/** Given to install, upgrade, uninstall, start and stop. */
export interface LifecycleContext<D extends Deps = Deps> {
  readonly plugin: string;
  readonly logger: Logger;
  readonly deps: ResolvedDeps<D>;
  /**
   * The raw connection, as migrations get it: for data an upgrade reshapes. Past the tenant
   * wall, like `unsafeKnex`; everything else goes through `deps`.
   */
  readonly knex: Knex;
}

export interface PluginDefinition<D extends Deps = Deps> {
  /** Lower-case, `[a-z][a-z0-9-]*`: the route prefix, the table prefix and the namespace of everything the plugin declares. */
  name: string;
  /** semver of the package. */
  version: string;
  description?: string;
  requires?: {
    /** semver range of @rapport/core this plugin works with. */
    core?: string;
    /**
     * Other plugins by name → semver range; they boot first. A plugin whose service is in
     * `deps` (not optional) is required without being listed here, at any version.
     */
    plugins?: Record<string, string>;
  };
  /** The contract this plugin implements (from its contract package): every service in it must be provided in `setup`. */
  contract?: Contract<any>;
  /** What the plugin uses at run time, by ref: it gets exactly these, typed, as the second argument of `setup`. */
  deps?: D;
  migrations?: Migration[];
  /**
   * The plugin's tables that have no tenant (or are found before the tenant is known), with
   * where they live on a cluster sharded by tenant. Every other table of the plugin must lead
   * each key and index with `tenant_id` (docs/plugin-guide.md, "Tables that shard").
   */
  globalTables?: readonly GlobalTable[];
  setup?(api: PluginApi, deps: ResolvedDeps<D>): void;
  /** Once, after the first migration run. */
  install?(ctx: LifecycleContext<D>): Promise<void> | void;
  /** When the package is newer than the recorded version, after its pending migrations. */
  upgrade?(ctx: LifecycleContext<D>, fromVersion: string): Promise<void> | void;
  /** Before the plugin is removed; with `purge` its tables are dropped right after. */
  uninstall?(ctx: LifecycleContext<D>, options: { purge: boolean }): Promise<void> | void;
  /** Each start while enabled (jobs, timers). */
  start?(ctx: LifecycleContext<D>): Promise<void> | void;
  stop?(ctx: LifecycleContext<D>): Promise<void> | void;
}

/** What a plugin name must match (also checked by `rapport create-plugin`). */
export const PLUGIN_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Declares a plugin. The `deps` it lists decide the type of the `deps` its `setup` receives:
 *
 *   definePlugin({
 *     name: 'loyalty', version: '1.0.0',
 *     deps: { db: coreServices.database, parties: coreServices.parties },
 *     setup(api, { db, parties }) { … },
 *   });
 */
export function definePlugin<const D extends Deps = {}>(definition: PluginDefinition<D>): PluginDefinition<D> {
  if (!PLUGIN_NAME_PATTERN.test(definition.name)) {
    throw new Error(`Plugin name "${definition.name}" must match ${PLUGIN_NAME_PATTERN} (it becomes a URL prefix and a namespace)`);
  }
  return definition;
}
