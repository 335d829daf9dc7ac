/** How a system configures HRM. Every option has a sensible default. */
export interface HrmOptions {
  /**
   * The clock used for SLA targets, breach detection, survey opening/closing and CSAT.
   * Injected so tests (and simulations) control time instead of waiting.
   */
  now?: () => Date;
  /** Default minimum group size of anonymous surveys (at least 3; 5 by default). */
  minGroupSize?: number;
}

export interface ResolvedHrmOptions {
  now: () => Date;
  minGroupSize: number;
}

export const DEFAULT_MIN_GROUP_SIZE = 5;
/** Below three a "group" result is an individual answer by subtraction; never allowed. */
export const SMALLEST_ALLOWED_GROUP = 3;

export function resolveOptions(options: HrmOptions = {}): ResolvedHrmOptions {
  const minGroupSize = options.minGroupSize ?? DEFAULT_MIN_GROUP_SIZE;
  if (!Number.isInteger(minGroupSize) || minGroupSize < SMALLEST_ALLOWED_GROUP) {
    throw new Error(`hrm: minGroupSize must be an integer of at least ${SMALLEST_ALLOWED_GROUP}`);
  }
  return { now: options.now ?? (() => new Date()), minGroupSize };
}
