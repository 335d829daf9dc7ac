import { ConflictError, NotFoundError, ValidationError, newId, type QueryContext, type UnitOfWork } from '@rapport/core';
import type { Pipeline, Stage, StageOutcome } from '../types.js';

export interface StageInput {
  name: string;
  probability?: number;
  outcome?: StageOutcome;
}

interface StageRow {
  id: string;
  pipeline_id: string;
  name: string;
  position: number;
  probability: number;
  outcome: StageOutcome;
}

const DEFAULT_PROBABILITY: Record<StageOutcome, number> = { open: 10, won: 100, lost: 0 };

export async function createPipeline(uow: UnitOfWork, name: string, stages: StageInput[]): Promise<Pipeline> {
  if (!stages.some((s) => (s.outcome ?? 'open') === 'open')) {
    throw new ValidationError('crm: a pipeline needs at least one open stage', [{ path: 'stages', message: 'no open stage' }]);
  }
  const names = new Set<string>();
  stages.forEach((s, i) => {
    if (names.has(s.name)) throw new ValidationError(`crm: stage "${s.name}" appears twice`, [{ path: `stages.${i}.name`, message: 'duplicate stage name' }]);
    names.add(s.name);
  });
  const taken = await uow.trx('crm_pipelines').where({ tenant_id: uow.tenantId, name }).first('id');
  if (taken) throw new ConflictError(`crm: a pipeline named "${name}" already exists`);
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
  await uow.trx('crm_pipelines').insert({ tenant_id: uow.tenantId, id: pipeline.id, name, created_at: now });
  await uow.trx('crm_stages').insert(pipeline.stages.map((s) => ({ tenant_id: uow.tenantId, pipeline_id: pipeline.id, ...s })));
  uow.emit('crm.pipeline.created', { pipeline }, { type: 'crm.pipeline', id: pipeline.id });
  return pipeline;
}

/** Pipelines with their stages, in two queries. */
export async function listPipelines(ctx: QueryContext, ids?: readonly string[]): Promise<Pipeline[]> {
  const q = ctx.db('crm_pipelines').where('tenant_id', ctx.tenantId).orderBy([{ column: 'created_at' }, { column: 'id' }]);
  if (ids) q.whereIn('id', ids);
  const pipelines: Array<{ id: string; name: string; created_at: Date }> = await q.select('id', 'name', 'created_at');
  if (pipelines.length === 0) return [];
  const stages: StageRow[] = await ctx
    .db('crm_stages')
    .where('tenant_id', ctx.tenantId)
    .whereIn('pipeline_id', pipelines.map((p) => p.id))
    .orderBy('position')
    .select('id', 'pipeline_id', 'name', 'position', 'probability', 'outcome');
  return pipelines.map((p) => ({
    id: p.id,
    name: p.name,
    createdAt: new Date(p.created_at).toISOString(),
    stages: stages.filter((s) => s.pipeline_id === p.id).map(toStage),
  }));
}

export async function getPipeline(ctx: QueryContext, id: string): Promise<Pipeline> {
  const [pipeline] = await listPipelines(ctx, [id]);
  if (!pipeline) throw new NotFoundError('Pipeline', id);
  return pipeline;
}

export async function getStage(ctx: QueryContext, stageId: string): Promise<Stage & { pipelineId: string }> {
  const row: StageRow | undefined = await ctx
    .db('crm_stages')
    .where({ tenant_id: ctx.tenantId, id: stageId })
    .first('id', 'pipeline_id', 'name', 'position', 'probability', 'outcome');
  if (!row) throw new ValidationError(`stageId: stage ${stageId} does not exist`, [{ path: 'stageId', message: 'unknown stage' }]);
  return { ...toStage(row), pipelineId: row.pipeline_id };
}

function toStage(row: StageRow): Stage {
  return { id: row.id, name: row.name, position: row.position, probability: Number(row.probability), outcome: row.outcome };
}
