import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedDatabase, testDatabaseKind, type IsolatedDatabase } from '@rapport/testing';

/*
 * A 50 MB attachment up and down through a real `rapport serve` process, its resident memory
 * read from /proc while the bytes flow: streaming means the server's RSS rises by far less
 * than the file. Not a timing test. Needs the built CLI (`pnpm build`; the root `pnpm test` builds).
 */
const workspace = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(workspace, 'packages/cli/dist/bin.js');
const KEY = 'attachment-memory-test-key-0123456789';
const FILE_BYTES = 50 * 1024 * 1024;
const CHUNK = 256 * 1024;
// Below the file's 50 MB, so a buffered body fails; above the 26–31 MB that V8's young
// generation alone reaches on PostgreSQL before a scavenge (docs/attachments.md).
const MAX_RISE_BYTES = 40 * 1024 * 1024;

function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb[1]) * 1024;
}

/** Deterministic, not all one byte (so nothing downstream could compress it away). */
function chunkAt(index: number): Buffer {
  const chunk = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i += 4) chunk.writeUInt32LE((index * 2654435761 + i * 40503) >>> 0, i);
  return chunk;
}

function listeningPort(server: ChildProcess, output: { text: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.text += chunk.toString();
      const match = /"port":(\d+).*Rapport listening on/.exec(output.text);
      if (match) resolve(Number(match[1]));
    };
    server.stdout!.on('data', onData);
    server.stderr!.on('data', onData);
    server.once('exit', (code) => reject(new Error(`rapport serve exited (${code}) before listening:\n${output.text}`)));
  });
}

describe('a 50 MB attachment through `rapport serve`', { timeout: 300_000 }, () => {
  let tmp: string;
  let server: ChildProcess | undefined;
  let database: IsolatedDatabase | undefined;
  let base: string;
  const auth = { authorization: `Bearer ${KEY}` };
  const output = { text: '' };

  beforeAll(async () => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm build\` first (the root \`pnpm test\` does)`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-attachment-memory-'));
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', RAPPORT_BOOTSTRAP_KEY: KEY, LOG_LEVEL: 'info' };
    const config: Record<string, unknown> = { tenantName: 'Memory Test', attachments: { dir: path.join(tmp, 'files'), maxFileBytes: 64 * 1024 * 1024 } };
    if (testDatabaseKind() === 'postgres') {
      database = await isolatedDatabase('postgres');
      env.DATABASE_URL = database.config.url!;
      config.database = { schema: database.config.schema };
    } else {
      config.database = { dataDir: path.join(tmp, 'data') };
    }
    fs.writeFileSync(path.join(tmp, 'rapport.config.json'), JSON.stringify(config, null, 2));
    server = spawn(process.execPath, [bin, 'serve', '--port', '0', '--host', '127.0.0.1'], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
    base = `http://127.0.0.1:${await listeningPort(server, output)}`;
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await database?.dispose();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const upload = (partyId: string, chunks: number, name: string) => {
    const hash = createHash('sha256');
    async function* body() {
      for (let i = 0; i < chunks; i++) {
        const chunk = chunkAt(i);
        hash.update(chunk);
        yield chunk;
      }
    }
    const answer = fetch(`${base}/api/v1/attachments?recordType=party&recordId=${partyId}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="${name}"` },
      body: ReadableStream.from(body()),
      duplex: 'half',
    });
    return { answer, digest: () => hash.digest('hex') };
  };

  const downloadHash = async (id: string): Promise<{ sha256: string; bytes: number; status: number }> => {
    const res = await fetch(`${base}/api/v1/attachments/${id}/content`, { headers: auth });
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    return { sha256: hash.digest('hex'), bytes, status: res.status };
  };

  it('streams it up and down with the server’s RSS rising by less than 40 MB, below the file’s 50 MB', async () => {
    const party = (await (
      await fetch(`${base}/api/v1/parties`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'organization', name: 'Bulk Files Ltd' }) })
    ).json()) as { id: string };
    // Warm up: every module of the path loaded, pools and buffers made.
    for (let i = 0; i < 2; i++) {
      const warm = upload(party.id, 8, 'warm.bin');
      const answer = (await (await warm.answer).json()) as { id: string };
      expect((await downloadHash(answer.id)).status).toBe(200);
    }
    const pid = server!.pid!;
    const baseline = rssOf(pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, rssOf(pid));
    }, 20);
    try {
      const big = upload(party.id, FILE_BYTES / CHUNK, 'big.bin');
      const res = await big.answer;
      expect(res.status).toBe(201);
      const attachment = (await res.json()) as { id: string; size: number; sha256: string };
      expect(attachment.size).toBe(FILE_BYTES);
      expect(attachment.sha256).toBe(big.digest());
      expect(fs.statSync(path.join(tmp, 'files', (await tenantDir()) ?? '', attachment.id)).size).toBe(FILE_BYTES);
      const down = await downloadHash(attachment.id);
      expect(down).toEqual({ sha256: attachment.sha256, bytes: FILE_BYTES, status: 200 });
      peak = Math.max(peak, rssOf(pid));
    } finally {
      clearInterval(sampler);
    }
    const rise = peak - baseline;
    expect(rise, `RSS rose by ${(rise / 1024 / 1024).toFixed(1)} MB (baseline ${(baseline / 1024 / 1024).toFixed(1)} MB)`).toBeLessThan(MAX_RISE_BYTES);
  });

  async function tenantDir(): Promise<string | undefined> {
    return fs.readdirSync(path.join(tmp, 'files'))[0];
  }
});
