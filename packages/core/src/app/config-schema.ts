import { z } from 'zod';
import type { RapportConfig } from './config.js';

/*
 * Every setting of a Rapport system, as a schema: `createRapport` and `rapport serve` check a
 * configuration with it before anything starts (an unknown key names the nearest valid one),
 * and docs/operations.md's settings table is generated from it (`configReference()`), so the
 * documentation is the schema. Strict at every level: a typo is an error, never ignored.
 */

/** How the settings table names a type zod cannot describe (a plugin, a logger, a function). */
const typeNames = new WeakMap<object, string>();
export function named<T extends z.ZodType>(schema: T, name: string): T {
  typeNames.set(schema, name);
  return schema;
}

const ms = (what: string) => z.number().int().positive().describe(what);
const seconds = (what: string) => z.number().int().positive().describe(what);
const positive = (what: string) => z.number().int().positive().describe(what);

const limitRule = z.strictObject({ requests: z.number().int().positive().describe('At most this many…'), windowSeconds: z.number().int().positive().describe('…in this many seconds') }).nullable();

const tenantQuotas = z.strictObject({
  requestsPerDay: z.number().int().positive().nullable().optional().describe('Requests a day'),
  importRowsPerDay: z.number().int().positive().nullable().optional().describe('Rows imported a day'),
  uploadBytesPerDay: z.number().int().positive().nullable().optional().describe('Bytes uploaded a day'),
});

const throttlePolicy = z.strictObject({
  freeFailures: z.number().int().nonnegative().optional().describe('Failures allowed before the first block'),
  baseDelaySeconds: z.number().int().positive().optional().describe('First block; each further failure doubles it'),
  maxDelaySeconds: z.number().int().positive().optional().describe('Longest single block'),
  forgetAfterSeconds: z.number().int().positive().optional().describe('A counter with no failure for this long starts again from zero'),
});

