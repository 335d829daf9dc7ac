import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AttachmentSettings } from '../app/config.js';
import { hasPermission } from '../access/principal.js';
import { ForbiddenError, NotFoundError, RapportError, ValidationError } from '../errors.js';
import type { Transact, UnitOfWork } from '../hooks/unit-of-work.js';
import type { HookBus } from '../hooks/hook-bus.js';
import type { EventPayload } from '../hooks/types.js';
import { keysetPage } from '../http/keyset.js';
import { sql, type QueryContext } from '../kernel/context.js';
import type { KernelServices } from '../kernel/services.js';
import type { Page } from '../util/cursor.js';
import { newId } from '../util/ids.js';
import { type AttachmentRegistry } from './registry.js';
import { S3Store } from './s3-store.js';
import { DirectoryStore, type AttachmentStore, type ByteRange } from './store.js';
import { contentTypeOf, DETECTION_BYTES } from './detect.js';
import { ATTACHMENT_COLUMNS as COLUMNS, toAttachment, type Attachment, type AttachmentRow } from './rows.js';

export { attachmentSchema, type Attachment } from './rows.js';

export const DEFAULT_MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024;
/** Needed to purge (delete the bytes and the row of) an attachment, besides `attachments:write`. */
export const ATTACHMENTS_PURGE_PERMISSION = 'attachments:purge';
/** The interaction type that puts an attachment on its record's timeline. */
export const ATTACHMENT_INTERACTION_TYPE = 'attachment';

/** What the attachment service needs of the system. */
export interface AttachmentHost {
  readonly logger: Logger;
  readonly knex: Knex;
  readonly services: KernelServices;
  readonly attachmentRegistry: AttachmentRegistry;
  readonly transaction: Transact;
  readonly bus: Pick<HookBus, 'on'>;
  readonly limits: { quota(tenantId: string, kind: 'uploadBytesPerDay', amount: number): Promise<void> };
  readonly config: { attachments?: AttachmentSettings; database?: { dataDir?: string; url?: string; pglite?: unknown } };
}

export class AttachmentTooLargeError extends RapportError {
  constructor(limit: number) {
    super(413, 'payload-too-large', `The file is larger than the limit of ${limit} bytes a file (attachments.maxFileBytes)`, { limit });
  }
}

/** A linked record as the caller may see it: the parties (and relationship) of its timeline. */
interface LinkedRecord {
  partyIds: string[];
  relationshipId: string | null;
  roles: Map<string, string>;
}

/** The store a configuration names: a store object, an S3 bucket, or the directory (default). */
export function storeFor(config: AttachmentHost['config']): AttachmentStore {
  const settings = config.attachments ?? {};
  if (settings.store) return settings.store;
  if (settings.s3) return new S3Store(settings.s3);
  const database = config.database ?? {};
  const dataDir = database.url ? undefined : (database.dataDir ?? (database.pglite ? 'memory://' : undefined));
  // Beside the data: PGlite's directory, else ./.rapport as PGlite's default; a database in memory keeps its files in the temp directory.
  const dir =
    settings.dir ?? process.env.RAPPORT_ATTACHMENTS_DIR ?? (dataDir?.startsWith('memory://') ? path.join(os.tmpdir(), 'rapport-attachments') : path.resolve(dataDir ?? '.rapport', 'attachments'));
  return new DirectoryStore(dir);
}

/**
 * Files linked to records. An upload is streamed through a meter (sha-256, byte count, the
 * first bytes kept for type detection, the size limit) straight into the store: the process
 * holds a chunk at a time, never the file. The row is written once the bytes are stored and
 * scanned, in one unit of work with the timeline entry and the `attachment.created` event;
 * if anything fails on the way, the stored bytes are deleted again.
 *
 * Every read goes through the linked record: an attachment is visible exactly when its record
 * is (kernel record scopes, or the plugin's `find`), and answers 404 otherwise.
 */
export class AttachmentService {
  readonly store: AttachmentStore;
  readonly maxFileBytes: number;

  constructor(private readonly app: AttachmentHost) {
    this.store = storeFor(app.config);
    this.maxFileBytes = app.config.attachments?.maxFileBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES;
    // Whatever unit of work purged a row (a plugin deleting its record), the bytes go once it
    // has committed: a rolled-back purge keeps its file, and a failed removal leaves an orphan
    // file (logged), never a row without bytes. Upload stores every file under <tenant>/<id>.
    app.bus.on('core', 'attachment.purged', async (payload, meta) => {
      const { attachment } = payload as EventPayload<'attachment.purged'>;
      await this.removeBytes(`${meta.tenantId}/${attachment.id}`, attachment.id);
    });
  }

