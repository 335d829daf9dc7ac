import type { AttachmentStore } from '../attachments/store.js';
import type { S3StoreOptions } from '../attachments/s3-store.js';
import type { FederationSettings } from '../federation/federation.js';
import type { Logger } from 'pino';
import type { DatabaseConfig } from '../storage/database.js';
import type { PluginDefinition } from '../plugins/definition.js';

export interface RapportConfig {
  database?: DatabaseConfig;
  /** The plugins this system is made of; nothing else is loaded. */
  plugins?: PluginDefinition[];
  /** Name of the tenant (and its self party) created on first start. */
  tenantName?: string;
  /** When the first tenant has no API key, this token becomes its admin key (RAPPORT_BOOTSTRAP_KEY). */
  bootstrapKey?: string;
  /**
   * Key that encrypts webhook signing secrets at rest (AES-256-GCM): 32 random bytes, base64
   * or hex (RAPPORT_SECRET_KEY). Required on PostgreSQL to create webhooks; on PGlite a key
   * file is generated in the data directory when absent. See docs/operations.md.
   */
  secretKey?: string;
  /** Former `secretKey`s, still accepted for decryption during a rotation (RAPPORT_PREVIOUS_SECRET_KEYS, comma-separated). */
  previousSecretKeys?: string[];
  auth?: {
    /** Failed-login throttling per e-mail+address, e-mail and address; see docs/access.md. */
    loginThrottle?: LoginThrottleOptions;
  };
  logger?: Logger;
  logLevel?: string;
  http?: {
    /** Largest JSON body accepted (default 1mb). */
    bodyLimit?: string;
    /** Cap on `limit` for every list (default 200). */
    maxPageSize?: number;
    /** Session lifetime for password logins, seconds (default 12 h). */
    sessionTtlSeconds?: number;
    /**
     * Parse every JSON answer with its route's response schema and answer 500 naming the route
     * when it does not match, or carries a field the schema does not declare (default off;
     * on in the test kit; RAPPORT_CHECK_RESPONSES=1): OpenAPI and the typed client cannot drift.
     */
    checkResponses?: boolean;
    /** How long a graceful stop answers requests still arriving on open connections before closing them (default 10 s). */
    shutdownGraceMs?: number;
    /** CORS for browsers on other origins; off unless origins are given (docs/operations.md). */
    cors?: CorsSettings;
    /** The built console (`rapport console build`) to serve at /console; not served without it (docs/console.md). */
    console?: { dir: string };
  };
  dispatcher?: DispatcherSettings;
  /** Recurring tasks (`api.schedule.every`); see docs/jobs.md. */
  scheduler?: SchedulerOptions;
  /** Background jobs (`rapport.jobs`); see docs/jobs.md. */
  jobs?: JobsOptions;
  /** CSV import over HTTP (`POST /api/v1/imports/{importer}`). */
  imports?: ImportSettingsConfig;
  /** Limits on every caller: requests per principal and per address, and per-tenant daily quotas (docs/operations.md). */
  limits?: LimitsSettings;
  /** Rapport Link: links to other Rapport systems (docs/federation.md). */
  federation?: FederationSettings;
  /** Files linked to records (docs/attachments.md). */
  attachments?: AttachmentSettings;
  /** Automation rules (docs/automation.md). */
  automation?: AutomationSettings;
}

export interface AttachmentSettings {
  /** Directory of the default store (default `<dataDir>/attachments`, `./.rapport/attachments` on PostgreSQL, `<os tmpdir>/rapport-attachments` for a database in memory). */
  dir?: string;
  /** An S3-compatible bucket instead of the directory. */
  s3?: S3StoreOptions;
  /** A store of the deployment's own. */
  store?: AttachmentStore;
  /** Largest single attachment, bytes (default 100 MiB); larger is a 413. */
  maxFileBytes?: number;
}

export interface AutomationSettings {
  /** Run rules in this process (default true). */
  enabled?: boolean;
  pollIntervalMs?: number;
  /** Events caused by rules this many rules deep trigger no further rule (default 3). */
  maxDepth?: number;
  maxAttempts?: number;
  retryBaseMs?: number;
}

export interface CorsSettings {
  /** Origins allowed to call the API from a browser (`https://app.example.com`), or `['*']` for any. */
  origins: string[];
  /** Allow credentials (cookies) from those origins (default false; never with `*`). */
  credentials?: boolean;
  /** How long a browser may cache a preflight answer, seconds (default 600). */
  maxAgeSeconds?: number;
}

/** At most `requests` in `windowSeconds`. */
export interface LimitRule {
  requests: number;
  windowSeconds: number;
}

