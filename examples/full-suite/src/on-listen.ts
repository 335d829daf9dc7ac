import { createApiKey } from '@rapport/core';
import { createRapportClient, ok } from '@rapport/client';
import type { ListeningContext } from '@rapport/cli';
import { seedMarker } from './demo-plugin.js';
import { seedDemoData } from './seed/index.js';
import { ensureDemoUsers } from './seed/users.js';

/**
 * `onListen` of this example's rapport.config.ts: seeds the demo data through the HTTP API
 * with a short-lived admin key, revoked as soon as the seed is done (or has failed), and the
 * console's demo users (one per persona; their passwords are in the README).
 */
export async function seedOnListen({ app, url, logger }: ListeningContext): Promise<void> {
  const key = await createApiKey(app.knex, app.defaultTenant.id, { name: 'demo-seed', roles: ['admin'] });
  const client = createRapportClient({ baseUrl: url, apiKey: key.token });
  try {
    const result = await seedDemoData(client, seedMarker(app));
    logger.info({ seeded: result.seeded }, result.seeded ? 'demo data loaded (full-suite example)' : 'demo data already present; nothing seeded');
    // Apart from the marker: a system seeded before the console had its users gets them now.
    const users = await ensureDemoUsers(client);
    if (users.created.length) logger.info({ users: users.created }, 'demo users created (passwords in the README)');
  } finally {
    ok(await client.DELETE('/api/v1/keys/{id}', { params: { path: { id: key.id } } }));
  }
}
