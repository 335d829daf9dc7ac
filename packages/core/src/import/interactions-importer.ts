import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Kernel } from '../kernel/services.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import { checkTypedAttributes } from '../kernel/attributes.js';
import { normalizeContactPoint } from '../kernel/contact-points.js';
import { interactionCreateSchema, type InteractionCreateInput } from '../kernel/schemas.js';
import { DIRECTIONS, type Participant } from '../kernel/types.js';
import { isUuid } from '../util/ids.js';
import { parseCell, rapportRowErrors, zodRowErrors, type ColumnOf } from './cells.js';
import type { ImportBatchResult, Importer, ImportRecord, ImportSettings, RejectedRow, RowError } from './importer.js';
import { sql } from '../kernel/context.js';

/** Role given to a participant listed without one (`a@x.com` rather than `a@x.com:customer`). */
const DEFAULT_ROLE = 'participant';

interface ParsedRow {
  line: number;
  record: Record<string, string>;
  byEmail: Array<{ email: string; role: string }>;
  byId: Participant[];
}

interface Candidate {
  line: number;
  record: Record<string, string>;
  input: InteractionCreateInput;
  /** The column each participant came from, in order. */
  participantColumns: string[];
}

/**
 * `rapport import interactions calls.csv`. Participants are named by e-mail or by party id;
 * every e-mail of a batch is resolved in one query, and every party and relationship id
 * checked in one more, so a batch costs the same few statements whatever its size. Each
 * row is checked on its own first, so one bad row never sinks the batch; the good ones go
 * through `InteractionService.writeChecked` (COPY on PostgreSQL) with one
 * `interaction.created` event each (or one `interactions.imported` for the batch with
 * `summaryEvents`).
 */
export const interactionsImporter = (kernel: Kernel): Importer => ({
  name: 'interactions',
  permission: 'interactions:write',
  description: 'Calls, meetings, notes... with their participants',
  columns: [
    { name: 'type', required: true, description: 'A registered interaction type, e.g. note or crm.call' },
    { name: 'occurred_at', description: 'ISO 8601 with an offset (2024-05-01T14:30:00Z); a date alone means midnight UTC; default: now' },
    { name: 'channel', description: 'e.g. phone, email, video (some types restrict it)' },
    { name: 'direction', description: 'inbound, outbound or internal (default internal)' },
    { name: 'subject', description: 'Short title' },
    { name: 'summary', description: 'Free text' },
    { name: 'relationship_id', description: 'The relationship this interaction belongs to' },
    { name: 'participant_emails', description: 'email:role pairs separated by ";" (a@x.com:customer;b@y.com:vendor)' },
    { name: 'participant_ids', description: 'party-id:role pairs separated by ";"' },
    { name: 'attributes', description: "A JSON object validated by the type's attribute schema" },
    { name: 'attr.*', description: 'One attribute per column (attr.duration), merged into attributes' },
  ],
  // Rows of one batch never depend on those of another: batch N+1 is checked while batch N is written.
  pipelined: true,
  importBatch: (uow, rows, settings) => importInteractions(uow, rows, kernel, settings),
});