/** A tenant's daily quotas; null or absent: no quota. */
export interface TenantQuotas {
  requestsPerDay?: number | null;
  importRowsPerDay?: number | null;
  uploadBytesPerDay?: number | null;
}

export interface LimitsSettings {
  /** Default true. */
  enabled?: boolean;
  /** Requests per principal (API key, session); default 6000 a minute. null: no limit. */
  perPrincipal?: LimitRule | null;
  /** Requests per client address, authenticated or not; default 20000 a minute. null: no limit. */
  perAddress?: LimitRule | null;
  /** Quotas of every tenant (default none)… */
  perTenant?: TenantQuotas;
  /** …and of some tenants instead: by id, or looked up (a tenant's plan); read on each count. */
  tenants?: Record<string, TenantQuotas> | ((tenantId: string) => TenantQuotas | undefined);
  /** How often a node shares its counts with the others on PostgreSQL (default 1000 ms). */
  syncIntervalMs?: number;
}

/* The settings of each subsystem, declared here so that the subsystems depend on the configuration and not the other way round. */

export interface DispatcherSettings {
  /** Run the outbox dispatcher and webhook deliveries in this process (default true). */
  enabled?: boolean;
  pollIntervalMs?: number;
  /** Base of the exponential backoff between delivery attempts (default 1000 ms). */
  retryBaseMs?: number;
  maxAttempts?: number;
  /** Timeout for one webhook request (default 10 s). */
  requestTimeoutMs?: number;
  /**
   * Let webhooks and Rapport Link peers reach loopback, private, link-local and other
   * non-public addresses (default false: a tenant's webhook or another firm's link could
   * otherwise probe the server's own network). Turn on for receivers on your private network.
   */
  allowPrivateNetworks?: boolean;
  /** Delete outbox rows dispatched longer ago than this, once their deliveries are done (default: keep). */
  pruneDispatchedOlderThanMs?: number;
}

export interface ImportSettingsConfig {
  /** Largest CSV upload accepted, bytes (default 256 MiB); larger is a 413. */
  maxUploadBytes?: number;
  /** Where uploads wait for their import (default `<os tmpdir>/rapport-imports`), as `<job id>.csv`; each file is deleted when its job ends, a crashed node's by a later upload's sweep. */
  uploadDir?: string;
}

export interface SchedulerOptions {
  /** Start the timers with the system (default true; `createTestApp` turns them off). */
  enabled?: boolean;
  /** How long a run holds its task before another node may take it over (default 60 s; renewed while running). */
  leaseMs?: number;
  /** Longest pause between two looks at the task table (default 30 s). */
  maxPollMs?: number;
  /** How long `close()` waits for running tasks after aborting them (default 10 s). */
  stopTimeoutMs?: number;
}

export interface JobsOptions {
  /** How long a job stays "alive" without news from its process (default 60 s; renewed every third of it). */
  leaseMs?: number;
  /** How often reported progress is written to the job (default 1 s). */
  progressIntervalMs?: number;
  /** Jobs running at once in this process; more wait as `queued` (default 2). */
  concurrency?: number;
  /** How often the kernel task `core.jobs.fail-interrupted` looks for jobs whose process died (default 60 s). */
  reapIntervalMs?: number;
  /** How long `close()` waits for running jobs after aborting them (default 10 s). */
  stopTimeoutMs?: number;
  /** Finished jobs (and their import reports) older than this many days are deleted by `core.jobs.prune-finished` (default 30; null keeps them). */
  keepFinishedDays?: number | null;
}

/** How one kind of counter reacts to failed logins. */
export interface ThrottlePolicy {
  /** Failures allowed before the first block. */
  freeFailures: number;
  /** First block, seconds; each further failure doubles it. */
  baseDelaySeconds: number;
  /** Longest single block, seconds: nobody is locked out for longer at a time. */
  maxDelaySeconds: number;
  /** A counter with no failure for this long starts again from zero (and its row is pruned). */
  forgetAfterSeconds: number;
}

export interface LoginThrottleOptions {
  /** Default true. */
  enabled?: boolean;
  /** Same e-mail from the same client address: the tight limit a guesser hits first. */
  perPair?: Partial<ThrottlePolicy>;
  /** Same e-mail from any address: looser, against guessing spread over many addresses. */
  perEmail?: Partial<ThrottlePolicy>;
  /** Same address, any e-mail: against one client trying many accounts. */
  perIp?: Partial<ThrottlePolicy>;
  /** The clock (tests). */
  now?: () => Date;
}
