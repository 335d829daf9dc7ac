import { iso } from '../util/time.js';
import { z } from 'zod';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A job that will not change any more. */
export const FINISHED_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['succeeded', 'failed', 'cancelled']);

/** A background job as the API shows it. */
export interface Job {
  id: string;
  tenantId: string;
  kind: string;
  status: JobStatus;
  /** What the job was asked to do (e.g. the importer and its options). */
  input: Record<string, unknown> | null;
  /** How far it got: `{ done, total, ... }` or, for imports, rows read/imported/rejected and bytes. */
  progress: Record<string, unknown> | null;
  /** What it produced, once finished (a cancelled or failed job may keep a partial result). */
  result: Record<string, unknown> | null;
  error: string | null;
  createdBy: { kind: string; id: string };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

export const jobSchema = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  kind: z.string(),
  status: z.enum(JOB_STATUSES),
  input: z.record(z.string(), z.unknown()).nullable(),
  progress: z.record(z.string(), z.unknown()).nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
  createdBy: z.object({ kind: z.string(), id: z.string() }),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  updatedAt: z.string(),
});

export interface JobRow {
  tenant_id: string;
  id: string;
  kind: string;
  status: JobStatus;
  input: Record<string, unknown> | null;
  progress: Record<string, unknown> | null;
  result: Record<string, unknown> | null;
  error: string | null;
  created_by_kind: string;
  created_by_id: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

export const JOB_COLUMNS = ['tenant_id', 'id', 'kind', 'status', 'input', 'progress', 'result', 'error', 'created_by_kind', 'created_by_id', 'created_at', 'started_at', 'finished_at', 'updated_at'];

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    status: row.status,
    input: row.input ?? null,
    progress: row.progress ?? null,
    result: row.result ?? null,
    error: row.error ?? null,
    createdBy: { kind: row.created_by_kind, id: row.created_by_id },
    createdAt: iso(row.created_at)!,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    updatedAt: iso(row.updated_at)!,
  };
}
