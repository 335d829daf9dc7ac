import { z } from 'zod';
import {
  hasPermission,
  insertUnnest,
  newId,
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
import { KeyRequest, blank, pick, resolveKeys } from './natural-keys.js';
import { SEE_ALL_DEALS } from '../services/deals.js';

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

/**
 * `crm.deals`: deals from CSV, resolving the account by domain, e-mail or organization
 * name, the owner by e-mail, the pipeline and stage by name. Per batch: one query for the
 * stages, at most two for the natural keys (natural-keys.ts), then one multi-row insert per
 * table — never a statement per row.
 */
export const dealsImporter: Importer = {
  name: 'crm.deals',
  description: 'Deals, with the account by domain, e-mail or name, the owner by e-mail, the pipeline and stage by name',
  permission: 'crm.deals:write',
  columns: [
    { name: 'title', required: true },
    { name: 'amount', required: true, description: 'number, at most two decimals' },
    { name: 'currency', required: true, description: 'ISO 4217, e.g. EUR' },
    { name: 'pipeline', required: true, description: 'pipeline name' },
    { name: 'stage', description: 'stage name; the first open stage when empty' },
    { name: 'account_domain', description: 'web domain of the account' },
    { name: 'account_email', description: 'e-mail of the account (when no domain)' },
    { name: 'account_name', description: 'name of the account organization (when neither domain nor e-mail)' },
    { name: 'owner_email', description: 'e-mail of the owning rep' },
    { name: 'expected_close', description: 'YYYY-MM-DD' },
  ],
  async importBatch(uow: UnitOfWork, rows: ImportRecord[], app: Rapport): Promise<ImportBatchResult> {
    const seesAll = hasPermission(uow.principal, SEE_ALL_DEALS);
    const stages = await loadStages(uow, rows.map((r) => r.record.pipeline ?? ''));
    const keys = new KeyRequest();
    const rejected: RejectedRow[] = [];
    const parsed: Array<{ line: number; data: z.infer<typeof rowSchema>; stage: StageRef; account: { key: string; column: string; byName: boolean }; ownerKey?: string }> = [];
    for (const { line, record } of rows) {
      const errors: RowError[] = [];
      const result = rowSchema.safeParse({ title: record.title, amount: record.amount, currency: record.currency, expected_close: blank(record.expected_close) });
      if (!result.success) for (const issue of result.error.issues) errors.push({ column: String(issue.path[0] ?? ''), message: issue.message });
      const stage = pickStage(stages, record.pipeline ?? '', blank(record.stage), errors);
      let account: { key: string; column: string; byName: boolean } | undefined;
      for (const [kind, column] of [['domain', 'account_domain'], ['email', 'account_email']] as const) {
        if (account || !blank(record[column])) continue;
        const key = keys.point(kind, record[column], column, errors);
        if (key) account = { key, column, byName: false };
      }
      if (!account && !errors.some((e) => e.column === 'account_domain' || e.column === 'account_email')) {
        const key = keys.name(record.account_name);
        if (key) account = { key, column: 'account_name', byName: true };
        else errors.push({ column: 'account_domain', message: 'account_domain, account_email or account_name is required' });
      }
      const ownerKey = keys.point('email', record.owner_email, 'owner_email', errors);
      if (errors.length || !result.success || !stage || !account) rejected.push({ line, errors });
      else parsed.push({ line, data: result.data, stage, account, ownerKey });
    }

    const resolved = await resolveKeys(uow, app, keys);
    const now = new Date();
    const deals: Array<Record<string, unknown>> = [];
    const out: Deal[] = [];
    for (const row of parsed) {
      const errors: RowError[] = [];
      const account = pick(row.account.byName ? resolved.byName.get(row.account.key) : resolved.byPoint.get(row.account.key), row.account.byName ? 'organization has this name' : 'party has this contact point', ['organization', 'person']);
      if ('error' in account) errors.push({ column: row.account.column, message: account.error });
      let owner: string | null = null;
      if (row.ownerKey) {
        const found = pick(resolved.byPoint.get(row.ownerKey), 'party has this e-mail', ['person', 'organization', 'unit']);
        if ('error' in found) errors.push({ column: 'owner_email', message: found.error });
        else owner = found.id;
      }
      owner ??= uow.principal.partyId ?? null;
      // Like POST /deals: a rep imports only deals it owns, or it would create deals it cannot see.
      if (!seesAll && (!owner || owner !== uow.principal.partyId)) errors.push({ column: 'owner_email', message: 'without crm.deals:all a deal must be owned by the importing user' });
      if (errors.length || 'error' in account) {
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
        ownerPartyId: owner,
        accountId: account.id,
        contactIds: [],
        status: row.stage.outcome,
        closedAt: closed ? now.toISOString() : null,
        source: null,
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
