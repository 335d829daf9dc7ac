import { z } from 'zod';
import {
  insertUnnest,
  newId,
  normalizeContactPoint,
  type ImportBatchResult,
  type Importer,
  type ImportRecord,
  type Rapport,
  type InteractionCreateInput,
  type RejectedRow,
  type RowError,
  type UnitOfWork,
} from '@rapport/core';
import { DEAL_UPDATE_TYPE } from '../declarations.js';
import type { Deal, StageOutcome } from '../types.js';
import { amount, currency, isoDate } from '../routes/schemas.js';

interface StageRef {
  id: string;
  pipelineId: string;
  pipelineName: string;
  name: string;
  position: number;
  outcome: StageOutcome;
}

const rowSchema = z.strictObject({
  title: z.string().trim().min(1).max(300),
  amount: z.coerce.number().pipe(amount),
  currency,
  expected_close: isoDate.optional(),
});

const blankToUndefined = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

/**
 * `crm.deals`: deals from CSV, resolving the account by domain or e-mail, the owner by
 * e-mail, the pipeline and stage by name. Per batch: one query for the stages, one for every
 * contact point, then one multi-row insert per table — never a statement per row.
 */
export const dealsImporter: Importer = {
  name: 'crm.deals',
  description: 'Deals, with the account by domain or e-mail, the owner by e-mail, the pipeline and stage by name',
  columns: [
    { name: 'title', required: true },
    { name: 'amount', required: true, description: 'number, at most two decimals' },
    { name: 'currency', required: true, description: 'ISO 4217, e.g. EUR' },
    { name: 'pipeline', required: true, description: 'pipeline name' },
    { name: 'stage', description: 'stage name; the first open stage when empty' },
    { name: 'account_domain', description: 'web domain of the account' },
    { name: 'account_email', description: 'e-mail of the account (when no domain)' },
    { name: 'owner_email', description: 'e-mail of the owning rep' },
    { name: 'expected_close', description: 'YYYY-MM-DD' },
  ],
  async importBatch(uow: UnitOfWork, rows: ImportRecord[], app: Rapport): Promise<ImportBatchResult> {
    const stages = await loadStages(uow, rows.map((r) => r.record.pipeline ?? ''));
    const points = new Map<string, { kind: 'domain' | 'email'; normalized: string }>();
    const keyOf = (kind: 'domain' | 'email', value: string) => {
      const normalized = normalizeContactPoint({ kind, value });
      points.set(`${kind}:${normalized}`, { kind, normalized });
      return `${kind}:${normalized}`;
    };
    const rejected: RejectedRow[] = [];
    const parsed: Array<{ line: number; data: z.infer<typeof rowSchema>; stage: StageRef; accountKey: string; accountColumn: string; ownerKey?: string }> = [];
    for (const { line, record } of rows) {
      const errors: RowError[] = [];
      const result = rowSchema.safeParse({ title: record.title, amount: record.amount, currency: record.currency, expected_close: blankToUndefined(record.expected_close) });
      if (!result.success) for (const issue of result.error.issues) errors.push({ column: String(issue.path[0] ?? ''), message: issue.message });
      const stage = pickStage(stages, record.pipeline ?? '', blankToUndefined(record.stage), errors);
      let accountKey: string | undefined;
      let accountColumn = 'account_domain';
      let ownerKey: string | undefined;
      try {
        const domain = blankToUndefined(record.account_domain);
        const email = blankToUndefined(record.account_email);
        if (domain) accountKey = keyOf('domain', domain);
        else if (email) {
          accountColumn = 'account_email';
          accountKey = keyOf('email', email);
        } else errors.push({ column: 'account_domain', message: 'account_domain or account_email is required' });
      } catch (error) {
        errors.push({ column: accountColumn, message: (error as Error).message });
      }
      try {
        const owner = blankToUndefined(record.owner_email);
        if (owner) ownerKey = keyOf('email', owner);
      } catch (error) {
        errors.push({ column: 'owner_email', message: (error as Error).message });
      }
      if (errors.length || !result.success || !stage || !accountKey) rejected.push({ line, errors });
      else parsed.push({ line, data: result.data, stage, accountKey, accountColumn, ownerKey });
    }

    const resolved = await resolvePoints(uow, [...points.values()]);
    const now = new Date();
    const deals: Array<Record<string, unknown>> = [];
    const out: Deal[] = [];
    for (const row of parsed) {
      const account = resolved.get(row.accountKey);
      const owner = row.ownerKey ? resolved.get(row.ownerKey) : null;
      const errors: RowError[] = [];
      if (!account) errors.push({ column: row.accountColumn, message: 'no party has this contact point' });
      else if (account === 'ambiguous') errors.push({ column: row.accountColumn, message: 'several parties have this contact point' });
      if (row.ownerKey && !owner) errors.push({ column: 'owner_email', message: 'no party has this e-mail' });
      else if (owner === 'ambiguous') errors.push({ column: 'owner_email', message: 'several parties have this e-mail' });
      if (errors.length) {
        rejected.push({ line: row.line, errors });
        continue;
      }
      const closed = row.stage.outcome !== 'open';
      const deal: Deal = {
        id: newId(),
        pipelineId: row.stage.pipelineId,
        stageId: row.stage.id,
        title: row.data.title,
        amount: row.data.amount,
        currency: row.data.currency,
        expectedClose: row.data.expected_close ?? null,
        ownerPartyId: (owner as string | null) ?? null,
        accountId: account as string,
        contactIds: [],
        status: row.stage.outcome,
        closedAt: closed ? now.toISOString() : null,
        version: 1,
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
      };
      out.push(deal);
      deals.push({
        tenant_id: uow.tenantId,
        id: deal.id,
        pipeline_id: deal.pipelineId,
        stage_id: deal.stageId,
        title: deal.title,
        amount: deal.amount,
        currency: deal.currency,
        expected_close: deal.expectedClose,
        owner_party_id: deal.ownerPartyId,
        account_id: deal.accountId,
        status: deal.status,
        closed_at: closed ? now : null,
        version: 1,
        created_at: now,
        updated_at: now,
      });
    }
    await insertUnnest(uow.trx, 'crm_deals', {
      tenant_id: 'uuid',
      id: 'uuid',
      pipeline_id: 'uuid',
      stage_id: 'uuid',
      title: 'text',
      amount: 'numeric',
      currency: 'text',
      expected_close: 'date',
      owner_party_id: 'uuid',
      account_id: 'uuid',
      status: 'text',
      closed_at: 'timestamptz',
      version: 'int',
      created_at: 'timestamptz',
      updated_at: 'timestamptz',
    }, deals);
    await insertUnnest(
      uow.trx,
      'crm_deal_stage_history',
      { tenant_id: 'uuid', id: 'uuid', deal_id: 'uuid', from_stage_id: 'uuid', to_stage_id: 'uuid', changed_at: 'timestamptz', changed_by_party_id: 'uuid' },
      out.map((d) => ({ tenant_id: uow.tenantId, id: newId(), deal_id: d.id, from_stage_id: null, to_stage_id: d.stageId, changed_at: now, changed_by_party_id: uow.principal.partyId })),
    );
    // The account timeline entries, in the kernel's multi-row path; one event per record.
    const timeline: InteractionCreateInput[] = out.map((d) => ({
      type: DEAL_UPDATE_TYPE,
      occurredAt: now.toISOString(),
      direction: 'internal',
      subject: `Deal opened: ${d.title}`,
      participants: d.ownerPartyId && d.ownerPartyId !== d.accountId ? [{ partyId: d.accountId, role: 'account' }, { partyId: d.ownerPartyId, role: 'owner' }] : [{ partyId: d.accountId, role: 'account' }],
      attributes: { dealId: d.id, change: 'created', fromStageId: null, toStageId: d.stageId },
    }));
    const interactions = timeline.length ? await app.services.interactions.insertMany(uow, timeline) : [];
    for (const interaction of interactions) uow.emit('interaction.created', { interaction }, { type: 'interaction', id: interaction.id });
    for (const deal of out) {
      uow.emit('crm.deal.created', { deal }, { type: 'crm.deal', id: deal.id });
      if (deal.status !== 'open') uow.emit(`crm.deal.${deal.status}`, { deal }, { type: 'crm.deal', id: deal.id });
    }
    return { imported: out.length, rejected };
  },
};

