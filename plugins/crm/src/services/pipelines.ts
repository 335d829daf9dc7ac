import { ConflictError, NotFoundError, ValidationError, newId, type QueryContext, type UnitOfWork } from '@rapport/core';
import { crm, type Pipeline, type Stage, type StageOutcome } from '@rapport/crm-contract';
import type { CrmDeps } from '../deps.js';
import { pipelineRecord, stageRecord } from '../records.js';

export interface StageInput {
  name: string;
  probability?: number;
  outcome?: StageOutcome;
}

/** A stage with the pipeline it belongs to. */
export type PipelineStage = Stage & { pipelineId: string };

const DEFAULT_PROBABILITY: Record<StageOutcome, number> = { open: 10, won: 100, lost: 0 };

/** Pipelines and their ordered stages. */
export class PipelineService {
  constructor(private readonly deps: CrmDeps) {}

  async create(uow: UnitOfWork, name: string, stages: StageInput[]): Promise<Pipeline> {
    if (!stages.some((s) => (s.outcome ?? 'open') === 'open')) {
      throw new ValidationError('crm: a pipeline needs at least one open stage', [{ path: 'stages', message: 'no open stage' }]);
    }
    const names = new Set<string>();
    stages.forEach((s, i) => {
      if (names.has(s.name)) throw new ValidationError(`crm: stage "${s.name}" appears twice`, [{ path: `stages.${i}.name`, message: 'duplicate stage name' }]);
      names.add(s.name);
    });
    const tables = this.deps.db.in(uow);
    // Two creations of one name one after the other: the second is a 409, not a unique-key 500.
    await tables.lock(`pipeline:${name}`);
    if (await tables('crm_pipelines').where({ name }).first('id')) throw new ConflictError(`crm: a pipeline named "${name}" already exists`);
    const now = new Date();
    const pipeline: Pipeline = {
      id: newId(),
      name,
      createdAt: now.toISOString(),
      stages: stages.map((s, position) => {
        const outcome = s.outcome ?? 'open';
        return { id: newId(), name: s.name, position, outcome, probability: s.probability ?? DEFAULT_PROBABILITY[outcome] };
      }),
    };
    await tables('crm_pipelines').insert({ id: pipeline.id, name, created_at: now });
    await tables('crm_stages').insert(pipeline.stages.map((s) => ({ pipeline_id: pipeline.id, ...s })));
    uow.emit(crm.events.pipelineCreated, { pipeline }, { type: 'crm.pipeline', id: pipeline.id });
    return pipeline;
  }

  /** Pipelines (all, or those of `ids`) with their stages, oldest first: two queries. */
  async list(ctx: QueryContext, ids?: readonly string[]): Promise<Pipeline[]> {
    const tables = this.deps.db.in(ctx);
    const q = tables('crm_pipelines as p')
      .orderBy([{ column: 'p.created_at' }, { column: 'p.id' }])
      .select(pipelineRecord.columns('p'));
    if (ids) q.whereIn('p.id', [...ids]);
    const pipelines: Array<{ id: string }> = await q;
    if (pipelines.length === 0) return [];
    const stages: Array<{ pipeline_id: string }> = await tables('crm_stages as s')
      .whereIn(
        's.pipeline_id',
        pipelines.map((p) => p.id),
      )
      .orderBy('s.position')
      .select('s.pipeline_id', ...stageRecord.columns('s'));
    return pipelines.map((p) => pipelineRecord.fromRow(p, { stages: stages.filter((s) => s.pipeline_id === p.id).map((s) => stageRecord.fromRow(s)) }));
  }

  async get(ctx: QueryContext, id: string): Promise<Pipeline> {
    const [pipeline] = await this.list(ctx, [id]);
    if (!pipeline) throw new NotFoundError('Pipeline', id);
    return pipeline;
  }

  /** A stage by id; a 400 on `stageId` when there is none (it is always a field of the request). */
  async stage(ctx: QueryContext, stageId: string): Promise<PipelineStage> {
    const row = await this.deps.db
      .in(ctx)('crm_stages as s')
      .where('s.id', stageId)
      .first('s.pipeline_id', ...stageRecord.columns('s'));
    if (!row) throw new ValidationError(`stageId: stage ${stageId} does not exist`, [{ path: 'stageId', message: 'unknown stage' }]);
    return { ...stageRecord.fromRow(row), pipelineId: row.pipeline_id };
  }

  /** Where a deal opens when no stage is given; a 400 on `pipelineId` for an unknown pipeline. */
  async firstOpenStage(ctx: QueryContext, pipelineId: string): Promise<PipelineStage> {
    const row = await this.deps.db
      .in(ctx)('crm_stages as s')
      .where({ 's.pipeline_id': pipelineId, 's.outcome': 'open' })
      .orderBy('s.position')
      .first('s.pipeline_id', ...stageRecord.columns('s'));
    if (!row) throw new ValidationError(`pipelineId: pipeline ${pipelineId} does not exist`, [{ path: 'pipelineId', message: 'unknown pipeline' }]);
    return { ...stageRecord.fromRow(row), pipelineId: row.pipeline_id };
  }

  /** The first pipeline created, if any. */
  async oldestId(ctx: QueryContext): Promise<string | undefined> {
    const row = await this.deps.db
      .in(ctx)('crm_pipelines as p')
      .orderBy([{ column: 'p.created_at' }, { column: 'p.id' }])
      .first('p.id');
    return row?.id;
  }
}
