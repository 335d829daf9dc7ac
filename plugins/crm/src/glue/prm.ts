import { z } from 'zod';
import { UnitOfWork, VetoError, normalizeContactPoint, type FilterContext, type PluginApi, type Rapport } from '@rapport/core';
import { DealService } from '../services/deals.js';
import { nameKey } from '../importers/natural-keys.js';

/*
 * Glue with the PRM plugin, without depending on it. PRM runs two filters that a sales
 * plugin may register: `prm.registration.convert` (an approved deal registration becomes a
 * CRM deal) and `prm.registration.conflicts` (a registration for a customer the direct
 * sales team is already working). Only PRM runs them, so without PRM these registrations
 * are inert and CRM starts and works alone.
 *
 * Typing: the names and payloads are declared on FilterMap by PRM. CRM does not import PRM
 * (not even its types, which would make PRM a dependency of CRM's published declarations),
 * so the names are registered as plain strings — FilterPayload<string> is `unknown` — and
 * each payload is checked at run time against the part of PRM's contract CRM relies on.
 */

const CONVERT: string = 'prm.registration.convert';
const CONFLICTS: string = 'prm.registration.conflicts';

/** The source of a deal opened from a registration. */
export const registrationSource = (registrationId: string) => `prm.registration:${registrationId}`;

const convertPayload = z.looseObject({
  registration: z.looseObject({
    id: z.uuid(),
    customerName: z.string().min(1),
    customerDomain: z.string().nullable(),
    customerPartyId: z.uuid().nullable(),
    value: z.number().nonnegative(),
    currency: z.string().regex(/^[A-Z]{3}$/),
    // A calendar day; a DATE column may arrive as a local-midnight Date.
    expectedCloseDate: z.union([z.string(), z.date()]).nullable().optional(),
  }),
  dealId: z.uuid().nullable(),
});

const conflictsPayload = z.looseObject({
  registration: z.looseObject({
    id: z.uuid().optional(),
    customerPartyId: z.uuid().nullable(),
    customerName: z.string(),
    customerDomain: z.string().nullable(),
    partnerPartyId: z.uuid(),
  }),
  conflicts: z.array(z.looseObject({ reason: z.string(), message: z.string(), recordId: z.string().optional() })),
});

function parse<T>(schema: z.ZodType<T>, name: string, payload: unknown): T {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw new Error(`crm: the ${name} payload does not match what CRM expects: ${parsed.error.message}`);
  return parsed.data;
}

function unitOfWork(ctx: FilterContext): UnitOfWork {
  if (!(ctx instanceof UnitOfWork)) throw new Error('crm: PRM glue filters need the unit of work of the write they run in');
  return ctx;
}

export function prmGlue(api: PluginApi): void {
  api.hooks.filter(CONVERT, async (payload, ctx) => {
    const data = parse(convertPayload, CONVERT, payload);
    if (data.dealId) return payload; // another sales plugin already opened it
    const dealId = await openDealForRegistration(api.app, unitOfWork(ctx), data.registration);
    return { ...(payload as object), dealId };
  });

  api.hooks.filter(CONFLICTS, async (payload, ctx) => {
    const data = parse(conflictsPayload, CONFLICTS, payload);
    const deals = await openDirectDeals(unitOfWork(ctx), data.registration);
    if (deals.length === 0) return payload;
    return {
      ...(payload as object),
      conflicts: [
        ...data.conflicts,
        ...deals.map((id) => ({
          reason: 'open-direct-deal',
          // Shown to the partner too: it says that there is a deal, never whose or how big.
          message: "The vendor's own sales team already has an open deal with this customer.",
          recordId: id,
        })),
      ],
    };
  });
}

/**
 * Opens the deal for an approved registration: in the first pipeline (oldest), its first
 * open stage, with the registration's value, currency and expected close, owned by the
 * approver's party. The account is the registration's customer party, else the live
 * organization with its domain or name, else a new organization. A step of the approval:
 * it runs with the approver's authority over PRM, not their CRM permissions.
 */
