import { ValidationError, type Interaction, type Rapport, type UnitOfWork } from '@rapport/core';
import type { ACTIVITY_TYPES } from '../declarations.js';

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
