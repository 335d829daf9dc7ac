import { ForbiddenError, PreconditionFailedError, ValidationError, type QueryContext, type UnitOfWork } from '@rapport/core';
import { RETENTION_WEIGHTS, hrm, type RetentionRisk, type RetentionWeights, type RetentionWeightsSetting } from '@rapport/hrm-contract';
import { INDICATORS, TYPES } from '../declarations.js';
import type { HrmDeps } from '../deps.js';
import { retentionRisk } from '../domain/retention-risk.js';
import type { ResolvedHrmOptions } from '../options.js';
import type { DeskService } from './desk.js';
import type { ReviewService } from './reviews.js';
import type { StaffDirectory } from './staff.js';
import type { SurveyService } from './surveys.js';

/** The key of the tenant's retention weights in `hrm_settings`. */
const RETENTION_WEIGHTS_KEY = 'retention-weights';

const DAY_MS = 86_400_000;

/** The retention-risk indicator: its per-tenant weights, its assessment from the other modules' signals, its recording. */
export class RetentionService {
  constructor(
    private readonly deps: HrmDeps,
    private readonly staff: StaffDirectory,
    private readonly signals: { reviews: ReviewService; surveys: SurveyService; desk: DeskService },
    private readonly options: ResolvedHrmOptions,
  ) {}

  /** The tenant's weights, or the defaults while it has set none. */
  async weights(ctx: QueryContext): Promise<RetentionWeightsSetting> {
    const row: { value: RetentionWeights; version: number } | undefined = await this.deps.db.in(ctx)('hrm_settings').where({ key: RETENTION_WEIGHTS_KEY }).first('value', 'version');
    const current = row ? { weights: row.value, version: row.version, custom: true } : { weights: { ...RETENTION_WEIGHTS }, version: 0, custom: false };
    return { ...current, defaults: { ...RETENTION_WEIGHTS } };
  }

  /** Every factor, each 0–100, summing to 100 so the score stays 0–100; once set, `expectedVersion` (If-Match) must be the current one. */
  async setWeights(uow: UnitOfWork, weights: RetentionWeights, expectedVersion: number | undefined): Promise<RetentionWeightsSetting> {
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    if (Math.abs(total - 100) > 1e-9) throw new ValidationError(`hrm: retention weights must sum to 100 (they sum to ${total}), so the score stays 0–100`, [{ path: '', message: `sum is ${total}` }]);
    const tables = this.deps.db.in(uow);
    const current: { version: number } | undefined = await tables('hrm_settings').where({ key: RETENTION_WEIGHTS_KEY }).forUpdate().first('version');
    const version = current?.version ?? 0;
    if (current && expectedVersion === undefined) throw new PreconditionFailedError('hrm: If-Match with the current version is required to change the retention weights', { currentVersion: version });
    if (expectedVersion !== undefined && expectedVersion !== version) throw new PreconditionFailedError(`hrm: retention weights are at version ${version}`, { currentVersion: version });
    const row = { key: RETENTION_WEIGHTS_KEY, value: JSON.stringify(weights), version: version + 1, updated_at: new Date() };
    await tables('hrm_settings').insert(row).onConflict(['key']).merge();
    uow.emit(hrm.events.settingsUpdated, { key: RETENTION_WEIGHTS_KEY, version: row.version }, { type: 'hrm.settings', id: RETENTION_WEIGHTS_KEY });
    return { weights: { ...weights }, defaults: { ...RETENTION_WEIGHTS }, custom: true, version: row.version };
  }

  /** The current risk of an employee the caller may see, with the factors behind it; never one's own. */
  async assess(ctx: QueryContext, employeeId: string): Promise<RetentionRisk> {
    refuseSubject(ctx, employeeId);
    await this.staff.visible(ctx, employeeId);
    return this.compute(ctx, employeeId);
  }

  /** Records the current risk as an hrm.retention-risk observation (hidden from its subject), the factors in its details. */
  async record(uow: UnitOfWork, employeeId: string): Promise<RetentionRisk> {
    const risk = await this.assess(uow, employeeId);
    await this.deps.observations.record(uow, {
      indicator: INDICATORS.retentionRisk,
      subjectId: employeeId,
      value: risk.score,
      observedAt: risk.asOf,
      details: { level: risk.level, factors: risk.factors },
    });
    return risk;
  }

  private async compute(ctx: QueryContext, employeeId: string): Promise<RetentionRisk> {
    const now = this.options.now();
    const { relationships } = this.deps;
    const employment = await this.staff.activeEmployment(ctx, employeeId);
    const lines: Array<{ status: string; created_at: Date }> = await relationships
      .query(ctx, { type: TYPES.reportsTo, toPartyId: employeeId })
      .orderBy('created_at', 'desc')
      .select('status', 'created_at');
    const currentLine = lines.find((l) => l.status === 'active');
    const managerChanged = currentLine && lines.some((l) => l.status !== 'active');
    const reviewScores = await this.signals.reviews.recentFinalScores(ctx, employeeId);
    const unitEnps = employment ? await this.signals.surveys.shownUnitEnps(ctx, employment.attributes.unitId) : [];
    const start = employment?.valid_from ? new Date(employment.valid_from) : null;
    const risk = retentionRisk(
      {
        tenureMonths: start ? Math.max(0, Math.floor((now.getTime() - start.getTime()) / (30.44 * DAY_MS))) : null,
        daysSinceManagerChange: managerChanged ? Math.max(0, Math.floor((now.getTime() - new Date(currentLine.created_at).getTime()) / DAY_MS)) : null,
        reviewScores: reviewScores.length === 2 ? reviewScores : [],
        unitEnps: unitEnps.length === 2 ? unitEnps : [],
        openBreachedRequests: await this.signals.desk.overdueRequestsOf(ctx, employeeId, now),
      },
      (await this.weights(ctx)).weights,
    );
    return { employeeId, asOf: now.toISOString(), ...risk };
  }
}

/** The person assessed never reads (or records) their own risk through a principal scoped to them. */
function refuseSubject(ctx: QueryContext, employeeId: string): void {
  if (ctx.principal.scopePartyId === employeeId) throw new ForbiddenError('hrm: retention risk is for HR and managers');
}