async function importInteractions(uow: UnitOfWork, rows: ImportRecord[], kernel: Kernel, settings: ImportSettings): Promise<ImportBatchResult> {
  const rejected: RejectedRow[] = [];
  const reject = (line: number, errors: RowError[]) => rejected.push({ line, errors });

  const parsed: ParsedRow[] = [];
  for (const row of rows) {
    const outcome = parseParticipants(row);
    if ('errors' in outcome) reject(row.line, outcome.errors);
    else parsed.push(outcome);
  }
  const emailOwners = await resolveEmails(
    uow,
    kernel,
    parsed.flatMap((p) => p.byEmail.map((e) => e.email)),
  );
  // Every record of a batch has the header's columns: find the attribute ones once.
  const attributeColumns = Object.keys(rows[0]?.record ?? {}).filter((column) => column.startsWith('attr.') && column.length > 'attr.'.length);

  const candidates: Candidate[] = [];
  for (let i = 0; i < parsed.length; i++) {
    const row = parsed[i];
    // Pipelined: let the batch being written hear from the server while this one is checked.
    if (i % 256 === 255) await yieldToEventLoop();
    const outcome = checkRow(row, emailOwners, attributeColumns);
    if ('errors' in outcome) reject(row.line, outcome.errors);
    else candidates.push(outcome);
  }
  if (uow.hasFilters('interaction.create')) {
    // A filter may read or lock rows that an earlier batch, still open beside this one, is
    // about to change: filters run once the batches before have committed, as if serial.
    await settings.waitTurn?.();
    for (const [i, candidate] of candidates.splice(0).entries()) {
      if (i % 256 === 255) await yieldToEventLoop();
      const outcome = await applyFilters(uow, candidate);
      if ('errors' in outcome) reject(candidate.line, outcome.errors);
      else candidates.push(outcome);
    }
  }

  const accepted = await checkReferences(uow, kernel, candidates, reject);
  // No waitTurn before writing: these rows never depend on an earlier batch's, and the
  // engine commits the batches in order.
  // checkReferences made every check insertMany would (row by row): no second lookup.
  const interactions = await kernel.services.interactions.writeChecked(
    uow,
    accepted.map((c) => c.input),
  );
  if (settings.summaryEvents) {
    // The outbox and audit rows cost the server as much as the interactions themselves: one
    // event for the batch, carrying what a listener needs to find the rows.
    if (interactions.length > 0) {
      const partyIds = [...new Set(interactions.flatMap((i) => i.participants.map((p) => p.partyId)))];
      uow.emit('interactions.imported', { count: interactions.length, interactionIds: interactions.map((i) => i.id), partyIds });
    }
  } else {
    for (const interaction of interactions) uow.emit('interaction.created', { interaction }, { type: 'interaction', id: interaction.id });
  }
  return { imported: interactions.length, rejected };
}

const PARTICIPANT_COLUMNS = ['participant_emails', 'participant_ids'] as const;

function parseParticipants({ line, record }: ImportRecord): ParsedRow | { errors: RowError[] } {
  const errors: RowError[] = [];
  const byEmail: ParsedRow['byEmail'] = [];
  const byId: Participant[] = [];
  for (const column of PARTICIPANT_COLUMNS) {
    const cell = record[column];
    if (!cell) continue;
    for (const raw of cell.split(';')) {
      const entry = raw.trim();
      if (!entry) continue;
      const colon = entry.indexOf(':');
      const who = colon < 0 ? entry : entry.slice(0, colon).trim();
      const role = (colon < 0 ? '' : entry.slice(colon + 1).trim()) || DEFAULT_ROLE;
      if (column === 'participant_emails') {
        try {
          byEmail.push({ email: normalizeContactPoint({ kind: 'email', value: who }), role });
        } catch (error) {
          errors.push({ column, message: (error as Error).message });
        }
      } else if (!isUuid(who)) {
        errors.push({ column, message: `"${String(who)}" is not a party id` });
      } else {
        byId.push({ partyId: who.toLowerCase(), role });
      }
    }
  }
  if (errors.length) return { errors };
  if (byEmail.length + byId.length === 0) return { errors: [{ column: 'participant_emails', message: 'no participants: give participant_emails or participant_ids' }] };
  return { line, record, byEmail, byId };
}

