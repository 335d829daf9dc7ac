import type { Knex } from 'knex';
import { keysetPage, type KeysetKey } from '../http/keyset.js';
import { NotFoundError, PreconditionFailedError, ValidationError } from '../errors.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import { newId } from '../util/ids.js';
import { copyRows, settleInOrder, worthCopying } from '../storage/copy-rows.js';
import { type Page } from '../util/cursor.js';
import { isoRequired } from '../util/time.js';
import { checkTypedAttributes } from './attributes.js';
import { applyFieldFilters, fieldSortPage, type FieldListQuery } from '../fields/list-query.js';
import { sql, type QueryContext } from './context.js';
import { interactionsView, participantsView, type InteractionViewFilter, type ParticipantViewFilter } from './views.js';
import type { KernelDeps } from './kernel.js';
import type { PartyService } from './parties.js';
import type { RelationshipService } from './relationships.js';
import { INTERACTION_COLUMNS, toInteraction, type InteractionRow } from './rows.js';
import type { InteractionCreateInput, InteractionUpdateInput } from './schemas.js';
import type { Interaction, InteractionTypeDefinition, Participant } from './types.js';

const NEWEST_FIRST: readonly KeysetKey[] = [
  { column: 'i.occurred_at', type: 'timestamp', direction: 'desc' },
  { column: 'i.id', type: 'uuid', direction: 'desc' },
];

export interface InteractionListQuery {
  type?: string;
  /** Custom field filters (`parseFieldQuery`); interactions keep their newest-first order. */
  fields?: FieldListQuery;
  limit: number;
  cursor?: string;
}

export interface TimelineQuery {
  type?: string;
  limit: number;
  cursor?: string;
}

type InteractionWithParticipantsRow = InteractionRow & { participants: Participant[] };

/**
 * An interaction's columns and its participants (by party id, as the primary key keeps them)
 * as a column of the same row: a page or a timeline is one statement, not one plus a read of
 * the participants of its rows.
 */
function withParticipantsColumns(db: Knex): Array<string | Knex.Raw> {
  return [
    ...INTERACTION_COLUMNS.map((c) => `i.${c}`),
    db.raw(
      `coalesce((select json_agg(json_build_object('partyId', ip.party_id, 'role', ip.role) order by ip.party_id) from rapport_interaction_participants ip where ip.tenant_id = i.tenant_id and ip.interaction_id = i.id), '[]'::json) as participants`,
    ),
  ];
}

function withInlineParticipants({ participants, ...row }: InteractionWithParticipantsRow): Interaction {
  return toInteraction(row, participants);
}

export class InteractionService {
  constructor(
    private readonly deps: KernelDeps,
    private readonly parties: PartyService,
    private readonly relationships: RelationshipService,
  ) {}

  /** The interactions view (v1) of the context's tenant, for a plugin's own queries; see kernel/views.ts. */
  query(ctx: QueryContext, filter: InteractionViewFilter = {}): Knex.QueryBuilder {
    return interactionsView(ctx, filter, this.deps.scopes);
  }

  /** The participants view (v1): interaction_id, party_id, role, occurred_at. */
  participantQuery(ctx: QueryContext, filter: ParticipantViewFilter = {}): Knex.QueryBuilder {
    return participantsView(ctx, filter);
  }

  visible(ctx: QueryContext, alias = 'i'): Knex.QueryBuilder {
    const query = sql(ctx)(`rapport_interactions as ${alias}`).where(`${alias}.tenant_id`, ctx.tenantId);
    return this.deps.scopes.apply(query, ctx, 'interactions', `${alias}.id`);
  }

  async create(uow: UnitOfWork, input: InteractionCreateInput): Promise<Interaction> {
    const { input: data } = await uow.filter('interaction.create', { input: structuredClone(input) });
    const [interaction] = await this.insertMany(uow, [data]);
    uow.emit('interaction.created', { interaction }, { type: 'interaction', id: interaction.id });
    return interaction;
  }

