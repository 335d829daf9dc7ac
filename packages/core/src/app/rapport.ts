import type { Knex } from 'knex';
import pino, { type Logger } from 'pino';
import type { Server } from 'node:http';
import { defineKernelScopes, RecordScopes } from '../access/record-scopes.js';
import { systemPrincipal, type Principal } from '../access/principal.js';
import { HookBus } from '../hooks/hook-bus.js';
import { runUnitOfWork, type UnitOfWork } from '../hooks/unit-of-work.js';
import { InteractionService } from '../kernel/interactions.js';
import { KernelRegistries } from '../kernel/kernel.js';
import type { KernelServices } from '../kernel/services.js';
export type { KernelServices } from '../kernel/services.js';
import { MergeService } from '../kernel/merge.js';
import { FieldService } from '../fields/service.js';
import { SearchService } from '../search/service.js';
import { fieldsModule } from '../http/kernel/fields.js';
import { searchModule } from '../http/kernel/search.js';
import { ObservationService } from '../kernel/observations.js';
import { PartyService } from '../kernel/parties.js';
import { RelationshipService } from '../kernel/relationships.js';
import { ensureDefaultTenant, TenantService } from '../kernel/tenants.js';
import type { Tenant } from '../kernel/types.js';
import { queryContext, type QueryContext } from '../kernel/context.js';
import { PluginHost } from '../plugins/host.js';
import { resolvePlugins } from '../plugins/resolve.js';
import { openDatabase, type Database, type DatabaseKind } from '../storage/database.js';
import { ReadReplicas } from '../storage/replicas.js';
import { kernelMigrations } from '../storage/kernel-migrations.js';
import { allAppliedMigrations, migrateUp } from '../storage/migrations.js';
import { withBootLock } from '../storage/boot-lock.js';
import { CORE_VERSION } from '../version.js';
import { declareKernel } from './kernel-declarations.js';
import type { RapportConfig } from './config.js';
import { createHttpApp, type HttpApp } from '../http/server.js';
import { HttpMetrics } from '../http/metrics.js';
import { ensureBootstrapKey } from '../access/keys.js';
import { Dispatcher } from '../webhooks/dispatcher.js';
import { Scheduler } from '../jobs/scheduler.js';
import { JobService } from '../jobs/jobs.js';
import { LoginThrottle } from '../access/throttle.js';
import { WebhookSecrets } from '../webhooks/secrets.js';
import type { KernelModule } from './module.js';
import { assertSingleCoreCopy } from './single-copy.js';
import { checkConfig } from './config-schema.js';
import { RATE_LIMIT_TABLE, RequestLimits } from '../http/limits.js';
import { recordsModule } from '../http/kernel/module.js';
import { pluginsModule } from '../http/kernel/meta.js';
import { accessModule } from '../access/routes.js';
import { webhooksModule } from '../webhooks/routes.js';
import { jobsModule } from '../jobs/routes.js';
import { importsModule } from '../import/routes.js';
import { AttachmentRegistry } from '../attachments/registry.js';
import { AttachmentService } from '../attachments/service.js';
import { attachmentsModule } from '../attachments/routes.js';
import { AutomationActions, defineKernelActions } from '../automation/actions.js';
import { AutomationEngine } from '../automation/engine.js';
import { RuleService } from '../automation/rules.js';
import { automationModule } from '../automation/routes.js';
import { federationModule } from '../federation/routes.js';
import { Federation } from '../federation/federation.js';
import { LinkTransport } from '../federation/transport.js';
import { DocumentTypeRegistry } from '../federation/documents.js';

/**
 * A composed system: database, kernel, plugins, HTTP and background work. Build one with
 * `createRapport(config)`; it is ready to serve when the promise resolves.
 */
