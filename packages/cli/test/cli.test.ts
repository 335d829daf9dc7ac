import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '@rapport/core';
import { isolatedDatabase, testDatabaseKind, type IsolatedDatabase } from '@rapport/testing';
import { run } from '../src/index.js';
import { capture, FIXTURE_PLUGIN, rapport, writePluginPackage, type CliResult } from './helpers.js';

/**
 * The commands against a real database: a PGlite data directory in a temp folder, or a
 * fresh schema of the test PostgreSQL. Every command opens and closes the system itself,
 * exactly as the binary does.
 */
// Each command opens the database afresh, as the binary does; creating a PGlite data directory on a busy machine takes a while.
describe('rapport commands', { timeout: 180_000 }, () => {
  const kind = testDatabaseKind();
  let dir: string;
  let env: Record<string, string>;
  let postgres: IsolatedDatabase | undefined;
  const cli = (...args: string[]): Promise<CliResult> => rapport(args, { cwd: dir, env });
  async function tableExists(table: string): Promise<boolean>;
  async function tableExists(...tables: string[]): Promise<boolean[]>;
  async function tableExists(...tables: string[]): Promise<boolean | boolean[]> {
    const db = openDatabase(kind === 'postgres' ? postgres!.config : { dataDir: path.join(dir, 'data') });
    try {
      const found = [];
      for (const table of tables) found.push(await db.knex.schema.hasTable(table));
      return tables.length === 1 ? found[0] : found;
    } finally {
      await db.close();
    }
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-cli-'));
    writePluginPackage(dir, 'rapport-plugin-fixture', FIXTURE_PLUGIN);
    const config: Record<string, unknown> = { plugins: ['rapport-plugin-fixture'], tenantName: 'CLI Co' };
    if (kind === 'postgres') {
      postgres = await isolatedDatabase('postgres');
      config.database = { schema: postgres.config.schema };
      env = { DATABASE_URL: postgres.config.url! };
    } else {
      env = { RAPPORT_DATA_DIR: 'data' };
    }
    fs.writeFileSync(path.join(dir, 'rapport.config.json'), JSON.stringify(config, null, 2));
  });
  afterAll(async () => {
    await postgres?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('migrates the kernel and the plugins, and lists what is pending without changing anything', async () => {
    const status = await cli('migrate', '--status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^core\s+kernel\s+\d+ pending: 0001_kernel/m);
    expect(status.stdout).toMatch(/^fixture\s+not installed\s+1 pending: 0001_notes/m);
    expect(await tableExists('fixture_notes')).toBe(false);

    const first = await cli('migrate');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('core/0001_kernel');
    expect(first.stdout).toContain('fixture/0001_notes');
    expect(await tableExists('fixture_notes')).toBe(true);

    const again = await cli('migrate');
    expect(again.stdout).toBe('Nothing to migrate: the kernel and the enabled plugins are up to date.\n');
    expect((await cli('migrate', '--status')).stdout).toMatch(/^fixture\s+enabled\s+up to date$/m);
  });

  it('disables, enables and uninstalls a plugin, keeping its data unless --purge is given', async () => {
    const state = async () => JSON.parse((await cli('plugins', 'list', '--json')).stdout).find((p: { name: string }) => p.name === 'fixture');
    expect(await state()).toMatchObject({ version: '1.0.0', installedVersion: '1.0.0', state: 'enabled', configured: true });
    const table = await cli('plugins', 'list');
    expect(table.stdout).toMatch(/^NAME\s+VERSION\s+INSTALLED\s+STATE\s+DESCRIPTION\nfixture\s+1\.0\.0\s+1\.0\.0\s+enabled\s+Loaded by package name/);

    const disabled = await cli('plugins', 'disable', 'fixture');
    expect(disabled).toMatchObject({ code: 0, stdout: expect.stringContaining('Plugin "fixture" disabled; its data is kept.') });
    expect((await state()).state).toBe('disabled');
    expect(await tableExists('fixture_notes')).toBe(true);

    expect((await cli('plugins', 'enable', 'fixture')).stdout).toContain('Plugin "fixture" enabled (version 1.0.0)');

    const kept = await cli('plugins', 'uninstall', 'fixture');
    expect(kept.stdout).toContain('Plugin "fixture" uninstalled; its data was kept.');
    expect((await state()).state).toBe('uninstalled');
    expect(await tableExists('fixture_notes')).toBe(true);

    const purged = await cli('plugins', 'uninstall', 'fixture', '--purge');
    expect(purged).toMatchObject({ code: 0, stdout: 'Plugin "fixture" uninstalled and purged: its tables were dropped.\n' });
    expect(await tableExists('fixture_notes', 'rapport_parties')).toEqual([false, true]);

    expect((await cli('plugins', 'enable', 'fixture')).stdout).toContain('installed again and enabled');
    expect(await tableExists('fixture_notes')).toBe(true);

    const unknown = await cli('plugins', 'disable', 'nope');
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toBe('rapport: Plugin "nope" is not in the configuration (configured: fixture); add it to the plugins of rapport.config.ts first\n');
  });

  it('creates an API key whose token authenticates against `rapport serve`, then stops gracefully', async () => {
    const created = await cli('keys', 'create', '--name', 'ci', '--role', 'admin');
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^rpk_[\w-]{20,}$/);
    expect(created.stderr).toContain('Created API key "ci"');
    expect(created.stderr).toContain('shown this once');

    expect((await cli('keys', 'create', '--name', 'x')).stderr).toMatch(/^rapport: Give the key at least one --role \(roles of this tenant: .*admin/);
    expect((await cli('keys', 'create', '--name', 'x', '--role', 'wizard')).stderr).toMatch(/^rapport: Unknown role wizard/);
    expect((await cli('keys', 'create', '--name', 'x', '--role', 'viewer', '--scoped')).stderr).toMatch(/--scoped needs --party/);
    expect((await cli('keys', 'create', '--name', 'x', '--role', 'viewer', '--party', '0190a0a0-0000-7000-8000-000000000001')).code).toBe(1);

    // --port beats PORT (which would fail: port 1 is privileged).
    const abort = new AbortController();
    const out = capture();
    const err = capture();
    const serving = run(['serve', '--port', '0', '--host', '127.0.0.1'], { stdout: out.stream, stderr: err.stream, env: { ...env, PORT: '1' }, cwd: dir, signal: abort.signal, handleSignals: false });
    let stopped = false;
    void serving.finally(() => (stopped = true));
    const baseUrl = await waitFor(() => {
      if (stopped) throw new Error(`serve ended early: ${err.text()}`);
      return /listening on (http:\/\/[\d.:]+)/.exec(out.text())?.[1];
    });
    try {
      const tenant = await fetch(`${baseUrl}/api/v1/tenant`, { headers: { authorization: `Bearer ${token}` } });
      expect(tenant.status).toBe(200);
      expect(((await tenant.json()) as { name: string }).name).toBe('CLI Co');
      expect((await fetch(`${baseUrl}/api/v1/tenant`, { headers: { authorization: 'Bearer rpk_not-a-key' } })).status).toBe(401);
      expect((await fetch(`${baseUrl}/api/v1/tenant`)).status).toBe(401);

      if (kind === 'pglite') {
        // A second Rapport on the same data directory is refused while the first serves.
        const second = await cli('migrate');
        expect(second.code).toBe(1);
        expect(second.stderr).toBe(
          `rapport: The data directory ${path.join(dir, 'data')} is in use by another Rapport instance in this process (pid ${process.pid}, since ${lockSince(path.join(dir, 'data'))}). ` +
            'Stop that process, or point RAPPORT_DATA_DIR at another directory; set DATABASE_URL to share one PostgreSQL between processes.\n',
        );
      }
      expect(stopped).toBe(false);
    } finally {
      abort.abort();
    }
    expect(await serving).toBe(0);
    const logs = out
      .text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line).msg);
    expect(logs).toEqual(expect.arrayContaining([expect.stringMatching(/^Rapport listening on http:\/\/127\.0\.0\.1:\d+/), expect.stringMatching(/^shutting down/), 'stopped']));
    if (kind === 'pglite') expect(fs.existsSync(path.join(dir, 'data', 'rapport.lock'))).toBe(false);
  });

  it('imports a CSV with a per-row error report and says the run completed', async () => {
    fs.writeFileSync(
      path.join(dir, 'people.csv'),
      ['kind,name,email', 'person,Ada,ada@example.com', 'robot,Robo,', 'person,Grace,grace@example', 'organization,"Acme, Inc.",sales@acme.example'].join('\n'),
    );
    const result = await cli('import', 'parties', 'people.csv', '--errors', 'rejected.csv', '--batch-size', '2');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^parties: 2 imported, 2 rejected, 4 rows read in [\d.]+ s \(\d+ rows\/s\)\.$/m);
    expect(result.stdout).toContain(`Rejected rows are listed in ${path.join(dir, 'rejected.csv')} (line, column, message).`);
    expect(result.stdout).toContain('The import completed; the rejected rows were skipped and every other row was kept.');
    expect(fs.readFileSync(path.join(dir, 'rejected.csv'), 'utf8')).toBe(
      ['line,column,message', '3,kind,"""robot"" is not one of person, organization, unit"', '4,email,"""grace@example"" is not an e-mail address"', ''].join('\n'),
    );

    fs.writeFileSync(
      path.join(dir, 'calls.csv'),
      ['type,subject,participant_emails', 'fixture.call,Hello,ada@example.com:caller;sales@acme.example:callee', 'fixture.call,Oops,ada@example.com:boss'].join('\n'),
    );
    const calls = await cli('import', 'interactions', 'calls.csv');
    expect(calls.code).toBe(0);
    expect(calls.stdout).toMatch(/^interactions: 1 imported, 1 rejected/m);
    expect(calls.stderr).toContain('  line 3, participant_emails: role "boss" is not one of caller, callee (type fixture.call)');

    // --summary-events: the same rows, one interactions.imported event for the batch instead of one per row.
    const summarized = await cli('import', 'interactions', 'calls.csv', '--summary-events');
    expect(summarized.code).toBe(0);
    expect(summarized.stdout).toMatch(/^interactions: 1 imported, 1 rejected/m);
    const db = openDatabase(kind === 'postgres' ? postgres!.config : { dataDir: path.join(dir, 'data') });
    try {
      const events: Array<{ name: string; payload: unknown }> = await db
        .knex('rapport_outbox')
        .whereIn('name', ['interaction.created', 'interactions.imported'])
        .orderBy('occurred_at')
        .select('name', 'payload');
      expect(events.map((e) => e.name)).toEqual(['interaction.created', 'interactions.imported']);
      const summary = (typeof events[1].payload === 'string' ? JSON.parse(events[1].payload) : events[1].payload) as { count: number; interactionIds: string[]; partyIds: string[] };
      expect(summary.count).toBe(1);
      expect(summary.interactionIds).toHaveLength(1);
      expect(summary.partyIds).toHaveLength(2);
    } finally {
      await db.close();
    }

    const unknown = await cli('import', 'widgets', 'people.csv');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^rapport: Unknown importer "widgets"; available: parties, interactions\n$/);
    fs.writeFileSync(path.join(dir, 'broken.csv'), 'kind,name\nperson,Fine\nperson,"never closed\n');
    const broken = await cli('import', 'parties', 'broken.csv');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/rapport: the import stopped: The CSV file cannot be read: the quoted value of the record on line \d+ is never closed.*The 1 rows imported before it are kept\./);
    expect((await cli('import', '--list')).stdout).toMatch(/^parties — .*\n {2}kind \(required\)/);
  });

  it('imports several files in one command, in order, with one report naming each file', async () => {
    fs.writeFileSync(path.join(dir, 'crew.csv'), ['kind,name,email', 'person,Linus,linus@example.com', 'person,,nobody@example.com'].join('\n'));
    // The calls resolve Linus by e-mail: only possible because crew.csv ran first.
    fs.writeFileSync(path.join(dir, 'crew-calls.csv'), ['type,subject,participant_emails', 'fixture.call,Kick-off,linus@example.com:caller', 'fixture.call,Lost,ghost@example.com:caller'].join('\n'));
    const result = await cli('import', 'parties', 'crew.csv', 'interactions', 'crew-calls.csv', '--errors', 'crew-rejected.csv');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^parties: 1 imported, 1 rejected, 2 rows read/m);
    expect(result.stdout).toMatch(/^interactions: 1 imported, 1 rejected, 2 rows read/m);
    expect(result.stdout).toContain(`Rejected rows are listed in ${path.join(dir, 'crew-rejected.csv')} (file, line, column, message).`);
    const report = fs.readFileSync(path.join(dir, 'crew-rejected.csv'), 'utf8').trim().split('\n');
    expect(report[0]).toBe('file,line,column,message');
    expect(report.slice(1).map((line) => line.split(',').slice(0, 3).join(','))).toEqual(['crew.csv,3,name', 'crew-calls.csv,3,participant_emails']);

    // A bad pair anywhere is refused before the first file is touched.
    const before = await cli('import', 'parties', 'crew.csv', 'widgets', 'crew-calls.csv');
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/^rapport: Unknown importer "widgets"/);
    expect(before.stdout).toBe('');
    expect((await cli('import', 'parties')).stderr).toMatch(/Give each importer its CSV file/);
  });

  it('refuses a data directory another live process holds, naming it and the pid, and takes over a stale lock', async () => {
    const dataDir = path.join(dir, 'locked');
    fs.mkdirSync(dataDir, { recursive: true });
    const lockFile = path.join(dataDir, 'rapport.lock');
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(lockFile, JSON.stringify({ pid: holder.pid, since: '2024-01-01T00:00:00.000Z' }));
      const refused = await rapport(['migrate'], { cwd: dir, env: { RAPPORT_DATA_DIR: dataDir } });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toBe(
        `rapport: The data directory ${dataDir} is in use by another Rapport process (pid ${holder.pid}, since 2024-01-01T00:00:00.000Z). ` +
          'Stop that process, or point RAPPORT_DATA_DIR at another directory; set DATABASE_URL to share one PostgreSQL between processes.\n',
      );
    } finally {
      holder.kill();
    }
    await new Promise((resolve) => holder.once('exit', resolve));
    // Its process is gone: the lock is stale and the next Rapport takes it over.
    const db = openDatabase({ dataDir });
    expect(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid).toBe(process.pid);
    expect(() => openDatabase({ dataDir })).toThrow(`The data directory ${dataDir} is in use by another Rapport instance in this process (pid ${process.pid}`);
    await db.close();
    expect(fs.existsSync(lockFile)).toBe(false);
  });
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function lockSince(dataDir: string): string {
  return JSON.parse(fs.readFileSync(path.join(dataDir, 'rapport.lock'), 'utf8')).since;
}
