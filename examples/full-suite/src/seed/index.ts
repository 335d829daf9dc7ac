import { ok, type RapportClient } from '@rapport/client';
import type { SeedContext } from './context.js';
import { seedCustomers } from './customers.js';
import { seedPartners } from './partners.js';
import { seedPeople } from './people.js';
import { seedSuppliers } from './suppliers.js';
import { seedAutomation } from './automation.js';

/** The subject of the note that marks a completed seed on the firm's own timeline. */
export const SEED_MARKER = 'Demo data loaded (Rapport full-suite example, v1)';

export interface SeedResult {
  /** false when the marker was found: the data is there already and nothing was written. */
  seeded: boolean;
  selfPartyId: string;
}

/**
 * Loads the demo data of a machine manufacturer — customers, channel partners, suppliers,
 * employees and units, and two automation rules — through the HTTP API, as any client would. Idempotent: the last
 * step records a note on the firm's timeline, and a run that finds it writes nothing. A run
 * interrupted half-way finds the parties it made (by domain or e-mail) when run again.
 */
export async function seedDemoData(client: RapportClient, options: { now?: Date } = {}): Promise<SeedResult> {
  const tenant = ok(await client.GET('/api/v1/tenant'));
  const selfPartyId = tenant.selfPartyId;
  if (await hasMarker(client, selfPartyId)) return { seeded: false, selfPartyId };

  const ctx: SeedContext = { client, selfPartyId, now: options.now ?? new Date() };
  await seedCustomers(ctx);
  await seedPartners(ctx);
  await seedSuppliers(ctx);
  await seedPeople(ctx);
  // Last: the rules act on what happens from now on, not on the demo data itself.
  await seedAutomation(ctx);

  ok(
    await client.POST('/api/v1/interactions', {
      body: { type: 'note', subject: SEED_MARKER, direction: 'internal', participants: [{ partyId: selfPartyId, role: 'subject' }] },
    }),
  );
  return { seeded: true, selfPartyId };
}

async function hasMarker(client: RapportClient, selfPartyId: string): Promise<boolean> {
  const notes = ok(await client.GET('/api/v1/parties/{id}/timeline', { params: { path: { id: selfPartyId }, query: { type: 'note', limit: 200 } } }));
  return notes.data.some((note) => note.subject === SEED_MARKER);
}