  /**
   * Validates every input (one lookup of the participants and one of the relationships for
   * all of them), then writes them in bulk: see `writeChecked`. Emits nothing.
   */
  async insertMany(uow: UnitOfWork, inputs: InteractionCreateInput[]): Promise<Interaction[]> {
    const partyIds = new Set<string>();
    const relationshipIds = new Set<string>();
    for (const input of inputs) {
      for (const p of input.participants) partyIds.add(p.partyId);
      if (input.relationshipId) relationshipIds.add(input.relationshipId);
    }
    const known = new Set((await this.parties.getMany(uow, [...partyIds])).map((p) => p.id));
    const knownRelationships = new Set(
      relationshipIds.size === 0
        ? []
        : (
            await this.relationships
              .visible(uow)
              .whereIn('r.id', [...relationshipIds])
              .select('r.id')
          ).map((r: { id: string }) => r.id),
    );
    const now = new Date();
    const checked = [];
    for (const input of inputs) {
      const type = this.requireType(input.type);
      const participants = this.checkParticipants(type, input.participants, known, uow.principal.scopePartyId);
      if (input.relationshipId && !knownRelationships.has(input.relationshipId)) {
        throw new ValidationError(`relationshipId: relationship ${input.relationshipId} does not exist`, [{ path: 'relationshipId', message: 'unknown relationship' }]);
      }
      if (input.channel && type.channels && !type.channels.includes(input.channel)) {
        throw new ValidationError(`${type.key}: channel "${input.channel}" is not one of ${type.channels.join(', ')}`, [{ path: 'channel', message: 'unknown channel' }]);
      }
      checked.push({ ...input, type: type.key, participants, attributes: await checkTypedAttributes(this.deps.fields, uow, 'interaction', type, input.attributes) });
    }
    return this.writeChecked(uow, checked, now);
  }

  /**
   * Inserts interactions whose every check `insertMany` makes has already been made by the
   * caller, row by row (the bulk importer, so one bad row is refused alone and the batch
   * is not looked up twice): the type is usable (`type` is its key), the participants
   * exist, are visible to the caller, listed once, in allowed roles and include a scoped
   * caller, the relationship is visible, the channel allowed and `attributes` validated by
   * the type's schema. Emits nothing. Anything else must use `insertMany`.
   */
  async writeChecked(uow: UnitOfWork, inputs: InteractionCreateInput[], now = new Date()): Promise<Interaction[]> {
    const createdAt = now.toISOString();
    // Built once in the shape callers get back; the rows written are read off these objects.
    const interactions = inputs.map((input): Interaction => ({
      id: newId(),
      type: input.type,
      occurredAt: input.occurredAt ? isoRequired(input.occurredAt) : createdAt,
      channel: input.channel ?? null,
      direction: input.direction ?? 'internal',
      subject: input.subject ?? null,
      summary: input.summary ?? null,
      attributes: input.attributes ?? {},
      relationshipId: input.relationshipId ?? null,
      participants: input.participants.map((p) => ({ partyId: p.partyId, role: p.role })),
      version: 1,
      createdAt,
    }));
    if (worthCopying(sql(uow), interactions.length)) await this.copyInteractions(uow, interactions);
    else await this.insertInteractions(uow, interactions);
    return interactions;
  }

  /** PostgreSQL: COPY, the server's own bulk path (no statement to plan, no arrays to parse). */
  private async copyInteractions(uow: UnitOfWork, interactions: Interaction[]): Promise<void> {
    const tenantId = uow.tenantId;
    const participants: unknown[][] = [];
    for (const i of interactions) for (const p of i.participants) participants.push([tenantId, i.id, p.partyId, p.role, i.occurredAt]);
    // Both COPYs are queued on the transaction's connection at once: the server takes the
    // second as soon as it has stored the first, without waiting for this process.
    await settleInOrder([
      copyRows(
        sql(uow),
        'rapport_interactions',
        ['tenant_id', 'id', 'type', 'occurred_at', 'channel', 'direction', 'subject', 'summary', 'attributes', 'relationship_id', 'version', 'created_at'],
        interactions.map((i) => [tenantId, i.id, i.type, i.occurredAt, i.channel, i.direction, i.subject, i.summary, i.attributes, i.relationshipId, 1, i.createdAt]),
      ),
      copyRows(sql(uow), 'rapport_interaction_participants', ['tenant_id', 'interaction_id', 'party_id', 'role', 'occurred_at'], participants),
    ]);
  }

