import type { Readable } from 'node:stream';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type * as S3Storage from '@aws-sdk/lib-storage';
import { lazyModule } from '../util/lazy-module.js';
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
// The SDK is loaded when the first store is made: a system keeping files on disk never pays for it.
const s3Sdk = lazyModule<typeof S3Sdk>('@aws-sdk/client-s3');
const s3Storage = lazyModule<typeof S3Storage>('@aws-sdk/lib-storage');

export class S3Store implements AttachmentStore {
  readonly kind = 's3';
  readonly client: S3Client;
  private readonly prefix: string;

  constructor(private readonly options: S3StoreOptions) {
    this.client = new (s3Sdk().S3Client)(options.client ?? {});
    this.prefix = options.prefix ?? '';
  }

  private key(key: string): string {
    assertStoreKey(key);
    return this.prefix + key;
  }

  async put(key: string, body: Readable): Promise<void> {
    const upload = new (s3Storage().Upload)({
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
      const answer = await this.client.send(new (s3Sdk().GetObjectCommand)({ Bucket: this.options.bucket, Key: this.key(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      return answer.Body as Readable;
    } catch (error) {
      if (isMissing(error)) throw new AttachmentMissingError(key);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new (s3Sdk().DeleteObjectCommand)({ Bucket: this.options.bucket, Key: this.key(key) }));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new (s3Sdk().HeadObjectCommand)({ Bucket: this.options.bucket, Key: this.key(key) }));
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
