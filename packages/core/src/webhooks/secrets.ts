import { TENANT_DISCOVERY } from '../storage/sharding.js';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { RapportConfig } from '../app/config.js';
import type { Sealer } from '../contract/core-services.js';
import type { DatabaseKind } from '../storage/database.js';
import { RapportError } from '../errors.js';
import type { Scheduler } from '../jobs/scheduler.js';
import { generateSecretKey, parseSecretKey, SecretBox } from '../util/secret-box.js';

export const SEAL_SECRETS_TASK = 'core.webhooks.seal-secrets';
/** Generated on PGlite when no key is configured, next to the database files. */
export const SECRET_KEY_FILE = 'secret.key';

const SEAL_BATCH = 500;

/**
 * Webhook signing secrets at rest: sealed with AES-256-GCM under `secretKey`
 * (RAPPORT_SECRET_KEY), bound to the webhook's tenant and id. Values written before
 * encryption existed (`whsec_…` in clear) are still read, and the kernel task
 * `core.webhooks.seal-secrets` seals them — and re-seals values under a previous key after
 * a rotation — so every row ends up under the current key.
 *
 * Without a configured key: PGlite (a development database) generates one in
 * `<dataDir>/secret.key` (mode 0600, kept across restarts; in memory for an in-memory
 * database) and warns; PostgreSQL has no key, and creating a webhook or rotating its
 * secret answers 503 naming the setting, because a key stored beside the data it protects
 * protects nothing.
 */
/** What webhook secrets need of the system: its connection, log and database kind, and the key settings. */
export interface WebhookSecretsHost {
  readonly logger: Logger;
  readonly knex: Knex;
  readonly databaseKind: DatabaseKind;
  readonly config: Pick<RapportConfig, 'secretKey' | 'previousSecretKeys' | 'database'>;
}

export class WebhookSecrets {
  private resolved?: SecretBox | null;
  private readonly derived = new Map<string, Buffer>();
  private readonly logger: Logger;

  constructor(
    private readonly app: WebhookSecretsHost,
    scheduler: Scheduler,
  ) {
    this.logger = app.logger.child({ component: 'webhook-secrets' });
    scheduler.define('core', SEAL_SECRETS_TASK, 3_600_000, async ({ signal }) => {
      const { sealed, unreadable } = await this.sealAll(signal);
      if (sealed) this.logger.info({ sealed }, 'sealed webhook secrets under the current key');
      // Recorded as a failed run (GET /api/v1/meta/tasks … and the log) so an operator notices.
      if (unreadable.length) throw new Error(`${unreadable.length} webhook secret(s) cannot be decrypted with the configured keys: ${unreadable.slice(0, 10).join(', ')}`);
    });
  }

  /** The box, or null on PostgreSQL without a key. Resolved on first use (the database must be open). */
  box(): SecretBox | null {
    if (this.resolved === undefined) this.resolved = this.resolve();
    return this.resolved;
  }

  /**
   * A key for one purpose, derived from the configured secret key, so that what it keys (an
   * anonymous write's idempotency record) is worthless to someone who can read the database
   * but not the key. On PostgreSQL without a key: a key of this process only (warned once).
   */
  derivedKey(purpose: string): Buffer {
    const known = this.derived.get(purpose);
    if (known) return known;
    const box = this.box();
    if (!box) this.logger.warn({ purpose }, `RAPPORT_SECRET_KEY is not set: ${purpose} keys live only in this process`);
    const key = box ? box.derive(purpose) : randomBytes(32);
    this.derived.set(purpose, key);
    return key;
  }

  /**
   * The sealer of one plugin (`coreServices.sealing`): the same box as webhook secrets, each
   * value bound to the plugin, its tenant and the plugin's purpose. Without a key (PostgreSQL
   * without RAPPORT_SECRET_KEY) it answers 503 naming the setting, as webhooks do.
   */
  sealerFor(owner: string): Sealer {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getter below has its own `this`
    const secrets = this;
    const boxOrRefuse = (): SecretBox => {
      const box = this.box();
      if (!box) {
        throw new RapportError(
          503,
          'secret-key-missing',
          `${owner}: this value is stored encrypted and this server has no key: set RAPPORT_SECRET_KEY (config \`secretKey\`) to 32 random bytes, base64 or hex, then retry`,
        );
      }
      return box;
    };
    const bound = (tenantId: string, purpose: string) => `plugin:${owner}:${tenantId}:${purpose}`;
    return {
      get available() {
        return secrets.box() !== null;
      },
      seal: (tenantId, purpose, plain) => boxOrRefuse().seal(plain, bound(tenantId, purpose)),
      open: (tenantId, purpose, sealed) => boxOrRefuse().open(sealed, bound(tenantId, purpose)),
    };
  }

  /** The stored form of a new secret. */
  seal(tenantId: string, webhookId: string, secret: string): string {
    const box = this.box();
    if (!box) {
      throw new RapportError(
        503,
        'secret-key-missing',
        'Webhook secrets are stored encrypted and this server has no key: set RAPPORT_SECRET_KEY (config `secretKey`) to 32 random bytes, base64 or hex, then retry',
      );
    }
    return box.seal(secret, context(tenantId, webhookId));
  }