export const rapportConfigSchema = z.strictObject({
  database: z
    .strictObject({
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
        .optional()
        .describe('postgres://… selects PostgreSQL (DATABASE_URL); absent selects the embedded PGlite'),
      dataDir: z.string().min(1).optional().describe('PGlite data directory (RAPPORT_DATA_DIR; default ./.rapport); `memory://` keeps it in memory'),
      schema: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a schema name')
        .optional()
        .describe('A PostgreSQL schema to work in'),
      pool: z
        .strictObject({
          min: z.number().int().nonnegative().optional().describe('Connections kept open (default 0)'),
          max: positive('Connections at most (default 10)').optional(),
          acquireTimeoutMs: ms(
            'How long a request waits for a connection (default 10000; on PGlite 60000, as an import batch may hold its one connection; the start waits for PGlite to open without a deadline)',
          ).optional(),
          connectTimeoutMs: ms('How long opening a connection may take (default 5000)').optional(),
        })
        .optional()
        .describe('The PostgreSQL connection pool'),
      pglite: z.unknown().optional().describe('An already-open PGlite instance (tests)'),
      replicas: z
        .array(z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'))
        .optional()
        .describe('Streaming replicas that list, timeline, report and search reads may go to (RAPPORT_REPLICA_URLS, comma-separated)'),
      replicaMaxLagMs: ms('A replica further behind the primary than this is skipped (default 2000)').optional(),
    })
    .optional(),
  plugins: z
    .array(
      named(
        z.custom<NonNullable<RapportConfig['plugins']>[number]>(
          (value) => typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string',
          'a plugin (definePlugin)',
        ),
        'plugin',
      ),
    )
    .optional()
    .describe('The plugins the system is made of; nothing else is loaded'),
  tenantName: z.string().trim().min(1).max(200).optional().describe('Name of the first tenant and its self party, created on first start (RAPPORT_TENANT_NAME)'),
  bootstrapKey: z.string().min(16, 'at least 16 characters').optional().describe('Becomes the first tenant’s admin API key while it has none (RAPPORT_BOOTSTRAP_KEY)'),
  secretKey: z.string().min(1).optional().describe('32 bytes, hex or base64, that encrypt webhook signing secrets at rest (RAPPORT_SECRET_KEY); required on PostgreSQL to create webhooks'),
  previousSecretKeys: z.array(z.string().min(1)).optional().describe('Former secret keys, still accepted for decryption during a rotation (RAPPORT_PREVIOUS_SECRET_KEYS)'),
  auth: z
    .strictObject({
      loginThrottle: z
        .strictObject({
          enabled: z.boolean().optional().describe('Default true'),
          perPair: throttlePolicy.optional().describe('Same e-mail from the same address (default 5 free, then 30 s doubling, ≤ 15 min)'),
          perEmail: throttlePolicy.optional().describe('Same e-mail from any address (default 20 free)'),
          perIp: throttlePolicy.optional().describe('Same address, any e-mail (default 100 free)'),
          now: named(
            z.custom<() => Date>((v) => typeof v === 'function', 'a function'),
            'function',
          )
            .optional()
            .describe('The clock (tests)'),
        })
        .optional()
        .describe('Failed-login throttling (docs/access.md)'),
    })
    .optional(),
  logger: named(
    z.custom<NonNullable<RapportConfig['logger']>>((v) => typeof v === 'object' && v !== null && typeof (v as { info?: unknown }).info === 'function', 'a pino logger'),
    'pino logger',
  )
    .optional()
    .describe('A pino logger to log with'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().describe('Log level (LOG_LEVEL; default info)'),
  http: z
    .strictObject({
      bodyLimit: z
        .string()
        .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)$/i, 'a size such as 1mb')
        .optional()
        .describe('Largest JSON body accepted (default 1mb)'),
      maxPageSize: positive('Cap on `limit` for every list (default 200)').optional(),
      sessionTtlSeconds: seconds('Lifetime of a password login’s session (default 43200)').optional(),
      checkResponses: z.boolean().optional().describe('Parse every answer with its route’s response schema (RAPPORT_CHECK_RESPONSES=1; tests)'),
      shutdownGraceMs: ms('How long a graceful stop answers requests on open connections before closing them (default 10000)').optional(),
      cors: z
        .strictObject({
          origins: z.array(z.string().min(1)).describe('Origins allowed to call the API from a browser (`https://app.example.com`, or `*`)'),
          credentials: z.boolean().optional().describe('Allow credentials (cookies) from those origins (default false; never with `*`)'),
          maxAgeSeconds: seconds('How long a browser may cache a preflight answer (default 600)').optional(),
        })
        .optional()
        .describe('CORS: off unless origins are given'),
      console: z
        .strictObject({ dir: z.string().min(1).describe('Directory of the built console (`rapport console build`)') })
        .optional()
        .describe('Serve the console at /console'),
    })
    .optional(),
  federation: z
    .strictObject({
      baseUrl: z.url().optional().describe('This system’s public URL as other systems reach it (RAPPORT_PUBLIC_URL); links need it'),
      enabled: z.boolean().optional().describe('Push and pull link messages from this process (default true)'),
      pollIntervalMs: ms('Longest pause between two looks for link messages to push (default 1000)').optional(),
      retryBaseMs: ms('Base of the exponential back-off while a linked system does not answer (default 1000)').optional(),
      maxBackoffMs: ms('Longest back-off between pushes to a linked system (default 300000)').optional(),
      pullIntervalMs: ms('How often each link pulls the other system’s outbox to catch up (default 60000)').optional(),
      behindAfterMs: ms('A link with unanswered messages for longer than this emits federation.link.behind (default 900000)').optional(),
      batchSize: positive('Messages per push or pulled page (default 100)').optional(),
      concurrency: positive('Links pushed at once on this node (default 20)').optional(),
      requestTimeoutMs: ms('Timeout of one request to a linked system (default 10000)').optional(),
      keyOverlapMs: ms('How long a rotated-out link key is still accepted (default 86400000)').optional(),
    })
    .optional(),
  dispatcher: z
    .strictObject({
      enabled: z.boolean().optional().describe('Deliver webhooks from this process (default true)'),
      pollIntervalMs: ms('Longest pause between two looks at the outbox (default 1000)').optional(),
      retryBaseMs: ms('Base of the exponential back-off between delivery attempts (default 1000)').optional(),
      maxAttempts: positive('Attempts before a delivery is given up (default 10)').optional(),
      requestTimeoutMs: ms('Timeout of one webhook request (default 10000)').optional(),
      allowPrivateNetworks: z.boolean().optional().describe('Let webhooks and Rapport Link peers reach loopback and private addresses (default false)'),
      pruneDispatchedOlderThanMs: ms('Delete outbox rows dispatched longer ago than this (default: keep)').optional(),
      fanOutBatchSize: positive('Outbox rows fanned out per transaction (default 500)').optional(),
      concurrency: positive('Webhook requests in flight at once on this node (default 50)').optional(),
    })
    .optional(),
  scheduler: z
    .strictObject({
      enabled: z.boolean().optional().describe('Run recurring tasks in this process (default true)'),
      leaseMs: ms('How long a run holds its task before another node may take it (default 60000)').optional(),
      maxPollMs: ms('Longest pause between two looks at the task table (default 30000)').optional(),
      stopTimeoutMs: ms('How long a stop waits for running tasks (default 10000)').optional(),
    })
    .optional(),
  jobs: z
    .strictObject({
      leaseMs: ms('How long a job stays alive without news from its process (default 60000)').optional(),
      progressIntervalMs: ms('How often progress is written (default 1000)').optional(),
      concurrency: positive('Jobs running at once in this process (default 2)').optional(),
      reapIntervalMs: ms('How often jobs of dead processes are failed (default 60000)').optional(),
      stopTimeoutMs: ms('How long a stop waits for running jobs (default 10000)').optional(),
      keepFinishedDays: z.number().int().positive().nullable().optional().describe('Finished jobs are deleted after this many days (default 30; null keeps them)'),
    })
    .optional(),
  imports: z
    .strictObject({
      maxUploadBytes: positive('Largest CSV upload accepted (default 268435456)').optional(),
      uploadDir: z.string().min(1).optional().describe('Where uploads wait for their import (default: rapport-imports in the system temp directory)'),
    })
    .optional(),
  attachments: z
    .strictObject({
      dir: z
        .string()
        .min(1)
        .optional()
        .describe('Directory of the default store (RAPPORT_ATTACHMENTS_DIR; default: <dataDir>/attachments, ./.rapport/attachments on PostgreSQL, the system temp directory for a database in memory)'),
      s3: z
        .strictObject({
          bucket: z.string().min(1).describe('Bucket name'),
          prefix: z.string().optional().describe('Prepended to every key'),
          partSize: positive('Bytes per multipart part (default 8 MiB)').optional(),
          client: z.record(z.string(), z.unknown()).optional().describe('AWS SDK v3 S3Client settings: region, endpoint, credentials, forcePathStyle'),
        })
        .optional()
        .describe('Store attachments in an S3-compatible bucket instead of the directory'),
      store: named(
        z.custom<NonNullable<NonNullable<RapportConfig['attachments']>['store']>>(
          (v) => typeof v === 'object' && v !== null && typeof (v as { put?: unknown }).put === 'function',
          'an AttachmentStore',
        ),
        'AttachmentStore',
      )
        .optional()
        .describe('A store of your own (implements AttachmentStore)'),
      maxFileBytes: positive('Largest single attachment (default 104857600)').optional(),
    })
    .optional(),
  automation: z
    .strictObject({
      enabled: z.boolean().optional().describe('Run automation rules in this process (default true)'),
      pollIntervalMs: ms('Longest pause between two looks for due runs (default 1000)').optional(),
      maxDepth: positive('Events caused by rules this many rules deep trigger no further rule (default 3)').optional(),
      maxAttempts: positive('Attempts of a failing run before it is given up (default 5)').optional(),
      retryBaseMs: ms('Base of the back-off between attempts (default 1000)').optional(),
    })
    .optional(),
  limits: z
    .strictObject({
      enabled: z.boolean().optional().describe('Default true'),
      perPrincipal: limitRule.optional().describe('Requests per API key or session (default 6000 a minute; null: none)'),
      perAddress: limitRule.optional().describe('Requests per client address (default 20000 a minute; null: none)'),
      perTenant: tenantQuotas.optional().describe('Daily quotas of every tenant (default none)'),
      tenants: z
        .union([
          named(z.record(z.string(), tenantQuotas), 'object by tenant id'),
          named(
            z.custom<(tenantId: string) => z.infer<typeof tenantQuotas> | undefined>((v) => typeof v === 'function', 'a function'),
            'function',
          ),
        ])
        .optional()
        .describe('Quotas of some tenants instead: by tenant id, or a function of the tenant id'),
      syncIntervalMs: ms('How often a node shares its counts with the others on PostgreSQL (default 1000)').optional(),
    })
    .optional()
    .describe('Limits on every caller (docs/operations.md)'),
}) satisfies z.ZodType<RapportConfig>;

