export {
  Scheduler,
  SCHEDULER_DEFAULTS,
  MIN_TASK_INTERVAL_MS,
  type ScheduledTaskContext,
  type ScheduledTaskRun,
  type ScheduledTask,
  type ScheduledTaskState,
  type ScheduledRunOutcome,
} from './scheduler.js';
export type { SchedulerOptions, JobsOptions } from '../app/config.js';
export { JobService, JobFailedError, JOBS_DEFAULTS, JOBS_READ_PERMISSION, JOBS_MANAGE_PERMISSION, INTERRUPTED_MESSAGE, type JobContext, type JobWork, type JobListQuery } from './jobs.js';
export { jobSchema, JOB_STATUSES, FINISHED_JOB_STATUSES, type Job, type JobStatus } from './schemas.js';