  private async removeBytes(key: string, id: string): Promise<void> {
    await this.store.delete(key).catch((error) => this.app.logger.warn({ err: error, attachmentId: id }, 'could not remove purged attachment bytes'));
  }

  /**
   * Purges every attachment of one record, deleted ones included, in the record's own unit of
   * work: the rows now (an `attachment.purged` each), the bytes after commit. For a record
   * that is itself going away (a plugin deleting one of its records): its files could no
   * longer be reached through it, so they do not wait for a purge nobody could ask for.
   */
  async purgeRecord(uow: UnitOfWork, recordType: string, recordId: string): Promise<number> {
    const rows: AttachmentRow[] = await sql(uow)('rapport_attachments')
      .where({ tenant_id: uow.tenantId, record_type: recordType, record_id: recordId })
      .delete()
      .returning(COLUMNS as unknown as string[]);
    for (const row of rows) uow.emit('attachment.purged', { attachment: toAttachment(row) }, { type: 'attachment', id: row.id });
    return rows.length;
  }

  /**
   * Purges every attachment of these record types in every tenant (a plugin purged: its tables
   * and so its records are dropped), one unit of work per tenant and batch, with the events;
   * the bytes go after each commit.
   */
  async purgeRecordTypes(recordTypes: readonly string[]): Promise<number> {
    if (recordTypes.length === 0) return 0;
    let purged = 0;
    for (;;) {
      const batch: Array<{ tenant_id: string }> = await this.app.knex('rapport_attachments').whereIn('record_type', recordTypes).distinct('tenant_id').limit(100);
      if (batch.length === 0) return purged;
      for (const { tenant_id: tenantId } of batch) {
        purged += await this.app.transaction(
          async (uow) => {
            const rows: AttachmentRow[] = await sql(uow)('rapport_attachments')
              .where('tenant_id', tenantId)
              .whereIn('record_type', recordTypes)
              .delete()
              .returning(COLUMNS as unknown as string[]);
            for (const row of rows) uow.emit('attachment.purged', { attachment: toAttachment(row) }, { type: 'attachment', id: row.id });
            return rows.length;
          },
          { tenantId },
        );
      }
    }
  }

  /** The record as the caller sees it; 404 (naming the record) outside its reach. */
  async linkedRecord(ctx: QueryContext, recordType: string, recordId: string): Promise<LinkedRecord> {
    const { parties, relationships, interactions } = this.app.services;
    const isUuid = z.uuid().safeParse(recordId).success;
    if (recordType === 'party') {
      if (!isUuid) throw new NotFoundError('Party', recordId);
      const party = await parties.get(ctx, recordId);
      return { partyIds: [party.id], relationshipId: null, roles: new Map([[party.id, 'subject']]) };
    }
    if (recordType === 'relationship') {
      if (!isUuid) throw new NotFoundError('Relationship', recordId);
      const r = await relationships.get(ctx, recordId);
      return {
        partyIds: [...new Set([r.fromPartyId, r.toPartyId])],
        relationshipId: r.id,
        roles: new Map([
          [r.toPartyId, r.toRole],
          [r.fromPartyId, r.fromRole],
        ]),
      };
    }
    if (recordType === 'interaction') {
      if (!isUuid) throw new NotFoundError('Interaction', recordId);
      await interactions.get(ctx, recordId);
      // The interaction is the timeline entry itself: its attachments are listed with it.
      return { partyIds: [], relationshipId: null, roles: new Map() };
    }
    const definition = this.app.attachmentRegistry.record(recordType);
    if (!definition) {
      throw new ValidationError(`Record type "${recordType}" takes no attachments`, [{ path: 'query.recordType', message: `one of ${this.app.attachmentRegistry.types().join(', ')}` }]);
    }
    const found = await definition.find(ctx, recordId);
    if (!found) throw new NotFoundError(`Record ${recordType}`, recordId);
    const partyIds = [...new Set(found.partyIds ?? [])];
    return { partyIds, relationshipId: null, roles: new Map(partyIds.map((id) => [id, 'subject'])) };
  }