/** A configuration that does not fit the schema: one message, naming the setting. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Checks a configuration; `source` names where it came from in the message (`rapport.config.ts`). */
export function checkConfig(config: unknown, source = 'the configuration', schema: z.ZodType = rapportConfigSchema): void {
  const result = schema.safeParse(config);
  if (result.success) return;
  // A misspelt key is both unknown and a required one missing: name the misspelling.
  const issue = result.error.issues.find((i) => i.code === 'unrecognized_keys') ?? result.error.issues[0];
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    const where = at ? `${at}.${key}` : key;
    const known = keysAt(schema, issue.path.map(String));
    const nearest = closest(key, known);
    throw new ConfigError(
      `${source}: unknown setting "${where}"${nearest ? ` — did you mean "${at ? `${at}.` : ''}${nearest}"?` : ''}${known.length ? ` (${at ? `${at} takes` : 'settings are'}: ${known.join(', ')})` : ''}`,
    );
  }
  throw new ConfigError(`${source}: ${at || 'the configuration'}: ${issue.message}`);
}

/** The keys a strict object of the schema takes at a path. */
function keysAt(schema: z.ZodType, path: string[]): string[] {
  let node: unknown = schema;
  for (const key of [...path, '']) {
    node = unwrap(node);
    const shape = (node as { shape?: Record<string, unknown> }).shape;
    if (!shape) return [];
    if (key === '') return Object.keys(shape);
    node = shape[key];
  }
  return [];
}

