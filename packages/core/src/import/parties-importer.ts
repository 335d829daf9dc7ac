import type { Kernel } from '../kernel/services.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import { checkPartyAttributes } from '../kernel/attributes.js';
import { normalizedPoints } from '../kernel/contact-points.js';
import { toParty } from '../kernel/rows.js';
import { partyCreateSchema, type PartyCreateInput } from '../kernel/schemas.js';
import { PARTY_KINDS, type ContactPoint, type Party } from '../kernel/types.js';
import { newId } from '../util/ids.js';
import { insertUnnest } from './bulk-insert.js';
import { parseCell, parseFlag, prefixedCells, rapportRowErrors, zodRowErrors, type ColumnOf } from './cells.js';
import type { ImportBatchResult, Importer, ImportRecord, ImportSettings, RejectedRow, RowError } from './importer.js';
import { sql } from '../kernel/context.js';

const POINT_COLUMNS = ['email', 'phone', 'domain'] as const;
/** Contact point kinds a `dedupe` row is matched on. */
const DEDUPE_KINDS = new Set(['email', 'domain']);

interface Candidate {
  id: string;
  line: number;
  input: PartyCreateInput;
  points: Array<ContactPoint & { normalized: string; column?: string }>;
  attributes: Record<string, unknown>;
  dedupe: boolean;
}

/**
 * `rapport import parties people.csv`. Each row runs the `party.create` filters (a plugin's
 * veto rejects that row only), the kernel's party schema, contact point and attribute
 * checks; the good rows go in with one INSERT per table per batch and one `party.created`
 * event each.
 */
export const partiesImporter = (kernel: Kernel): Importer => ({
  name: 'parties',
  permission: 'parties:write',
  description: 'People, organizations and units with their contact points and attributes',
  columns: [
    { name: 'kind', required: true, description: 'person, organization or unit' },
    { name: 'name', required: true, description: 'Display name' },
    { name: 'email', description: 'E-mail address(es), several separated by ";"' },
    { name: 'phone', description: 'Phone number(s), several separated by ";"' },
    { name: 'domain', description: 'Web domain(s), several separated by ";"' },
    { name: 'attr.*', description: 'A registered party attribute, e.g. attr.crm.industry; JSON-looking values are parsed as JSON' },
    { name: 'dedupe', description: 'yes: skip the row when a party with the same e-mail or domain exists (or use --dedupe for every row)' },
  ],
  importBatch: (uow, rows, settings) => importParties(uow, rows, kernel, settings),
});

async function importParties(uow: UnitOfWork, rows: ImportRecord[], kernel: Kernel, settings: ImportSettings): Promise<ImportBatchResult> {
  const rejected: RejectedRow[] = [];
  const candidates: Candidate[] = [];
  for (const row of rows) {
    const outcome = await checkRow(uow, row, kernel, settings);
    if ('errors' in outcome) rejected.push({ line: row.line, errors: outcome.errors });
    else candidates.push(outcome);
  }
  const accepted = await dropDuplicates(uow, kernel, candidates, rejected);
  const parties = await insertParties(uow, accepted);
  for (const party of parties) uow.emit('party.created', { party }, { type: 'party', id: party.id });
  return { imported: parties.length, rejected };
}

async function checkRow(uow: UnitOfWork, { line, record }: ImportRecord, kernel: Kernel, settings: ImportSettings): Promise<Candidate | { errors: RowError[] }> {
  const errors: RowError[] = [];
  const kind = record.kind?.toLowerCase() ?? '';
  if (!(PARTY_KINDS as readonly string[]).includes(kind)) {
    errors.push({ column: 'kind', message: kind ? `"${record.kind}" is not one of ${PARTY_KINDS.join(', ')}` : `is empty; use one of ${PARTY_KINDS.join(', ')}` });
  }
  if (!record.name) errors.push({ column: 'name', message: 'is empty' });
  const dedupe = settings.dedupe || parseFlag(record.dedupe, 'dedupe');
  if (typeof dedupe === 'object') errors.push(dedupe);

  const pointColumns: string[] = [];
  const contactPoints: ContactPoint[] = [];
  for (const column of POINT_COLUMNS) {
    for (const value of (record[column] ?? '')
      .split(';')
      .map((v) => v.trim())
      .filter(Boolean)) {
      contactPoints.push({ kind: column, value });
      pointColumns.push(column);
    }
  }
  const attributes: Record<string, unknown> = {};
  for (const [key, , value] of prefixedCells(record, 'attr.')) attributes[key] = parseCell(value);
  if (errors.length) return { errors };

  const columnOf: ColumnOf = (path) => {
    const [head, second] = path;
    if (head === 'contactPoints') return typeof second === 'number' || /^\d+$/.test(String(second)) ? pointColumns[Number(second)] : 'email';
    if (head === 'attributes') {
      // Attribute keys contain dots (`crm.industry`): match the issue path against the row's keys.
      const rest = path.slice(1).map(String).join('.');
      const key = Object.keys(attributes).find((k) => rest === k || rest.startsWith(`${k}.`));
      return key ? `attr.${key}` : rest ? `attr.${rest}` : undefined;
    }
    return typeof head === 'string' ? head : undefined;
  };
  const parsed = partyCreateSchema.safeParse({
    kind,
    name: record.name,
    ...(contactPoints.length ? { contactPoints } : {}),
    ...(Object.keys(attributes).length ? { attributes } : {}),
  });
  if (!parsed.success) return { errors: zodRowErrors(parsed.error, columnOf) };

  let input: PartyCreateInput;
  try {
    input = (await uow.filter('party.create', { input: parsed.data })).input;
  } catch (error) {
    return { errors: rapportRowErrors(error, columnOf) };
  }

  const points: Candidate['points'] = [];
  const given = input.contactPoints ?? [];
  for (let index = 0; index < given.length; index++) {
    try {
      const [point] = normalizedPoints([given[index]]);
      if (!points.some((p) => p.kind === point.kind && p.normalized === point.normalized)) points.push({ ...point, column: columnOf(['contactPoints', index]) });
    } catch (error) {
      errors.push({ column: columnOf(['contactPoints', index]), message: (error as Error).message });
    }
  }
  let checkedAttributes: Record<string, unknown> = {};
  try {
    checkedAttributes = await checkPartyAttributes(kernel.fields, kernel.registries.partyAttributes, uow, input.kind, input.attributes ?? {});
    for (const key of Object.keys(checkedAttributes)) if (checkedAttributes[key] === null) delete checkedAttributes[key];
  } catch (error) {
    errors.push(...rapportRowErrors(error, columnOf));
  }
  if (errors.length) return { errors };
  return { id: newId(), line, input, points, attributes: checkedAttributes, dedupe: dedupe === true };
}

