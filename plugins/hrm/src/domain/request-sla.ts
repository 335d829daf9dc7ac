import type { RequestStatus } from '@rapport/hrm-contract';

/** Past its resolution target: resolved late, or still unresolved after it (per the plugin clock). */
export function isBreached(request: { status: string; resolved_at: Date | string | null; resolution_due_at: Date | string }, now: Date): boolean {
  if (request.status === 'cancelled') return false;
  const finished = request.resolved_at ? new Date(request.resolved_at) : now;
  return finished.getTime() > new Date(request.resolution_due_at).getTime();
}

/** The same rule in SQL, `now` bound once: a request past its target, not cancelled. */
export const BREACHED_SQL = "status <> 'cancelled' and coalesce(resolved_at, ?::timestamptz) > resolution_due_at";

/** Allowed status changes; `closed` and `cancelled` are final. */
export const TRANSITIONS: Record<RequestStatus, readonly RequestStatus[]> = {
  open: ['in-progress', 'resolved', 'cancelled'],
  'in-progress': ['open', 'resolved', 'cancelled'],
  resolved: ['in-progress', 'closed'],
  closed: [],
  cancelled: [],
};
