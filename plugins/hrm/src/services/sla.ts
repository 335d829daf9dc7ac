import type { Principal, Rapport } from '@rapport/core';
import { toRequest, type RequestRow } from './desk.js';

/** Past its resolution target (unresolved now, or resolved late), not cancelled, not yet recorded. */
const PENDING_BREACH = "sla_breached_at is null and status <> 'cancelled' and coalesce(resolved_at, ?::timestamptz) > resolution_due_at";

/**
 * Records the SLA breaches of one tenant as of `now`: one set-based update marks every request
 * newly past its target (`sla_breached_at`), and each gets one `hrm.request.sla-breached` event.
 * A request already marked is never reported again, so the sweep can run as often as wanted.
 */
export async function recordSlaBreaches(app: Rapport, tenantId: string, now: Date, principal?: Principal): Promise<string[]> {
  return app.transaction(
    async (uow) => {
      const rows: Array<RequestRow & { tenant_id: string }> = await uow
        .trx('hrm_requests')
        .where({ tenant_id: tenantId })
        .whereRaw(PENDING_BREACH, [now])
        .update({ sla_breached_at: now })
        .returning('*');
      rows.sort((a, b) => a.id.localeCompare(b.id));
      for (const row of rows) uow.emit('hrm.request.sla-breached', { request: toRequest(row, now) }, { type: 'hrm.request', id: row.id });
      return rows.map((r) => r.id);
    },
    { tenantId, principal },
  );
}

/** The sweep over every tenant with a pending breach (one query finds them). */
export async function sweepSlaBreaches(app: Rapport, now: Date, signal?: AbortSignal): Promise<Map<string, string[]>> {
  const tenants: Array<{ tenant_id: string }> = await app.knex('hrm_requests').whereRaw(PENDING_BREACH, [now]).distinct('tenant_id').orderBy('tenant_id');
  const out = new Map<string, string[]>();
  for (const { tenant_id } of tenants) {
    if (signal?.aborted) break;
    out.set(tenant_id, await recordSlaBreaches(app, tenant_id, now));
  }
  return out;
}