export class Rapport {
  readonly logger: Logger;
  readonly bus: HookBus;
  readonly registries: KernelRegistries;
  readonly scopes: RecordScopes;
  readonly services: KernelServices;
  /** Custom fields defined at run time (docs/custom-fields.md). */
  readonly fields: FieldService;
  /** Search across parties, interactions and plugin records (docs/search.md). */
  readonly search: SearchService;
  readonly tenants: TenantService;
  readonly plugins: PluginHost;
  readonly version = CORE_VERSION;
  private database!: Database;
  private tenant!: Tenant;
  private httpApp?: HttpApp;
  private server?: Server;
  private backgroundStarted = false;
  private closing = false;
  readonly dispatcher: Dispatcher;
  /** Prometheus metrics (served at /metrics): requests, committed events, webhook deliveries. */
  readonly metrics = new HttpMetrics();
  /** Recurring tasks of the kernel and plugins; `runNow(name)` runs one at once (tests). */
  readonly scheduler: Scheduler;
  /** Background jobs (HTTP imports and whatever else starts one). */
  readonly jobs: JobService;
  /** Read replicas (`database.replicas`), when configured on PostgreSQL. */
  replicas: ReadReplicas | undefined;
  /** Failed-login counters (docs/access.md). */
  readonly loginThrottle: LoginThrottle;
  /** Encryption of webhook signing secrets at rest (docs/webhooks.md). */
  readonly webhookSecrets: WebhookSecrets;
  /** Limits on every caller (requests per principal and address, tenant quotas), shared across nodes. */
  readonly limits: RequestLimits;
  /** The kernel's own subsystems, registered like plugins: their routes, permissions and lifecycle. */
  readonly modules: readonly KernelModule[];
  /** Plugin record types that take attachments, and the scanners plugins registered. */
  readonly attachmentRegistry: AttachmentRegistry;
  /** Files linked to records, in the configured store (docs/attachments.md). */
  readonly attachments: AttachmentService;
  /** The actions automation rules can use (the kernel's and the plugins'). */
  readonly automationActions: AutomationActions;
  /** Automation rules: after-commit runs, the run log, dry-runs (docs/automation.md). */
  readonly automation: AutomationEngine;
  readonly automationRules: RuleService;
  /** Document types plugins federate (`api.federation.documentType`). */
  readonly documentTypes: DocumentTypeRegistry;
  /** Rapport Link: links to other systems, their documents and messages (docs/federation.md). */
  readonly federation: Federation;
  /** Pushes and pulls link messages. */
  readonly linkTransport: LinkTransport;