function unwrap(node: unknown): unknown {
  let current = node as { _zod?: { def: { type: string; innerType?: unknown; options?: unknown[] } } };
  while (current?._zod && ['optional', 'nullable', 'default', 'readonly'].includes(current._zod.def.type)) current = current._zod.def.innerType as typeof current;
  if (current?._zod?.def.type === 'union') {
    const object = current._zod.def.options?.find((o) => (o as { shape?: unknown }).shape !== undefined);
    if (object) return object;
  }
  return current;
}

/** The known key nearest to a misspelt one, if it is near enough to be the one meant. */
function closest(key: string, known: string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(best.key.length / 3)) ? best.key : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * The settings as a Markdown table (docs/operations.md): every leaf of the schema with its
 * type and description, dotted paths for nested settings.
 */
export function configReference(schema: z.ZodType = rapportConfigSchema): string {
  const rows: string[] = ['| setting | type | what |', '|---|---|---|'];
  const walk = (node: unknown, path: string[]) => {
    const inner = unwrap(node) as { shape?: Record<string, unknown>; description?: string };
    const description = (node as { description?: string }).description ?? inner.description ?? '';
    if (inner.shape && path.length < 3 && !isLeafObject(path)) {
      if (path.length && description) rows.push(`| \`${path.join('.')}\` | object | ${description} |`);
      for (const [key, child] of Object.entries(inner.shape)) walk(child, [...path, key]);
      return;
    }
    rows.push(`| \`${path.join('.')}\` | ${typeName(node)} | ${description} |`);
  };
  walk(schema, []);
  return rows.join('\n');
}

/** Nested objects documented as one row (a limit rule, a throttle policy). */
const isLeafObject = (path: string[]) => ['perPrincipal', 'perAddress', 'perPair', 'perEmail', 'perIp', 'perTenant'].includes(path[path.length - 1] ?? '');

function typeName(node: unknown): string {
  const given = typeNames.get(node as object);
  if (given) return given;
  const def = (node as { _zod: { def: { type: string; innerType?: unknown; element?: unknown; entries?: Record<string, string>; options?: unknown[] } } })._zod.def;
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'readonly':
      return typeName(def.innerType);
    case 'nullable':
      return `${typeName(def.innerType)} or null`;
    case 'array': {
      const element = typeName(def.element);
      return element.includes(' ') ? `(${element})[]` : `${element}[]`;
    }
    case 'enum':
      return Object.values(def.entries ?? {})
        .map((v) => `\`${v}\``)
        .join(', ');
    case 'custom':
      return 'value';
    case 'union':
      return (def.options ?? []).map(typeName).join(' or ');
    default:
      return def.type;
  }
}
