import type { AddressInfo } from 'node:net';
import { createApiKey, createRapport, type PluginDefinition, type Rapport, type RapportConfig } from '@rapport/core';
import { isolatedDatabase, testDatabaseKind, type TestDatabaseKind } from './database.js';
import { TestClient } from './client.js';

export interface TestAppOptions {
  plugins?: PluginDefinition[];
  /** Other configuration; `database` is chosen by the kit. */
  config?: Omit<RapportConfig, 'database' | 'plugins'>;
  database?: TestDatabaseKind;
}

export interface TestApp {
  app: Rapport;
  kind: TestDatabaseKind;
  baseUrl: string;
  /** Authenticated as an admin API key of the default tenant. */
  admin: TestClient;
  /** Unauthenticated. */
  anonymous: TestClient;
  adminToken: string;
  tenantId: string;
  selfPartyId: string;
  /** A client for a new API key with these roles; `scopePartyId` makes it an external principal. */
  clientFor(options: { roles: string[]; scopePartyId?: string; partyId?: string; tenantId?: string }): Promise<TestClient>;
  /** Events in the outbox, oldest first (all tenants). */
  outbox(filter?: { name?: string }): Promise<Array<{ id: string; name: string; payload: any; tenantId: string }>>;
  /** Records each event listeners see, by pattern (`*` all), from now on. */
  recordEvents(pattern?: string): Array<{ name: string; payload: any }>;
  close(): Promise<void>;
}

/** The `secretKey` every test app gets unless its config names another (32 bytes, hex). */
export const TEST_SECRET_KEY = '726170706f72742074657374206b65792c206e6f742061207365637265742121';

/**
 * A running system on an isolated database (PGlite or PostgreSQL per RAPPORT_TEST_DB),
 * served on a random port, with an admin client. One per test file keeps files parallel.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const kind = options.database ?? testDatabaseKind();
  const database = await isolatedDatabase(kind);
  let app: Rapport;
  try {
    app = await createRapport({
      logLevel: process.env.LOG_LEVEL ?? 'silent',
      tenantName: 'Test Company',
      // Webhook secrets are encrypted at rest; PostgreSQL refuses webhooks without a key.
      secretKey: TEST_SECRET_KEY,
      ...options.config,
      // Every answer is parsed with its route's response schema: a route that drifts from its OpenAPI fails its tests.
      http: { checkResponses: true, ...options.config?.http },
      // A test makes thousands of requests with one key in seconds; the limits' own tests turn them on.
      limits: { enabled: false, ...options.config?.limits },
      // Test receivers listen on 127.0.0.1.
      dispatcher: { pollIntervalMs: 50, retryBaseMs: 50, allowPrivateNetworks: true, ...options.config?.dispatcher },
      // Timers off: tests run recurring tasks with `app.scheduler.runNow(name)` (pass `enabled: true` to test timing).
      scheduler: { enabled: false, ...options.config?.scheduler },
      database: database.config,
      plugins: options.plugins ?? [],
    });
  } catch (error) {
    await database.dispose();
    throw error;
  }
  const server = await app.listen(0, '127.0.0.1');
  // Only the client ends idle connections here. When both sides time an idle socket out and
  // the loop was blocked (PGlite runs in this process), the server's timer can fire first
  // and close a socket the client is about to reuse: "other side closed" on a good request.
  server.keepAliveTimeout = 0;
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tenantId = app.defaultTenant.id;
  const { token: adminToken } = await createApiKey(app.knex, tenantId, { name: 'test-admin', roles: ['admin'] });
  const anonymous = new TestClient(baseUrl);
  return {
    app,
    kind,
    baseUrl,
    admin: anonymous.as(adminToken),
    anonymous,
    adminToken,
    tenantId,
    selfPartyId: app.defaultTenant.selfPartyId,
    async clientFor({ roles, scopePartyId, partyId, tenantId: forTenant }) {
      const key = await createApiKey(app.knex, forTenant ?? tenantId, {
        name: `test-${roles.join('-')}`,
        roles,
        partyId: scopePartyId ?? partyId ?? null,
        scoped: scopePartyId !== undefined,
      });
      return anonymous.as(key.token);
    },
    async outbox(filter = {}) {
      const query = app
        .knex('rapport_outbox')
        .orderBy([{ column: 'occurred_at' }, { column: 'id' }])
        .select('id', 'name', 'payload', 'tenant_id');
      if (filter.name) query.where('name', filter.name);
      const rows: Array<{ id: string; name: string; payload: any; tenant_id: string }> = await query;
      return rows.map((r) => ({ id: r.id, name: r.name, payload: r.payload, tenantId: r.tenant_id }));
    },
    recordEvents(pattern = '**') {
      const seen: Array<{ name: string; payload: any }> = [];
      app.bus.on('test-kit', pattern, (payload: unknown, meta) => {
        seen.push({ name: meta.name, payload });
      });
      return seen;
    },
    async close() {
      try {
        await app.close();
      } finally {
        await database.dispose();
      }
    },
  };
}
