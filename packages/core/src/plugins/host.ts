import type { Knex } from 'knex';
import type { DocumentTypeRegistry } from '../federation/documents.js';
import { federationService, type Federation } from '../federation/federation.js';
import semver from 'semver';
import type { Logger } from 'pino';
import { ConflictError, NotFoundError, PluginError } from '../errors.js';
import { RouteBuilder } from '../http/routes.js';
import { appliedMigrations, migrateDownAll, migrateUp, pendingMigrations, type AppliedMigrations } from '../storage/migrations.js';
import type { RecordScopes } from '../access/record-scopes.js';
import type { HookBus } from '../hooks/hook-bus.js';
import type { Transact } from '../hooks/unit-of-work.js';
import type { Scheduler } from '../jobs/scheduler.js';
import type { KernelRegistries } from '../kernel/kernel.js';
import type { KernelServices } from '../kernel/services.js';
import type { TenantService } from '../kernel/tenants.js';
import { fieldValuesFor, type FieldService } from '../fields/service.js';
import type { Importer } from '../import/importer.js';
import type { AttachmentRegistry } from '../attachments/registry.js';
import { recordAttachmentsFor, type AttachmentService } from '../attachments/service.js';
import type { AutomationActions } from '../automation/actions.js';
import type { Deps, LifecycleContext, PluginApi, PluginDefinition } from './definition.js';
import { isPostgres, listenerOf } from '../storage/listener.js';
import { isOptionalServiceRef, isServiceRef, type ServiceRef } from '../contract/refs.js';
import { keyName } from '../hooks/types.js';
import { pluginDatabase } from '../storage/plugin-database.js';
import { requiredPlugins } from './resolve.js';
import { queryContext } from '../kernel/context.js';
import { systemPrincipal } from '../access/principal.js';
import type { WebhookSecrets } from '../webhooks/secrets.js';

export type PluginState = 'enabled' | 'disabled' | 'uninstalled';

/** NOTIFY channel of plugin state changes; the payload is the plugin's name. */
export const PLUGINS_CHANNEL = 'rapport_plugins_changed';

/** Key of a queued read of every plugin's state (plugin names cannot contain a space). */
const ALL_PLUGINS = ' all';

/** The plugin hosts of this process that follow changes: an app sharing a PGlite instance hears no NOTIFY. */
const followers = new Set<PluginHost>();

export interface PluginStatus {
  name: string;
  version: string;
  installedVersion: string | null;
  state: PluginState;
  description: string | null;
  requires: PluginDefinition['requires'];
  registrations: Record<string, string[]>;
}

/**
 * Loads plugins in two phases and keeps their lifecycle in the `rapport_plugins` table.
 * Phase 1 (`declare`) runs every setup — declarations only, so any plugin may extend what
 * another declares. Phase 2 (`boot`) migrates and installs or upgrades each plugin in
 * dependency order. A disabled plugin stays declared but inert: its routes, hooks, types
 * and scopes are off until it is enabled again.
 */
/** What the plugin host needs of the system: what it declares into, and the capabilities plugins may ask for. */
export interface PluginHostSystem {
  readonly knex: Knex;
  readonly bus: HookBus;
  readonly registries: KernelRegistries;
  readonly scopes: RecordScopes;
  readonly scheduler: Scheduler;
  readonly services: KernelServices;
  readonly tenants: TenantService;
  readonly fields: FieldService;
  readonly transaction: Transact;
  readonly webhookSecrets: Pick<WebhookSecrets, 'sealerFor'>;
  readonly attachmentRegistry: AttachmentRegistry;
  readonly attachments: AttachmentService;
  readonly automationActions: AutomationActions;
  readonly documentTypes: DocumentTypeRegistry;
  readonly federation: Federation;
}

export class PluginHost {
  private readonly states = new Map<string, PluginState>();
  private readonly versions = new Map<string, string>();
  /** While booting: every owner's applied migrations, read once (see `boot`). */
  private bootApplied: AppliedMigrations | undefined;
  readonly routers = new Map<string, RouteBuilder>();
  readonly importers = new Map<string, Importer & { owner: string }>();
  private readonly services = new Map<string, { owner: string; service: unknown }>();
  /** Each plugin's resolved `deps`, as its setup received them (lifecycle hooks get the same). */
  private readonly resolvedDeps = new Map<string, Record<string, unknown>>();
  /**
   * Every state change, made here or heard from elsewhere, runs after the one before it: a
   * recorded state read while this node was half-way through its own change would undo it.
   */
  private changes: Promise<unknown> = Promise.resolve();
  /** Plugins (or ALL_PLUGINS) whose recorded state is queued to be read. */
  private readonly queuedReads = new Set<string>();

