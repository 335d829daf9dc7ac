import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/index.js';
import { capture, rapport } from './helpers.js';

// onListen is the config's hook for work that needs the served API (the full-suite example seeds demo data with it).
describe('rapport serve: onListen in the configuration', () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-on-listen-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function writeConfig(name: string, onListen: string): string {
    const file = path.join(dir, `${name}.mjs`);
    fs.writeFileSync(file, `export default { plugins: [], database: { dataDir: './data-${name}' }, tenantName: 'Hook Co', onListen: ${onListen} };\n`);
    return file;
  }

  it('runs once the server listens, with the app, a URL that answers and the logger', async () => {
    const seen = path.join(dir, 'seen.json');
    const config = writeConfig(
      'ok',
      `async ({ app, url, logger }) => {
        const health = await fetch(url + '/health');
        logger.info('hook ran');
        (await import('node:fs')).writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ url, health: health.status, tenant: app.defaultTenant.name }));
      }`,
    );
    const abort = new AbortController();
    const out = capture();
    const err = capture();
    const serving = run(['serve', '--config', config, '--port', '0', '--host', '0.0.0.0'], { stdout: out.stream, stderr: err.stream, env: {}, cwd: dir, signal: abort.signal, handleSignals: false });
    const deadline = Date.now() + 30_000;
    while (!fs.existsSync(seen) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    expect(await serving, err.text()).toBe(0);
    const result = JSON.parse(fs.readFileSync(seen, 'utf8'));
    // A wildcard bind is reached through the loopback address.
    expect(result).toEqual({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), health: 200, tenant: 'Hook Co' });
    const messages = out
      .text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line).msg);
    expect(messages.indexOf('hook ran')).toBeGreaterThan(messages.findIndex((m) => m.startsWith('Rapport listening on')));
  });

  it('starts the background loops on the embedded database once a first request is answered, not before', async () => {
    const seen = path.join(dir, 'background.json');
    const config = writeConfig(
      'background',
      `async ({ app, url }) => {
        const before = app.scheduler.started;
        await (await fetch(url + '/health')).arrayBuffer();
        while (!app.scheduler.started) await new Promise((r) => setTimeout(r, 10));
        (await import('node:fs')).writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ before, after: app.scheduler.started }));
      }`,
    );
    const abort = new AbortController();
    const err = capture();
    const serving = run(['serve', '--config', config, '--port', '0', '--host', '127.0.0.1'], {
      stdout: capture().stream,
      stderr: err.stream,
      env: {},
      cwd: dir,
      signal: abort.signal,
      handleSignals: false,
    });
    const deadline = Date.now() + 60_000;
    while (!fs.existsSync(seen) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    expect(await serving, err.text()).toBe(0);
    expect(JSON.parse(fs.readFileSync(seen, 'utf8'))).toEqual({ before: false, after: true });
  });

  it('a failing hook stops the server and fails the command with its message', async () => {
    const config = writeConfig('fails', `async () => { throw new Error('demo data could not be loaded'); }`);
    const result = await rapport(['serve', '--config', config, '--port', '0', '--host', '127.0.0.1'], { cwd: dir, env: { LOG_LEVEL: 'silent' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`rapport: onListen in ${config} failed: demo data could not be loaded\n`);
    // Closed: the embedded database's lock is released.
    expect(fs.existsSync(path.join(dir, 'data-fails', 'rapport.lock'))).toBe(false);
  });

  it('refuses an onListen that is not a function', async () => {
    const config = writeConfig('bad', `'seed.js'`);
    const result = await rapport(['serve', '--config', config], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`rapport: ${config}: onListen: expected a function\n`);
  });
});
