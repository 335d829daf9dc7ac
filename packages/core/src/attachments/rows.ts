import { z } from 'zod';
import { isoRequired } from '../util/time.js';

export const attachmentSchema = z.object({
  id: z.uuid(),
  recordType: z.string(),
  recordId: z.string(),
  filename: z.string(),
  /** Detected from the bytes; the declared type only when the bytes tell nothing (plain text, CSV). */
  contentType: z.string(),
  /** What the client said it was (`Content-Type` of the upload), or null. */
  declaredType: z.string().nullable(),
  /** The declared type is not what the bytes are: the file is served as `contentType`. */
  typeMismatch: z.boolean(),
  size: z.number().int(),
  sha256: z.string(),
  /** `quarantined` by a scanner: not downloadable. */
  status: z.enum(['clean', 'quarantined']),
  statusReason: z.string().nullable(),
  /** The timeline entry that shows the attachment, when its record has a timeline. */
  interactionId: z.uuid().nullable(),
  createdAt: z.string(),
});
export type Attachment = z.infer<typeof attachmentSchema>;

export const ATTACHMENT_COLUMNS = [
  'id',
  'record_type',
  'record_id',
  'filename',
  'content_type',
  'declared_type',
  'size',
  'sha256',
  'storage_key',
  'status',
  'status_reason',
  'interaction_id',
  'created_at',
  'deleted_at',
] as const;
export interface AttachmentRow {
  id: string;
  record_type: string;
  record_id: string;
  filename: string;
  content_type: string;
  declared_type: string | null;
  size: string | number;
  sha256: string;
  storage_key: string;
  status: 'clean' | 'quarantined';
  status_reason: string | null;
  interaction_id: string | null;
  created_at: Date | string;
  deleted_at: Date | string | null;
}

export function toAttachment(row: AttachmentRow): Attachment {
  return {
    id: row.id,
    recordType: row.record_type,
    recordId: row.record_id,
    filename: row.filename,
    contentType: row.content_type,
    declaredType: row.declared_type,
    typeMismatch: row.declared_type !== null && row.declared_type !== row.content_type,
    size: Number(row.size),
    sha256: row.sha256,
    status: row.status,
    statusReason: row.status_reason,
    interactionId: row.interaction_id,
    createdAt: isoRequired(row.created_at),
  };
}
