import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import { RapportError, ValidationError } from '../errors.js';

export class PayloadTooLargeError extends RapportError {
  constructor(limit: number) {
    super(413, 'payload-too-large', `The upload is larger than the limit of ${limit} bytes (imports.maxUploadBytes)`, { limit });
  }
}

export interface ReceivedUpload {
  path: string;
  bytes: number;
  /** Deletes the file; never throws. */
  remove(): Promise<void>;
}

/**
 * Streams a request body to a new file under `dir`, never holding more than a chunk in
 * memory. A body announced or found larger than `maxBytes` is refused with 413 and its file
 * deleted; the rest of an oversized body is drained (not stored) so the client reads the 413
 * instead of a reset connection.
 */
export async function receiveUpload(req: IncomingMessage, options: { dir: string; name: string; maxBytes: number }): Promise<ReceivedUpload> {
  const announced = Number(req.headers['content-length']);
  if (Number.isFinite(announced) && announced > options.maxBytes) {
    req.resume();
    throw new PayloadTooLargeError(options.maxBytes);
  }
  await fs.promises.mkdir(options.dir, { recursive: true, mode: 0o700 });
  const file = path.join(options.dir, options.name);
  const remove = () => fs.promises.rm(file, { force: true }).catch(() => undefined);
  try {
    const bytes = await new Promise<number>((resolve, reject) => {
      const out = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
      let bytes = 0;
      let failed = false;
      const fail = (error: Error) => {
        if (failed) return;
        failed = true;
        req.unpipe(out);
        out.destroy();
        req.resume();
        reject(error);
      };
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > options.maxBytes) fail(new PayloadTooLargeError(options.maxBytes));
      });
      req.on('aborted', () => fail(new ValidationError('The upload was interrupted before the whole body arrived')));
      req.on('error', (error) => fail(new ValidationError(`The upload failed: ${error.message}`)));
      out.on('error', (error) => fail(error));
      out.on('finish', () => {
        if (!failed) resolve(bytes);
      });
      req.pipe(out);
    });
    return { path: file, bytes, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
