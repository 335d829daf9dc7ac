import { z } from 'zod';

export const entrySchema = z.object({
  id: z.uuid(),
  partyId: z.uuid(),
  points: z.number().int(),
  reason: z.string(),
  source: z.string(),
  createdAt: z.iso.datetime(),
});

export const movementSchema = z.object({ entry: entrySchema, balance: z.number().int() });

export const balanceSchema = z.object({
  partyId: z.uuid(),
  member: z.boolean(),
  balance: z.number().int(),
  tier: z.enum(['bronze', 'silver', 'gold']),
});

/** Tiers follow the balance; the thresholds are this example's, not a rule. */
export function tierFor(balance: number): 'bronze' | 'silver' | 'gold' {
  return balance >= 5_000 ? 'gold' : balance >= 1_000 ? 'silver' : 'bronze';
}

export const pointsInput = z.strictObject({
  partyId: z.uuid(),
  points: z.number().int().positive().max(1_000_000),
  reason: z.string().trim().min(1).max(200),
});
