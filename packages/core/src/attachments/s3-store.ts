import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { AttachmentMissingError, assertStoreKey, type AttachmentStore, type ByteRange } from './store.js';

export interface S3StoreOptions {
  bucket: string;
  /** Prepended to every key (`rapport/`), so one bucket can serve several systems. */
  prefix?: string;
  /** Passed to the AWS SDK v3 client: region, endpoint (MinIO, Ceph, R2…), credentials, forcePathStyle. */
  client?: S3ClientConfig;
  /** Bytes per part of a multipart upload (default 8 MiB; S3's minimum is 5 MiB). */
  partSize?: number;
}

/**
 * Attachments in an S3-compatible bucket (AWS SDK v3). Uploads go through `lib-storage`'s
 * multipart `Upload`, which reads the stream one part at a time: memory holds a part or two
 * (`queueSize` 2), never the file.
 */
export class S3Store implements AttachmentStore {
  readonly kind = 's3';
  readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly options: S3StoreOptions) {
    this.client = new S3Client(options.client ?? {});
    this.prefix = options.prefix ?? '';
  }

  private key(key: string): string {
    assertStoreKey(key);
    return this.prefix + key;
  }

  async put(key: string, body: Readable): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: this.key(key), Body: body },
      partSize: this.options.partSize ?? 8 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      return answer.Body as Readable;
    } catch (error) {
      if (isMissing(error)) throw new AttachmentMissingError(key);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }
}

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