async function openDealForRegistration(app: Rapport, uow: UnitOfWork, registration: z.infer<typeof convertPayload>['registration']): Promise<string> {
  const work = uow.unscoped();
  const pipeline = await work.trx('crm_pipelines').where({ tenant_id: work.tenantId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).first('id');
  if (!pipeline) throw new VetoError('crm: there is no pipeline to open the deal of this registration in; create a pipeline first');
  const accountId = registration.customerPartyId ?? (await findCustomer(work, registration.customerName, registration.customerDomain)) ?? (await createCustomer(app, work, registration.customerName, registration.customerDomain));
  const deal = await new DealService(app).create(
    work,
    {
      title: `${registration.customerName} (partner registration)`,
      pipelineId: pipeline.id,
      amount: Math.round(registration.value * 100) / 100,
      currency: registration.currency,
      expectedClose: calendarDay(registration.expectedCloseDate),
      ownerPartyId: work.principal.partyId ?? null,
      accountId,
      source: registrationSource(registration.id),
    },
    { workflowStep: true },
  );
  return deal.id;
}

function calendarDay(value: string | Date | null | undefined): string | null {
  if (!value) return null;
  if (typeof value === 'string') return value.slice(0, 10);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}`;
}

/** A live organization with the domain, else the only one with the name. */
async function findCustomer(uow: UnitOfWork, name: string, domain: string | null): Promise<string | undefined> {
  if (domain) {
    const byDomain = await uow
      .trx('rapport_contact_points as c')
      .join('rapport_parties as p', function () {
        this.on('p.tenant_id', 'c.tenant_id').andOn('p.id', 'c.party_id');
      })
      .where({ 'c.tenant_id': uow.tenantId, 'c.kind': 'domain', 'c.normalized': normalizeContactPoint({ kind: 'domain', value: domain }), 'p.kind': 'organization' })
      .whereNull('p.archived_at')
      .whereNull('p.merged_into_id')
      .orderBy('p.created_at')
      .first('p.id');
    if (byDomain) return byDomain.id;
  }
  const byName: Array<{ id: string }> = await uow
    .trx('rapport_parties as p')
    .where({ 'p.tenant_id': uow.tenantId, 'p.kind': 'organization' })
    .whereNull('p.archived_at')
    .whereNull('p.merged_into_id')
    .whereRaw(`lower(regexp_replace(btrim(p.name), '\\s+', ' ', 'g')) = ?`, [nameKey(name)])
    .limit(2)
    .select('p.id');
  return byName.length === 1 ? byName[0].id : undefined;
}

async function createCustomer(app: Rapport, uow: UnitOfWork, name: string, domain: string | null): Promise<string> {
  const party = await app.services.parties.create(uow, { kind: 'organization', name, ...(domain ? { contactPoints: [{ kind: 'domain', value: domain }] } : {}) });
  return party.id;
}

/**
 * Open deals with the registration's customer (its party, or an account with its domain or
 * name) that were not opened from a partner registration: the direct team's own work. One query.
 */
async function openDirectDeals(uow: UnitOfWork, registration: z.infer<typeof conflictsPayload>['registration']): Promise<string[]> {
  const domain = registration.customerDomain ? normalizeContactPoint({ kind: 'domain', value: registration.customerDomain }) : null;
  const rows: Array<{ id: string }> = await uow
    .trx('crm_deals as d')
    .join('rapport_parties as a', function () {
      this.on('a.tenant_id', 'd.tenant_id').andOn('a.id', 'd.account_id');
    })
    .where({ 'd.tenant_id': uow.tenantId, 'd.status': 'open' })
    .where((q) => {
      q.whereNull('d.source').orWhereNot('d.source', 'like', 'prm.registration:%');
    })
    .where((q) => {
      if (registration.customerPartyId) q.orWhere('d.account_id', registration.customerPartyId);
      if (domain) {
        q.orWhereExists(function () {
          this.select(uow.trx.raw('1'))
            .from('rapport_contact_points as c')
            .whereRaw('c.tenant_id = a.tenant_id and c.party_id = a.id')
            .where({ 'c.kind': 'domain', 'c.normalized': domain });
        });
      }
      q.orWhere((n) => n.where('a.kind', 'organization').whereRaw(`lower(regexp_replace(btrim(a.name), '\\s+', ' ', 'g')) = ?`, [nameKey(registration.customerName)]));
    })
    .orderBy('d.id')
    .limit(20)
    .select('d.id');
  return rows.map((r) => r.id);
}
