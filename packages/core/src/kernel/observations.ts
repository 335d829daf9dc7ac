import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../errors.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import { newId } from '../util/ids.js';
import { decodeCursor, toPage, type Page } from '../util/cursor.js';
import type { QueryContext } from './context.js';
import type { KernelDeps } from './kernel.js';
import type { PartyService } from './parties.js';
import type { RelationshipService } from './relationships.js';
import { OBSERVATION_COLUMNS, toObservation, type ObservationRow } from './rows.js';
import type { ObservationCreateInput } from './schemas.js';
import type { IndicatorDefinition, Observation } from './types.js';

export interface ObservationListQuery {
  indicator?: string;
  subjectType?: 'party' | 'relationship';
  subjectId?: string;
  limit: number;
  cursor?: string;
}

export class ObservationService {
  constructor(
    private readonly deps: KernelDeps,
    private readonly parties: PartyService,
    private readonly relationships: RelationshipService,
  ) {}

  visible(ctx: QueryContext, alias = 'o'): Knex.QueryBuilder {
    const query = ctx.db(`rapport_observations as ${alias}`).where(`${alias}.tenant_id`, ctx.tenantId);
    return this.deps.scopes.apply(query, ctx, 'observations', `${alias}.id`);
  }

  /** Records one value of an indicator for one subject; checked against the indicator's declaration. */
  async record(uow: UnitOfWork, input: ObservationCreateInput): Promise<Observation> {
    const { input: data } = await uow.filter('observation.create', { input: structuredClone(input) });
    const indicator = this.requireIndicator(data.indicator);
    checkValue(indicator, data);
    if (indicator.subject === 'party') await this.parties.get(uow, data.subjectId).catch(() => unknownSubject(indicator, data.subjectId));
    else await this.relationships.get(uow, data.subjectId).catch(() => unknownSubject(indicator, data.subjectId));
    if (data.observerPartyId) await this.parties.requireLive(uow, [data.observerPartyId], 'observerPartyId');
    if (data.interactionId) {
      const found = await uow.trx('rapport_interactions').where({ tenant_id: uow.tenantId, id: data.interactionId }).first('id');
      if (!found) throw new ValidationError(`interactionId: interaction ${data.interactionId} does not exist`, [{ path: 'interactionId', message: 'unknown interaction' }]);
    }
    const row: ObservationRow = {
      id: newId(),
      indicator: indicator.key,
      subject_type: indicator.subject,
      subject_id: data.subjectId,
      value: data.value ?? null,
      label: data.label ?? null,
      text: data.text ?? null,
      observed_at: data.observedAt ? new Date(data.observedAt) : new Date(),
      observer_party_id: data.observerPartyId ?? null,
      interaction_id: data.interactionId ?? null,
      details: data.details ?? {},
      created_at: new Date(),
    };
    await uow.trx('rapport_observations').insert({ ...row, tenant_id: uow.tenantId, details: JSON.stringify(row.details) });
    const observation = toObservation(row);
    uow.emit('observation.created', { observation }, { type: 'observation', id: observation.id });
    return observation;
  }

  async get(ctx: QueryContext, id: string): Promise<Observation> {
    const row: ObservationRow | undefined = await this.visible(ctx).where('o.id', id).first(OBSERVATION_COLUMNS.map((c) => `o.${c}`));
    if (!row) throw new NotFoundError('Observation', id);
    return toObservation(row);
  }

  async list(ctx: QueryContext, query: ObservationListQuery): Promise<Page<Observation>> {
    const after = decodeCursor(query.cursor, ['timestamp', 'uuid']);
    const q = this.visible(ctx).select(OBSERVATION_COLUMNS.map((c) => `o.${c}`));
    if (query.indicator) q.where('o.indicator', query.indicator);
    if (query.subjectType) q.where('o.subject_type', query.subjectType);
    if (query.subjectId) q.where('o.subject_id', query.subjectId);
    if (after) q.whereRaw('(o.observed_at, o.id) < (?, ?)', after);
    const rows: ObservationRow[] = await q.orderBy([{ column: 'o.observed_at', order: 'desc' }, { column: 'o.id', order: 'desc' }]).limit(query.limit + 1);
    return toPage(rows, query.limit, toObservation, (r) => [new Date(r.observed_at).toISOString(), r.id]);
  }

