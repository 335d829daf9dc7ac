import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, loadConfig } from '../src/index.js';
import { FIXTURE_PLUGIN, rapport, writePluginPackage } from './helpers.js';

describe('configuration', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-config-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const project = (name: string, files: Record<string, string>) => {
    const root = path.join(dir, name);
    fs.mkdirSync(root, { recursive: true });
    for (const [file, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), content);
    }
    return root;
  };

  it('takes flags over environment over the config file over defaults', async () => {
    const cwd = project('precedence', {
      // TypeScript syntax on purpose: the file is compiled on the fly.
      'rapport.config.ts': `
        const port: number = 5001;
        export default { port, host: 'file-host', tenantName: 'File Co', logLevel: 'error', bootstrapKey: 'file-key-0123456789',
          database: { url: 'postgres://file/db', dataDir: 'file-data' }, http: { maxPageSize: 50 } };`,
    });
    const env = { PORT: '5002', HOST: 'env-host', DATABASE_URL: 'postgres://env/db', RAPPORT_BOOTSTRAP_KEY: 'env-key-0123456789', LOG_LEVEL: 'warn', RAPPORT_TENANT_NAME: 'Env Co' };

    const flags = await loadConfig({ cwd, env, overrides: { port: '5003', host: 'flag-host', databaseUrl: 'postgres://flag/db', logLevel: 'debug' } });
    expect(flags).toMatchObject({ port: 5003, host: 'flag-host', logLevel: 'debug', database: { url: 'postgres://flag/db' } });

    const fromEnv = await loadConfig({ cwd, env });
    expect(fromEnv).toMatchObject({ port: 5002, host: 'env-host', logLevel: 'warn', bootstrapKey: 'env-key-0123456789', tenantName: 'Env Co', database: { url: 'postgres://env/db' } });

    const fromFile = await loadConfig({ cwd, env: {} });
    expect(fromFile).toMatchObject({ port: 5001, host: 'file-host', logLevel: 'error', bootstrapKey: 'file-key-0123456789', tenantName: 'File Co', http: { maxPageSize: 50 } });
    expect(fromFile.database).toEqual({ url: 'postgres://file/db', dataDir: path.join(cwd, 'file-data') });
    expect(fromFile.configFile).toBe(path.join(cwd, 'rapport.config.ts'));

    const defaults = await loadConfig({ cwd: project('empty', {}), env: {} });
    // With no config file, every first-party plugin installed in the workspace is loaded.
    expect(defaults).toMatchObject({ port: 4000, host: '0.0.0.0', configFile: null });
    expect(defaults.plugins.map((p) => p.name).sort()).toEqual(['crm', 'hrm', 'prm']);
    expect(defaults.database).toEqual({ dataDir: path.join(dir, 'empty', '.rapport') });
    expect(defaults.bootstrapKey).toBeUndefined();

    // RAPPORT_DATA_DIR and --data-dir are relative to the working directory; an empty variable counts as unset.
    expect((await loadConfig({ cwd, env: { RAPPORT_DATA_DIR: 'env-data', PORT: '' } })).database).toMatchObject({ dataDir: path.join(cwd, 'env-data') });
    expect((await loadConfig({ cwd, env: { RAPPORT_DATA_DIR: 'env-data' }, overrides: { dataDir: '/abs/flag-data' } })).database).toMatchObject({ dataDir: '/abs/flag-data' });
    await expect(loadConfig({ cwd, env: { PORT: 'eighty' } })).rejects.toThrow('PORT must be a port number (0-65535), not "eighty"');
  });

  it("loads plugins named by package, from the config file's directory, and refuses what is not a plugin", async () => {
    const cwd = project('plugins', {
      'config/rapport.config.json': JSON.stringify({ plugins: ['rapport-plugin-fixture'] }),
    });
    writePluginPackage(path.join(cwd, 'config'), 'rapport-plugin-fixture', FIXTURE_PLUGIN);
    const config = await loadConfig({ cwd, env: {}, config: 'config/rapport.config.json' });
    expect(config.plugins.map((p) => [p.name, p.version])).toEqual([['fixture', '1.0.0']]);
    expect(typeof config.plugins[0].setup).toBe('function');

    const missing = project('missing-plugin', { 'rapport.config.json': JSON.stringify({ plugins: ['rapport-plugin-nowhere'] }) });
    await expect(loadConfig({ cwd: missing, env: {} })).rejects.toThrow(/Plugin package "rapport-plugin-nowhere" \(rapport.config.json plugins\[0\]\) is not installed/);

    const notPlugin = project('not-plugin', { 'rapport.config.mjs': "export default { plugins: ['not-a-plugin'] };" });
    writePluginPackage(notPlugin, 'not-a-plugin', 'export default { hello: "world" };');
    await expect(loadConfig({ cwd: notPlugin, env: {} })).rejects.toThrow(/package "not-a-plugin" is not a Rapport plugin/);

    await expect(loadConfig({ cwd, env: {}, config: 'nope.json' })).rejects.toBeInstanceOf(CliError);
    const broken = project('broken-json', { 'rapport.config.json': '{ "port": ' });
    await expect(loadConfig({ cwd: broken, env: {} })).rejects.toThrow(/Cannot load .*rapport.config.json/);
  });

  it('reports a start-up error in one line, with the stack only at debug level', async () => {
    const cwd = project('bad-plugin', {
      'rapport.config.mjs': "export default { plugins: [{ name: 'future', version: '1.0.0', requires: { core: '^9.0.0' } }] };",
    });
    const plain = await rapport(['migrate'], { cwd });
    expect(plain.code).toBe(1);
    expect(plain.stderr.trim().split('\n')).toHaveLength(1);
    expect(plain.stderr).toMatch(/^rapport: Plugin "future": .*\^9\.0\.0/);
    const debug = await rapport(['migrate'], { cwd, env: { LOG_LEVEL: 'debug' } });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);

    const missingConfig = await rapport(['--config', 'nope.ts', 'plugins', 'list'], { cwd });
    expect(missingConfig).toMatchObject({ code: 1, stderr: `rapport: Config file ${path.join(cwd, 'nope.ts')} does not exist\n` });
    const unknown = await rapport(['frobnicate'], { cwd });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const help = await rapport(['--help'], { cwd });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('serve');
  });
});
