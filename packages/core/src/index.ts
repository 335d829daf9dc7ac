/**
 * @rapport/core — the public API. Everything a system composer or a plugin author
 * needs is exported here; anything not exported is internal and may change.
 */
export { CORE_VERSION } from './version.js';

// Composition
export { Rapport, createRapport, type InitOptions, type KernelServices } from './app/rapport.js';
export type { RapportConfig, CorsSettings, LimitsSettings, LimitRule, TenantQuotas } from './app/config.js';
export { rapportConfigSchema, checkConfig, configReference, ConfigError, named } from './app/config-schema.js';
export { KERNEL_PERMISSIONS } from './app/kernel-declarations.js';

// Plugins: the contract (docs/plugin-guide.md)
export { definePlugin, PLUGIN_NAME_PATTERN, type PluginDefinition, type PluginApi, type LifecycleContext, type Deps } from './plugins/definition.js';
export {
  defineContract,
  service,
  filter,
  event,
  serviceRef,
  filterRef,
  eventRef,
  type Contract,
  type ContractShape,
  type Slot,
  type ServiceRef,
  type OptionalServiceRef,
  type FilterRef,
  type EventRef,
  type DependencyRef,
  type Resolved,
  type ResolvedDeps,
} from './contract/refs.js';
export { coreServices, type Sealer, type PluginDatabase, type UnitOfWorkRunner, type RecordScopeReader } from './contract/core-services.js';
export { tablePrefixOf, type TenantTables } from './storage/tenant-tables.js';
export { defineRecord, type RecordDefinition } from './records/define-record.js';
export type { PluginState, PluginStatus } from './plugins/host.js';
export { resolvePlugins, RESERVED_NAMES } from './plugins/resolve.js';

// Hooks and events
export type { HookMap, FilterMap, EventName, FilterName, EventKey, FilterKey, EventPayload, FilterPayload, EventMeta, EventSubject, EventHandler } from './hooks/types.js';
export { UnitOfWork, type PendingEvent, type FilterHandler } from './hooks/unit-of-work.js';
/** What a filter receives besides its payload: the write's unit of work. */
export type { UnitOfWork as FilterContext } from './hooks/unit-of-work.js';

// Kernel model
export * from './kernel/types.js';
export * from './kernel/schemas.js';
export type { QueryContext } from './kernel/context.js';
export { normalizeName } from './kernel/views.js';
export type {
  PartyViewRow,
  PartyViewFilter,
  ContactPointViewRow,
  ContactPointViewFilter,
  RelationshipViewRow,
  RelationshipViewFilter,
  ReachableViewRow,
  ReachableFilter,
  InteractionViewRow,
  InteractionViewFilter,
  ParticipantViewRow,
  ParticipantViewFilter,
  ObservationViewRow,
  ObservationViewFilter,
} from './kernel/views.js';
export type { PartyListQuery, DuplicateCandidate, PartyService } from './kernel/parties.js';
export type { RelationshipListQuery, RelationshipService } from './kernel/relationships.js';
export type { InteractionListQuery, TimelineQuery, InteractionService } from './kernel/interactions.js';
export type { ObservationListQuery, IndicatorSummary, ObservationService } from './kernel/observations.js';
export type { MergePlan, MergeService } from './kernel/merge.js';
export { normalizeContactPoint } from './kernel/contact-points.js';
export { createTenant, findTenant, listTenants, TenantService } from './kernel/tenants.js';

// Custom fields and search (docs/custom-fields.md, docs/search.md)
export { FIELD_KINDS, type FieldDefinition, type FieldKind } from './fields/definitions.js';
export type { FieldRecordTypeDefinition, FieldValues, FieldService } from './fields/service.js';
export {
  applyFieldFilters,
  createFieldFilterIndex,
  createFieldSortIndex,
  fieldSortIndexName,
  fieldSortPage,
  withFieldParams,
  type FieldColumnOptions,
  type FieldFilter,
  type FieldListQuery,
} from './fields/list-query.js';
export type { SearchSourceDefinition } from './search/sources.js';
export { createSearchIndexes, dropSearchIndexes } from './search/sql.js';
export { searchTerms, type SearchHit, type SearchQuery, type SearchService } from './search/service.js';

// Storage
export { openDatabase, PGLITE_EXTENSIONS, type Database, type DatabaseConfig, type DatabaseKind } from './storage/database.js';
export { pendingMigrations, type Migration } from './storage/migrations.js';
export { trigramOperatorClass } from './storage/trigram.js';
export { refreshStatistics } from './storage/statistics.js';
export { kernelMigrations } from './storage/kernel-migrations.js';
export { kernelGlobalTables, TENANT_DISCOVERY, type GlobalTable } from './storage/sharding.js';
export { citusDistributionPlan, type CitusPlacement } from './storage/citus.js';
export { schemaRuleViolations, schemaTables, globalTablesOf, type SchemaRuleViolation } from './storage/schema-rule.js';

