import { z } from 'zod';
import { hasPermission, isoDate, newId, type ImportBatchResult, type Importer, type ImportRecord, type InteractionCreateInput, type RejectedRow, type RowError, type UnitOfWork } from '@rapport/core';
import { DEAL_UPDATE_TYPE, amountSchema, crm, currencySchema, type Deal, type StageOutcome } from '@rapport/crm-contract';
import { SEE_ALL_DEALS } from '../declarations.js';
import type { CrmDeps } from '../deps.js';
import { closingEvent, timelineParticipants } from '../services/deals.js';
import { KeyRequest, blank, pick, resolveKeys } from './natural-keys.js';

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
  amount: z.coerce.number().pipe(amountSchema),
  currency: currencySchema,
  expected_close: isoDate.optional(),
});

interface ParsedRow {
  line: number;
  data: z.infer<typeof rowSchema>;
  stage: StageRef;
  account: { key: string; column: string; byName: boolean };
  ownerKey?: string;
}

const DEAL_COLUMNS = {
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
};
const HISTORY_COLUMNS = { id: 'uuid', deal_id: 'uuid', from_stage_id: 'uuid', to_stage_id: 'uuid', changed_at: 'timestamptz', changed_by_party_id: 'uuid' };

/**
 * `crm.deals`: deals from CSV, resolving the account by domain, e-mail or organization
 * name, the owner by e-mail, the pipeline and stage by name. Per batch: one query for the
 * stages, at most two for the natural keys (natural-keys.ts), then one multi-row insert per
 * table — never a statement per row.
 */
export const dealsImporter = (deps: CrmDeps): Importer => ({
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
  importBatch: (uow, rows) => importDeals(uow, rows, deps),
});

async function importDeals(uow: UnitOfWork, rows: ImportRecord[], deps: CrmDeps): Promise<ImportBatchResult> {
  const stages = await loadStages(
    uow,
    deps,
    rows.map((r) => r.record.pipeline ?? ''),
  );
  const keys = new KeyRequest();
  const rejected: RejectedRow[] = [];
  const parsed = parseRows(rows, stages, keys, rejected);
  const resolved = await resolveKeys(uow, deps, keys);
  const seesAll = hasPermission(uow.principal, SEE_ALL_DEALS);
  const now = new Date();
  const deals: Deal[] = [];
  for (const row of parsed) {
    const errors: RowError[] = [];
    const account = pick(
      row.account.byName ? resolved.byName.get(row.account.key) : resolved.byPoint.get(row.account.key),
      row.account.byName ? 'organization has this name' : 'party has this contact point',
      ['organization', 'person'],
    );
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
    deals.push({
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
      attributes: {},
      version: 1,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
  }
  await writeDeals(uow, deps, deals, now);
  return { imported: deals.length, rejected };
}

/** The rows' own checks (schema, pipeline and stage, which keys name the account and owner); the failing ones are rejected. */
function parseRows(rows: ImportRecord[], stages: StageRef[], keys: KeyRequest, rejected: RejectedRow[]): ParsedRow[] {
  const parsed: ParsedRow[] = [];
  for (const { line, record } of rows) {
    const errors: RowError[] = [];
    const result = rowSchema.safeParse({ title: record.title, amount: record.amount, currency: record.currency, expected_close: blank(record.expected_close) });
    if (!result.success) for (const issue of result.error.issues) errors.push({ column: String(issue.path[0] ?? ''), message: issue.message });
    const stage = pickStage(stages, record.pipeline ?? '', blank(record.stage), errors);
    let account: ParsedRow['account'] | undefined;
    for (const [kind, column] of [
      ['domain', 'account_domain'],
      ['email', 'account_email'],
    ] as const) {
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
  return parsed;
}

/**
 * The deals, their first stage change and their `crm.deal-update` timeline entries, one
 * statement per table (the last through the kernel's multi-row interaction insert); one event
 * per record.
 */
async function writeDeals(uow: UnitOfWork, { db, interactions }: CrmDeps, deals: Deal[], now: Date): Promise<void> {
  if (deals.length === 0) return;
  const tables = db.in(uow);
  await tables.bulkInsert(
    'crm_deals',
    DEAL_COLUMNS,
    deals.map((d) => ({
      id: d.id,
      pipeline_id: d.pipelineId,
      stage_id: d.stageId,
      title: d.title,
      amount: d.amount,
      currency: d.currency,
      expected_close: d.expectedClose,
      owner_party_id: d.ownerPartyId,
      account_id: d.accountId,
      status: d.status,
      closed_at: d.closedAt === null ? null : now,
      version: d.version,
      created_at: now,
      updated_at: now,
    })),
  );
  await tables.bulkInsert(
    'crm_deal_stage_history',
    HISTORY_COLUMNS,
    deals.map((d) => ({ id: newId(), deal_id: d.id, from_stage_id: null, to_stage_id: d.stageId, changed_at: now, changed_by_party_id: uow.principal.partyId })),
  );
  const timeline: InteractionCreateInput[] = deals.map((d) => ({
    type: DEAL_UPDATE_TYPE,
    occurredAt: now.toISOString(),
    direction: 'internal',
    subject: `Deal opened: ${d.title}`,
    participants: timelineParticipants(d),
    attributes: { dealId: d.id, change: 'created', fromStageId: null, toStageId: d.stageId },
  }));
  for (const interaction of await interactions.insertMany(uow, timeline)) uow.emit('interaction.created', { interaction }, { type: 'interaction', id: interaction.id });
  for (const deal of deals) {
    uow.emit(crm.events.dealCreated, { deal }, { type: 'crm.deal', id: deal.id });
    if (deal.status !== 'open') uow.emit(closingEvent(deal.status), { deal }, { type: 'crm.deal', id: deal.id });
  }
}

/** Every stage of the pipelines named in the batch: one query. */
async function loadStages(uow: UnitOfWork, { db }: CrmDeps, pipelineNames: string[]): Promise<StageRef[]> {
  const names = [...new Set(pipelineNames.map((n) => n.trim()).filter(Boolean))];
  if (names.length === 0) return [];
  const rows: Array<{ id: string; pipeline_id: string; pipeline_name: string; name: string; position: number; outcome: StageOutcome }> = await db
    .in(uow)('crm_stages as s')
    .join('crm_pipelines as p', 'p.id', 's.pipeline_id')
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