  /**
   * PGlite: one array parameter per column, turned back into rows by unnest: a batch of
   * thousands is one short statement to parse, not tens of thousands of bound values.
   */
  private async insertInteractions(uow: UnitOfWork, interactions: Interaction[]): Promise<void> {
    const size = 5000;
    for (let i = 0; i < interactions.length; i += size) {
      const slice = interactions.slice(i, i + size);
      await sql(uow).raw(
        `insert into rapport_interactions (tenant_id, id, type, occurred_at, channel, direction, subject, summary, attributes, relationship_id, version, created_at)
         select ?::uuid, id, type, occurred_at, channel, direction, subject, summary, attributes::jsonb, relationship_id, 1, created_at
         from unnest(?::uuid[], ?::text[], ?::timestamptz[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::uuid[], ?::timestamptz[])
           as r(id, type, occurred_at, channel, direction, subject, summary, attributes, relationship_id, created_at)`,
        [
          uow.tenantId,
          slice.map((r) => r.id),
          slice.map((r) => r.type),
          slice.map((r) => r.occurredAt),
          slice.map((r) => r.channel),
          slice.map((r) => r.direction),
          slice.map((r) => r.subject),
          slice.map((r) => r.summary),
          slice.map((r) => JSON.stringify(r.attributes)),
          slice.map((r) => r.relationshipId),
          slice.map((r) => r.createdAt),
        ] as unknown as Knex.RawBinding[],
      );
    }
    const participants = interactions.flatMap((i) => i.participants.map((p) => [i.id, p.partyId, p.role, i.occurredAt] as const));
    for (let i = 0; i < participants.length; i += size * 2) {
      const slice = participants.slice(i, i + size * 2);
      await sql(uow).raw(
        `insert into rapport_interaction_participants (tenant_id, interaction_id, party_id, role, occurred_at)
         select ?::uuid, * from unnest(?::uuid[], ?::uuid[], ?::text[], ?::timestamptz[])`,
        [uow.tenantId, slice.map((p) => p[0]), slice.map((p) => p[1]), slice.map((p) => p[2]), slice.map((p) => p[3])],
      );
    }
  }

  async get(ctx: QueryContext, id: string): Promise<Interaction> {
    const row: InteractionWithParticipantsRow | undefined = await this.visible(ctx)
      .where('i.id', id)
      .first(withParticipantsColumns(sql(ctx)));
    if (!row) throw new NotFoundError('Interaction', id);
    return withInlineParticipants(row);
  }

  async list(ctx: QueryContext, query: InteractionListQuery): Promise<Page<Interaction>> {
    const q = this.visible(ctx).select(withParticipantsColumns(sql(ctx)));
    if (query.type) q.where('i.type', query.type);
    if (query.fields) applyFieldFilters(q, 'i', query.fields);
    const map = (rows: InteractionWithParticipantsRow[]) => rows.map(withInlineParticipants);
    if (query.fields?.sort) return fieldSortPage(q, 'i', query.fields.sort, query, map);
    return keysetPage(q, query, NEWEST_FIRST, map);
  }

  /**
   * A party's timeline: every interaction it took part in, newest first. One index range
   * on (tenant, party, occurred_at desc, id desc) whatever the depth of the page. A scoped
   * caller sees only the interactions it took part in itself.
   */
  async partyTimeline(ctx: QueryContext, partyId: string, query: TimelineQuery): Promise<Page<Interaction>> {
    const q = sql(ctx)('rapport_interaction_participants as tp')
      .join('rapport_interactions as i', function () {
        this.on('i.tenant_id', 'tp.tenant_id').andOn('i.id', 'tp.interaction_id');
      })
      .where('tp.tenant_id', ctx.tenantId)
      .where('tp.party_id', partyId)
      .select(withParticipantsColumns(sql(ctx)));
    this.deps.scopes.apply(q, ctx, 'interactions', 'tp.interaction_id');
    if (query.type) q.where('i.type', query.type);
    // The participants' copy of the sort key, so the (tenant, party, occurred_at, id) index serves the range.
    const page = await keysetPage(
      q,
      query,
      [
        { column: 'tp.occurred_at', type: 'timestamp', direction: 'desc', property: 'occurred_at' },
        { column: 'tp.interaction_id', type: 'uuid', direction: 'desc', property: 'id' },
      ],
      (rows: InteractionWithParticipantsRow[]) => rows.map(withInlineParticipants),
    );
    // Rows on the page prove the party is there for a caller who sees the whole tenant: a
    // participant row names a party of its tenant, and parties are never deleted (a merge
    // moves the rows). Only an empty page, or a caller with a narrower reach, asks.
    if (page.data.length === 0 || ctx.principal.scopePartyId) await this.parties.requireVisible(ctx, partyId);
    return page;
  }

  async relationshipTimeline(ctx: QueryContext, relationshipId: string, query: TimelineQuery): Promise<Page<Interaction>> {
    await this.relationships.get(ctx, relationshipId);
    const q = this.visible(ctx)
      .where('i.relationship_id', relationshipId)
      .select(withParticipantsColumns(sql(ctx)));
    if (query.type) q.where('i.type', query.type);
    return keysetPage(q, query, NEWEST_FIRST, (rows: InteractionWithParticipantsRow[]) => rows.map(withInlineParticipants));
  }

