import { z } from 'zod';
import {
  RapportError,
  hasPermission,
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
import { PARTNER_KINDS } from '@rapport/prm-contract';
import type { PrmDeps } from '../deps.js';
import { PARTNER_TYPE, SUPPLIER_TYPE } from '../services/portal.js';

const list = (value: string | undefined) =>
  (value ?? '')
    .split(';')
    .map((v) => v.trim())
    .filter(Boolean);
const blank = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value.trim());
const label = z.string().trim().min(1).max(100);

type ImporterDeps = Pick<PrmDeps, 'parties' | 'relationships' | 'tenants'>;

interface Side {
  importer: string;
  type: string;
  permission: string;
  /** Statuses a row may bring; the first is the default. */
  statuses: readonly [string, ...string[]];
  columns: Importer['columns'];
  attributes(record: Record<string, string>): { attributes?: Record<string, unknown>; errors: RowError[] };
  ends(self: string, organization: string): Pick<RelationshipCreateInput, 'fromPartyId' | 'toPartyId'>;
}

const partnerAttributes = z.strictObject({
  kind: z.enum(PARTNER_KINDS),
  program: label.optional(),
  tier: label.optional(),
  territories: z.array(label).max(100).optional(),
});
const supplierAttributes = z.strictObject({ categories: z.array(label).max(50).optional(), conditions: z.string().max(5000).optional() });

function parsed(schema: z.ZodType, value: Record<string, unknown>, columns: Record<string, string>) {
  const result = schema.safeParse(Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))));
  if (result.success) return { attributes: result.data as Record<string, unknown>, errors: [] };
  return { errors: result.error.issues.map((i) => ({ column: columns[String(i.path[0])] ?? String(i.path[0]), message: i.message })) };
}

const PARTNERS: Side = {
  importer: 'prm.partners',
  type: PARTNER_TYPE,
  permission: 'prm.partners:write',
  statuses: ['active', 'application', 'review', 'suspended'],
  columns: [
    { name: 'name', required: true, description: 'the partner organization' },
    { name: 'domain', description: 'web domain: an existing organization with it is reused, else one is created' },
    { name: 'kind', required: true, description: PARTNER_KINDS.join(', ') },
    { name: 'program', description: 'program name' },
    { name: 'tier', description: 'tier name' },
    { name: 'territories', description: 'separated by ;' },
    { name: 'status', description: 'active (default), application, review or suspended' },
  ],
  attributes: (r) =>
    parsed(
      partnerAttributes,
      { kind: blank(r.kind), program: blank(r.program), tier: blank(r.tier), territories: list(r.territories) },
      { kind: 'kind', program: 'program', tier: 'tier', territories: 'territories' },
    ),
  ends: (self, organization) => ({ fromPartyId: self, toPartyId: organization }),
};

const SUPPLIERS: Side = {
  importer: 'prm.suppliers',
  type: SUPPLIER_TYPE,
  permission: 'prm.suppliers:write',
  statuses: ['approved', 'applied', 'conditional', 'blocked'],
  columns: [
    { name: 'name', required: true, description: 'the supplier organization' },
    { name: 'domain', description: 'web domain: an existing organization with it is reused, else one is created' },
    { name: 'categories', description: 'separated by ;' },
    { name: 'conditions', description: 'for a conditional supplier' },
    { name: 'status', description: 'approved (default), applied, conditional or blocked' },
  ],
  attributes: (r) => parsed(supplierAttributes, { categories: list(r.categories), conditions: blank(r.conditions) }, { categories: 'categories', conditions: 'conditions' }),
  ends: (self, organization) => ({ fromPartyId: organization, toPartyId: self }),
};

/**
 * Partners or suppliers from CSV: the organization (reused by domain, else created) and its
 * partnership or supply relationship with the firm. Per batch: one query for the domains,
 * one for existing relationships, then multi-row inserts — never a statement per row. The
 * kernel's `party.create` and `relationship.create` filters run per row (a veto rejects that
 * row only), so PRM's own guards hold for imports too.
 */
