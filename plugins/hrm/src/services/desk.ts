import type { RequestStatus, ServiceRequest } from '../types.js';
import { iso } from './context.js';

export interface RequestRow {
  id: string;
  service_id: string;
  provider_unit_id: string;
  requester_party_id: string;
  title: string;
  description: string | null;
  assignee_party_id: string | null;
  status: RequestStatus;
  opened_at: Date;
  first_response_at: Date | null;
  response_due_at: Date | null;
  resolution_due_at: Date;
  resolved_at: Date | null;
  closed_at: Date | null;
  csat: number | null;
  csat_comment: string | null;
  interaction_id: string | null;
  version: number;
  /** When the SLA sweep recorded the breach (absent on rows built before insert). */
  sla_breached_at?: Date | null;
}

/** Past its resolution target: resolved late, or still unresolved after it (per the plugin clock). */
export function isBreached(row: Pick<RequestRow, 'status' | 'resolved_at' | 'resolution_due_at'>, now: Date): boolean {
  if (row.status === 'cancelled') return false;
  const finished = row.resolved_at ? new Date(row.resolved_at) : now;
  return finished.getTime() > new Date(row.resolution_due_at).getTime();
}

export function toRequest(row: RequestRow, now: Date): ServiceRequest {
  return {
    id: row.id,
    serviceId: row.service_id,
    providerUnitId: row.provider_unit_id,
    requesterPartyId: row.requester_party_id,
    title: row.title,
    description: row.description,
    assigneePartyId: row.assignee_party_id,
    status: row.status,
    openedAt: iso(row.opened_at)!,
    firstResponseAt: iso(row.first_response_at),
    responseDueAt: iso(row.response_due_at),
    resolutionDueAt: iso(row.resolution_due_at)!,
    resolvedAt: iso(row.resolved_at),
    closedAt: iso(row.closed_at),
    breached: isBreached(row, now),
    slaBreachedAt: iso(row.sla_breached_at ?? null),
    csat: row.csat,
    csatComment: row.csat_comment,
    interactionId: row.interaction_id,
    version: row.version,
  };
}

/** Allowed status changes; `closed` and `cancelled` are final. */
export const TRANSITIONS: Record<RequestStatus, readonly RequestStatus[]> = {
  open: ['in-progress', 'resolved', 'cancelled'],
  'in-progress': ['open', 'resolved', 'cancelled'],
  resolved: ['in-progress', 'closed'],
  closed: [],
  cancelled: [],
};
