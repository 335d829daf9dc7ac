import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedDatabase, testDatabaseKind, type IsolatedDatabase } from '@rapport/testing';

/*
 * What a new user does, following docs/plugin-guide.md and docs/cli.md, with the built
 * `rapport` command (packages/cli/dist/bin.js; the root `pnpm test` builds before vitest):
 * scaffold a plugin, build it, add it to a system's rapport.config, start the server, and
 * see the plugin's route in /api/v1/openapi.json and the /docs page answering.
 */
const workspace = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(workspace, 'packages/cli/dist/bin.js');
const BOOTSTRAP_KEY = 'new-user-walkthrough-key-0123456789';

function rapport(args: string[], cwd: string) {
  return spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
}

/**
 * `npm install` in the new package would fetch @rapport/* from a registry that does not have
 * this checkout's versions, so its dependencies are linked to the workspace instead.
 */
function linkDependencies(dir: string): void {
  const links: Record<string, string> = {
    '@rapport/core': 'packages/core',
    zod: 'packages/core/node_modules/zod',
    tsup: 'node_modules/tsup',
    typescript: 'node_modules/typescript',
    '@types/node': 'node_modules/@types/node',
  };
  for (const [name, target] of Object.entries(links)) {
    const at = path.join(dir, 'node_modules', name);
    fs.mkdirSync(path.dirname(at), { recursive: true });
    fs.symlinkSync(path.join(workspace, target), at, 'dir');
  }
}

/** Resolves with the port once `rapport serve` logs that it listens. */
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

describe('a new user: create-plugin → build → rapport.config → serve → /docs', { timeout: 90_000 }, () => {
  let tmp: string;
  let database: IsolatedDatabase | undefined;
  let server: ChildProcess | undefined;
  let base: string;
  const output = { text: '' };

  beforeAll(async () => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm build\` first (the root \`pnpm test\` does)`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-new-user-'));
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGKILL');
      await new Promise((resolve) => server!.once('exit', resolve));
    }
    await database?.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('scaffolds the plugin with `rapport create-plugin`', () => {
    const created = rapport(['create-plugin', 'supplier-audits'], tmp);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    expect(created.stdout).toContain('Created plugin "supplier-audits" (package rapport-plugin-supplier-audits) in supplier-audits');
  });

  it('builds it (`npm run build`: tsup, ESM + CJS + .d.ts)', () => {
    const dir = path.join(tmp, 'supplier-audits');
    linkDependencies(dir);
    const build = spawnSync(process.execPath, [path.join(dir, 'node_modules/tsup/dist/cli-default.js')], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    expect(build.status, build.stderr + build.stdout).toBe(0);
    for (const file of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts']) expect(fs.existsSync(path.join(dir, file)), file).toBe(true);
  });

  it('adds it to a system and serves it: its route is in /api/v1/openapi.json, /docs answers, the route works', async () => {
    // The system's own package depends on the plugin package (here: linked, as `npm install ../supplier-audits` would).
    const system = path.join(tmp, 'my-system');
    fs.mkdirSync(path.join(system, 'node_modules'), { recursive: true });
    fs.symlinkSync(path.join(tmp, 'supplier-audits'), path.join(system, 'node_modules/rapport-plugin-supplier-audits'), 'dir');
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', RAPPORT_BOOTSTRAP_KEY: BOOTSTRAP_KEY, LOG_LEVEL: 'info' };
    const config: Record<string, unknown> = { plugins: ['rapport-plugin-supplier-audits'], tenantName: 'New User Ltd' };
    if (testDatabaseKind() === 'postgres') {
      database = await isolatedDatabase('postgres');
      env.DATABASE_URL = database.config.url!;
      config.database = { schema: database.config.schema };
    } else {
      config.database = { dataDir: './data' };
    }
    fs.writeFileSync(path.join(system, 'rapport.config.json'), JSON.stringify(config, null, 2));

    server = spawn(process.execPath, [bin, 'serve', '--port', '0', '--host', '127.0.0.1'], { cwd: system, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const port = await listeningPort(server, output);
    base = `http://127.0.0.1:${port}`;

    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { 'x-plugin'?: string }>> };
    expect(Object.keys(doc.paths['/api/v1/supplier-audits/items']).sort()).toEqual(['get', 'post']);
    expect(doc.paths['/api/v1/supplier-audits/items'].post['x-plugin']).toBe('supplier-audits');

    const docs = await fetch(`${base}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('swagger-ui');

    const auth = { authorization: `Bearer ${BOOTSTRAP_KEY}`, 'content-type': 'application/json' };
    const party = (await (await fetch(`${base}/api/v1/parties`, { method: 'POST', headers: auth, body: JSON.stringify({ kind: 'organization', name: 'Steelworks' }) })).json()) as { id: string };
    const item = await fetch(`${base}/api/v1/supplier-audits/items`, { method: 'POST', headers: auth, body: JSON.stringify({ partyId: party.id, title: 'First audit' }) });
    expect(item.status).toBe(201);
    const list = (await (await fetch(`${base}/api/v1/supplier-audits/items`, { headers: auth })).json()) as { data: Array<{ title: string }> };
    expect(list.data.map((i) => i.title)).toEqual(['First audit']);
  });

  it('stops gracefully on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => server!.once('exit', resolve));
    server!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output.text).toContain('"msg":"stopped"');
  });
});