function partnershipImporter(side: Side, kernel: ImporterDeps): Importer {
  return {
    name: side.importer,
    description: side === PARTNERS ? 'Channel partners and their partnership (program, tier, territories)' : 'Suppliers and their supply relationship (categories, status)',
    columns: side.columns,
    async importBatch(uow: UnitOfWork, rows: ImportRecord[]): Promise<ImportBatchResult> {
      if (uow.principal.scopePartyId || !hasPermission(uow.principal, side.permission)) {
        return { imported: 0, rejected: rows.map((r) => ({ line: r.line, errors: [{ message: `prm: importing ${side.importer} needs ${side.permission} and a principal of the firm` }] })) };
      }
      const self = await kernel.tenants.selfPartyId(uow);
      const rejected: RejectedRow[] = [];
      const valid: Array<{ line: number; name: string; domain: string | null; status: string; attributes: Record<string, unknown> }> = [];
      for (const { line, record } of rows) {
        const errors: RowError[] = [];
        const name = blank(record.name);
        if (!name || name.length > 300) errors.push({ column: 'name', message: 'required, at most 300 characters' });
        let domain: string | null = null;
        if (blank(record.domain)) {
          try {
            domain = normalizeContactPoint({ kind: 'domain', value: record.domain.trim() });
          } catch (error) {
            errors.push({ column: 'domain', message: (error as Error).message });
          }
        }
        const status = blank(record.status) ?? side.statuses[0];
        if (!side.statuses.includes(status)) errors.push({ column: 'status', message: `one of ${side.statuses.join(', ')}` });
        const attrs = side.attributes(record);
        errors.push(...attrs.errors);
        if (errors.length) rejected.push({ line, errors });
        else valid.push({ line, name: name!, domain, status, attributes: attrs.attributes! });
      }

      // Existing organizations by domain, and which of them already have a live relationship of this type.
      const domains = [...new Set(valid.map((v) => v.domain).filter((d): d is string => d !== null))];
      const byDomain = new Map<string, string[]>();
      if (domains.length) {
        const found: Array<{ id: string; normalized: string }> = await kernel.parties
          .contactPointQuery(uow, { kind: 'domain' })
          .whereIn('normalized', domains)
          .whereIn('party_id', kernel.parties.query(uow, { kind: 'organization' }).whereNull('archived_at').select('id'))
          .distinct('party_id as id', 'normalized');
        for (const f of found) byDomain.set(f.normalized, [...(byDomain.get(f.normalized) ?? []), f.id]);
      }
      const existingOrgs = [...byDomain.values()].flat();
      const taken = new Set<string>(
        existingOrgs.length
          ? (
              await kernel.relationships
                .query(uow, { type: side.type })
                .whereNotIn('status', ['rejected', 'ended'])
                .whereIn(side === PARTNERS ? 'to_party_id' : 'from_party_id', existingOrgs)
                .select(side === PARTNERS ? 'to_party_id as id' : 'from_party_id as id')
            ).map((r: { id: string }) => r.id)
          : [],
      );

      const newParties: Array<{ input: PartyCreateInput }> = [];
      const planned: Array<{ line: number; organization: string | number; status: string; attributes: Record<string, unknown> }> = [];
      const seenDomains = new Set<string>();
      for (const row of valid) {
        const matches = row.domain ? (byDomain.get(row.domain) ?? []) : [];
        if (row.domain && seenDomains.has(row.domain)) {
          rejected.push({ line: row.line, errors: [{ column: 'domain', message: 'this domain appears earlier in the file' }] });
          continue;
        }
        if (row.domain) seenDomains.add(row.domain);
        if (matches.length > 1) {
          rejected.push({ line: row.line, errors: [{ column: 'domain', message: `${matches.length} organizations have this domain; link it by hand` }] });
          continue;
        }
        if (matches.length === 1) {
          if (taken.has(matches[0])) {
            rejected.push({ line: row.line, errors: [{ column: 'domain', message: `organization ${matches[0]} already has a ${side.type} relationship` }] });
            continue;
          }
          planned.push({ line: row.line, organization: matches[0], status: row.status, attributes: row.attributes });
          continue;
        }
        try {
          const input = (await uow.filter('party.create', { input: { kind: 'organization', name: row.name, ...(row.domain ? { contactPoints: [{ kind: 'domain', value: row.domain }] } : {}) } }))
            .input;
          planned.push({ line: row.line, organization: newParties.length, status: row.status, attributes: row.attributes });
          newParties.push({ input });
        } catch (error) {
          if (!(error instanceof RapportError)) throw error;
          rejected.push({ line: row.line, errors: [{ column: 'name', message: error.message }] });
        }
      }

      const parties = newParties.length
        ? await kernel.parties.insertMany(
            uow,
            newParties.map((p) => p.input),
          )
        : [];
      // A veto here throws: the import engine then splits the batch until the vetoed row
      // stands alone and rejects it with the reason, so no organization is left behind.
      const relationships: RelationshipCreateInput[] = [];
      for (const plan of planned) {
        const organization = typeof plan.organization === 'string' ? plan.organization : parties[plan.organization].id;
        relationships.push((await uow.filter('relationship.create', { input: { type: side.type, ...side.ends(self, organization), status: plan.status, attributes: plan.attributes } })).input);
      }
      const created = await kernel.relationships.insertMany(uow, relationships);
      for (const party of parties) uow.emit('party.created', { party }, { type: 'party', id: party.id });
      for (const relationship of created) uow.emit('relationship.created', { relationship }, { type: 'relationship', id: relationship.id });
      return { imported: created.length, rejected: rejected.sort((x, y) => x.line - y.line) };
    },
  };
}

export const partnersImporter = (kernel: ImporterDeps) => partnershipImporter(PARTNERS, kernel);
export const suppliersImporter = (kernel: ImporterDeps) => partnershipImporter(SUPPLIERS, kernel);