/** E-mail → the live parties that have it, for every address of the batch in one query. */
async function resolveEmails(uow: UnitOfWork, kernel: Kernel, emails: string[]): Promise<Map<string, string[]>> {
  const owners = new Map<string, string[]>();
  if (emails.length === 0) return owners;
  const query = sql(uow)('rapport_contact_points as cp')
    .join('rapport_parties as p', function () {
      this.on('p.tenant_id', 'cp.tenant_id').andOn('p.id', 'cp.party_id');
    })
    .where('cp.tenant_id', uow.tenantId)
    .where('cp.kind', 'email')
    .whereRaw('cp.normalized = any(?::text[])', [[...new Set(emails)]])
    .whereNull('p.merged_into_id')
    .whereNull('p.archived_at')
    .select('cp.normalized', 'cp.party_id');
  const rows: Array<{ normalized: string; party_id: string }> = await kernel.scopes.apply(query, uow, 'parties', 'cp.party_id');
  for (const row of rows) owners.set(row.normalized, [...(owners.get(row.normalized) ?? []), row.party_id]);
  return owners;
}

function checkRow(row: ParsedRow, emailOwners: Map<string, string[]>, attributeColumns: string[]): Candidate | { errors: RowError[] } {
  const { record } = row;
  const errors: RowError[] = [];
  const participants: Participant[] = [];
  const participantColumns: string[] = [];
  for (const { email, role } of row.byEmail) {
    const owners = emailOwners.get(email) ?? [];
    if (owners.length === 1) {
      participants.push({ partyId: owners[0], role });
      participantColumns.push('participant_emails');
    } else if (owners.length === 0) {
      errors.push({ column: 'participant_emails', message: `no party has the e-mail address ${email}` });
    } else {
      errors.push({ column: 'participant_emails', message: `${owners.length} parties have the e-mail address ${email} (${owners.join(', ')}); name one with participant_ids` });
    }
  }
  for (const p of row.byId) {
    participants.push(p);
    participantColumns.push('participant_ids');
  }

  let attributes: Record<string, unknown> | undefined;
  if (record.attributes) {
    const value = parseCell(record.attributes);
    if (value && typeof value === 'object' && !Array.isArray(value)) attributes = value as Record<string, unknown>;
    else errors.push({ column: 'attributes', message: 'is not a JSON object' });
  }
  for (const column of attributeColumns) if (record[column] !== '') (attributes ??= {})[column.slice('attr.'.length)] = parseCell(record[column]);

  const direction = record.direction?.toLowerCase();
  if (direction && !(DIRECTIONS as readonly string[]).includes(direction)) {
    errors.push({ column: 'direction', message: `"${record.direction}" is not one of ${DIRECTIONS.join(', ')}` });
  }
  if (errors.length) return { errors };

  // Only the cells given: the schema's defaults and "optional" apply to the rest.
  const input: Record<string, unknown> = { type: record.type, participants };
  if (record.occurred_at) input.occurredAt = /^\d{4}-\d{2}-\d{2}$/.test(record.occurred_at) ? `${record.occurred_at}T00:00:00Z` : record.occurred_at;
  if (record.channel) input.channel = record.channel;
  if (direction) input.direction = direction;
  if (record.subject) input.subject = record.subject;
  if (record.summary) input.summary = record.summary;
  if (record.relationship_id) input.relationshipId = record.relationship_id.toLowerCase();
  if (attributes) input.attributes = attributes;
  const parsed = interactionCreateSchema.safeParse(input);
  if (!parsed.success) return { errors: zodRowErrors(parsed.error, columnOf(participantColumns)) };
  return { line: row.line, record, input: parsed.data, participantColumns };
}

/** The `interaction.create` filters, row by row: a veto refuses that row alone. */
async function applyFilters(uow: UnitOfWork, candidate: Candidate): Promise<Candidate | { errors: RowError[] }> {
  try {
    const { input } = await uow.filter('interaction.create', { input: candidate.input });
    return { ...candidate, input };
  } catch (error) {
    return { errors: rapportRowErrors(error, columnOf(candidate.participantColumns)) };
  }
}

