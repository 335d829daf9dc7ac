/** What a recurring task gets on each run. */
export interface ScheduledTaskContext {
  /** When this run started. */
  now: Date;
  /** Aborted when the system shuts down: stop at the next safe point. */
  signal: AbortSignal;
}

export type ScheduledTaskRun = (ctx: ScheduledTaskContext) => Promise<void>;