  constructor(
    private readonly app: PluginHostSystem,
    readonly ordered: readonly PluginDefinition[],
    private readonly logger: Logger,
  ) {}

  isActive = (owner: string): boolean => owner === 'core' || this.states.get(owner) === 'enabled';

  get(name: string): PluginDefinition | undefined {
    return this.ordered.find((p) => p.name === name);
  }

  /** Phase 1. */
  declare(): void {
    for (const plugin of this.ordered) {
      // Until the table says otherwise a plugin is inert, so nothing half-booted is live.
      this.states.set(plugin.name, 'disabled');
      this.app.bus.deactivate(plugin.name);
      const deps = this.resolveDeps(plugin);
      this.resolvedDeps.set(plugin.name, deps);
      try {
        plugin.setup?.(this.apiFor(plugin), deps);
      } catch (error) {
        if (error instanceof PluginError) throw error;
        throw new PluginError(plugin.name, `setup failed: ${(error as Error).message}`);
      }
      this.checkContract(plugin);
    }
  }

  /**
   * The plugin's `deps`, resolved: core capabilities (its own database handle and logger),
   * other plugins' services (their setup ran first: they are required, so ordered before),
   * and for an optional ref a function that answers the service while its owner is enabled.
   */
  private resolveDeps(plugin: PluginDefinition): Record<string, unknown> {
    const resolved: Record<string, unknown> = {};
    for (const [key, ref] of Object.entries(plugin.deps ?? {})) {
      if (isOptionalServiceRef(ref)) {
        const id = ref.ref.id;
        if (ref.ref.owner === 'core') throw new PluginError(plugin.name, `deps.${key}: core services are always there; ask for "${id}" without optional()`);
        resolved[key] = () => this.service(id);
        continue;
      }
      if (!isServiceRef(ref)) throw new PluginError(plugin.name, `deps.${key} is not a service ref (coreServices.* or a contract's services.*)`);
      if (ref.owner === 'core') {
        resolved[key] = this.coreService(plugin, key, ref);
        continue;
      }
      const provided = this.services.get(ref.id);
      if (!provided) throw new PluginError(plugin.name, `needs the service "${ref.id}", which plugin "${ref.owner}" does not provide`);
      resolved[key] = provided.service;
    }
    return resolved;
  }

  private coreService(plugin: PluginDefinition, key: string, ref: ServiceRef<unknown>): unknown {
    const app = this.app;
    switch (ref.id) {
      case 'core.database':
        return pluginDatabase(plugin.name, () => app.knex);
      case 'core.logger':
        return this.logger.child({ plugin: plugin.name });
      case 'core.sealing':
        return app.webhookSecrets.sealerFor(plugin.name);
      case 'core.unit-of-work':
        return {
          run: (scope: { tenantId: string; principal?: never }, work: never) => app.transaction(work, scope),
          readContext: (tenantId: string) => queryContext(app.knex, tenantId, systemPrincipal(tenantId)),
        };
      case 'core.scopes':
        return app.scopes;
      case 'core.federation':
        return federationService(app.federation);
      case 'core.tenants':
        return app.tenants;
      case 'core.fields':
        return fieldValuesFor(plugin.name, app.fields);
      case 'core.attachments':
        return recordAttachmentsFor(plugin.name, app.attachments);
      case 'core.parties':
      case 'core.relationships':
      case 'core.interactions':
      case 'core.observations':
      case 'core.merge':
        return app.services[ref.id.slice('core.'.length) as keyof typeof app.services];
      default:
        throw new PluginError(plugin.name, `deps.${key}: "${ref.id}" is not a core service`);
    }
  }

  /** Every service of the plugin's contract is provided by its setup; the contract is its own. */
  private checkContract(plugin: PluginDefinition): void {
    const contract = plugin.contract;
    if (!contract) return;
    if (contract.owner !== plugin.name) throw new PluginError(plugin.name, `implements the contract of "${contract.owner}"; a plugin implements its own contract`);
    for (const ref of Object.values(contract.services) as Array<ServiceRef<unknown>>) {
      if (!this.services.has(ref.id)) throw new PluginError(plugin.name, `its contract declares the service "${ref.id}", which its setup does not provide`);
    }
  }

