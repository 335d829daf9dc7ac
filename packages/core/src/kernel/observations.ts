import type { Knex } from 'knex';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import { newId } from '../util/ids.js';
import { keysetPage } from '../http/keyset.js';
import type { Page } from '../util/cursor.js';
import { sql, type QueryContext } from './context.js';
import { observationsView, type ObservationViewFilter } from './views.js';
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
  private hidden: { declared: number; keys: string[] } | undefined;

  constructor(
    private readonly deps: KernelDeps,
    private readonly parties: PartyService,
    private readonly relationships: RelationshipService,
  ) {}

  /** The observations view (v1) of the context's tenant, for a plugin's own queries; see kernel/views.ts. */
  query(ctx: QueryContext, filter: ObservationViewFilter = {}): Knex.QueryBuilder {
    return observationsView(ctx, filter, (c) => this.visible(c, 'o'));
  }

  visible(ctx: QueryContext, alias = 'o'): Knex.QueryBuilder {
    const query = sql(ctx)(`rapport_observations as ${alias}`).where(`${alias}.tenant_id`, ctx.tenantId);
    const self = ctx.principal.scopePartyId;
    const hidden = self ? this.hiddenFromSubject() : [];
    if (hidden.length) {
      query.whereNot((w) => w.whereIn(`${alias}.indicator`, hidden).where(`${alias}.subject_type`, 'party').where(`${alias}.subject_id`, self));
    }
    return this.deps.scopes.apply(query, ctx, 'observations', `${alias}.id`);
  }

  /**
   * Keys of the indicators declared `hiddenFromSubject`, enabled or not: derived again only
   * when an indicator was declared since, not on every scoped read.
   */
  private hiddenFromSubject(): string[] {
    const { indicators } = this.deps.registries;
    if (this.hidden?.declared !== indicators.size) {
      const keys = indicators
        .list({ includeInactive: true })
        .filter((i) => i.hiddenFromSubject)
        .map((i) => i.key);
      this.hidden = { declared: indicators.size, keys };
    }
    return this.hidden.keys;
  }

  /** Records one value of an indicator for one subject; checked against the indicator's declaration. */
  async record(uow: UnitOfWork, input: ObservationCreateInput): Promise<Observation> {
    const { input: data } = await uow.filter('observation.create', { input: structuredClone(input) });
    const indicator = this.requireIndicator(data.indicator);
    if (indicator.hiddenFromSubject && indicator.subject === 'party' && data.subjectId === uow.principal.scopePartyId) {
      throw new ForbiddenError(`Indicator ${indicator.key} is about its subject and hidden from it: a principal scoped to party ${data.subjectId} cannot record it`);
    }
    checkValue(indicator, data);
    if (indicator.subject === 'party') await this.parties.get(uow, data.subjectId).catch(() => unknownSubject(indicator, data.subjectId));
    else await this.relationships.get(uow, data.subjectId).catch(() => unknownSubject(indicator, data.subjectId));
    if (data.observerPartyId) await this.parties.requireLive(uow, [data.observerPartyId], 'observerPartyId');
    if (data.interactionId) {
      const found = await this.deps.scopes.apply(sql(uow)('rapport_interactions').where({ tenant_id: uow.tenantId, id: data.interactionId }), uow, 'interactions', 'id').first('id');
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
    await sql(uow)('rapport_observations').insert({ ...row, tenant_id: uow.tenantId, details: JSON.stringify(row.details) });
    const observation = toObservation(row);
    uow.emit('observation.created', { observation }, { type: 'observation', id: observation.id });
    return observation;
  }

  async get(ctx: QueryContext, id: string): Promise<Observation> {
    const row: ObservationRow | undefined = await this.visible(ctx)
      .where('o.id', id)
      .first(OBSERVATION_COLUMNS.map((c) => `o.${c}`));
    if (!row) throw new NotFoundError('Observation', id);
    return toObservation(row);
  }

  async list(ctx: QueryContext, query: ObservationListQuery): Promise<Page<Observation>> {
    const q = this.visible(ctx).select(OBSERVATION_COLUMNS.map((c) => `o.${c}`));
    if (query.indicator) q.where('o.indicator', query.indicator);
    if (query.subjectType) q.where('o.subject_type', query.subjectType);
    if (query.subjectId) q.where('o.subject_id', query.subjectId);
    return keysetPage(
      q,
      query,
      [
        { column: 'o.observed_at', type: 'timestamp', direction: 'desc' },
        { column: 'o.id', type: 'uuid', direction: 'desc' },
      ],
      (rows: ObservationRow[]) => rows.map(toObservation),
    );
  }

  /**
   * The latest value and the aggregate the indicator declares, for one subject. One query.
   * Qualitative indicators report the count per label instead of a number.
   */
  async summary(ctx: QueryContext, indicatorKey: string, subjectId: string): Promise<IndicatorSummary> {
    const indicator = this.deps.registries.indicators.get(indicatorKey);
    if (!indicator) throw new NotFoundError('Indicator', indicatorKey);
    // The subject must be a record the caller sees in this tenant: 404, never an empty summary of anything.
    if (indicator.subject === 'party') await this.parties.get(ctx, subjectId);
    else await this.relationships.get(ctx, subjectId);
    // Aggregates in SQL over every observation, on the (tenant, subject, indicator, time) index.
    const aggregate = indicator.kind === 'quantitative' ? (indicator.aggregate ?? 'last') : 'last';
    const series = () => this.visible(ctx).where({ 'o.subject_type': indicator.subject, 'o.subject_id': subjectId, 'o.indicator': indicatorKey });
    const newestFirst = [
      { column: 'o.observed_at', order: 'desc' as const },
      { column: 'o.id', order: 'desc' as const },
    ];
    const totals: { count: number; avg: number | null; sum: number | null; min: number | null; max: number | null } = await series().first(
      sql(ctx).raw('count(*)::int as count'),
      sql(ctx).raw('avg(o.value)::float8 as avg'),
      sql(ctx).raw('sum(o.value)::float8 as sum'),
      sql(ctx).raw('min(o.value)::float8 as min'),
      sql(ctx).raw('max(o.value)::float8 as max'),
    );
    const latest: { label: string | null; observed_at: Date } | undefined = await series().orderBy(newestFirst).first('o.label', 'o.observed_at');
    const lastValue: { value: number } | undefined = aggregate === 'last' ? await series().whereNotNull('o.value').orderBy(newestFirst).first('o.value') : undefined;
    const labelRows: Array<{ label: string; count: number }> = await series().whereNotNull('o.label').groupBy('o.label').orderBy('o.label').select('o.label', sql(ctx).raw('count(*)::int as count'));
    const labels: Record<string, number> = {};
    for (const row of labelRows) labels[row.label] = Number(row.count);
    const value = aggregate === 'last' ? (lastValue ? Number(lastValue.value) : null) : totals[aggregate] === null ? null : Number(totals[aggregate]);
    return {
      indicator: indicatorKey,
      subjectId,
      count: Number(totals.count),
      aggregate,
      value,
      latestLabel: latest?.label ?? null,
      labels,
      lastObservedAt: latest ? new Date(latest.observed_at).toISOString() : null,
    };
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
    if (data.label !== undefined && data.label !== null) fail('label', 'a quantitative indicator takes a value, not a label');
    const { min, max } = indicator.scale ?? {};
    if (min !== undefined && data.value! < min) fail('value', `must be at least ${min}`);
    if (max !== undefined && data.value! > max) fail('value', `must be at most ${max}`);
  } else {
    if (data.value !== undefined && data.value !== null) fail('value', 'a qualitative indicator takes a label or a text, not a value');
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
