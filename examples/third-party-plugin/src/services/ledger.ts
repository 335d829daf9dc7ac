import { ConflictError, keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { BALANCE, LEDGER_SCOPE, MEMBER, REDEMPTION } from '../declarations.js';
import type { LoyaltyDeps } from '../deps.js';
import { LEDGER } from '../migrations.js';
import { ledgerEntry, tierFor, type Balance, type LedgerEntry, type Movement } from '../records.js';

/** The ledger and memberships: every query of the plugin is here. */
export class LedgerService {
  constructor(private readonly deps: LoyaltyDeps) {}

  /** The party's balance: one aggregate over its ledger rows. */
  async balanceOf(ctx: QueryContext, partyId: string): Promise<number> {
    const row = await this.deps.db.in(ctx)(LEDGER).where('party_id', partyId).sum({ total: 'points' }).first();
    return Number(row?.total ?? 0);
  }

  /** Whether the party is an active member of the firm's program (a live `loyalty.member` relationship). */
  async isMember(ctx: QueryContext, partyId: string): Promise<boolean> {
    const page = await this.deps.relationships.list(ctx, { type: MEMBER, partyId, role: 'member', active: true, limit: 1 });
    return page.data.length > 0;
  }

  /** Balance and tier of a party the caller can see (404 otherwise). */
  async balance(ctx: QueryContext, partyId: string): Promise<Balance> {
    await this.deps.parties.get(ctx, partyId);
    const balance = await this.balanceOf(ctx, partyId);
    return { partyId, member: await this.isMember(ctx, partyId), balance, tier: tierFor(balance) };
  }

  /** Movements, newest first, within the caller's record scope. */
  ledger(ctx: QueryContext, query: { partyId?: string; limit: number; cursor?: string }): Promise<Page<LedgerEntry>> {
    const q = this.deps.db.in(ctx)(`${LEDGER} as l`).select(ledgerEntry.columns('l'));
    if (query.partyId) q.where('l.party_id', query.partyId);
    this.deps.scopes.apply(q, ctx, LEDGER_SCOPE, 'l.id');
    return keysetPage(q, query, [{ column: 'l.id', type: 'uuid', direction: 'desc' }], (rows: object[]) => rows.map((row) => ledgerEntry.fromRow(row)));
  }

  async enroll(uow: UnitOfWork, partyId: string) {
    await this.deps.parties.get(uow, partyId);
    if (await this.isMember(uow, partyId)) throw new ConflictError(`loyalty: party ${partyId} is already a member`);
    return this.deps.relationships.create(uow, { type: MEMBER, fromPartyId: await this.deps.tenants.selfPartyId(uow), toPartyId: partyId });
  }

  /**
   * Appends an entry and records the new balance as a `loyalty.balance` observation, in the
   * caller's unit of work. Entries earned by an event carry its id, unique per tenant, so an
   * event delivered twice awards once (returns undefined the second time).
   */
  async append(uow: UnitOfWork, input: { partyId: string; points: number; reason: string; source: string; sourceEventId?: string }): Promise<Movement | undefined> {
    const tables = this.deps.db.in(uow);
    // One party's movements one at a time, so two redemptions cannot both spend the same balance.
    await tables.lock(input.partyId);
    const [row] = await tables(LEDGER)
      .insert({ id: newId(), party_id: input.partyId, points: input.points, reason: input.reason, source: input.source, source_event_id: input.sourceEventId ?? null })
      .onConflict('source_event_id')
      .ignore()
      .returning(ledgerEntry.columns());
    if (!row) return undefined;
    const balance = await this.balanceOf(uow, input.partyId);
    await this.deps.observations.record(uow, { indicator: BALANCE, subjectId: input.partyId, value: balance, details: { entryId: row.id } });
    return { entry: ledgerEntry.fromRow(row), balance };
  }

  async award(uow: UnitOfWork, input: { partyId: string; points: number; reason: string }): Promise<Movement> {
    await this.requireMember(uow, input.partyId);
    return (await this.append(uow, { ...input, source: 'manual' }))!;
  }

  /** Spends points (409 when the balance is lower) and records the redemption on the member's timeline. */
  async redeem(uow: UnitOfWork, { partyId, points, reason }: { partyId: string; points: number; reason: string }): Promise<Movement> {
    await this.requireMember(uow, partyId);
    const moved = (await this.append(uow, { partyId, points: -points, reason, source: 'redemption' }))!;
    if (moved.balance < 0) throw new ConflictError(`loyalty: party ${partyId} has ${moved.balance + points} points, fewer than the ${points} to redeem`);
    await this.deps.interactions.create(uow, {
      type: REDEMPTION,
      subject: `Redeemed ${points} points: ${reason}`,
      attributes: { points, entryId: moved.entry.id },
      participants: [
        { partyId, role: 'member' },
        { partyId: await this.deps.tenants.selfPartyId(uow), role: 'program' },
      ],
    });
    return moved;
  }

  private async requireMember(uow: UnitOfWork, partyId: string): Promise<void> {
    await this.deps.parties.get(uow, partyId); // 404 outside the caller's reach
    if (!(await this.isMember(uow, partyId))) throw new ConflictError(`loyalty: party ${partyId} is not a member of the loyalty program`);
  }
}