  /** Phase 2: brings the database in line with the configured plugins. */
  /** `applied`: every owner's applied migrations, read once under the boot lock (see `allAppliedMigrations`). */
  async boot(applied?: AppliedMigrations): Promise<void> {
    this.bootApplied = applied;
    try {
      await this.bootEach();
    } finally {
      this.bootApplied = undefined;
    }
  }

  private async bootEach(): Promise<void> {
    const rows = await this.rows();
    for (const plugin of this.ordered) {
      const row = rows.get(plugin.name);
      if (!row) {
        await this.install(plugin);
        continue;
      }
      this.versions.set(plugin.name, row.version);
      if (row.state !== 'enabled') {
        this.states.set(plugin.name, row.state);
        continue;
      }
      const missing = Object.keys(requiredPlugins(plugin)).filter((dep) => this.states.get(dep) !== 'enabled');
      if (missing.length) {
        throw new PluginError(plugin.name, `is enabled but requires ${missing.map((m) => `"${m}"`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} not enabled`);
      }
      await this.bringUpToDate(plugin, row.version);
      this.activate(plugin.name);
    }
  }

  async startAll(): Promise<void> {
    for (const plugin of this.ordered) if (this.isActive(plugin.name)) await this.runHook(plugin, 'start', () => plugin.start?.(this.ctx(plugin)));
  }

  async stopAll(): Promise<void> {
    for (const plugin of [...this.ordered].reverse()) if (this.isActive(plugin.name)) await this.stopLogged(plugin);
  }

  /**
   * Applies, from now on, the plugin state changes that other nodes (or other apps of this
   * process) record: a plugin enabled or disabled anywhere is enabled or disabled here at
   * once (PostgreSQL NOTIFY, heard on the node's listening connection), and after a lost
   * connection every state is read again.
   */
  async follow(): Promise<void> {
    followers.add(this);
    if (!isPostgres(this.app.knex)) return;
    const listener = listenerOf(this.app.knex);
    await listener.subscribe(PLUGINS_CHANNEL, {
      message: (name) => this.applyRecorded(name),
      listening: () => this.applyRecorded(),
      lost: () => undefined,
    });
    await listener.ready();
  }

  /** Stops following (the app is closing). */
  unfollow(): void {
    followers.delete(this);
  }

  /**
   * Queues reading the recorded state of one plugin (or of all) and applying it here. A read
   * already queued and not yet started covers any number of further notices.
   */
  private applyRecorded(name?: string): void {
    const key = name ?? ALL_PLUGINS;
    if (this.queuedReads.has(key)) return;
    this.queuedReads.add(key);
    this.inTurn(() => {
      this.queuedReads.delete(key);
      return this.applyRecordedNow(name);
    }).catch((error) => this.logger.error({ err: error, plugin: name }, `could not apply the recorded state of ${name ? `plugin "${name}"` : 'the plugins'}`));
  }

  /** Runs a state change once the changes queued before it are done. */
  private inTurn<T>(change: () => Promise<T>): Promise<T> {
    const run = this.changes.then(change);
    this.changes = run.catch(() => undefined);
    return run;
  }

  /** Waits for the state changes queued so far to be applied (tests, shutdown). */
  async settled(): Promise<void> {
    await this.changes;
  }

  private async applyRecordedNow(name?: string): Promise<void> {
    if (!followers.has(this)) return;
    const plugins = name ? this.ordered.filter((p) => p.name === name) : this.ordered;
    if (plugins.length === 0) return;
    const rows = await this.rows();
    // Disable dependents before what they need, enable what is needed before its dependents.
    for (const plugin of [...plugins].reverse()) {
      const row = rows.get(plugin.name);
      if (!row || row.state === 'enabled') continue;
      const wasActive = this.isActive(plugin.name);
      if (wasActive) await this.stopLogged(plugin);
      this.states.set(plugin.name, row.state);
      if (!wasActive) continue;
      this.deactivate(plugin.name);
      this.logger.info({ plugin: plugin.name, state: row.state }, `plugin "${plugin.name}" ${row.state} by another node`);
    }
    for (const plugin of plugins) {
      const row = rows.get(plugin.name);
      if (!row || row.state !== 'enabled' || this.isActive(plugin.name)) continue;
      if (row.version !== plugin.version) {
        this.logger.warn(
          { plugin: plugin.name, recorded: row.version, running: plugin.version },
          `plugin "${plugin.name}" was enabled by another node at version ${row.version}; this node runs ${plugin.version} and leaves it off until it restarts`,
        );
        continue;
      }
      this.versions.set(plugin.name, row.version);
      this.activate(plugin.name);
      await this.runHook(plugin, 'start', () => plugin.start?.(this.ctx(plugin)));
      this.logger.info({ plugin: plugin.name }, `plugin "${plugin.name}" enabled by another node`);
    }
  }