  constructor(readonly config: RapportConfig) {
    // Two copies of core in one process would each keep their own registries and wall: refuse.
    assertSingleCoreCopy();
    // A misspelt or mistyped setting stops the start with one message naming it (and the nearest valid one).
    checkConfig(config);
    this.logger = config.logger ?? pino({ level: config.logLevel ?? process.env.LOG_LEVEL ?? 'info' });
    this.bus = new HookBus(this.logger);
    this.tenants = new TenantService(() => this.knex);
    const ordered = resolvePlugins(config.plugins ?? [], CORE_VERSION);
    this.plugins = new PluginHost(this, ordered, this.logger);
    this.registries = new KernelRegistries(this.plugins.isActive);
    this.documentTypes = new DocumentTypeRegistry(this.plugins.isActive);
    this.scopes = new RecordScopes(this.plugins.isActive);
    defineKernelScopes(this.scopes);
    // Party references of custom fields are checked by the party service, made right after.
    this.fields = new FieldService(
      () => this.knex,
      this.registries,
      (ctx, ids, field) => parties.requireLive(ctx, ids, field),
    );
    const deps = { registries: this.registries, scopes: this.scopes, bus: this.bus, fields: this.fields };
    const parties: PartyService = new PartyService(deps);
    const relationships = new RelationshipService(deps, parties);
    const interactions = new InteractionService(deps, parties, relationships);
    this.services = {
      parties,
      relationships,
      interactions,
      observations: new ObservationService(deps, parties, relationships),
      merge: new MergeService(parties, relationships, interactions),
    };
    this.attachmentRegistry = new AttachmentRegistry(this.plugins.isActive);
    this.automationActions = new AutomationActions(this.plugins.isActive);
    defineKernelActions(this.automationActions, this.services);
    this.scheduler = new Scheduler(this, config.scheduler ?? {});
    this.webhookSecrets = new WebhookSecrets(this, this.scheduler);
    this.dispatcher = new Dispatcher(this, config.dispatcher ?? {});
    this.jobs = new JobService(this, this.scheduler, config.jobs ?? {});
    this.loginThrottle = new LoginThrottle(this, this.scheduler, config.auth?.loginThrottle ?? {});
    this.limits = new RequestLimits(config.limits ?? {}, () => (this.database?.kind === 'postgres' ? this.knex : undefined), this.logger.child({ component: 'limits' }));
    this.scheduler.define('core', 'core.limits.prune', 3_600_000, async () => {
      // Windows that ended an hour ago: their rows are no longer read by anyone.
      await this.knex(RATE_LIMIT_TABLE)
        .where('expire', '<', Date.now() - 3_600_000)
        .delete();
    });
    this.federation = new Federation(this);
    this.linkTransport = new LinkTransport(this, this.federation);
    this.attachments = new AttachmentService(this);
    this.automation = new AutomationEngine(this, this.scheduler, config.automation ?? {});
    this.automationRules = new RuleService(this.automationActions);
    // Each module gets this system as the narrow host interface it declares, never more.
    this.search = new SearchService(this.registries, this.scopes);
    this.modules = [
      recordsModule(this),
      fieldsModule(this),
      searchModule(this),
      pluginsModule(this),
      accessModule(this),
      webhooksModule(this),
      jobsModule(this),
      importsModule(this),
      attachmentsModule(this.attachments),
      automationModule(this.automation, this.automationRules, this.automationActions),
      federationModule(this),
    ];
    declareKernel(this.registries, this.modules);
  }

  get knex(): Knex {
    return this.database.knex;
  }

  get databaseKind(): DatabaseKind {
    return this.database.kind;
  }

  /** The first tenant, created on first start with its self party. */
  get defaultTenant(): Tenant {
    return this.tenant;
  }

  /**
   * Opens the database, migrates the kernel, declares and boots plugins, then starts the
   * background work (`startBackground`) unless `background` is false.
   */
  async init(options: InitOptions = {}): Promise<this> {
    this.plugins.declare();
    this.database = openDatabase(this.config.database, this.logger);
    try {
      await this.database.ready();
      // One node at a time through migrations, first tenant, bootstrap key and plugin installs.
      await withBootLock(this.knex, this.database.kind, async () => {
        // Every owner's migrations checked in one query, not two per owner.
        const applied = await allAppliedMigrations(this.knex);
        await migrateUp(this.knex, 'core', kernelMigrations, applied);
        this.tenant = await ensureDefaultTenant(this.knex, this.config.tenantName ?? 'My Company');
        await this.plugins.boot(applied);
        if (this.config.bootstrapKey) await ensureBootstrapKey(this.knex, this.tenant.id, this.config.bootstrapKey, this.logger);
      });
      // A malformed RAPPORT_SECRET_KEY fails the start, not the first webhook.
      this.webhookSecrets.checkConfiguredKeys();
      await this.plugins.startAll();
      await this.plugins.follow();
      this.limits.start();
      await this.startReplicas();
      if (options.background !== false) this.startBackground();
    } catch (error) {
      await this.replicas?.stop().catch(() => undefined);
      await this.database.close().catch(() => undefined);
      throw error;
    }
    return this;
  }

