import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** An inclusive byte range of a stored file. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where attachment bytes live. Keys are chosen by the kernel (`<tenant>/<attachment id>`);
 * a store never sees a client's file name. `put` consumes the stream without holding it
 * (a 1 GB file costs a chunk of memory), and fails if the stream fails, leaving nothing
 * under the key. The contract tests in packages/core/test/attachment-store.test.ts hold
 * every implementation to the same behaviour.
 */
export interface AttachmentStore {
  /** `directory`, `s3`, or a name of the deployment's own. */
  readonly kind: string;
  put(key: string, body: Readable): Promise<void>;
  /** The bytes (or one range of them); throws `AttachmentMissingError` when nothing is stored under the key. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Removes the bytes; a missing key is not an error. */
  delete(key: string): Promise<void>;
  exists(key: string): Promise<boolean>;
}

export class AttachmentMissingError extends Error {
  constructor(key: string) {
    super(`no stored bytes under "${key}"`);
    this.name = 'AttachmentMissingError';
  }
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export function assertStoreKey(key: string): void {
  if (!KEY.test(key) || key.includes('..')) throw new Error(`attachment store key "${key}" is not a plain relative path`);
}

/**
 * The default store: one file per attachment under a directory (`attachments.dir`, by
 * default `<dataDir>/attachments` or the system's temporary directory). Bytes are written to
 * a `.partial` file and renamed when complete, so a reader never sees half a file.
 */
export class DirectoryStore implements AttachmentStore {
  readonly kind = 'directory';

  constructor(readonly dir: string) {}

  private file(key: string): string {
    assertStoreKey(key);
    return path.join(this.dir, key);
  }

  async put(key: string, body: Readable): Promise<void> {
    const file = this.file(key);
    await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const partial = `${file}.partial`;
    try {
      await pipeline(body, fs.createWriteStream(partial, { mode: 0o600 }));
      await fs.promises.rename(partial, file);
    } catch (error) {
      await fs.promises.rm(partial, { force: true }).catch(() => undefined);
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = this.file(key);
    const handle = await fs.promises.open(file, 'r').catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new AttachmentMissingError(key) : error;
    });
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async delete(key: string): Promise<void> {
    await fs.promises.rm(this.file(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    return fs.promises
      .stat(this.file(key))
      .then((s) => s.isFile())
      .catch(() => false);
  }
}
