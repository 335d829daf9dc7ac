import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
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

/** An upload no live job holds is a leftover once it has not been written to for this long. */
export const LEFTOVER_UPLOAD_AGE_MS = 3_600_000;

const UPLOAD_NAME = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.csv$/;

/**
 * Deletes the uploads of `dir` that nothing will read again: named after a job that is no
 * longer queued or running (its node crashed before deleting it) or after no job at all (the
 * node crashed mid-upload), and untouched for `LEFTOVER_UPLOAD_AGE_MS`. An upload still
 * arriving is being written to, and a live job's file is kept whatever its age, so the sweep
 * is safe while other nodes share the directory. Returns the names deleted.
 */
export async function sweepUploads(knex: Knex, dir: string, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const uploads = names.flatMap((name) => {
    const match = UPLOAD_NAME.exec(name);
    return match ? [{ name, jobId: match[1] }] : [];
  });
  if (uploads.length === 0) return [];
  const live: Array<{ id: string }> = await knex('rapport_jobs')
    .whereIn('status', ['queued', 'running'])
    .whereIn(
      'id',
      uploads.map((u) => u.jobId),
    )
    .select('id');
  const liveIds = new Set(live.map((row) => row.id));
  const deleted: string[] = [];
  for (const upload of uploads) {
    if (liveIds.has(upload.jobId)) continue;
    const file = path.join(dir, upload.name);
    const stat = await fs.promises.stat(file).catch(() => undefined);
    if (!stat || now - stat.mtimeMs < LEFTOVER_UPLOAD_AGE_MS) continue;
    await fs.promises.rm(file, { force: true });
    deleted.push(upload.name);
  }
  return deleted;
}

/**
 * Sweeps an upload directory when uploads arrive, at most once per `LEFTOVER_UPLOAD_AGE_MS`
 * (the first upload of a process sweeps): that is when the directory fills, and a node that
 * receives no uploads has nothing to add to it.
 */
export class UploadSweeper {
  private lastSweep = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly app: { knex: Knex; logger: Logger },
    readonly dir: string,
  ) {}

  /** Starts a sweep in the background if none ran for a while; never throws (a failure is logged). */
  sweepSoon(now = Date.now()): void {
    if (this.running || now - this.lastSweep < LEFTOVER_UPLOAD_AGE_MS) return;
    this.lastSweep = now;
    this.running = sweepUploads(this.app.knex, this.dir, now)
      .then((deleted) => {
        if (deleted.length) this.app.logger.info({ dir: this.dir, files: deleted }, `deleted ${deleted.length} leftover upload(s) of imports that ended without them`);
      })
      .catch((error) => this.app.logger.warn({ err: error, dir: this.dir }, 'could not sweep leftover uploads'))
      .finally(() => (this.running = undefined));
  }

  /** Waits for a sweep under way (tests). */
  async settled(): Promise<void> {
    await this.running;
  }
}