  /** The secret in clear from its stored form; throws SecretBoxError when it cannot be decrypted. */
  open(tenantId: string, webhookId: string, stored: string): string {
    if (!SecretBox.isSealed(stored)) return stored;
    const box = this.box();
    if (!box) throw new RapportError(503, 'secret-key-missing', 'Webhook secrets are encrypted and RAPPORT_SECRET_KEY (config `secretKey`) is not set');
    return box.open(stored, context(tenantId, webhookId));
  }

  /**
   * Seals clear-text secrets and re-seals those under a previous key, in batches, each row
   * updated only if it still holds what was read (a concurrent rotate-secret wins).
   * Returns how many rows changed and the webhooks whose secret no configured key opens
   * (left as they are: one bad row must not stop the others).
   */
  async sealAll(signal?: AbortSignal): Promise<{ sealed: number; unreadable: string[] }> {
    const box = this.box();
    const unreadable: string[] = [];
    if (!box) return { sealed: 0, unreadable };
    const knex: Knex = this.app.knex;
    const current = `rsb1:${box.currentKeyId}:%`;
    let changed = 0;
    // Tenant by tenant: on a cluster sharded by tenant each batch stays on one shard.
    const tenants: Array<{ tenant_id: string }> = (await knex.raw(`${TENANT_DISCOVERY} select distinct tenant_id from rapport_webhooks where secret not like ?`, [current])).rows;
    for (const { tenant_id: tenantId } of tenants) {
      let after: string | undefined;
      for (;;) {
        if (signal?.aborted) return { sealed: changed, unreadable };
        const q = knex('rapport_webhooks').where('tenant_id', tenantId).whereNot('secret', 'like', current).select('id', 'secret').orderBy('id').limit(SEAL_BATCH);
        if (after) q.where('id', '>', after);
        const rows: Array<{ id: string; secret: string }> = await q;
        if (rows.length === 0) break;
        for (const row of rows) {
          let plain: string;
          try {
            plain = this.open(tenantId, row.id, row.secret);
          } catch (error) {
            this.logger.error({ webhookId: row.id, tenantId, err: error }, 'webhook secret cannot be decrypted; left as it is');
            unreadable.push(row.id);
            continue;
          }
          const sealed = box.seal(plain, context(tenantId, row.id));
          changed += await knex('rapport_webhooks').where({ tenant_id: tenantId, id: row.id, secret: row.secret }).update({ secret: sealed });
        }
        after = rows[rows.length - 1].id;
        if (rows.length < SEAL_BATCH) break;
      }
    }
    return { sealed: changed, unreadable };
  }

  /** Throws when a configured key is malformed (at start); quiet otherwise, so CLI commands print nothing extra. */
  checkConfiguredKeys(): void {
    this.configuredKeys();
  }

  private configuredKeys(): { current: Buffer | undefined; previous: Buffer[] } {
    const config = this.app.config;
    const previous = (config.previousSecretKeys ?? splitList(process.env.RAPPORT_PREVIOUS_SECRET_KEYS)).map((k, i) =>
      parseSecretKey(k, config.previousSecretKeys ? `previousSecretKeys[${i}]` : `RAPPORT_PREVIOUS_SECRET_KEYS[${i}]`),
    );
    const configured = config.secretKey ?? process.env.RAPPORT_SECRET_KEY;
    return { current: configured ? parseSecretKey(configured, config.secretKey ? 'secretKey' : 'RAPPORT_SECRET_KEY') : undefined, previous };
  }

  private resolve(): SecretBox | null {
    const { current, previous } = this.configuredKeys();
    if (current) return new SecretBox(current, previous);
    if (this.app.databaseKind !== 'pglite') {
      this.logger.warn('RAPPORT_SECRET_KEY is not set: webhooks cannot be created on PostgreSQL until it is');
      return null;
    }
    return new SecretBox(this.developmentKey(), previous);
  }

  /** PGlite without a configured key: a generated key kept beside the data (development only). */
  private developmentKey(): Buffer {
    const db = this.app.config.database ?? {};
    const dataDir = db.dataDir ?? path.resolve('.rapport');
    if (db.pglite !== undefined || dataDir.startsWith('memory://')) {
      this.logger.warn('RAPPORT_SECRET_KEY is not set: webhook secrets are encrypted with a key that lives only in this process (in-memory database)');
      return generateSecretKey();
    }
    const file = path.join(dataDir, SECRET_KEY_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      fs.mkdirSync(dataDir, { recursive: true });
      try {
        fs.writeFileSync(file, `${generateSecretKey().toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      } catch (writeError) {
        if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
      }
      text = fs.readFileSync(file, 'utf8');
    }
    this.logger.warn({ file }, 'RAPPORT_SECRET_KEY is not set: webhook secrets are encrypted with the generated key in this file; set RAPPORT_SECRET_KEY in production');
    return parseSecretKey(text, file);
  }
}

function context(tenantId: string, webhookId: string): string {
  return `rapport_webhooks:${tenantId}:${webhookId}`;
}

function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