  async update(uow: UnitOfWork, id: string, patch: InteractionUpdateInput, expectedVersion?: number): Promise<Interaction> {
    const row: InteractionWithParticipantsRow | undefined = await this.visible(uow)
      .where('i.id', id)
      .forUpdate()
      .first(withParticipantsColumns(sql(uow)));
    if (!row) throw new NotFoundError('Interaction', id);
    if (expectedVersion !== undefined && row.version !== expectedVersion) {
      throw new PreconditionFailedError(`Interaction ${id} is at version ${row.version}, not ${expectedVersion}`, { currentVersion: row.version });
    }
    const current = withInlineParticipants(row);
    const { patch: change } = await uow.filter('interaction.update', { current, patch: structuredClone(patch) });
    const type = this.requireType(current.type);
    if (change.channel && type.channels && !type.channels.includes(change.channel)) {
      throw new ValidationError(`${type.key}: channel "${change.channel}" is not one of ${type.channels.join(', ')}`, [{ path: 'channel', message: 'unknown channel' }]);
    }
    const attributes = change.attributes ? await checkTypedAttributes(this.deps.fields, uow, 'interaction', type, change.attributes, current.attributes) : current.attributes;
    const occurredAt = change.occurredAt ? new Date(change.occurredAt) : new Date(current.occurredAt);
    await sql(uow)('rapport_interactions')
      .where({ tenant_id: uow.tenantId, id })
      .update({
        occurred_at: occurredAt,
        channel: change.channel !== undefined ? change.channel : current.channel,
        subject: change.subject !== undefined ? change.subject : current.subject,
        summary: change.summary !== undefined ? change.summary : current.summary,
        attributes: JSON.stringify(attributes),
        version: current.version + 1,
        updated_at: new Date(),
      });
    if (change.occurredAt) {
      await sql(uow)('rapport_interaction_participants').where({ tenant_id: uow.tenantId, interaction_id: id }).update({ occurred_at: occurredAt });
    }
    const interaction = await this.get(uow, id);
    uow.emit('interaction.updated', { interaction, previous: current }, { type: 'interaction', id });
    return interaction;
  }

  requireType(key: string): InteractionTypeDefinition {
    const type = this.deps.registries.interactionTypes.usable(key);
    if (!type) throw new ValidationError(`Unknown interaction type "${key}"`, [{ path: 'type', message: 'unknown or disabled interaction type' }]);
    return type;
  }

  private checkParticipants(type: InteractionTypeDefinition, participants: Participant[], known: Set<string>, scopePartyId: string | null): Participant[] {
    const seen = new Set<string>();
    participants.forEach((p, index) => {
      if (!known.has(p.partyId)) throw new ValidationError(`participants.${index}: party ${p.partyId} does not exist`, [{ path: `participants.${index}.partyId`, message: 'unknown party' }]);
      if (seen.has(p.partyId)) throw new ValidationError(`participants.${index}: party ${p.partyId} is listed twice`, [{ path: `participants.${index}.partyId`, message: 'duplicate participant' }]);
      seen.add(p.partyId);
      if (type.participantRoles && !type.participantRoles.includes(p.role)) {
        throw new ValidationError(`${type.key}: participant role "${p.role}" is not one of ${type.participantRoles.join(', ')}`, [{ path: `participants.${index}.role`, message: 'unknown role' }]);
      }
    });
    // A scoped principal records only interactions it takes part in.
    if (scopePartyId && !seen.has(scopePartyId)) {
      throw new ValidationError('A scoped principal must be a participant of the interactions it records', [{ path: 'participants', message: 'caller party missing' }]);
    }
    return participants.map((p) => ({ partyId: p.partyId, role: p.role }));
  }

  /** Participants of a page of interactions in one query (no N+1). */
  async withParticipants(ctx: QueryContext, rows: InteractionRow[]): Promise<Interaction[]> {
    if (rows.length === 0) return [];
    const participants: Array<{ interaction_id: string; party_id: string; role: string }> = await sql(ctx)('rapport_interaction_participants')
      .where('tenant_id', ctx.tenantId)
      .whereIn(
        'interaction_id',
        rows.map((r) => r.id),
      )
      .orderBy(['interaction_id', 'party_id'])
      .select('interaction_id', 'party_id', 'role');
    const byInteraction = new Map<string, Participant[]>();
    for (const p of participants) {
      const list = byInteraction.get(p.interaction_id) ?? [];
      list.push({ partyId: p.party_id, role: p.role });
      byInteraction.set(p.interaction_id, list);
    }
    return rows.map((row) => toInteraction(row, byInteraction.get(row.id) ?? []));
  }
}
