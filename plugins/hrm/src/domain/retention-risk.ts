import { RETENTION_WEIGHTS, type RetentionFactor, type RetentionWeights } from '@rapport/hrm-contract';

/** Inputs of the retention-risk indicator, gathered by the retention service in a fixed number of queries. */
export interface RetentionSignals {
  tenureMonths: number | null;
  /** Days since the current reporting line started, when it replaced an earlier one. */
  daysSinceManagerChange: number | null;
  /** Final review scores of the last two closed cycles, oldest first. */
  reviewScores: number[];
  /** eNPS of the employee's unit in the last two surveys where it was shown (never an individual answer). */
  unitEnps: number[];
  /** Requests the employee raised that are unresolved past their SLA. */
  openBreachedRequests: number;
}

/**
 * A transparent additive score (0..100): each factor contributes weight × value, and the
 * factors are returned so a person can see why. Heuristic defaults; the weights are exported.
 */
export function retentionRisk(s: RetentionSignals, weights: Readonly<RetentionWeights> = RETENTION_WEIGHTS): { score: number; level: 'low' | 'medium' | 'high'; factors: RetentionFactor[] } {
  const clamp = (n: number) => Math.max(0, Math.min(1, n));
  const reviewDrop = s.reviewScores.length === 2 ? s.reviewScores[0] - s.reviewScores[1] : 0;
  const enpsDrop = s.unitEnps.length === 2 ? s.unitEnps[0] - s.unitEnps[1] : 0;
  const raw: Array<Omit<RetentionFactor, 'contribution' | 'weight'>> = [
    {
      key: 'tenure',
      // The first year is the riskiest; the signal fades linearly over it.
      value: s.tenureMonths === null ? 0 : clamp(1 - s.tenureMonths / 12),
      detail: s.tenureMonths === null ? 'not employed' : `${s.tenureMonths} months in the company`,
    },
    {
      key: 'manager-change',
      value: s.daysSinceManagerChange === null ? 0 : clamp(1 - s.daysSinceManagerChange / 180),
      detail: s.daysSinceManagerChange === null ? 'no recent manager change' : `new manager ${s.daysSinceManagerChange} days ago`,
    },
    {
      key: 'review-trend',
      // A 20-point drop in the final score is the full signal.
      value: clamp(reviewDrop / 20),
      detail: s.reviewScores.length === 2 ? `final review score ${s.reviewScores[0]} → ${s.reviewScores[1]}` : 'fewer than two closed review cycles',
    },
    {
      key: 'engagement-trend',
      // A 30-point drop of the unit's eNPS is the full signal.
      value: clamp(enpsDrop / 30),
      detail: s.unitEnps.length === 2 ? `unit eNPS ${s.unitEnps[0]} → ${s.unitEnps[1]}` : 'fewer than two shown unit eNPS results',
    },
    {
      key: 'open-grievances',
      value: clamp(s.openBreachedRequests / 3),
      detail: `${s.openBreachedRequests} own request(s) unresolved past their SLA`,
    },
  ];
  const factors = raw.map((f) => {
    const weight = weights[f.key];
    return { ...f, weight, value: Math.round(f.value * 100) / 100, contribution: Math.round(weight * f.value * 100) / 100 };
  });
  const score = Math.round(factors.reduce((a, f) => a + f.contribution, 0) * 100) / 100;
  return { score, level: score >= 50 ? 'high' : score >= 25 ? 'medium' : 'low', factors };
}
