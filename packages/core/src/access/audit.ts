import { sql, type QueryContext } from '../kernel/context.js';
import { BY_ID_DESC, keysetPage } from '../http/keyset.js';
import type { Page } from '../util/cursor.js';
import type { AuditEntry } from './types.js';
import { iso } from '../util/time.js';

export interface AuditQuery {
  recordType?: string;
  recordId?: string;
  actorId?: string;
  action?: string;
  limit: number;
  cursor?: string;
}

interface AuditRow {
  id: string;
  event_id: string;
  action: string;
  record_type: string | null;
  record_id: string | null;
  actor_kind: string;
  actor_id: string | null;
  at: Date | string;
}

/** The tenant's audit log, newest first: keyset on the entry's id, its event's time-ordered UUIDv7. */
export async function listAudit(ctx: QueryContext, query: AuditQuery): Promise<Page<AuditEntry>> {
  const q = sql(ctx)('rapport_audit').where('tenant_id', ctx.tenantId).select('id', 'event_id', 'action', 'record_type', 'record_id', 'actor_kind', 'actor_id', 'at');
  if (query.recordType) q.where('record_type', query.recordType);
  if (query.recordId) q.where('record_id', query.recordId);
  if (query.actorId) q.where('actor_id', query.actorId);
  if (query.action) q.where('action', query.action);
  return keysetPage(q, query, BY_ID_DESC, (rows: AuditRow[]) =>
    rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      action: r.action,
      recordType: r.record_type,
      recordId: r.record_id,
      actor: { kind: r.actor_kind, id: r.actor_id },
      at: iso(r.at)!,
    })),
  );
}