/** Every stage of the pipelines named in the batch: one query. */
async function loadStages(uow: UnitOfWork, pipelineNames: string[]): Promise<StageRef[]> {
  const names = [...new Set(pipelineNames.map((n) => n.trim()).filter(Boolean))];
  if (names.length === 0) return [];
  const rows: Array<{ id: string; pipeline_id: string; pipeline_name: string; name: string; position: number; outcome: StageOutcome }> = await uow
    .trx('crm_stages as s')
    .join('crm_pipelines as p', function () {
      this.on('p.tenant_id', 's.tenant_id').andOn('p.id', 's.pipeline_id');
    })
    .where('s.tenant_id', uow.tenantId)
    .whereIn('p.name', names)
    .orderBy('s.position')
    .select('s.id', 's.pipeline_id', 'p.name as pipeline_name', 's.name', 's.position', 's.outcome');
  return rows.map((r) => ({ id: r.id, pipelineId: r.pipeline_id, pipelineName: r.pipeline_name, name: r.name, position: r.position, outcome: r.outcome }));
}

function pickStage(stages: StageRef[], pipeline: string, stage: string | undefined, errors: RowError[]): StageRef | undefined {
  const ofPipeline = stages.filter((s) => s.pipelineName === pipeline.trim());
  if (ofPipeline.length === 0) {
    errors.push({ column: 'pipeline', message: `no pipeline named "${pipeline}"` });
    return undefined;
  }
  const found = stage === undefined ? ofPipeline.find((s) => s.outcome === 'open') : ofPipeline.find((s) => s.name === stage);
  if (!found) errors.push({ column: 'stage', message: `pipeline "${pipeline}" has no stage "${stage}"` });
  return found;
}

/**
 * Contact points → live party ids: one query for the whole batch. A point two live parties
 * share is 'ambiguous' (the row is rejected rather than attached to a guess).
 */
async function resolvePoints(uow: UnitOfWork, points: Array<{ kind: 'domain' | 'email'; normalized: string }>): Promise<Map<string, string | 'ambiguous'>> {
  const resolved = new Map<string, string | 'ambiguous'>();
  if (points.length === 0) return resolved;
  const rows: Array<{ party_id: string; kind: string; normalized: string }> = await uow
    .trx('rapport_contact_points as c')
    .join('rapport_parties as p', function () {
      this.on('p.tenant_id', 'c.tenant_id').andOn('p.id', 'c.party_id');
    })
    .where('c.tenant_id', uow.tenantId)
    .whereNull('p.archived_at')
    .whereNull('p.merged_into_id')
    .whereIn(['c.kind', 'c.normalized'], points.map((p) => [p.kind, p.normalized]))
    .select('c.party_id', 'c.kind', 'c.normalized');
  for (const row of rows) {
    const key = `${row.kind}:${row.normalized}`;
    const seen = resolved.get(key);
    resolved.set(key, seen && seen !== row.party_id ? 'ambiguous' : row.party_id);
  }
  return resolved;
}