/** Which CSV column a schema path (an error's) points at. */
function columnOf(participantColumns: string[]): ColumnOf {
  return ([head, index]) => {
    switch (head) {
      case 'occurredAt':
        return 'occurred_at';
      case 'relationshipId':
        return 'relationship_id';
      case 'participants':
        return typeof index === 'number' || /^\d+$/.test(String(index)) ? (participantColumns[Number(index)] ?? 'participant_ids') : 'participant_emails';
      default:
        return typeof head === 'string' ? head : undefined;
    }
  };
}

/**
 * What `insertMany` would refuse, checked row by row so it can refuse just that row:
 * the type, the participants (known, listed once, allowed roles, the scoped caller among
 * them), the relationship, the channel and the attributes. Two queries for the batch.
 */
async function checkReferences(uow: UnitOfWork, kernel: Kernel, candidates: Candidate[], reject: (line: number, errors: RowError[]) => void): Promise<Candidate[]> {
  const partyIds = new Set<string>();
  const relationshipIds = new Set<string>();
  for (const { input } of candidates) {
    for (const p of input.participants) if (isUuid(p.partyId)) partyIds.add(p.partyId);
    if (input.relationshipId && isUuid(input.relationshipId)) relationshipIds.add(input.relationshipId);
  }
  const knownParties = new Set<string>(
    partyIds.size === 0
      ? []
      : (
          await kernel.services.parties
            .visible(uow)
            .whereRaw('id = any(?::uuid[])', [[...partyIds]])
            .select('id')
        ).map((r: { id: string }) => r.id),
  );
  const knownRelationships = new Set<string>(
    relationshipIds.size === 0
      ? []
      : (
          await kernel.services.relationships
            .visible(uow)
            .whereRaw('r.id = any(?::uuid[])', [[...relationshipIds]])
            .select('r.id')
        ).map((r: { id: string }) => r.id),
  );

  const accepted: Candidate[] = [];
  for (const candidate of candidates) {
    const { input } = candidate;
    const errors: RowError[] = [];
    const type = kernel.registries.interactionTypes.usable(input.type);
    if (!type) {
      reject(candidate.line, [{ column: 'type', message: `unknown interaction type "${input.type}" (or its plugin is disabled)` }]);
      continue;
    }
    const seen = new Set<string>();
    input.participants.forEach((p, index) => {
      const column = candidate.participantColumns[index] ?? 'participant_ids';
      if (!knownParties.has(p.partyId)) errors.push({ column, message: `party ${p.partyId} does not exist` });
      else if (seen.has(p.partyId)) errors.push({ column, message: `party ${p.partyId} is listed twice` });
      seen.add(p.partyId);
      if (type.participantRoles && !type.participantRoles.includes(p.role)) {
        errors.push({ column, message: `role "${p.role}" is not one of ${type.participantRoles.join(', ')} (type ${type.key})` });
      }
    });
    const scopePartyId = uow.principal.scopePartyId;
    if (scopePartyId && !seen.has(scopePartyId)) errors.push({ column: 'participant_ids', message: 'a scoped importer must take part in every interaction it records' });
    if (input.relationshipId && !knownRelationships.has(input.relationshipId)) errors.push({ column: 'relationship_id', message: `relationship ${input.relationshipId} does not exist` });
    if (input.channel && type.channels && !type.channels.includes(input.channel)) {
      errors.push({ column: 'channel', message: `"${input.channel}" is not one of ${type.channels.join(', ')} (type ${type.key})` });
    }
    try {
      input.attributes = await checkTypedAttributes(kernel.fields, uow, 'interaction', type, input.attributes);
    } catch (error) {
      const attributeColumn: ColumnOf = ([, key]) => (key !== undefined && `attr.${String(key)}` in candidate.record ? `attr.${String(key)}` : 'attributes');
      errors.push(...rapportRowErrors(error, attributeColumn));
    }
    if (errors.length) reject(candidate.line, errors);
    else {
      input.type = type.key;
      accepted.push(candidate);
    }
  }
  return accepted;
}
