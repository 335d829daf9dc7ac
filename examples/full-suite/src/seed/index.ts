import { ok, type RapportClient } from '@rapport/client';
import type { SeedMarker } from '../demo-plugin.js';
import type { SeedContext } from './context.js';
import { seedCustomers } from './customers.js';
import { seedPartners } from './partners.js';
import { seedPeople } from './people.js';
import { seedSuppliers } from './suppliers.js';
import { seedAutomation } from './automation.js';

/** The subject of the note earlier versions left on the firm's timeline as their marker. */
export const LEGACY_SEED_NOTE = 'Demo data loaded (Rapport full-suite example, v1)';

export interface SeedResult {
  /** false when the marker was found: the data is there already and nothing was written. */
  seeded: boolean;
  selfPartyId: string;
}

/**
 * Loads the demo data of a machine manufacturer — customers, channel partners, suppliers,
 * employees and units, and two automation rules — through the HTTP API, as any client would. Idempotent: the last
 * step sets the marker (when given one; without, every call seeds), and a run that finds it writes nothing (nor does one that finds the
 * note an earlier version left, whose marker it then sets). A run interrupted half-way finds
 * the parties it made (by domain or e-mail) when run again.
 */
export async function seedDemoData(client: RapportClient, marker?: SeedMarker, options: { now?: Date } = {}): Promise<SeedResult> {
  const tenant = ok(await client.GET('/api/v1/tenant'));
  const selfPartyId = tenant.selfPartyId;
  if (marker && (await marker.isSet())) return { seeded: false, selfPartyId };
  if (marker && (await hasLegacyNote(client, selfPartyId))) {
    await marker.set();
    return { seeded: false, selfPartyId };
  }

  const ctx: SeedContext = { client, selfPartyId, now: options.now ?? new Date() };
  // The people first: the sales rep owns deals of the CRM's demo pipeline.
  const people = await seedPeople(ctx);
  await seedCustomers(ctx, { repPartyId: people.employees.lena.id });
  await seedPartners(ctx);
  await seedSuppliers(ctx);
  // Last: the rules act on what happens from now on, not on the demo data itself.
  await seedAutomation(ctx);

  await marker?.set();
  return { seeded: true, selfPartyId };
}

async function hasLegacyNote(client: RapportClient, selfPartyId: string): Promise<boolean> {
  const notes = ok(await client.GET('/api/v1/parties/{id}/timeline', { params: { path: { id: selfPartyId }, query: { type: 'note', limit: 200 } } }));
  return notes.data.some((note) => note.subject === LEGACY_SEED_NOTE);
}
