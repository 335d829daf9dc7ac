import { ValidationError } from '@rapport/core';

/** What the per-unit aggregate reads of an exit interview: never who it was. */
export interface ExitReasonRow {
  unit_id: string;
  reasons: string[];
  confidential: boolean;
  outcome: 'retained' | 'left';
  comment: string | null;
}

/** A calendar quarter (UTC): `2026-Q1`, or the one `now` falls in. */
export function quarterOf(period: string | undefined, now: Date): { period: string; from: Date; to: Date } {
  let year = now.getUTCFullYear();
  let quarter = Math.floor(now.getUTCMonth() / 3) + 1;
  if (period) {
    const match = /^(\d{4})-Q([1-4])$/.exec(period);
    if (!match) throw new ValidationError('period: expected YYYY-Qn', [{ path: 'period', message: 'not a quarter' }]);
    year = Number(match[1]);
    quarter = Number(match[2]);
  }
  const from = new Date(Date.UTC(year, (quarter - 1) * 3, 1));
  const to = new Date(Date.UTC(year, quarter * 3, 1));
  return { period: `${year}-Q${quarter}`, from, to };
}

interface Counts {
  interviews: number;
  retained: number;
  left: number;
  reasons: Record<string, number>;
}

/**
 * Per unit: open interviews counted as they are; confidential ones apart, shown only for an
 * ended period (a result that moves with each interview would tell whose it is) and at the
 * threshold, with their comments unattributed and sorted.
 */
export function aggregateExitReasons(rows: readonly ExitReasonRow[], reasonChoices: readonly string[], rule: { ended: boolean; minGroupSize: number }) {
  const empty = (): Counts => ({ interviews: 0, retained: 0, left: 0, reasons: Object.fromEntries(reasonChoices.map((r) => [r, 0])) });
  const units = new Map<string, { open: Counts; confidential: Counts; comments: string[] }>();
  for (const row of rows) {
    const unit = units.get(row.unit_id) ?? { open: empty(), confidential: empty(), comments: [] };
    units.set(row.unit_id, unit);
    const bucket = row.confidential ? unit.confidential : unit.open;
    bucket.interviews++;
    bucket[row.outcome]++;
    for (const reason of row.reasons) bucket.reasons[reason] = (bucket.reasons[reason] ?? 0) + 1;
    if (row.confidential && row.comment) unit.comments.push(row.comment);
  }
  return [...units.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([unitId, unit]) => {
      const shown = rule.ended && unit.confidential.interviews >= rule.minGroupSize;
      return {
        unitId,
        open: unit.open,
        confidential: shown ? { suppressed: false as const, ...unit.confidential, comments: unit.comments.sort() } : { suppressed: true as const },
      };
    });
}
