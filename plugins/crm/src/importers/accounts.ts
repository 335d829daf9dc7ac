import { normalizeContactPoint, type ImportBatchResult, type Importer, type ImportRecord, type PartyCreateInput, type RejectedRow, type RowError, type UnitOfWork } from '@rapport/core';
import { ATTRIBUTE_SCHEMAS, COMPANY_SIZES, CUSTOMER_STATUSES, CUSTOMER_TYPE } from '@rapport/crm-contract';
import type { CrmDeps } from '../deps.js';
import { checkedPartyInput, insertParties, insertRelationships } from './bulk-writes.js';
import { KeyRequest, blank, pick, resolveKeys } from './natural-keys.js';

const ATTRIBUTE_COLUMNS = { industry: 'crm.industry', size: 'crm.size', source: 'crm.source' } as const;

interface AccountRow {
  line: number;
  keys: Array<{ key: string; column: string }>;
  ownerKey?: string;
  status?: string;
  input: PartyCreateInput;
}

/**
 * `crm.accounts`: organizations with their CRM attributes and, optionally, their place in
 * the customer lifecycle (a `crm.customer` relationship from the self party). An account
 * whose domain or e-mail already belongs to a party — or to an earlier row of the file — is
 * rejected as a duplicate naming that party, never created twice. Per batch: one lookup
 * query, one multi-row insert per table.
 */
export const accountsImporter = (deps: CrmDeps): Importer => ({
  name: 'crm.accounts',
  description: 'Organizations with CRM attributes and lifecycle status; de-duplicated by domain and e-mail',
  permission: 'crm.accounts:write',
  columns: [
    { name: 'name', required: true, description: 'organization name' },
    { name: 'domain', description: 'web domain (de-duplication key)' },
    { name: 'email', description: 'general e-mail (de-duplication key)' },
    { name: 'phone', description: 'phone number' },
    { name: 'industry', description: 'crm.industry' },
    { name: 'size', description: `crm.size: ${COMPANY_SIZES.join(', ')}` },
    { name: 'source', description: 'crm.source' },
    { name: 'owner_email', description: "e-mail of the owning rep's party (crm.owner)" },
    { name: 'status', description: `crm.customer lifecycle status with the self party as vendor: ${CUSTOMER_STATUSES.join(', ')}; empty = no lifecycle yet` },
  ],
  importBatch: (uow, rows) => importAccounts(uow, rows, deps),
});

async function importAccounts(uow: UnitOfWork, rows: ImportRecord[], deps: CrmDeps): Promise<ImportBatchResult> {
  const request = new KeyRequest();
  const rejected: RejectedRow[] = [];
  const checked: AccountRow[] = [];
  for (const { line, record } of rows) {
    const errors: RowError[] = [];
    const name = blank(record.name);
    if (!name) errors.push({ column: 'name', message: 'is empty' });
    const keys: AccountRow['keys'] = [];
    for (const kind of ['domain', 'email'] as const) {
      const key = request.point(kind, record[kind], kind, errors);
      if (key) keys.push({ key, column: kind });
    }
    const ownerKey = request.point('email', record.owner_email, 'owner_email', errors);
    const status = blank(record.status);
    if (status && !(CUSTOMER_STATUSES as readonly string[]).includes(status)) errors.push({ column: 'status', message: `"${status}" is not one of ${CUSTOMER_STATUSES.join(', ')}` });
    if (errors.length || !name) {
      rejected.push({ line, errors });
      continue;
    }
    const contactPoints: NonNullable<PartyCreateInput['contactPoints']> = [];
    for (const kind of ['domain', 'email', 'phone'] as const) {
      const value = blank(record[kind]);
      if (value) contactPoints.push({ kind, value });
    }
    const attributes: Record<string, unknown> = {};
    for (const [column, key] of Object.entries(ATTRIBUTE_COLUMNS)) {
      const value = blank(record[column]);
      if (!value) continue;
      const parsed = ATTRIBUTE_SCHEMAS[key].safeParse(value);
      if (parsed.success) attributes[key] = parsed.data;
      else errors.push({ column, message: parsed.error.issues[0]?.message ?? 'invalid' });
    }
    if (errors.length) {
      rejected.push({ line, errors });
      continue;
    }
    for (const point of contactPoints) {
      try {
        normalizeContactPoint(point);
      } catch (error) {
        errors.push({ column: point.kind, message: (error as Error).message });
      }
    }
    if (errors.length) {
      rejected.push({ line, errors });
      continue;
    }
    checked.push({ line, keys, ownerKey, status, input: { kind: 'organization', name, ...(contactPoints.length ? { contactPoints } : {}), attributes } });
  }

  const resolved = await resolveKeys(uow, deps, request);
  const claimed = new Map<string, number>();
  const accepted: Array<{ row: AccountRow; input: PartyCreateInput }> = [];
  for (const row of checked) {
    const errors: RowError[] = [];
    for (const { key, column } of row.keys) {
      const existing = resolved.byPoint.get(key);
      if (existing) errors.push({ column, message: existing === 'ambiguous' ? 'already belongs to several parties' : `already belongs to party ${existing.id}; not imported twice` });
      else if (claimed.has(key)) errors.push({ column, message: `duplicate of line ${claimed.get(key)}` });
    }
    if (row.ownerKey) {
      const owner = pick(resolved.byPoint.get(row.ownerKey), 'person has this e-mail', ['person']);
      if ('error' in owner) errors.push({ column: 'owner_email', message: owner.error });
      else row.input.attributes = { ...row.input.attributes, 'crm.owner': owner.id };
    }
    if (errors.length === 0) {
      const input = await checkedPartyInput(uow, row.input, (path) => columnOf(path, row.input));
      if (Array.isArray(input)) errors.push(...input);
      else {
        for (const { key } of row.keys) claimed.set(key, row.line);
        accepted.push({ row, input });
        continue;
      }
    }
    rejected.push({ line: row.line, errors });
  }

  const parties = await insertParties(
    uow,
    deps,
    accepted.map((a) => a.input),
  );
  const lifecycle = accepted.flatMap((a, i) => (a.row.status ? [{ status: a.row.status, partyId: parties[i].id }] : []));
  if (lifecycle.length > 0) {
    const self = await deps.tenants.selfPartyId(uow);
    await insertRelationships(
      uow,
      deps,
      lifecycle.map(({ status, partyId }) => ({ type: CUSTOMER_TYPE, fromPartyId: self, toPartyId: partyId, status })),
    );
  }
  return { imported: parties.length, rejected };
}

/** Schema issue paths → CSV columns (`attributes.crm.size` → `size`). */
function columnOf(path: ReadonlyArray<PropertyKey>, input: PartyCreateInput): string | undefined {
  const [head, second] = path.map(String);
  if (head === 'attributes') {
    const rest = path.slice(1).map(String).join('.');
    return Object.entries(ATTRIBUTE_COLUMNS).find(([, key]) => rest.startsWith(key))?.[0] ?? (rest.startsWith('crm.owner') ? 'owner_email' : undefined);
  }
  if (head === 'contactPoints') return input.contactPoints?.[Number(second)]?.kind;
  return head;
}