  /** Tells the other nodes, and the other apps of this process, that `name` changed state. */
  private async announce(name: string): Promise<void> {
    for (const host of followers) if (host !== this) host.applyRecorded(name);
    if (isPostgres(this.app.knex)) await this.app.knex.raw('select pg_notify(?, ?)', [PLUGINS_CHANNEL, name]);
  }

  enable(name: string): Promise<PluginStatus> {
    return this.inTurn(() => this.enableNow(name));
  }

  disable(name: string): Promise<PluginStatus> {
    return this.inTurn(() => this.disableNow(name));
  }

  /** Runs the plugin's uninstall and, only when `purge` is asked for, drops its tables. */
  uninstall(name: string, options: { purge: boolean }): Promise<PluginStatus> {
    return this.inTurn(() => this.uninstallNow(name, options));
  }

  private async enableNow(name: string): Promise<PluginStatus> {
    const plugin = this.require(name);
    const missing = Object.keys(requiredPlugins(plugin)).filter((dep) => !this.isActive(dep));
    if (missing.length) throw new ConflictError(`Plugin "${name}" requires ${missing.map((m) => `"${m}"`).join(', ')} to be enabled first`);
    if (this.isActive(name)) return this.status(name);
    const state = this.states.get(name);
    if (state === 'uninstalled') await this.install(plugin);
    else {
      await this.bringUpToDate(plugin, this.versions.get(name) ?? plugin.version);
      await this.setState(name, 'enabled');
      this.activate(name);
    }
    await this.runHook(plugin, 'start', () => plugin.start?.(this.ctx(plugin)));
    this.logger.info({ plugin: name }, `plugin "${name}" enabled`);
    await this.announce(name);
    return this.status(name);
  }

  private async disableNow(name: string): Promise<PluginStatus> {
    const plugin = this.require(name);
    const dependents = this.ordered.filter((p) => this.isActive(p.name) && requiredPlugins(p)[name] !== undefined).map((p) => p.name);
    if (dependents.length) throw new ConflictError(`Plugin "${name}" is required by ${dependents.map((d) => `"${d}"`).join(', ')}; disable ${dependents.length > 1 ? 'them' : 'it'} first`);
    if (this.isActive(name)) {
      await this.stopLogged(plugin);
      await this.setState(name, 'disabled');
      this.deactivate(name);
      this.logger.info({ plugin: name }, `plugin "${name}" disabled`);
      await this.announce(name);
    }
    return this.status(name);
  }

  private async uninstallNow(name: string, options: { purge: boolean }): Promise<PluginStatus> {
    const plugin = this.require(name);
    if (this.states.get(name) === 'uninstalled' && !options.purge) return this.status(name);
    if (options.purge) {
      // Refuse before changing anything: a purge that stops half-way leaves tables nobody owns.
      const byName = new Map((plugin.migrations ?? []).map((m) => [m.name, m]));
      const irreversible = (await appliedMigrations(this.app.knex, name)).filter((m) => !byName.get(m)?.down);
      if (irreversible.length) {
        throw new ConflictError(
          `Plugin "${name}" cannot be purged: migration ${irreversible.map((m) => `"${m}"`).join(', ')} ${irreversible.length > 1 ? 'have' : 'has'} no down(); uninstall it without purge`,
        );
      }
    }
    await this.disableNow(name);
    await this.runHook(plugin, 'uninstall', () => plugin.uninstall?.(this.ctx(plugin), options));
    if (options.purge) {
      // Its records go with its tables, and their files with them (rows, events, stored bytes).
      const files = await this.app.attachments.purgeRecordTypes(this.app.attachmentRegistry.typesOf(name));
      if (files) this.logger.warn({ plugin: name, attachments: files }, `plugin "${name}" purged: the attachments of its records were purged`);
      const undone = await migrateDownAll(this.app.knex, plugin.name, plugin.migrations ?? []);
      this.logger.warn({ plugin: name, migrations: undone }, `plugin "${name}" purged: its tables were dropped`);
    }
    await this.setState(name, 'uninstalled');
    await this.announce(name);
    return this.status(name);
  }

