import {
  normalizeContactPoint,
  type ImportBatchResult,
  type Importer,
  type ImportRecord,
  type PartyCreateInput,
  type RejectedRow,
  type RelationshipCreateInput,
  type RowError,
  type UnitOfWork,
} from '@rapport/core';
import { CONTACT_TYPE } from '@rapport/crm-contract';
import type { CrmDeps } from '../deps.js';
import { checkedPartyInput, existingPairs, insertParties, insertRelationships } from './bulk-writes.js';
import { KeyRequest, blank, pick, resolveKeys } from './natural-keys.js';

interface ContactRow {
  line: number;
  /** The person's e-mail key, when given: the de-duplication key. */
  emailKey?: string;
  organization?: { key: string; by: 'domain' | 'name'; column: string };
  jobTitle?: string;
  input: PartyCreateInput;
}

/**
 * `crm.contacts`: people, de-duplicated against existing parties by e-mail, each linked to
 * its organization (found by domain, else by name) with a `crm.contact` relationship
 * carrying the job title — in one pass. Per batch: at most two lookup queries (contact
 * points, organization names), one for the links that already exist, then one multi-row
 * insert per table (parties, contact points, relationships).
 */
export const contactsImporter = (deps: CrmDeps): Importer => ({
  name: 'crm.contacts',
  description: 'People linked to their organization (crm.contact with job title); an existing person with the same e-mail is reused, not duplicated',
  permission: 'crm.accounts:write',
  columns: [
    { name: 'name', required: true, description: "the person's name (ignored when the e-mail matches an existing person)" },
    { name: 'email', description: 'e-mail; a person who already has it is reused (de-duplication key)' },
    { name: 'phone', description: 'phone number' },
    { name: 'organization_domain', description: 'web domain of the organization the person works at' },
    { name: 'organization_name', description: 'name of that organization, when no domain is given' },
    { name: 'job_title', description: "the person's job title at that organization" },
  ],
  importBatch: (uow, rows) => importContacts(uow, rows, deps),
});

async function importContacts(uow: UnitOfWork, rows: ImportRecord[], deps: CrmDeps): Promise<ImportBatchResult> {
  const keys = new KeyRequest();
  const rejected: RejectedRow[] = [];
  const checked: ContactRow[] = [];
  for (const { line, record } of rows) {
    const errors: RowError[] = [];
    const name = blank(record.name);
    if (!name) errors.push({ column: 'name', message: 'is empty' });
    const emailKey = keys.point('email', record.email, 'email', errors);
    const phone = blank(record.phone);
    if (phone) {
      try {
        normalizeContactPoint({ kind: 'phone', value: phone });
      } catch (error) {
        errors.push({ column: 'phone', message: (error as Error).message });
      }
    }
    let organization: ContactRow['organization'];
    if (blank(record.organization_domain)) {
      const key = keys.point('domain', record.organization_domain, 'organization_domain', errors);
      if (key) organization = { key, by: 'domain', column: 'organization_domain' };
    } else {
      const key = keys.name(record.organization_name);
      if (key) organization = { key, by: 'name', column: 'organization_name' };
    }
    const jobTitle = blank(record.job_title);
    if (jobTitle && jobTitle.length > 200) errors.push({ column: 'job_title', message: 'is longer than 200 characters' });
    if (jobTitle && !organization && !errors.length) errors.push({ column: 'job_title', message: 'needs organization_domain or organization_name' });
    if (errors.length || !name) {
      rejected.push({ line, errors });
      continue;
    }
    const contactPoints: NonNullable<PartyCreateInput['contactPoints']> = [];
    if (blank(record.email)) contactPoints.push({ kind: 'email', value: blank(record.email)! });
    if (phone) contactPoints.push({ kind: 'phone', value: phone });
    checked.push({ line, emailKey, organization, jobTitle, input: { kind: 'person', name, ...(contactPoints.length ? { contactPoints } : {}) } });
  }

  const resolved = await resolveKeys(uow, deps, keys);
  // Rows whose person is new: the first row with an e-mail creates the person, later rows of the batch reuse it.
  const newPeople: PartyCreateInput[] = [];
  const newIndexByEmail = new Map<string, number>();
  const planned: Array<{ line: number; person: { id: string } | { newIndex: number }; organizationId?: string; jobTitle?: string }> = [];
  for (const row of checked) {
    const errors: RowError[] = [];
    let organizationId: string | undefined;
    if (row.organization) {
      const found = row.organization.by === 'domain' ? resolved.byPoint.get(row.organization.key) : resolved.byName.get(row.organization.key);
      const org = pick(found, row.organization.by === 'domain' ? 'organization has this domain' : 'organization has this name', ['organization']);
      if ('error' in org) errors.push({ column: row.organization.column, message: org.error });
      else organizationId = org.id;
    }
    let person: { id: string } | { newIndex: number } | undefined;
    const existing = row.emailKey ? resolved.byPoint.get(row.emailKey) : undefined;
    if (existing) {
      const found = pick(existing, 'person has this e-mail', ['person']);
      if ('error' in found) errors.push({ column: 'email', message: found.error });
      else person = found;
    } else if (row.emailKey && newIndexByEmail.has(row.emailKey)) {
      person = { newIndex: newIndexByEmail.get(row.emailKey)! };
    }
    if (errors.length) {
      rejected.push({ line: row.line, errors });
      continue;
    }
    if (!person) {
      const input = await checkedPartyInput(uow, row.input, (path) =>
        path[0] === 'contactPoints' ? (row.input.contactPoints?.[Number(path[1])]?.kind ?? 'email') : path[0] === 'name' ? 'name' : undefined,
      );
      if (Array.isArray(input)) {
        rejected.push({ line: row.line, errors: input });
        continue;
      }
      person = { newIndex: newPeople.push(input) - 1 };
      if (row.emailKey) newIndexByEmail.set(row.emailKey, person.newIndex);
    }
    planned.push({ line: row.line, person, organizationId, jobTitle: row.jobTitle });
  }

  const created = await insertParties(uow, deps, newPeople);
  const personId = (p: { id: string } | { newIndex: number }) => ('id' in p ? p.id : created[p.newIndex].id);
  const pairs = planned.filter((p) => p.organizationId).map((p) => [personId(p.person), p.organizationId!] as [string, string]);
  const linked = await existingPairs(uow, deps, CONTACT_TYPE, pairs);
  const links: RelationshipCreateInput[] = [];
  for (const plan of planned) {
    if (!plan.organizationId) continue;
    const pair = `${personId(plan.person)}>${plan.organizationId}`;
    if (linked.has(pair)) continue; // already a contact there (an earlier import or row): nothing to add
    linked.add(pair);
    links.push({
      type: CONTACT_TYPE,
      fromPartyId: personId(plan.person),
      toPartyId: plan.organizationId,
      status: 'active',
      attributes: plan.jobTitle ? { jobTitle: plan.jobTitle } : {},
    });
  }
  await insertRelationships(uow, deps, links);
  return { imported: planned.length, rejected };
}
