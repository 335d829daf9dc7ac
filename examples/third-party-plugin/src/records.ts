import { z } from 'zod';
import { defineRecord, isoTimestamp } from '@rapport/core';

/**
 * A ledger entry, declared once: the API shape (response schema, OpenAPI, the TypeScript type)
 * and, derived from it, the row mapper (`ledger_entry.fromRow`) and the columns it reads.
 */
export const entrySchema = z.object({
  id: z.uuid(),
  partyId: z.uuid(),
  /** Positive when earned, negative when redeemed. */
  points: z.number().int(),
  reason: z.string(),
  /** `manual`, `redemption`, or the event that earned it (`crm.deal.won`). */
  source: z.string(),
  createdAt: isoTimestamp,
});
export type LedgerEntry = z.infer<typeof entrySchema>;
export const ledgerEntry = defineRecord(entrySchema);

export const movementSchema = z.object({ entry: entrySchema, balance: z.number().int() });
export type Movement = z.infer<typeof movementSchema>;

export const TIERS = ['bronze', 'silver', 'gold'] as const;
export type Tier = (typeof TIERS)[number];

export const balanceSchema = z.object({
  partyId: z.uuid(),
  member: z.boolean(),
  balance: z.number().int(),
  tier: z.enum(TIERS),
});
export type Balance = z.infer<typeof balanceSchema>;

/** Tiers follow the balance; the thresholds are this example's, not a rule. */
export function tierFor(balance: number): Tier {
  return balance >= 5_000 ? 'gold' : balance >= 1_000 ? 'silver' : 'bronze';
}