  async upload(ctx: QueryContext, input: { recordType: string; recordId: string; filename: string; declaredType: string | null; body: IncomingMessage }): Promise<Attachment> {
    const announced = Number(input.body.headers['content-length']);
    if (Number.isFinite(announced) && announced > this.maxFileBytes) {
      input.body.resume();
      throw new AttachmentTooLargeError(this.maxFileBytes);
    }
    let linked: LinkedRecord;
    try {
      linked = await this.linkedRecord(ctx, input.recordType, input.recordId);
    } catch (error) {
      input.body.resume();
      throw error;
    }
    const id = newId();
    const key = `${ctx.tenantId}/${id}`;
    const meter = new UploadMeter(this.maxFileBytes);
    const body = input.body;
    const fail = (error: Error) => meter.destroy(error);
    body.on('aborted', () => fail(new ValidationError('The upload was interrupted before the whole file arrived')));
    body.on('error', (error) => fail(new ValidationError(`The upload failed: ${error.message}`)));
    body.pipe(meter);
    try {
      await this.store.put(key, meter);
    } catch (error) {
      body.unpipe(meter);
      // The client reads the 413 instead of a reset connection.
      body.resume();
      await this.store.delete(key).catch(() => undefined);
      throw meter.error ?? error;
    }
    try {
      if (meter.bytes === 0) throw new ValidationError('The body is empty: send the file as the request body');
      await this.app.limits.quota(ctx.tenantId, 'uploadBytesPerDay', meter.bytes);
      const sha256 = meter.digest();
      const { contentType, declaredType } = await contentTypeOf(meter.head(), input.declaredType);
      const verdict = await this.scan({
        id,
        tenantId: ctx.tenantId,
        recordType: input.recordType,
        recordId: input.recordId,
        filename: input.filename,
        contentType,
        declaredType,
        size: meter.bytes,
        sha256,
        open: () => this.store.get(key),
      });
      return await this.app.transaction(
        async (uow) => {
          let interactionId: string | null = null;
          if (linked.partyIds.length > 0) {
            const interaction = await this.app.services.interactions.create(uow.unscoped(), {
              type: ATTACHMENT_INTERACTION_TYPE,
              direction: 'internal',
              subject: input.filename,
              relationshipId: linked.relationshipId,
              attributes: { attachmentId: id, recordType: input.recordType, recordId: input.recordId, contentType, size: meter.bytes },
              participants: linked.partyIds.map((partyId) => ({ partyId, role: linked.roles.get(partyId) ?? 'subject' })),
            });
            interactionId = interaction.id;
          }
          const rows: AttachmentRow[] = await sql(uow)('rapport_attachments')
            .insert({
              tenant_id: ctx.tenantId,
              id,
              record_type: input.recordType,
              record_id: input.recordId,
              filename: input.filename,
              content_type: contentType,
              declared_type: declaredType,
              size: meter.bytes,
              sha256,
              storage_key: key,
              status: verdict ? 'quarantined' : 'clean',
              status_reason: verdict?.reason ?? null,
              interaction_id: interactionId,
              created_by_kind: ctx.principal.kind,
              created_by_id: ctx.principal.kind === 'system' ? null : ctx.principal.id,
            })
            .returning(COLUMNS as unknown as string[]);
          const attachment = toAttachment(rows[0]);
          uow.emit('attachment.created', { attachment }, { type: 'attachment', id });
          if (verdict) uow.emit('attachment.quarantined', { attachment, plugin: verdict.plugin }, { type: 'attachment', id });
          return attachment;
        },
        { tenantId: ctx.tenantId, principal: ctx.principal },
      );
    } catch (error) {
      await this.store.delete(key).catch(() => undefined);
      throw error;
    }
  }

  /** Runs the enabled plugins' scanners in order; the first quarantine wins. A failing scanner quarantines (fail closed). */
  private async scan(input: Parameters<ReturnType<AttachmentRegistry['activeScanners']>[number]['scan']>[0]): Promise<{ reason: string; plugin: string } | undefined> {
    for (const { owner, scan } of this.app.attachmentRegistry.activeScanners()) {
      try {
        const verdict = await scan(input);
        if (verdict && verdict.quarantine === true) return { reason: verdict.reason, plugin: owner };
      } catch (error) {
        this.app.logger.error({ err: error, plugin: owner, attachmentId: input.id }, `attachment scanner of plugin "${owner}" failed; the file is quarantined`);
        return { reason: `the scanner of plugin "${owner}" failed: ${(error as Error).message}`, plugin: owner };
      }
    }
    return undefined;
  }

  private async row(ctx: QueryContext, id: string, options: { includeDeleted?: boolean } = {}): Promise<AttachmentRow> {
    const q = sql(ctx)('rapport_attachments').where({ tenant_id: ctx.tenantId, id });
    if (!options.includeDeleted) q.whereNull('deleted_at');
    const row: AttachmentRow | undefined = await q.first(COLUMNS);
    if (!row) throw new NotFoundError('Attachment', id);
    try {
      await this.linkedRecord(ctx, row.record_type, row.record_id);
    } catch (error) {
      // Outside the record's reach is outside the attachment's: the same 404 as a missing one.
      if (error instanceof RapportError && (error.status === 404 || error.status === 400)) throw new NotFoundError('Attachment', id);
      throw error;
    }
    return row;
  }

