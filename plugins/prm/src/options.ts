import type { ScorecardWeights } from '@rapport/prm-contract';

/** How the plugin is configured by the system that installs it (`createPrmPlugin(options)`). */
export interface PrmOptions {
  /** Days an approved registration protects the partner's deal, and the window in which a
   *  pending registration of the same customer by another partner is a conflict. Default 90. */
  protectionDays?: number;
  /** When true (default), a registration that conflicts with an earlier live one of another
   *  partner is rejected at once, with the reason; when false it waits flagged for a decision. */
  firstToFile?: boolean;
  /** Weights of the supplier scorecard (any non-negative numbers; normalized). */
  scorecardWeights?: Partial<ScorecardWeights>;
  /** Hours a partner has to accept or decline a lead offer, unless the lead says otherwise. Default 48. */
  leadResponseHours?: number;
  /** How often the expiry sweep (registrations' protection, lead-offer deadlines) runs. Default 5 minutes. */
  sweepIntervalMs?: number;
}

export type ResolvedPrmOptions = Required<Omit<PrmOptions, 'scorecardWeights'>> & { scorecardWeights: ScorecardWeights };

const DEFAULT_WEIGHTS: ScorecardWeights = { onTime: 0.35, quality: 0.35, price: 0.15, responsiveness: 0.15 };

/** The options with their defaults, checked once when the plugin is created (a bad value fails the start). */
export function resolveOptions(options: PrmOptions = {}): ResolvedPrmOptions {
  const protectionDays = options.protectionDays ?? 90;
  if (!Number.isFinite(protectionDays) || protectionDays <= 0) throw new Error('prm: protectionDays must be a positive number');
  const scorecardWeights = { ...DEFAULT_WEIGHTS, ...options.scorecardWeights };
  if (Object.values(scorecardWeights).some((w) => !Number.isFinite(w) || w < 0) || Object.values(scorecardWeights).every((w) => w === 0)) {
    throw new Error('prm: scorecardWeights must be non-negative and not all zero');
  }
  const leadResponseHours = options.leadResponseHours ?? 48;
  if (!Number.isFinite(leadResponseHours) || leadResponseHours <= 0) throw new Error('prm: leadResponseHours must be a positive number');
  const sweepIntervalMs = options.sweepIntervalMs ?? 5 * 60_000;
  if (!Number.isInteger(sweepIntervalMs) || sweepIntervalMs < 1000) throw new Error('prm: sweepIntervalMs must be an integer of at least 1000');
  return { protectionDays, firstToFile: options.firstToFile ?? true, scorecardWeights, leadResponseHours, sweepIntervalMs };
}
