import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
// A local S3-compatible server from npm: the S3 store is held to the same contract as the directory.
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttachmentMissingError, DirectoryStore, S3Store, type AttachmentStore } from '@rapport/core';

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function failing(after: string): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) {
        this.destroy(new Error('the client went away'));
        return;
      }
      sent = true;
      this.push(after);
    },
  });
}

/** What every AttachmentStore must do. */
function storeContract(name: string, open: () => Promise<{ store: AttachmentStore; close(): Promise<void> }>): void {
  describe(`attachment store contract: ${name}`, () => {
    let store: AttachmentStore;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store, close } = await open());
    });
    afterAll(async () => {
      await close?.();
    });

    it('stores a stream under a key and gives it back whole or by range', async () => {
      const body = 'The quick brown fox jumps over the lazy dog';
      await store.put('tenant-1/a', Readable.from([Buffer.from(body.slice(0, 10)), Buffer.from(body.slice(10))]));
      expect(await store.exists('tenant-1/a')).toBe(true);
      expect(await text(await store.get('tenant-1/a'))).toBe(body);
      expect(await text(await store.get('tenant-1/a', { start: 4, end: 8 }))).toBe('quick');
      expect(await text(await store.get('tenant-1/a', { start: 40, end: 42 }))).toBe('dog');
    });

    it('replaces what a key held', async () => {
      await store.put('tenant-1/b', Readable.from(['first']));
      await store.put('tenant-1/b', Readable.from(['second']));
      expect(await text(await store.get('tenant-1/b'))).toBe('second');
    });

    it('says a missing key is missing, and deletes idempotently', async () => {
      expect(await store.exists('tenant-1/none')).toBe(false);
      await expect(store.get('tenant-1/none')).rejects.toBeInstanceOf(AttachmentMissingError);
      await store.put('tenant-1/c', Readable.from(['x']));
      await store.delete('tenant-1/c');
      await store.delete('tenant-1/c');
      expect(await store.exists('tenant-1/c')).toBe(false);
    });

    it('fails a put whose stream fails, leaving nothing under the key', async () => {
      await expect(store.put('tenant-1/d', failing('half a file'))).rejects.toThrow();
      expect(await store.exists('tenant-1/d')).toBe(false);
    });

    it('refuses keys that are not plain relative paths', async () => {
      await expect(store.put('../escape', Readable.from(['x']))).rejects.toThrow(/not a plain relative path/);
      await expect(store.get('/etc/passwd')).rejects.toThrow(/not a plain relative path/);
    });
  });
}

storeContract('directory', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-store-'));
  return { store: new DirectoryStore(dir), close: async () => fs.rmSync(dir, { recursive: true, force: true }) };
});

storeContract('s3 (against s3rver)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-s3rver-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const address = await server.run();
  const store = new S3Store({
    bucket: 'rapport-test',
    prefix: 'system-1/',
    // Multipart uploads of 5 MiB parts; the small bodies here go as one part.
    partSize: 5 * 1024 * 1024,
    client: {
      endpoint: `http://127.0.0.1:${address.port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    },
  });
  await store.client.send(new CreateBucketCommand({ Bucket: 'rapport-test' }));
  return {
    store,
    close: async () => {
      store.client.destroy();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
