import { ConflictError, ValidationError } from '../errors.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import type { InteractionService } from './interactions.js';
import type { PartyService } from './parties.js';
import type { RelationshipService } from './relationships.js';
import { INTERACTION_COLUMNS, OBSERVATION_COLUMNS, RELATIONSHIP_COLUMNS, toObservation, toRelationship, type InteractionRow, type ObservationRow, type RelationshipRow } from './rows.js';
import type { MergeInput } from './schemas.js';
import type { Interaction, Party } from './types.js';
import { sql } from './context.js';
import { ATTACHMENT_COLUMNS, toAttachment, type AttachmentRow } from '../attachments/rows.js';

export interface MergePlan {
  survivorId: string;
  mergedIds: string[];
  dryRun: boolean;
  relationships: number;
  interactions: number;
  observations: number;
  contactPoints: number;
  /** Files on the merged parties, which move to the survivor. */
  attachments: number;
  /** Relationships that would join the survivor to itself; they block the merge. */
  conflicts: Array<{ relationshipId: string; reason: string }>;
  survivor: Party;
}

/**
 * Folds duplicate parties into one survivor in a single transaction: their relationships,
 * interaction participations, observations, contact points and attachments move over; the merged
 * parties stay, archived, pointing at the survivor (history never dangles). A dry run
 * computes the same plan and writes nothing.
 */
export class MergeService {
  constructor(
    private readonly parties: PartyService,
    private readonly relationships: RelationshipService,
    private readonly interactions: InteractionService,
  ) {}