  statuses(): PluginStatus[] {
    return this.ordered.map((p) => this.status(p.name));
  }

  status(name: string): PluginStatus {
    const plugin = this.require(name);
    const { registries } = this.app;
    const bus = this.app.bus.registrationsOf(name);
    return {
      name,
      version: plugin.version,
      installedVersion: this.states.get(name) === 'uninstalled' ? null : (this.versions.get(name) ?? null),
      state: this.states.get(name) ?? 'disabled',
      description: plugin.description ?? null,
      requires: plugin.requires ?? {},
      registrations: {
        relationshipTypes: registries.relationshipTypes.keysOf(name),
        interactionTypes: registries.interactionTypes.keysOf(name),
        indicators: registries.indicators.keysOf(name),
        partyAttributes: registries.partyAttributes.keysOf(name),
        permissions: registries.permissions.keysOf(name),
        filters: bus.filters,
        listeners: bus.listeners,
        routes: (this.routers.get(name)?.routes ?? []).map((r) => `${r.method.toUpperCase()} ${r.fullPath}`),
        scheduledTasks: this.app.scheduler.namesOf(name),
      },
    };
  }

  /** A service another plugin provided, if its owner is enabled. */
  service<T>(name: string): T | undefined {
    const entry = this.services.get(name);
    return entry && this.isActive(entry.owner) ? (entry.service as T) : undefined;
  }

  private async install(plugin: PluginDefinition): Promise<void> {
    await this.migrate(plugin);
    await this.runHook(plugin, 'install', () => plugin.install?.(this.ctx(plugin)));
    await this.app.knex('rapport_plugins').insert({ name: plugin.name, version: plugin.version, state: 'enabled', updated_at: new Date() }).onConflict('name').merge();
    this.versions.set(plugin.name, plugin.version);
    this.activate(plugin.name);
    this.logger.info({ plugin: plugin.name, version: plugin.version }, `plugin "${plugin.name}" installed`);
  }

  private async bringUpToDate(plugin: PluginDefinition, recorded: string): Promise<void> {
    if (semver.lt(plugin.version, recorded)) {
      throw new PluginError(plugin.name, `version ${plugin.version} is older than the installed ${recorded}; downgrades are not supported`);
    }
    await this.migrate(plugin);
    if (semver.gt(plugin.version, recorded)) {
      await this.runHook(plugin, 'upgrade', () => plugin.upgrade?.(this.ctx(plugin), recorded));
      await this.app.knex('rapport_plugins').where({ name: plugin.name }).update({ version: plugin.version, updated_at: new Date() });
      this.versions.set(plugin.name, plugin.version);
      this.logger.info({ plugin: plugin.name, from: recorded, to: plugin.version }, `plugin "${plugin.name}" upgraded`);
    }
  }

  private async migrate(plugin: PluginDefinition): Promise<void> {
    try {
      await migrateUp(this.app.knex, plugin.name, plugin.migrations ?? [], this.bootApplied);
    } catch (error) {
      throw new PluginError(plugin.name, (error as Error).message);
    }
  }

  async pending(): Promise<Array<{ plugin: string; migrations: string[] }>> {
    const out = [];
    for (const plugin of this.ordered) out.push({ plugin: plugin.name, migrations: await pendingMigrations(this.app.knex, plugin.name, plugin.migrations ?? []) });
    return out;
  }

  private activate(name: string): void {
    this.states.set(name, 'enabled');
    this.app.bus.activate(name);
  }

  private deactivate(name: string): void {
    this.app.bus.deactivate(name);
  }

  private async setState(name: string, state: PluginState): Promise<void> {
    await this.app.knex('rapport_plugins').where({ name }).update({ state, updated_at: new Date() });
    this.states.set(name, state);
  }

  private async rows(): Promise<Map<string, { version: string; state: PluginState }>> {
    const rows: Array<{ name: string; version: string; state: PluginState }> = await this.app.knex('rapport_plugins').select('name', 'version', 'state');
    return new Map(rows.map((r) => [r.name, r]));
  }

  private require(name: string): PluginDefinition {
    const plugin = this.get(name);
    if (!plugin) throw new NotFoundError('Plugin', name);
    return plugin;
  }

  private async runHook(plugin: PluginDefinition, hook: string, run: () => unknown): Promise<void> {
    try {
      await run();
    } catch (error) {
      throw new PluginError(plugin.name, `${hook} failed: ${(error as Error).message}`);
    }
  }

