import type { Knex } from 'knex';
import { ValidationError, decodeCursor, hasPermission, toPage, type Interaction, type Page, type QueryContext, type Rapport, type UnitOfWork } from '@rapport/core';
import { ACTIVITY_TYPES } from '../declarations.js';

export interface ActivityInput {
  type: (typeof ACTIVITY_TYPES)[number];
  ownerPartyId?: string | null;
  accountId?: string;
  contactIds?: string[];
  attendeeIds?: string[];
  occurredAt?: string;
  channel?: string | null;
  direction?: 'inbound' | 'outbound' | 'internal';
  subject?: string | null;
  summary?: string | null;
  relationshipId?: string | null;
}

/** A call, e-mail, meeting or note as a kernel interaction; the owner defaults to the caller's party. */
export async function recordActivity(app: Rapport, uow: UnitOfWork, input: ActivityInput): Promise<Interaction> {
  const owner = input.ownerPartyId === undefined ? uow.principal.partyId : input.ownerPartyId;
  const participants: Array<{ partyId: string; role: string }> = [];
  const seen = new Set<string>();
  const add = (partyId: string, role: string) => {
    if (seen.has(partyId)) throw new ValidationError(`crm: party ${partyId} appears twice among the participants`, [{ path: role, message: 'duplicate participant' }]);
    seen.add(partyId);
    participants.push({ partyId, role });
  };
  if (owner) add(owner, 'owner');
  if (input.accountId) add(input.accountId, 'account');
  for (const id of input.contactIds ?? []) add(id, 'contact');
  for (const id of input.attendeeIds ?? []) add(id, 'attendee');
  if (participants.length === 0) throw new ValidationError('crm: an activity needs an owner, an account or a contact', [{ path: 'accountId', message: 'no participant' }]);
  return app.services.interactions.create(uow, {
    type: input.type,
    occurredAt: input.occurredAt,
    channel: input.channel ?? null,
    direction: input.direction ?? 'outbound',
    subject: input.subject ?? null,
    summary: input.summary ?? null,
    relationshipId: input.relationshipId ?? null,
    participants,
  });
}

/** Without it a principal sees (and counts in reports) only the activities it owns. */
export const SEE_ALL_ACTIVITIES = 'crm.activities:all';

/**
 * Restricts a query on `rapport_interactions as i` to the activities the caller owns (its
 * party is the `owner` participant) unless it holds crm.activities:all — the "own records
 * only" rule for activities, compiled into the WHERE.
 */
export function ownActivitiesOnly(ctx: QueryContext, query: Knex.QueryBuilder): Knex.QueryBuilder {
  if (hasPermission(ctx.principal, SEE_ALL_ACTIVITIES)) return query;
  const partyId = ctx.principal.partyId;
  if (!partyId) return query.whereRaw('false');
  return query.whereExists(function () {
    this.select(ctx.db.raw('1'))
      .from('rapport_interaction_participants as op')
      .whereRaw('op.tenant_id = i.tenant_id and op.interaction_id = i.id')
      .where({ 'op.role': 'owner', 'op.party_id': partyId });
  });
}

const ACTIVITY_COLUMNS = ['id', 'type', 'occurred_at', 'channel', 'direction', 'subject', 'summary', 'attributes', 'relationship_id', 'version', 'created_at'];

/** Calls, e-mails, meetings and notes the caller may see, newest first: 2 queries per page (rows, participants). */
export async function listActivities(app: Rapport, ctx: QueryContext, query: { type?: string; accountId?: string; limit: number; cursor?: string }): Promise<Page<Interaction>> {
  const after = decodeCursor(query.cursor, ['uuid']);
  const q = ownActivitiesOnly(ctx, app.services.interactions.visible(ctx, 'i'))
    .whereIn('i.type', query.type ? [query.type] : [...ACTIVITY_TYPES])
    .select(ACTIVITY_COLUMNS.map((c) => `i.${c}`))
    .orderBy('i.id', 'desc')
    .limit(query.limit + 1);
  if (query.accountId) {
    q.whereExists(function () {
      this.select(ctx.db.raw('1'))
        .from('rapport_interaction_participants as ap')
        .whereRaw('ap.tenant_id = i.tenant_id and ap.interaction_id = i.id')
        .where({ 'ap.role': 'account', 'ap.party_id': query.accountId });
    });
  }
  if (after) q.where('i.id', '<', after[0]);
  const rows: Array<{ id: string }> = await q;
  const page = toPage(rows, query.limit, (r) => r, (r) => [r.id]);
  return { data: await app.services.interactions.withParticipants(ctx, page.data as never), nextCursor: page.nextCursor };
}
