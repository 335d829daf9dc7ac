import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Principal } from '../access/principal.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import type { QueryContext } from '../kernel/context.js';
import type { InteractionService } from '../kernel/interactions.js';
import type { MergeService } from '../kernel/merge.js';
import type { ObservationService } from '../kernel/observations.js';
import type { PartyService } from '../kernel/parties.js';
import type { RelationshipService } from '../kernel/relationships.js';
import type { TenantService } from '../kernel/tenants.js';
import type { TenantTables } from '../storage/tenant-tables.js';
import { serviceRef } from './refs.js';
import type { FieldValues } from '../fields/service.js';
import type { RecordAttachments } from '../attachments/service.js';
import type { FederationService } from '../federation/federation.js';

/**
 * A plugin's own tables. `in(ctx)` gives them in the caller's tenant on the caller's
 * connection (the open transaction inside a write): see `TenantTables` for what the wall
 * does. The handle knows its plugin, so it refuses any table outside the plugin's prefix.
 */
export interface PluginDatabase {
  /** `crm_` for the CRM: every table of the plugin starts with it. */
  readonly prefix: string;
  /** The plugin's tables in a tenant: the context's (its connection too), or a tenant id on the root connection. */
  in(ctx: QueryContext | string): TenantTables;
  /**
   * The tenants with rows in one of the plugin's tables matching `where` (all of them without
   * it): how work that runs across tenants (a sweep, a scheduled task) finds where to go, one
   * tenant at a time, without reading another tenant's rows in one query.
   */
  tenantsWith(table: string, where?: (query: Knex.QueryBuilder) => void): Promise<string[]>;
  /**
   * The raw connection, past the tenant wall and the prefix check: every query written on it
   * must name its tenant itself. The context's transaction when given one. Review each use.
   */
  unsafeKnex(ctx?: QueryContext): Knex;
}

/** Runs a unit of work outside a request: an after-commit reaction, a scheduled task, a script. */
export interface UnitOfWorkRunner {
  /** As the system principal of `tenantId` unless a principal is given. */
  run<T>(scope: { tenantId: string; principal?: Principal }, work: (uow: UnitOfWork) => Promise<T>): Promise<T>;
  /** A read context outside a request and outside any transaction (a listener's cheap pre-check): the tenant's system principal, the root connection. */
  readContext(tenantId: string): QueryContext;
}

/** What a scoped principal (a partner's user, an employee) may see of a resource: compiled into queries. */
export interface RecordScopeReader {
  /** Restricts `query` to the records of `resource` the caller may see (`column in (…)`); a tenant-wide caller is not restricted. */
  apply<Q extends Knex.QueryBuilder>(query: Q, ctx: QueryContext, resource: string, column: string): Q;
  canSee(ctx: QueryContext, resource: string, id: string): Promise<boolean>;
}

/**
 * Values a plugin keeps that a reader of the database must not read (an anonymous answer
 * until its survey closes): AES-256-GCM under the server's secret key (RAPPORT_SECRET_KEY),
 * bound to the plugin, the tenant and a purpose the plugin names, so a value copied onto
 * another record, tenant or plugin does not open. Rotation as for webhook secrets: values
 * sealed under a previous key open while it is configured in `previousSecretKeys`.
 */
export interface Sealer {
  /** Whether a key is configured (always on PGlite, which generates one); without it seal/open answer 503. */
  readonly available: boolean;
  seal(tenantId: string, purpose: string, plain: string): string;
  /** Throws when no configured key opens the value, or it was altered or copied from another purpose. */
  open(tenantId: string, purpose: string, sealed: string): string;
}

/**
 * The kernel's capabilities a plugin may ask for in `deps`. Each plugin gets exactly what it
 * declares; `database` and `logger` are its own (its tables, its name on every log line).
 */
export const coreServices = {
  parties: serviceRef<PartyService>('core.parties'),
  relationships: serviceRef<RelationshipService>('core.relationships'),
  interactions: serviceRef<InteractionService>('core.interactions'),
  observations: serviceRef<ObservationService>('core.observations'),
  merge: serviceRef<MergeService>('core.merge'),
  tenants: serviceRef<TenantService>('core.tenants'),
  scopes: serviceRef<RecordScopeReader>('core.scopes'),
  unitOfWork: serviceRef<UnitOfWorkRunner>('core.unit-of-work'),
  database: serviceRef<PluginDatabase>('core.database'),
  logger: serviceRef<Logger>('core.logger'),
  sealing: serviceRef<Sealer>('core.sealing'),
  /** Custom field values of the plugin's record types that opted in (`api.customFields.allow`). */
  fields: serviceRef<FieldValues>('core.fields'),
  /** The files of the plugin's record types (`api.attachments.records`): purge a record's with it. */
  attachments: serviceRef<RecordAttachments>('core.attachments'),
  /** Rapport Link: send documents on links, read the mirror map (docs/federation.md). */
  federation: serviceRef<FederationService>('core.federation'),
} as const;