  /** Runs the plugin's `stop`; a failure is logged, never thrown: a plugin going off must go off regardless. */
  private async stopLogged(plugin: PluginDefinition): Promise<void> {
    try {
      await plugin.stop?.(this.ctx(plugin));
    } catch (error) {
      this.logger.error({ err: error, plugin: plugin.name }, `plugin "${plugin.name}" failed to stop`);
    }
  }

  private ctx(plugin: PluginDefinition): LifecycleContext<Deps> {
    return {
      plugin: plugin.name,
      knex: this.app.knex,
      logger: this.logger.child({ plugin: plugin.name }),
      deps: this.resolvedDeps.get(plugin.name) ?? {},
    };
  }

  private apiFor(plugin: PluginDefinition): PluginApi {
    const owner = plugin.name;
    const { registries, scopes, bus } = this.app;
    return {
      plugin: owner,
      logger: this.logger.child({ plugin: owner }),
      relationshipTypes: { define: (d) => registries.relationshipTypes.define(owner, d) },
      interactionTypes: { define: (d) => registries.interactionTypes.define(owner, d) },
      indicators: { define: (d) => registries.indicators.define(owner, d) },
      partyAttributes: { define: (d) => registries.partyAttributes.define(owner, d) },
      permissions: { define: (d) => registries.permissions.define(owner, d) },
      customFields: {
        allow: (d) => {
          if (!d.table.startsWith(`${owner}_`)) throw new PluginError(owner, `custom fields of "${d.key}": table "${d.table}" is not one of the plugin's (${owner}_…)`);
          registries.fieldRecordTypes.define(owner, d);
        },
      },
      search: {
        define: (d) => {
          if (!d.table.startsWith(`${owner}_`)) throw new PluginError(owner, `search source "${d.key}": table "${d.table}" is not one of the plugin's (${owner}_…)`);
          registries.searchSources.define(owner, d);
        },
      },
      recordScopes: {
        define: (resource, contribute) => {
          if (!resource.startsWith(`${owner}.`)) throw new PluginError(owner, `record scope "${resource}" must be namespaced "${owner}.…"`);
          scopes.define(owner, resource, contribute);
        },
        extend: (resource, contribute) => scopes.extend(owner, resource, contribute),
      },
      hooks: {
        filter: (filter, handler, options) => bus.filter(owner, keyName(filter), handler as never, options),
        on: (event, handler) => bus.on(owner, keyName(event), handler as never),
      },
      routes: (register) => {
        const builder = this.routers.get(owner) ?? new RouteBuilder(owner, `/api/v1/${owner}`);
        this.routers.set(owner, builder);
        try {
          register(builder);
        } catch (error) {
          throw new PluginError(owner, (error as Error).message);
        }
      },
      federation: {
        documentType: (definition) => {
          try {
            this.app.documentTypes.define(owner, definition);
          } catch (error) {
            throw new PluginError(owner, (error as Error).message);
          }
        },
        onReceive: (type, handler) => this.app.documentTypes.onReceive(owner, type, handler),
      },
      importers: {
        define: (importer) => {
          if (!importer.name.startsWith(`${owner}.`)) throw new PluginError(owner, `importer "${importer.name}" must be namespaced "${owner}.…"`);
          if (this.importers.has(importer.name)) throw new PluginError(owner, `importer "${importer.name}" is declared twice`);
          this.importers.set(importer.name, { ...importer, owner });
        },
      },
      schedule: {
        every: (name, intervalMs, run) => {
          try {
            this.app.scheduler.define(owner, name, intervalMs, run);
          } catch (error) {
            throw new PluginError(owner, (error as Error).message);
          }
        },
      },
      attachments: {
        records: (definition) => this.app.attachmentRegistry.defineRecord(owner, definition),
        scan: (scanner) => this.app.attachmentRegistry.addScanner(owner, scanner),
      },
      automation: {
        action: (definition) => this.app.automationActions.define(owner, definition),
      },
      provide: (ref, service) => {
        if (!isServiceRef(ref)) throw new PluginError(owner, 'provide() takes a service ref of its contract');
        if (ref.owner !== owner) throw new PluginError(owner, `cannot provide "${ref.id}": a plugin provides the services of its own contract ("${owner}.…")`);
        const existing = this.services.get(ref.id);
        if (existing) throw new PluginError(owner, `service "${ref.id}" is provided twice`);
        if (service === undefined || service === null) throw new PluginError(owner, `provides nothing for "${ref.id}"`);
        this.services.set(ref.id, { owner, service });
      },
    };
  }
}
