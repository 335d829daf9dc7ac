import { findTenant, newId, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';

type Db = QueryContext['db'];

export const LEDGER = 'loyalty_ledger';

/** One movement of points: positive when earned, negative when redeemed. */
export interface LedgerEntry {
  id: string;
  partyId: string;
  points: number;
  reason: string;
  /** `manual`, `redemption`, or the event that earned it (`crm.deal.won`). */
  source: string;
  createdAt: string;
}

export interface LedgerRow {
  tenant_id: string;
  id: string;
  party_id: string;
  points: number;
  reason: string;
  source: string;
  source_event_id: string | null;
  created_at: Date | string;
}

export const toEntry = (row: LedgerRow): LedgerEntry => ({
  id: row.id,
  partyId: row.party_id,
  points: Number(row.points),
  reason: row.reason,
  source: row.source,
  createdAt: new Date(row.created_at).toISOString(),
});

/** The party's balance: one aggregate over its ledger rows. */
export async function balanceOf(db: Db, tenantId: string, partyId: string): Promise<number> {
  const row = await db(LEDGER).where({ tenant_id: tenantId, party_id: partyId }).sum({ total: 'points' }).first();
  return Number(row?.total ?? 0);
}

/** Whether the party is an active member of the firm's program (a live `loyalty.member` relationship). */
export async function isMember(app: Rapport, ctx: QueryContext, partyId: string): Promise<boolean> {
  const page = await app.services.relationships.list(ctx, { type: 'loyalty.member', partyId, role: 'member', active: true, limit: 1 });
  return page.data.length > 0;
}

/**
 * Appends an entry and records the new balance as a `loyalty.balance` observation, in the
 * caller's unit of work. Entries earned by an event carry its id, unique per tenant, so an
 * event delivered twice awards once (returns undefined the second time).
 */
export async function appendEntry(
  app: Rapport,
  uow: UnitOfWork,
  input: { partyId: string; points: number; reason: string; source: string; sourceEventId?: string },
): Promise<{ entry: LedgerEntry; balance: number } | undefined> {
  // Serializes movements of one party's points, so two redemptions cannot both spend the same balance.
  await uow.trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`loyalty:${uow.tenantId}:${input.partyId}`]);
  const [row] = await uow
    .trx<LedgerRow>(LEDGER)
    .insert({ tenant_id: uow.tenantId, id: newId(), party_id: input.partyId, points: input.points, reason: input.reason, source: input.source, source_event_id: input.sourceEventId ?? null })
    .onConflict(['tenant_id', 'source_event_id'])
    .ignore()
    .returning('*');
  if (!row) return undefined;
  const balance = await balanceOf(uow.trx, uow.tenantId, input.partyId);
  await app.services.observations.record(uow, { indicator: 'loyalty.balance', subjectId: input.partyId, value: balance, details: { entryId: row.id } });
  return { entry: toEntry(row), balance };
}

/** The tenant's own party: the program's end of every membership. */
export async function programPartyId(db: Db, tenantId: string): Promise<string> {
  const tenant = await findTenant(db, tenantId);
  if (!tenant) throw new Error(`loyalty: tenant ${tenantId} not found`);
  return tenant.selfPartyId;
}
