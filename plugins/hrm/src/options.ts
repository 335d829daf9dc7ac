import { FINAL_RECRUITING_STAGES } from '@rapport/hrm-contract';

/** How a system configures HRM. Every option has a sensible default. */
export interface HrmOptions {
  /**
   * The clock used for SLA targets, breach detection, survey opening/closing and CSAT.
   * Injected so tests (and simulations) control time instead of waiting.
   */
  now?: () => Date;
  /** Default minimum group size of anonymous surveys (at least 3; 5 by default). */
  minGroupSize?: number;
  /**
   * The open stages of a candidacy, in order (default applied → screening → interview → offer).
   * `hired`, `rejected` and `withdrawn` always follow; hiring is possible from the last stage only.
   */
  recruitingStages?: readonly string[];
  /** The named choices of an exit interview's reasons. */
  exitReasons?: readonly string[];
  /** How often the scheduled SLA sweep (`hrm.sla-sweep`) runs; 5 minutes by default, at least 1 s. */
  slaSweepIntervalMs?: number;
}

export interface ResolvedHrmOptions {
  now: () => Date;
  minGroupSize: number;
  recruitingStages: readonly string[];
  exitReasons: readonly string[];
  slaSweepIntervalMs: number;
}

export const DEFAULT_RECRUITING_STAGES = ['applied', 'screening', 'interview', 'offer'] as const;
export const DEFAULT_EXIT_REASONS = ['compensation', 'career-growth', 'manager', 'workload', 'culture', 'relocation', 'personal', 'other'] as const;
const STAGE_NAME = /^[a-z][a-z0-9-]{0,39}$/;

export const DEFAULT_MIN_GROUP_SIZE = 5;
/** Below three a "group" result is an individual answer by subtraction; never allowed. */
export const SMALLEST_ALLOWED_GROUP = 3;

export function resolveOptions(options: HrmOptions = {}): ResolvedHrmOptions {
  const minGroupSize = options.minGroupSize ?? DEFAULT_MIN_GROUP_SIZE;
  if (!Number.isInteger(minGroupSize) || minGroupSize < SMALLEST_ALLOWED_GROUP) {
    throw new Error(`hrm: minGroupSize must be an integer of at least ${SMALLEST_ALLOWED_GROUP}`);
  }
  const recruitingStages = options.recruitingStages ?? DEFAULT_RECRUITING_STAGES;
  if (
    recruitingStages.length === 0 ||
    new Set(recruitingStages).size !== recruitingStages.length ||
    recruitingStages.some((s) => !STAGE_NAME.test(s) || (FINAL_RECRUITING_STAGES as readonly string[]).includes(s))
  ) {
    throw new Error(`hrm: recruitingStages must be distinct names matching ${STAGE_NAME}, other than ${FINAL_RECRUITING_STAGES.join(', ')}`);
  }
  const exitReasons = options.exitReasons ?? DEFAULT_EXIT_REASONS;
  if (exitReasons.length === 0 || new Set(exitReasons).size !== exitReasons.length || exitReasons.some((r) => !STAGE_NAME.test(r))) {
    throw new Error(`hrm: exitReasons must be distinct names matching ${STAGE_NAME}`);
  }
  const slaSweepIntervalMs = options.slaSweepIntervalMs ?? 5 * 60_000;
  if (!Number.isInteger(slaSweepIntervalMs) || slaSweepIntervalMs < 1000) throw new Error('hrm: slaSweepIntervalMs must be an integer of at least 1000');
  return { now: options.now ?? (() => new Date()), minGroupSize, recruitingStages, exitReasons, slaSweepIntervalMs };
}