  async merge(uow: UnitOfWork, input: MergeInput): Promise<MergePlan> {
    const mergedIds = [...new Set(input.mergedIds)];
    if (mergedIds.includes(input.survivorId)) {
      throw new ValidationError('The survivor cannot also be merged away', [{ path: 'mergedIds', message: 'contains survivorId' }]);
    }
    const survivor = await this.parties.lockForWrite(uow, input.survivorId);
    const merged: Party[] = [];
    for (const id of mergedIds) merged.push(await this.parties.lockForWrite(uow, id));
    if (survivor.archivedAt) throw new ConflictError(`Party ${survivor.id} is archived and cannot survive a merge`);
    for (const p of merged) {
      if (p.kind !== survivor.kind) throw new ValidationError(`Party ${p.id} is a ${p.kind}, the survivor a ${survivor.kind}`, [{ path: 'mergedIds', message: 'kind differs' }]);
      if (p.mergedIntoId) throw new ConflictError(`Party ${p.id} was already merged into ${p.mergedIntoId}`);
    }
    const self = await sql(uow)('rapport_tenants').where('id', uow.tenantId).first('self_party_id');
    if (mergedIds.includes(self.self_party_id)) throw new ConflictError('The self party cannot be merged away');

    const t = uow.tenantId;
    const relationshipRows: RelationshipRow[] = await sql(uow)('rapport_relationships')
      .where('tenant_id', t)
      .where((w) => w.whereIn('from_party_id', mergedIds).orWhereIn('to_party_id', mergedIds))
      .select(RELATIONSHIP_COLUMNS);
    const everyone = new Set([survivor.id, ...mergedIds]);
    const conflicts = relationshipRows
      .filter((r) => everyone.has(r.from_party_id) && everyone.has(r.to_party_id))
      .map((r) => ({ relationshipId: r.id, reason: 'would relate the survivor to itself' }));
    const participations: Array<{ interaction_id: string; party_id: string }> = await sql(uow)('rapport_interaction_participants')
      .where('tenant_id', t)
      .whereIn('party_id', mergedIds)
      .select('interaction_id', 'party_id');
    const observationRows: ObservationRow[] = await sql(uow)('rapport_observations').where({ tenant_id: t, subject_type: 'party' }).whereIn('subject_id', mergedIds).select(OBSERVATION_COLUMNS);
    const points: Array<{ kind: string; normalized: string }> = await sql(uow)('rapport_contact_points').where('tenant_id', t).whereIn('party_id', mergedIds).select('kind', 'normalized');
    // Deleted (not purged) files move too: a later restore or purge finds them on the survivor.
    const attachmentRows: AttachmentRow[] = await sql(uow)('rapport_attachments').where({ tenant_id: t, record_type: 'party' }).whereIn('record_id', mergedIds).select(ATTACHMENT_COLUMNS);

    const plan: MergePlan = {
      survivorId: survivor.id,
      mergedIds,
      dryRun: input.dryRun === true,
      relationships: relationshipRows.length,
      interactions: new Set(participations.map((p) => p.interaction_id)).size,
      observations: observationRows.length,
      contactPoints: points.length,
      attachments: attachmentRows.length,
      conflicts,
      survivor,
    };
    if (plan.dryRun) return plan;
    if (conflicts.length) throw new ConflictError('The merge would relate the survivor to itself; end or remove those relationships first', { conflicts });
    await uow.filter('party.merge', { survivor, merged });

    // The interactions as they were, for the `previous` of their events.
    const interactionIds = [...new Set(participations.map((p) => p.interaction_id))];
    const interactionsBefore = await this.loadInteractions(uow, interactionIds);

    const now = new Date();
    await sql(uow)('rapport_relationships')
      .where('tenant_id', t)
      .whereIn('from_party_id', mergedIds)
      .update({ from_party_id: survivor.id, version: sql(uow).raw('version + 1'), updated_at: now });
    await sql(uow)('rapport_relationships')
      .where('tenant_id', t)
      .whereIn('to_party_id', mergedIds)
      .update({ to_party_id: survivor.id, version: sql(uow).raw('version + 1'), updated_at: now });
    // An interaction where both the survivor and a merged party took part keeps one participation.
    await sql(uow).raw(
      `delete from rapport_interaction_participants p where p.tenant_id = ? and p.party_id = any(?::uuid[])
         and exists (select 1 from rapport_interaction_participants s where s.tenant_id = p.tenant_id and s.interaction_id = p.interaction_id and s.party_id = ?)`,
      [t, mergedIds, survivor.id],
    );
    await sql(uow).raw(
      `delete from rapport_interaction_participants p where p.tenant_id = ? and p.party_id = any(?::uuid[])
         and p.party_id <> (select min(q.party_id::text)::uuid from rapport_interaction_participants q where q.tenant_id = p.tenant_id and q.interaction_id = p.interaction_id and q.party_id = any(?::uuid[]))`,
      [t, mergedIds, mergedIds],
    );
    await sql(uow)('rapport_interaction_participants').where('tenant_id', t).whereIn('party_id', mergedIds).update({ party_id: survivor.id });
    if (interactionIds.length) {
      await sql(uow)('rapport_interactions')
        .where('tenant_id', t)
        .whereIn('id', interactionIds)
        .update({ version: sql(uow).raw('version + 1'), updated_at: now });
    }
    await sql(uow)('rapport_observations').where({ tenant_id: t, subject_type: 'party' }).whereIn('subject_id', mergedIds).update({ subject_id: survivor.id });
    await sql(uow).raw(
      `insert into rapport_contact_points (tenant_id, party_id, kind, value, normalized, position)
       select tenant_id, ?, kind, min(value), normalized, 1000 + min(position) from rapport_contact_points
       where tenant_id = ? and party_id = any(?::uuid[]) group by tenant_id, kind, normalized
       on conflict do nothing`,
      [survivor.id, t, mergedIds],
    );
    await sql(uow)('rapport_contact_points').where('tenant_id', t).whereIn('party_id', mergedIds).delete();
    if (attachmentRows.length) {
      await sql(uow)('rapport_attachments').where({ tenant_id: t, record_type: 'party' }).whereIn('record_id', mergedIds).update({ record_id: survivor.id });
      // Their timeline entries already moved with the participations; they name the record they belong to.
      const entries = attachmentRows.map((a) => a.interaction_id).filter((id): id is string => id !== null);
      if (entries.length) {
        await sql(uow).raw(
          `update rapport_interactions set attributes = jsonb_set(attributes, '{recordId}', to_jsonb(?::text)) where tenant_id = ? and id = any(?::uuid[]) and attributes->>'recordType' = 'party'`,
          [survivor.id, t, entries],
        );
      }
    }
    await sql(uow)('rapport_parties')
      .where('tenant_id', t)
      .whereIn('id', mergedIds)
      .update({ archived_at: now, merged_into_id: survivor.id, version: sql(uow).raw('version + 1'), updated_at: now });
    await sql(uow)('rapport_parties')
      .where({ tenant_id: t, id: survivor.id })
      .update({ version: survivor.version + 1, updated_at: now });

    // One event per changed record, as everywhere else.
    const movedRelationships: RelationshipRow[] = relationshipRows.length
      ? await sql(uow)('rapport_relationships')
          .where('tenant_id', t)
          .whereIn(
            'id',
            relationshipRows.map((r) => r.id),
          )
          .select(RELATIONSHIP_COLUMNS)
      : [];
    const relationshipsBefore = new Map(relationshipRows.map((r) => [r.id, toRelationship(r)]));
    for (const row of movedRelationships) {
      uow.emit('relationship.updated', { relationship: toRelationship(row), previous: relationshipsBefore.get(row.id)! }, { type: 'relationship', id: row.id });
    }
    const before = new Map(interactionsBefore.map((i) => [i.id, i]));
    for (const interaction of await this.loadInteractions(uow, interactionIds)) {
      uow.emit('interaction.updated', { interaction, previous: before.get(interaction.id)! }, { type: 'interaction', id: interaction.id });
    }
    for (const row of observationRows) {
      const previous = toObservation(row);
      uow.emit('observation.updated', { observation: { ...previous, subjectId: survivor.id }, previous }, { type: 'observation', id: row.id });
    }
    for (const row of attachmentRows) {
      uow.emit('attachment.moved', { attachment: toAttachment({ ...row, record_id: survivor.id }), previous: { recordType: 'party', recordId: row.record_id } }, { type: 'attachment', id: row.id });
    }
    const result = await this.parties.get(uow, survivor.id);
    // The survivor changed too (version, contact points): it gets its own event.
    uow.emit('party.updated', { party: result, previous: survivor }, { type: 'party', id: survivor.id });
    for (const id of mergedIds) uow.emit('party.merged', { party: result, mergedId: id }, { type: 'party', id });
    return { ...plan, survivor: result };
  }

  /** Interactions with their participants in two queries, whatever their number. */
  private async loadInteractions(uow: UnitOfWork, ids: string[]): Promise<Interaction[]> {
    if (ids.length === 0) return [];
    const rows: InteractionRow[] = await sql(uow)('rapport_interactions').where('tenant_id', uow.tenantId).whereIn('id', ids).select(INTERACTION_COLUMNS);
    return this.interactions.withParticipants(uow, rows);
  }
}
