import type { UnitOfWork } from '@rapport/core';
import { hrm, type SlaBreaches } from '@rapport/hrm-contract';
import type { HrmDeps } from '../deps.js';
import { BREACHED_SQL } from '../domain/request-sla.js';
import type { ResolvedHrmOptions } from '../options.js';
import { requestRecord } from '../records.js';
import type { DeskService } from './desk.js';

/** Past its resolution target (unresolved now, or resolved late), not cancelled, not yet recorded. */
const PENDING_BREACH = `sla_breached_at is null and ${BREACHED_SQL}`;

/**
 * The SLA sweep: one set-based update per tenant marks every request newly past its target
 * (`sla_breached_at`), and each gets one `hrm.request.sla-breached` event. A request already
 * marked is never reported again, so the sweep can run as often as wanted.
 */
export class SlaService implements SlaBreaches {
  constructor(
    private readonly deps: HrmDeps,
    private readonly desk: DeskService,
    private readonly options: ResolvedHrmOptions,
  ) {}

  /** The breaches of the unit of work's tenant as of the plugin clock (what the sweep would record now). */
  async recordNow(uow: UnitOfWork): Promise<{ asOf: string; breached: string[] }> {
    const now = this.options.now();
    return { asOf: now.toISOString(), breached: await this.recordIn(uow, now) };
  }

  /** Records the breaches of the unit of work's tenant as of `now`; the ids, sorted. */
  async recordIn(uow: UnitOfWork, now: Date): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.deps.db.in(uow)('hrm_requests').whereRaw(PENDING_BREACH, [now]).update({ sla_breached_at: now }).returning(requestRecord.columns());
    rows.sort((a, b) => a.id.localeCompare(b.id));
    for (const row of rows) uow.emit(hrm.events.requestSlaBreached, { request: this.desk.toRequest(row, now) }, { type: 'hrm.request', id: row.id });
    return rows.map((r) => r.id);
  }

  /** As the tenant's system principal, in a unit of work of its own. */
  record(tenantId: string, now: Date): Promise<string[]> {
    return this.deps.unitOfWork.run({ tenantId }, (uow) => this.recordIn(uow, now));
  }

  /** Every tenant with a pending breach as of the plugin clock, one after the other (one query finds them). */
  async sweep(signal?: AbortSignal): Promise<void> {
    const now = this.options.now();
    const tenants = await this.deps.db.tenantsWith('hrm_requests', (q) => q.whereRaw(PENDING_BREACH, [now]));
    for (const tenantId of tenants) {
      if (signal?.aborted) break;
      await this.record(tenantId, now);
    }
  }
}