/**
 * `dedupe` rows whose e-mail or domain already belongs to a party (or to an earlier row of
 * this batch) are rejected as duplicates. One query per batch, whatever its size.
 */
async function dropDuplicates(uow: UnitOfWork, kernel: Kernel, candidates: Candidate[], rejected: RejectedRow[]): Promise<Candidate[]> {
  const keyOf = (kind: string, normalized: string) => `${kind}\u0000${normalized}`;
  const wanted = { email: new Set<string>(), domain: new Set<string>() };
  for (const c of candidates) if (c.dedupe) for (const p of c.points) if (DEDUPE_KINDS.has(p.kind)) wanted[p.kind as 'email' | 'domain'].add(p.normalized);
  if (wanted.email.size + wanted.domain.size === 0) return candidates;

  const existing = new Map<string, string>();
  const query = sql(uow)('rapport_contact_points as cp')
    .join('rapport_parties as p', function () {
      this.on('p.tenant_id', 'cp.tenant_id').andOn('p.id', 'cp.party_id');
    })
    .where('cp.tenant_id', uow.tenantId)
    .whereNull('p.merged_into_id')
    .where((q) => {
      q.where((e) => e.where('cp.kind', 'email').whereRaw('cp.normalized = any(?::text[])', [[...wanted.email]]));
      q.orWhere((d) => d.where('cp.kind', 'domain').whereRaw('cp.normalized = any(?::text[])', [[...wanted.domain]]));
    })
    .select('cp.kind', 'cp.normalized', 'cp.party_id');
  const matches: Array<{ kind: string; normalized: string; party_id: string }> = await kernel.scopes.apply(query, uow, 'parties', 'cp.party_id');
  for (const m of matches) existing.set(keyOf(m.kind, m.normalized), m.party_id);

  const accepted: Candidate[] = [];
  const claimed = new Map<string, Candidate>();
  for (const c of candidates) {
    const keys = c.points.filter((p) => DEDUPE_KINDS.has(p.kind)).map((p) => ({ point: p, key: keyOf(p.kind, p.normalized) }));
    if (c.dedupe) {
      const hit = keys.find(({ key }) => existing.has(key) || claimed.has(key));
      if (hit) {
        const earlier = claimed.get(hit.key);
        const message = earlier ? `duplicate of ${earlier.id} (line ${earlier.line})` : `duplicate of ${existing.get(hit.key)}`;
        rejected.push({ line: c.line, errors: [{ column: hit.point.column, message }] });
        continue;
      }
    }
    for (const { key } of keys) if (!claimed.has(key)) claimed.set(key, c);
    accepted.push(c);
  }
  return accepted;
}

async function insertParties(uow: UnitOfWork, candidates: Candidate[]): Promise<Party[]> {
  if (candidates.length === 0) return [];
  const now = new Date();
  const rows = candidates.map((c) => ({
    tenant_id: uow.tenantId,
    id: c.id,
    kind: c.input.kind,
    name: c.input.name.trim(),
    attributes: c.attributes,
    archived_at: null,
    merged_into_id: null,
    version: 1,
    created_at: now,
    updated_at: now,
  }));
  await insertUnnest(
    sql(uow),
    'rapport_parties',
    { tenant_id: 'uuid', id: 'uuid', kind: 'text', name: 'text', attributes: 'jsonb', version: 'int', created_at: 'timestamptz', updated_at: 'timestamptz' },
    rows.map((r) => ({ ...r, attributes: JSON.stringify(r.attributes) })),
  );
  const points = candidates.flatMap((c) => c.points.map((p, position) => ({ tenant_id: uow.tenantId, party_id: c.id, kind: p.kind, value: p.value, normalized: p.normalized, position })));
  await insertUnnest(sql(uow), 'rapport_contact_points', { tenant_id: 'uuid', party_id: 'uuid', kind: 'text', value: 'text', normalized: 'text', position: 'int' }, points);
  return rows.map((row, i) =>
    toParty(
      row,
      candidates[i].points.map(({ kind, value }) => ({ kind, value })),
    ),
  );
}
