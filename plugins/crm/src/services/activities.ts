import type { Knex } from 'knex';
import { ValidationError, hasPermission, keysetPage, type Interaction, type InteractionService, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { ACTIVITY_TYPES, type ActivityType } from '@rapport/crm-contract';
import { SEE_ALL_ACTIVITIES } from '../declarations.js';
import type { CrmDeps } from '../deps.js';

export interface ActivityInput {
  type: ActivityType;
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

/** Rows of the interactions view, as the kernel turns them into interactions. */
type InteractionRows = Parameters<InteractionService['withParticipants']>[1];

/** Calls, e-mails, meetings and notes: kernel interactions whose `owner` participant is the rep. */
export class ActivityService {
  constructor(private readonly deps: CrmDeps) {}

  /** Records an activity; the owner defaults to the caller's party. */
  record(uow: UnitOfWork, input: ActivityInput): Promise<Interaction> {
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
    return this.deps.interactions.create(uow, {
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

  /**
   * Restricts a query over interactions (their id in `idColumn`) to the activities the caller
   * owns (its party is the `owner` participant) unless it holds crm.activities:all: the "own
   * records only" rule for activities, compiled into the WHERE.
   */
  ownOnly(ctx: QueryContext, query: Knex.QueryBuilder, idColumn: string): Knex.QueryBuilder {
    if (hasPermission(ctx.principal, SEE_ALL_ACTIVITIES)) return query;
    const partyId = ctx.principal.partyId;
    if (!partyId) return query.whereRaw('false');
    return query.whereIn(idColumn, this.deps.interactions.participantQuery(ctx, { role: 'owner', partyId }).select('interaction_id'));
  }

  /** The activities the caller may see, newest first (keyset on id): 2 queries per page (rows, participants). */
  list(ctx: QueryContext, query: { type?: ActivityType; accountId?: string; limit: number; cursor?: string }): Promise<Page<Interaction>> {
    const { interactions } = this.deps;
    const q = this.ownOnly(ctx, interactions.query(ctx, { type: query.type ?? ACTIVITY_TYPES, visible: true }), 'interactions.id');
    if (query.accountId) q.whereIn('interactions.id', interactions.participantQuery(ctx, { role: 'account', partyId: query.accountId }).select('interaction_id'));
    return keysetPage(q, query, [{ column: 'interactions.id', type: 'uuid', direction: 'desc' }], (rows: InteractionRows) => interactions.withParticipants(ctx, rows));
  }
}
