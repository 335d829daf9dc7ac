import type { Logger } from 'pino';
import type { DatabaseConfig } from '../storage/database.js';
import type { PluginDefinition } from '../plugins/definition.js';
import type { SchedulerOptions } from '../jobs/scheduler.js';
import type { JobsOptions } from '../jobs/jobs.js';
import type { LoginThrottleOptions } from '../access/throttle.js';

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
  };
  dispatcher?: {
    /** Run the outbox dispatcher and webhook deliveries in this process (default true). */
    enabled?: boolean;
    pollIntervalMs?: number;
    /** Base of the exponential backoff between delivery attempts (default 1000 ms). */
    retryBaseMs?: number;
    maxAttempts?: number;
    /** Timeout for one webhook request (default 10 s). */
    requestTimeoutMs?: number;
    /**
     * Let webhooks reach loopback, private, link-local and other non-public addresses
     * (default false: a tenant's webhook could otherwise probe the server's own network).
     * Turn on for receivers on your private network.
     */
    allowPrivateNetworks?: boolean;
    /** Delete outbox rows dispatched longer ago than this, once their deliveries are done (default: keep). */
    pruneDispatchedOlderThanMs?: number;
  };
  /** Recurring tasks (`api.schedule.every`); see docs/jobs.md. */
  scheduler?: SchedulerOptions;
  /** Background jobs (`rapport.jobs`); see docs/jobs.md. */
  jobs?: JobsOptions;
  /** CSV import over HTTP (`POST /api/v1/imports/{importer}`). */
  imports?: {
    /** Largest CSV upload accepted, bytes (default 256 MiB); larger is a 413. */
    maxUploadBytes?: number;
    /** Where uploads wait for their import (default `<os tmpdir>/rapport-imports`), as `<job id>.csv`; each file is deleted when its job ends, a crashed node's by a later upload's sweep. */
    uploadDir?: string;
  };
}