  async get(ctx: QueryContext, id: string): Promise<Attachment> {
    return toAttachment(await this.row(ctx, id));
  }

  /** A record's attachments the caller may see (all of them, or 404 with the record), newest first. */
  async list(ctx: QueryContext, query: { recordType: string; recordId: string; limit: number; cursor?: string }): Promise<Page<Attachment>> {
    await this.linkedRecord(ctx, query.recordType, query.recordId);
    const q = sql(ctx)('rapport_attachments as a')
      .where({ 'a.tenant_id': ctx.tenantId, 'a.record_type': query.recordType, 'a.record_id': query.recordId })
      .whereNull('a.deleted_at')
      .select(COLUMNS.map((c) => `a.${c}`));
    return keysetPage(q, query, [{ column: 'a.id', type: 'uuid', direction: 'desc' }], (rows: AttachmentRow[]) => rows.map(toAttachment));
  }

  /** The bytes of a clean attachment the caller may see (or one range of them). */
  async open(ctx: QueryContext, id: string, range?: ByteRange): Promise<{ attachment: Attachment; stream: Readable }> {
    const row = await this.row(ctx, id);
    if (row.status === 'quarantined') {
      throw new RapportError(409, 'attachment-quarantined', `Attachment ${id} is quarantined${row.status_reason ? `: ${row.status_reason}` : ''}; it cannot be downloaded`);
    }
    return { attachment: toAttachment(row), stream: await this.store.get(row.storage_key, range) };
  }

  /**
   * Deletes an attachment: by default it is only marked deleted (no longer listed or
   * downloadable; bytes and row kept, as a retired field keeps its values); with `purge`
   * (permission `attachments:purge`) its bytes and row are removed for good.
   */
  async delete(ctx: QueryContext, id: string, options: { purge: boolean }): Promise<void> {
    if (options.purge && (!hasPermission(ctx.principal, ATTACHMENTS_PURGE_PERMISSION) || ctx.principal.scopePartyId)) {
      throw new ForbiddenError(`Purging an attachment requires the permission "${ATTACHMENTS_PURGE_PERMISSION}"`);
    }
    const row = await this.row(ctx, id, { includeDeleted: options.purge });
    const attachment = toAttachment(row);
    await this.app.transaction(
      async (uow) => {
        if (options.purge) {
          await sql(uow)('rapport_attachments').where({ tenant_id: ctx.tenantId, id }).delete();
          uow.emit('attachment.purged', { attachment }, { type: 'attachment', id });
        } else {
          await sql(uow)('rapport_attachments')
            .where({ tenant_id: ctx.tenantId, id })
            .update({ deleted_at: sql(uow).fn.now() });
          uow.emit('attachment.deleted', { attachment }, { type: 'attachment', id });
        }
      },
      { tenantId: ctx.tenantId, principal: ctx.principal },
    );
    // After the commit: a failed removal leaves an orphan file, never a row without its bytes.
    if (options.purge) await this.removeBytes(row.storage_key, id);
  }
}

/**
 * Counts, hashes and limits the bytes passing through, and keeps the first `DETECTION_BYTES`
 * for content-type detection. Nothing else is held.
 */
class UploadMeter extends Transform {
  bytes = 0;
  error: Error | undefined;
  private readonly hash = createHash('sha256');
  private readonly first: Buffer[] = [];
  private firstLength = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      this.error = new AttachmentTooLargeError(this.maxBytes);
      done(this.error);
      return;
    }
    this.hash.update(chunk);
    if (this.firstLength < DETECTION_BYTES) {
      const part = chunk.subarray(0, DETECTION_BYTES - this.firstLength);
      this.first.push(Buffer.from(part));
      this.firstLength += part.length;
    }
    done(null, chunk);
  }

  override destroy(error?: Error): this {
    if (error && !this.error) this.error = error;
    return super.destroy(error);
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  head(): Buffer {
    return Buffer.concat(this.first);
  }
}

/** What a plugin may do with the files of its own record types (`coreServices.attachments`). */
export interface RecordAttachments {
  /**
   * Purges the files of one of the plugin's records in the unit of work that deletes the
   * record: rows and `attachment.purged` events with the write, the stored bytes after commit.
   * Returns how many were purged.
   */
  purgeRecord(uow: UnitOfWork, recordType: string, recordId: string): Promise<number>;
}

export function recordAttachmentsFor(plugin: string, attachments: AttachmentService): RecordAttachments {
  return {
    purgeRecord: (uow, recordType, recordId) => {
      if (!recordType.startsWith(`${plugin}.`)) throw new Error(`plugin "${plugin}" may purge the attachments of its own record types only, not "${recordType}"`);
      return attachments.purgeRecord(uow, recordType, recordId);
    },
  };
}
