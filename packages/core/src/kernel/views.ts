import type { Knex } from 'knex';
import type { RecordScopes } from '../access/record-scopes.js';
import { markTenantBound } from '../storage/tenant-tables.js';
import { normalizeContactPoint } from './contact-points.js';
import { sql, type QueryContext } from './context.js';
import type { ContactPoint, PartyKind } from './types.js';

/*
 * The kernel's read views, version 1: how a plugin reads kernel data in its own queries
 * (a subquery, a join, an EXISTS) without naming a kernel table. Each view is a query of
 * one tenant with the columns listed below, snake_case as SQL has them; the kernel keeps
 * these names and meanings whatever its tables become (docs/plugin-guide.md, §6). PostgreSQL
 * folds the view into the query that uses it, so a view costs what the table would.
 *
 * `visible: true` limits a view to what the caller may see (its record scope); without it
 * a view is tenant-wide, for the plugin's own logic (a conflict check, a scope rule).
 */

export interface PartyViewRow {
  id: string;
  kind: PartyKind;
  name: string;
  attributes: Record<string, unknown>;
  archived_at: Date | null;
  merged_into_id: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface PartyViewFilter {
  ids?: readonly string[];
  kind?: PartyKind | readonly PartyKind[];
  /** Neither archived nor merged away. */
  live?: boolean;
  /** The name (or any of the names) compared case- and space-insensitively (`normalizeName`). */
  name?: string | readonly string[];
  /** Parties with this contact point (compared normalized: `WWW.Acme.example` finds `acme.example`). */
  contactPoint?: ContactPoint;
  visible?: boolean;
}

export interface ContactPointViewRow {
  party_id: string;
  kind: string;
  value: string;
  /** The value as compared: lower case, `www.` and punctuation dropped as its kind says. */
  normalized: string;
  /** Order within the party's contact points (0 first). */
  position: number;
}

export interface ContactPointViewFilter {
  partyId?: string;
  partyIds?: readonly string[];
  kind?: string;
  /** Compared normalized. */
  value?: string;
}

export interface RelationshipViewRow {
  id: string;
  type: string;
  from_party_id: string;
  to_party_id: string;
  from_role: string;
  to_role: string;
  status: string;
  valid_from: Date | null;
  valid_to: Date | null;
  attributes: Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface RelationshipViewFilter {
  ids?: readonly string[];
  type?: string | readonly string[];
  fromPartyId?: string | readonly string[];
  toPartyId?: string | readonly string[];
  /** At either end. */
  partyId?: string;
  status?: string | readonly string[];
  /** Inside its validity window at this time (`true`: now); combine with `status` for "live". */
  validAt?: Date | true;
  visible?: boolean;
}

export interface ReachableViewRow {
  /** The party the walk started from. */
  origin: string;
  party_id: string;
  /** 0 for the origin itself. */
  depth: number;
}

export interface ReachableFilter {
  type: string;
  /** Where the walk starts (each origin is reachable from itself at depth 0). */
  from: string | readonly string[];
  /** `from-to` follows relationships from their from end to their to end; `to-from` the other way. */
  along: 'from-to' | 'to-from';
  /** Relationship statuses walked (default `active`). */
  status?: string | readonly string[];
  /** Longest path walked (default 100): bad data cannot make the walk endless. */
  maxDepth?: number;
}

export interface InteractionViewRow {
  id: string;
  type: string;
  occurred_at: Date;
  channel: string | null;
  direction: string;
  subject: string | null;
  summary: string | null;
  attributes: Record<string, unknown>;
  relationship_id: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export interface InteractionViewFilter {
  ids?: readonly string[];
  type?: string | readonly string[];
  relationshipId?: string | readonly string[];
  /** Occurred at or after. */
  since?: Date | string;
  /** Occurred before. */
  until?: Date | string;
  visible?: boolean;
}

export interface ParticipantViewRow {
  interaction_id: string;
  party_id: string;
  role: string;
  /** The interaction's time, kept with each participant so a party's timeline is one index range. */
  occurred_at: Date;
}

export interface ParticipantViewFilter {
  interactionId?: string | readonly string[];
  partyId?: string | readonly string[];
  role?: string | readonly string[];
  since?: Date | string;
  until?: Date | string;
}

export interface ObservationViewRow {
  id: string;
  indicator: string;
  subject_type: 'party' | 'relationship';
  subject_id: string;
  value: number | null;
  label: string | null;
  text: string | null;
  observed_at: Date;
  observer_party_id: string | null;
  interaction_id: string | null;
  details: Record<string, unknown>;
  created_at: Date;
}

export interface ObservationViewFilter {
  indicator?: string | readonly string[];
  subjectType?: 'party' | 'relationship';
  subjectId?: string | readonly string[];
  since?: Date | string;
  visible?: boolean;
}

const PARTY_VIEW = ['id', 'kind', 'name', 'attributes', 'archived_at', 'merged_into_id', 'version', 'created_at', 'updated_at'];
const CONTACT_POINT_VIEW = ['party_id', 'kind', 'value', 'normalized', 'position'];
const RELATIONSHIP_VIEW = ['id', 'type', 'from_party_id', 'to_party_id', 'from_role', 'to_role', 'status', 'valid_from', 'valid_to', 'attributes', 'version', 'created_at', 'updated_at'];
const INTERACTION_VIEW = ['id', 'type', 'occurred_at', 'channel', 'direction', 'subject', 'summary', 'attributes', 'relationship_id', 'version', 'created_at', 'updated_at'];
const PARTICIPANT_VIEW = ['interaction_id', 'party_id', 'role', 'occurred_at'];
const OBSERVATION_VIEW = ['id', 'indicator', 'subject_type', 'subject_id', 'value', 'label', 'text', 'observed_at', 'observer_party_id', 'interaction_id', 'details', 'created_at'];

/** A name as compared: trimmed, inner white space folded, lower case (the SQL below does the same to stored names). */
export function normalizeName(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}
const NAME_KEY_SQL = `lower(regexp_replace(btrim(??), '\\s+', ' ', 'g'))`;

const list = <T>(value: T | readonly T[]): T[] => (Array.isArray(value) ? [...value] : [value as T]);

function whereValue(query: Knex.QueryBuilder, column: string, value: string | readonly string[] | undefined): void {
  if (value === undefined) return;
  const values = list(value);
  if (values.length === 1) query.where(column, values[0]);
  else query.whereIn(column, values);
}

/** The view as the caller uses it: `select … from (<inner>) as <name>` (`*` until the caller selects), marked so a walled plugin query may join it. */
function view(ctx: QueryContext, inner: Knex.QueryBuilder, name: string): Knex.QueryBuilder {
  return markTenantBound(sql(ctx).from(inner.as(name)));
}

export function partiesView(ctx: QueryContext, filter: PartyViewFilter, scopes: RecordScopes): Knex.QueryBuilder {
  const db = sql(ctx);
  const q = db('rapport_parties as p')
    .where('p.tenant_id', ctx.tenantId)
    .select(PARTY_VIEW.map((c) => `p.${c}`));
  if (filter.ids) q.whereIn('p.id', [...filter.ids]);
  whereValue(q, 'p.kind', filter.kind);
  if (filter.live) q.whereNull('p.archived_at').whereNull('p.merged_into_id');
  if (filter.name !== undefined) {
    const names = list(filter.name).map(normalizeName);
    q.whereRaw(`${NAME_KEY_SQL} = any(?::text[])`, ['p.name', names]);
  }
  if (filter.contactPoint) {
    const { kind } = filter.contactPoint;
    q.whereExists(
      db('rapport_contact_points as cp')
        .select(db.raw('1'))
        .whereRaw('cp.tenant_id = p.tenant_id and cp.party_id = p.id')
        .where({ 'cp.kind': kind, 'cp.normalized': normalizeContactPoint(filter.contactPoint) }),
    );
  }
  if (filter.visible) scopes.apply(q, ctx, 'parties', 'p.id');
  return view(ctx, q, 'parties');
}

export function contactPointsView(ctx: QueryContext, filter: ContactPointViewFilter): Knex.QueryBuilder {
  const q = sql(ctx)('rapport_contact_points as cp')
    .where('cp.tenant_id', ctx.tenantId)
    .select(CONTACT_POINT_VIEW.map((c) => `cp.${c}`));
  if (filter.partyId) q.where('cp.party_id', filter.partyId);
  if (filter.partyIds) q.whereIn('cp.party_id', [...filter.partyIds]);
  if (filter.kind) q.where('cp.kind', filter.kind);
  if (filter.value !== undefined) {
    if (!filter.kind) throw new Error('contactPoints view: a value is compared within its kind; give `kind` too');
    q.where('cp.normalized', normalizeContactPoint({ kind: filter.kind, value: filter.value }));
  }
  return view(ctx, q, 'contact_points');
}

export function relationshipsView(ctx: QueryContext, filter: RelationshipViewFilter, scopes: RecordScopes): Knex.QueryBuilder {
  const q = sql(ctx)('rapport_relationships as r')
    .where('r.tenant_id', ctx.tenantId)
    .select(RELATIONSHIP_VIEW.map((c) => `r.${c}`));
  if (filter.ids) q.whereIn('r.id', [...filter.ids]);
  whereValue(q, 'r.type', filter.type);
  whereValue(q, 'r.from_party_id', filter.fromPartyId);
  whereValue(q, 'r.to_party_id', filter.toPartyId);
  if (filter.partyId) {
    const party = filter.partyId;
    q.where((w) => w.where('r.from_party_id', party).orWhere('r.to_party_id', party));
  }
  whereValue(q, 'r.status', filter.status);
  if (filter.validAt) {
    const at = filter.validAt === true ? new Date() : filter.validAt;
    q.where((w) => w.whereNull('r.valid_from').orWhere('r.valid_from', '<=', at)).where((w) => w.whereNull('r.valid_to').orWhere('r.valid_to', '>', at));
  }
  if (filter.visible) scopes.apply(q, ctx, 'relationships', 'r.id');
  return view(ctx, q, 'relationships');
}

export function reachableView(ctx: QueryContext, filter: ReachableFilter): Knex.QueryBuilder {
  const [next, from] = filter.along === 'from-to' ? ['to_party_id', 'from_party_id'] : ['from_party_id', 'to_party_id'];
  const statuses = list(filter.status ?? 'active');
  const maxDepth = filter.maxDepth ?? 100;
  if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > 10_000) throw new Error('reachable view: maxDepth must be an integer from 0 to 10000');
  const db = sql(ctx);
  const walk = db.raw(
    `(with recursive walk(origin, party_id, depth) as (
        select o, o, 0 from unnest(?::uuid[]) as o
        union
        select walk.origin, r.${next}, walk.depth + 1
        from rapport_relationships r join walk on r.${from} = walk.party_id
        where r.tenant_id = ? and r.type = ? and r.status = any(?::text[]) and walk.depth < ?
      ) select origin, party_id, min(depth) as depth from walk group by origin, party_id) as reachable`,
    [list(filter.from), ctx.tenantId, filter.type, statuses, maxDepth],
  );
  return markTenantBound(db.from(walk));
}

export function interactionsView(ctx: QueryContext, filter: InteractionViewFilter, scopes: RecordScopes): Knex.QueryBuilder {
  const q = sql(ctx)('rapport_interactions as i')
    .where('i.tenant_id', ctx.tenantId)
    .select(INTERACTION_VIEW.map((c) => `i.${c}`));
  if (filter.ids) q.whereIn('i.id', [...filter.ids]);
  whereValue(q, 'i.type', filter.type);
  whereValue(q, 'i.relationship_id', filter.relationshipId);
  if (filter.since !== undefined) q.where('i.occurred_at', '>=', filter.since);
  if (filter.until !== undefined) q.where('i.occurred_at', '<', filter.until);
  if (filter.visible) scopes.apply(q, ctx, 'interactions', 'i.id');
  return view(ctx, q, 'interactions');
}

export function participantsView(ctx: QueryContext, filter: ParticipantViewFilter): Knex.QueryBuilder {
  const q = sql(ctx)('rapport_interaction_participants as ip')
    .where('ip.tenant_id', ctx.tenantId)
    .select(PARTICIPANT_VIEW.map((c) => `ip.${c}`));
  whereValue(q, 'ip.interaction_id', filter.interactionId);
  whereValue(q, 'ip.party_id', filter.partyId);
  whereValue(q, 'ip.role', filter.role);
  if (filter.since !== undefined) q.where('ip.occurred_at', '>=', filter.since);
  if (filter.until !== undefined) q.where('ip.occurred_at', '<', filter.until);
  return view(ctx, q, 'participants');
}

/** `visible` gives the caller's observations as `o` (record scope and indicators hidden from their subject applied). */
export function observationsView(ctx: QueryContext, filter: ObservationViewFilter, visible: (ctx: QueryContext) => Knex.QueryBuilder): Knex.QueryBuilder {
  const base = filter.visible ? visible(ctx) : sql(ctx)('rapport_observations as o').where('o.tenant_id', ctx.tenantId);
  const q = base.select(OBSERVATION_VIEW.map((c) => `o.${c}`));
  whereValue(q, 'o.indicator', filter.indicator);
  if (filter.subjectType) q.where('o.subject_type', filter.subjectType);
  whereValue(q, 'o.subject_id', filter.subjectId);
  if (filter.since !== undefined) q.where('o.observed_at', '>=', filter.since);
  return view(ctx, q, 'observations');
}
