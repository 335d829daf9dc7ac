import type { Readable } from 'node:stream';
import { PluginError } from '../errors.js';
import type { QueryContext } from '../kernel/context.js';

/** The kernel's records that take attachments; plugins add theirs with `api.attachments.records`. */
export const KERNEL_ATTACHABLE_TYPES = ['party', 'relationship', 'interaction'] as const;

/**
 * A plugin record type that takes attachments (`crm.deal`). `find` answers for the caller:
 * null when the record does not exist or is outside the caller's reach (the attachment routes
 * then answer 404, exactly as for a missing record), else the parties whose timelines show the
 * attachment (the deal's account, say; none is fine).
 */
export interface AttachableRecordDefinition {
  /** Namespaced by the plugin: `<plugin>.<record>`. */
  type: string;
  find(ctx: QueryContext, id: string): Promise<{ partyIds?: readonly string[] } | null>;
}

/** What a scanner sees of a new attachment, before anyone can download it. */
export interface AttachmentScanInput {
  id: string;
  tenantId: string;
  recordType: string;
  recordId: string;
  filename: string;
  /** Detected from the bytes (or the declared type when the bytes tell nothing). */
  contentType: string;
  declaredType: string | null;
  size: number;
  sha256: string;
  /** The stored bytes, streamed. */
  open(): Promise<Readable>;
}

/** `{ quarantine: true, reason }` keeps the file from being downloaded; anything else lets it through. */
export type AttachmentScanVerdict = { quarantine: true; reason: string } | { quarantine?: false } | void;

export type AttachmentScanner = (file: AttachmentScanInput) => AttachmentScanVerdict | Promise<AttachmentScanVerdict>;

/** Plugin record types that take attachments and the scanners plugins registered, each by owner (off while its plugin is). */
export class AttachmentRegistry {
  private readonly records = new Map<string, AttachableRecordDefinition & { owner: string }>();
  private readonly scanners: Array<{ owner: string; scan: AttachmentScanner }> = [];

  constructor(private readonly isActive: (owner: string) => boolean) {}

  defineRecord(owner: string, definition: AttachableRecordDefinition): void {
    if (!definition.type.startsWith(`${owner}.`)) throw new PluginError(owner, `attachable record type "${definition.type}" must be namespaced "${owner}.…"`);
    if (this.records.has(definition.type)) throw new PluginError(owner, `attachable record type "${definition.type}" is declared twice`);
    if (typeof definition.find !== 'function') throw new PluginError(owner, `attachable record type "${definition.type}" needs a find(ctx, id) function`);
    this.records.set(definition.type, { ...definition, owner });
  }

  addScanner(owner: string, scan: AttachmentScanner): void {
    if (typeof scan !== 'function') throw new PluginError(owner, 'an attachment scanner must be a function');
    this.scanners.push({ owner, scan });
  }

  /** A plugin record type of an enabled plugin, or undefined. */
  record(type: string): (AttachableRecordDefinition & { owner: string }) | undefined {
    const found = this.records.get(type);
    return found && this.isActive(found.owner) ? found : undefined;
  }

  /** Every type that takes attachments now: the kernel's and those of enabled plugins. */
  types(): string[] {
    return [...KERNEL_ATTACHABLE_TYPES, ...[...this.records.values()].filter((r) => this.isActive(r.owner)).map((r) => r.type)];
  }

  /** The record types `owner` declared, enabled or not (to purge their files with the plugin). */
  typesOf(owner: string): string[] {
    return [...this.records.values()].filter((r) => r.owner === owner).map((r) => r.type);
  }

  activeScanners(): Array<{ owner: string; scan: AttachmentScanner }> {
    return this.scanners.filter((s) => this.isActive(s.owner));
  }
}