  /**
   * The latest value and the aggregate the indicator declares, for one subject. One query.
   * Qualitative indicators report the count per label instead of a number.
   */
  async summary(ctx: QueryContext, indicatorKey: string, subjectId: string): Promise<IndicatorSummary> {
    const indicator = this.deps.registries.indicators.get(indicatorKey);
    if (!indicator) throw new NotFoundError('Indicator', indicatorKey);
    const rows: Array<{ value: number | null; label: string | null; observed_at: Date }> = await this.visible(ctx)
      .where({ 'o.indicator': indicatorKey, 'o.subject_id': subjectId })
      .orderBy([{ column: 'o.observed_at', order: 'desc' }, { column: 'o.id', order: 'desc' }])
      .limit(10000)
      .select('o.value', 'o.label', 'o.observed_at');
    const values = rows.map((r) => r.value).filter((v): v is number => v !== null).map(Number);
    const labels: Record<string, number> = {};
    for (const r of rows) if (r.label) labels[r.label] = (labels[r.label] ?? 0) + 1;
    const aggregate = indicator.kind === 'quantitative' ? indicator.aggregate ?? 'last' : 'last';
    const value =
      values.length === 0
        ? null
        : aggregate === 'sum'
          ? values.reduce((a, b) => a + b, 0)
          : aggregate === 'avg'
            ? values.reduce((a, b) => a + b, 0) / values.length
            : aggregate === 'min'
              ? Math.min(...values)
              : aggregate === 'max'
                ? Math.max(...values)
                : values[0];
    return { indicator: indicatorKey, subjectId, count: rows.length, aggregate, value, latestLabel: rows[0]?.label ?? null, labels, lastObservedAt: rows[0] ? new Date(rows[0].observed_at).toISOString() : null };
  }

  requireIndicator(key: string): IndicatorDefinition {
    const indicator = this.deps.registries.indicators.usable(key);
    if (!indicator) throw new ValidationError(`Unknown indicator "${key}"`, [{ path: 'indicator', message: 'unknown or disabled indicator' }]);
    return indicator;
  }
}

export interface IndicatorSummary {
  indicator: string;
  subjectId: string;
  count: number;
  aggregate: string;
  value: number | null;
  latestLabel: string | null;
  labels: Record<string, number>;
  lastObservedAt: string | null;
}

function checkValue(indicator: IndicatorDefinition, data: ObservationCreateInput): void {
  const fail = (path: string, message: string) => {
    throw new ValidationError(`${indicator.key}: ${message}`, [{ path, message }]);
  };
  if (indicator.kind === 'quantitative') {
    if (data.value === undefined || data.value === null) fail('value', 'a quantitative indicator needs a numeric value');
    const { min, max } = indicator.scale ?? {};
    if (min !== undefined && data.value! < min) fail('value', `must be at least ${min}`);
    if (max !== undefined && data.value! > max) fail('value', `must be at most ${max}`);
  } else {
    if ((data.label === undefined || data.label === null) && !data.text) fail('label', 'a qualitative indicator needs a label or a text');
    if (data.label && indicator.scale && !indicator.scale.levels.includes(data.label)) {
      fail('label', `must be one of ${indicator.scale.levels.join(', ')} (scale ${indicator.scale.name})`);
    }
    if (data.text && indicator.text === false) fail('text', 'this indicator takes no free text');
  }
}

function unknownSubject(indicator: IndicatorDefinition, id: string): never {
  throw new ValidationError(`subjectId: ${indicator.subject} ${id} does not exist`, [{ path: 'subjectId', message: `unknown ${indicator.subject}` }]);
}