  /**
   * Runs `work` as one unit of work for a tenant and principal (the system principal by
   * default). `beforeCommit` is awaited once everything is written, just before COMMIT: a
   * caller running several units of work side by side orders their commits with it, and
   * rolls one back by throwing.
   */
  transaction<T>(work: (uow: UnitOfWork) => Promise<T>, scope?: { tenantId?: string; principal?: Principal; anonymous?: boolean; beforeCommit?: () => Promise<void> }): Promise<T> {
    const tenantId = scope?.tenantId ?? scope?.principal?.tenantId ?? this.tenant.id;
    const principal = scope?.principal ?? systemPrincipal(tenantId);
    // Documents declared to leave with a plugin's event are queued in that event's transaction.
    const federated = this.documentTypes.hasEmitters()
      ? async (uow: UnitOfWork) => {
          const value = await work(uow);
          await this.federation.sendEmitted(uow);
          return value;
        }
      : work;
    return runUnitOfWork(
      this.knex,
      this.bus,
      { tenantId, principal, anonymous: scope?.anonymous },
      federated,
      (events) => {
        if (events.length) this.dispatcher.nudge();
        if (events.some((e) => e.name === 'federation.document.sent')) this.linkTransport.nudge();
        this.metrics.countEvents(events);
      },
      scope?.beforeCommit,
    );
  }

  /**
   * Starts the kernel modules' loops (webhook dispatcher, automation, link transport) and the
   * scheduler; `init` does unless told not to. Their first passes each read tables nothing
   * has touched yet, on PGlite through its one connection: `rapport serve` starts them once
   * its first request is answered, so that request does not queue behind them. Once only,
   * and never after `close`.
   */
  startBackground(): void {
    if (this.backgroundStarted || this.closing) return;
    this.backgroundStarted = true;
    for (const module of this.modules) module.start?.();
    if (this.config.scheduler?.enabled !== false) this.scheduler.start();
  }

  private async startReplicas(): Promise<void> {
    const urls = this.config.database?.replicas ?? [];
    if (urls.length === 0) return;
    if (this.database.kind !== 'postgres') throw new Error('database.replicas: read replicas need PostgreSQL (set database.url); the embedded database has none');
    this.replicas = new ReadReplicas(this.knex, { urls, maxLagMs: this.config.database?.replicaMaxLagMs }, this.config.database ?? {}, this.logger.child({ component: 'replicas' }));
    await this.replicas.start();
  }

  /** A read context for the system principal of a tenant (scripts, jobs, tests). */
  systemContext(tenantId = this.tenant.id): QueryContext {
    return queryContext(this.knex, tenantId, systemPrincipal(tenantId));
  }

  /** The Koa application (built on first use, so a CLI command that never serves never builds it). */
  get http(): HttpApp {
    this.httpApp ??= createHttpApp(this);
    return this.httpApp;
  }

  /** Node request handler, for supertest or an existing server. */
  callback() {
    return this.http.koa.callback();
  }

  async listen(port: number, host?: string): Promise<Server> {
    const server = this.http.koa.listen(port, host);
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.server = server;
    return server;
  }

  /** Waits for in-process listeners of events committed so far. */
  settled(): Promise<void> {
    return this.bus.settled();
  }

  /**
   * Graceful stop: refuse new connections, answer the requests in flight and those already
   * on their way on keep-alive connections (each with `Connection: close`), close every
   * connection within `http.shutdownGraceMs`; then stop the kernel modules (dispatcher, jobs),
   * the scheduler, event listeners and plugins, and close the database.
   */
  async close(): Promise<void> {
    this.closing = true;
    if (this.server) {
      const server = this.server;
      this.server = undefined;
      await this.http.drain(server, this.config.http?.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS);
    }
    for (const module of [...this.modules].reverse()) await module.stop?.();
    await this.scheduler.stop();
    await this.limits.stop();
    await this.replicas?.stop();
    await this.bus.settled();
    this.plugins.unfollow();
    await this.plugins.settled();
    await this.plugins.stopAll();
    await this.database?.close();
  }
}

/** How long a stop waits for connections to finish before closing them (overridable: `http.shutdownGraceMs`). */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/** How `init` (and `createRapport`) start a system. */
export interface InitOptions {
  /** Start the background work (`Rapport.startBackground`) at once (default true). */
  background?: boolean;
}

export async function createRapport(config: RapportConfig = {}, options?: InitOptions): Promise<Rapport> {
  return new Rapport(config).init(options);
}