// HTTP
export { RouteBuilder, type RouteSpec, type RequestContext, type HttpMethod, type RegisteredRoute, type RouteAudience } from './http/routes.js';
export { keysetPage, keysetWindow, applyTextList, textListQuery, textSortExpression, type KeysetKey, type TextListFilter } from './http/keyset.js';
export { ResponseSchemaError } from './http/response-check.js';
export { pageQuery, idParams, pageOf, booleanQuery, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from './http/pagination.js';
export { sendCsv, csvStream, keysetBatches, DEFAULT_EXPORT_BATCH_SIZE, type CsvColumn } from './http/csv-export.js';
export { encodeCursor, decodeCursor, toPage, type Page } from './util/cursor.js';
// Response shapes of kernel records, for plugin routes that return them (OpenAPI).
export { partySchema, relationshipSchema, interactionSchema, observationSchema } from './http/kernel/response-schemas.js';

// Access
export { hasPermission, systemPrincipal, AUTHENTICATED, TENANT_WIDE_PERMISSIONS, type Principal } from './access/principal.js';
export type { ScopeContribution, RecordScopes } from './access/record-scopes.js';
export { createApiKey, type ApiKeyInput, type CreatedApiKey } from './access/keys.js';
export { hashPassword, verifyPassword, MIN_PASSWORD_LENGTH } from './access/passwords.js';
export { createUser, type UserCreate } from './access/users.js';
export type { User, ApiKeyInfo, Role, AuditEntry } from './access/types.js';

// Webhooks (durable event delivery)
export {
  signWebhookPayload,
  verifyWebhookSignature,
  SIGNATURE_HEADER,
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  type SignWebhookPayloadInput,
  type VerifyWebhookSignatureInput,
  type WebhookBody,
} from './webhooks/signature.js';
export { Dispatcher, DISPATCHER_DEFAULTS, type DispatcherOptions, type DispatcherStats } from './webhooks/dispatcher.js';
export { matchesEventPattern, isEventPattern } from './webhooks/patterns.js';
export type { WebhookEventBody } from './webhooks/delivery.js';
export type { Webhook, WebhookWithSecret, WebhookDelivery, WebhookDeliveryAttempt, DeliveryStatus } from './webhooks/schemas.js';

// Import
export {
  runImport,
  listImporters,
  findImporter,
  DEFAULT_BATCH_SIZE,
  type Importer,
  type ImporterColumn,
  type ImporterInfo,
  type ImportRecord,
  type ImportBatchResult,
  type ImportSettings,
  type ImportOptions,
  type ImportProgress,
  type ImportResult,
  type RejectedRow,
  type RowError,
} from './import/index.js';

// Background work: recurring tasks and jobs (docs/jobs.md)
export * from './jobs/index.js';
export { IMPORT_JOB_KIND, DEFAULT_MAX_UPLOAD_BYTES } from './import/routes.js';

// Attachments (docs/attachments.md)
export { DirectoryStore, AttachmentMissingError, type AttachmentStore, type ByteRange } from './attachments/store.js';
export { S3Store, type S3StoreOptions } from './attachments/s3-store.js';
export { attachmentSchema, AttachmentService, ATTACHMENT_INTERACTION_TYPE, type Attachment, type RecordAttachments } from './attachments/service.js';
export type { AttachableRecordDefinition, AttachmentScanInput, AttachmentScanVerdict, AttachmentScanner } from './attachments/registry.js';

// Automation rules (docs/automation.md)
export type { AutomationActionDefinition, AutomationActionContext } from './automation/actions.js';
export { ruleSchema, type Rule, type RuleCreateInput } from './automation/rules.js';
export { runSchema, AutomationEngine, type AutomationRun, type DryRun } from './automation/engine.js';

// Errors
export {
  RapportError,
  ValidationError,
  NotFoundError,
  ConflictError,
  PreconditionFailedError,
  UnauthorizedError,
  ForbiddenError,
  VetoError,
  PluginError,
  type ProblemDetails,
  type ValidationIssue,
} from './errors.js';

export { newId } from './util/ids.js';
// Times as the API speaks them (ISO 8601 UTC) and calendar days from DATE columns.
export { iso, isoRequired, calendarDay } from './util/time.js';

// Rapport Link: federation between systems (docs/federation.md)
export {
  defineDocumentType,
  LINK_ROLES,
  COUNTERPART,
  type DocumentTypeDefinition,
  type LinkRole,
  type LinkView,
  type ReceivedDocument,
  type ApplyContext,
  type ApplyResult,
  type EmitContext,
  type EmitSelection,
  type ReceiveHandler,
} from './federation/documents.js';
export { PEER_PATH, wireMessageSchema, type FederationService, type FederationSettings, type WireMessage, type MessageResult } from './federation/federation.js';
export { FEDERATION_PERMISSIONS } from './federation/routes.js';
export { contentDigest, digestMatches, signRequest, verifySigned, thumbprint, generateKeyPair, privateKeyOf, SignatureError, SIGNATURE_WINDOW_SECONDS, type PublicJwk } from './federation/signing.js';
