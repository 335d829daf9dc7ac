import { REVIEW_KINDS, type KindScore, type ReviewKind, type ScoreFormula } from '@rapport/hrm-contract';

export interface GoalInput {
  weight: number;
  target: number;
  actual: number | null;
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Weighted attainment of the goals with an actual, 0..100×cap; null without any. */
export function goalScore(goals: readonly GoalInput[], cap: number): number | null {
  const measured = goals.filter((g) => g.actual !== null && g.target !== 0);
  const totalWeight = measured.reduce((a, g) => a + g.weight, 0);
  if (!measured.length || totalWeight === 0) return null;
  return round((measured.reduce((a, g) => a + g.weight * Math.min(g.actual! / g.target, cap), 0) / totalWeight) * 100);
}

/** A review's ratings on the cycle's named scale, as 0..100 (first level 0, last 100). */
export function reviewScore(ratings: Record<string, string>, levels: readonly string[]): number | null {
  const values = Object.values(ratings)
    .map((label) => levels.indexOf(label))
    .filter((i) => i >= 0);
  if (!values.length || levels.length < 2) return null;
  return (values.reduce((a, b) => a + b, 0) / values.length / (levels.length - 1)) * 100;
}

export interface ScoreBreakdown {
  goals: number | null;
  byKind: Record<ReviewKind, KindScore>;
  competencies: number | null;
  final: number | null;
}

/**
 * The final score: weighted mean of the parts present. Upward reviews count only when at least
 * `minGroupSize` reports gave one — fewer would let the manager infer who rated what.
 */
export function finalScore(
  formula: ScoreFormula,
  goals: readonly GoalInput[],
  reviews: ReadonlyArray<{ kind: ReviewKind; ratings: Record<string, string> }>,
  levels: readonly string[],
  minGroupSize: number,
): ScoreBreakdown {
  const goalsPart = goalScore(goals, formula.goalCap);
  const byKind = {} as ScoreBreakdown['byKind'];
  for (const kind of REVIEW_KINDS) {
    const scores = reviews
      .filter((r) => r.kind === kind)
      .map((r) => reviewScore(r.ratings, levels))
      .filter((s): s is number => s !== null);
    const suppressed = kind === 'upward' && scores.length > 0 && scores.length < minGroupSize;
    byKind[kind] = suppressed ? { reviews: 0, score: null, suppressed: true } : { reviews: scores.length, score: scores.length ? round(scores.reduce((a, b) => a + b, 0) / scores.length) : null };
  }
  const present = REVIEW_KINDS.filter((k) => byKind[k].score !== null && formula.reviewers[k] > 0);
  const kindWeight = present.reduce((a, k) => a + formula.reviewers[k], 0);
  const competencies = kindWeight ? round(present.reduce((a, k) => a + formula.reviewers[k] * byKind[k].score!, 0) / kindWeight) : null;
  const parts = [
    [goalsPart, formula.goals],
    [competencies, formula.competencies],
  ].filter(([v, w]) => v !== null && (w as number) > 0) as Array<[number, number]>;
  const partWeight = parts.reduce((a, [, w]) => a + w, 0);
  const final = partWeight ? round(parts.reduce((a, [v, w]) => a + v * w, 0) / partWeight) : null;
  return { goals: goalsPart, byKind, competencies, final };
}
