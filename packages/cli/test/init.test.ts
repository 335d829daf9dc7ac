import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemFiles } from 'create-rapport';
import { withDotEnv } from '../src/dotenv.js';
import { rapport } from './helpers.js';

const workspace = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(workspace, 'packages/cli/dist/bin.js');

/** The built `rapport` in `cwd`, with only PATH from the environment (and what `env` adds). */
function rapportBin(args: string[], cwd: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
}

describe('rapport init', () => {
  let tmp: string;
  beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-init-'))));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes the same system as npm create rapport (one implementation)', async () => {
    const result = await rapport(['init', 'acme', '--plugins', 'crm,hrm'], { cwd: tmp });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Created the Rapport system "acme" in acme, with @rapport/plugin-crm, @rapport/plugin-hrm:');
    const expected = systemFiles({ name: 'acme', plugins: ['crm', 'hrm'] });
    for (const [file, content] of Object.entries(expected)) expect(fs.readFileSync(path.join(tmp, 'acme', file), 'utf8'), file).toBe(content);
    expect(fs.readdirSync(path.join(tmp, 'acme')).sort()).toEqual(Object.keys(expected).sort());
  });

  it('refuses bad input with one line, writing nothing', async () => {
    const unknown = await rapport(['init', 'nope', '--plugins', 'crm,erp'], { cwd: tmp });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('rapport: Unknown plugin "erp": choose from crm, prm, hrm (comma-separated), or "none" for the kernel alone\n');
    expect(fs.existsSync(path.join(tmp, 'nope'))).toBe(false);

    const nowhere = await rapport(['init'], { cwd: tmp });
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toBe('rapport: Give the directory of the new system: rapport init my-system\n');

    const again = await rapport(['init', 'acme'], { cwd: tmp });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^rapport: .*acme is not empty \(.*\); choose an empty or new directory\n$/);
  });

  it('writes a system that starts on the embedded database in ./.rapport', () => {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm build\` first (the root \`pnpm test\` does)`);
    const created = rapportBin(['init', 'kernel', '--plugins', 'none'], tmp);
    expect(created.status, created.stderr).toBe(0);
    const system = path.join(tmp, 'kernel');
    // What `npm install` would put there: the CLI its rapport.config.ts imports.
    fs.mkdirSync(path.join(system, 'node_modules/@rapport'), { recursive: true });
    fs.symlinkSync(path.join(workspace, 'packages/cli'), path.join(system, 'node_modules/@rapport/cli'), 'dir');

    const migrated = rapportBin(['migrate'], system);
    expect(migrated.stderr).toBe('');
    expect(migrated.status).toBe(0);
    expect(migrated.stdout).toMatch(/^Applied \d+ migrations:\n {2}core\//);
    expect(fs.existsSync(path.join(system, '.rapport'))).toBe(true);
  });
});

describe('.env in the current directory', () => {
  let tmp: string;
  beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-dotenv-'))));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('fills in what the environment does not set', () => {
    fs.writeFileSync(path.join(tmp, '.env'), '# a comment\nRAPPORT_DATA_DIR=./from-dotenv\nLOG_LEVEL="warn"\nPORT=5000\n');
    expect(withDotEnv({ PORT: '6000', HOME: '/root' }, tmp)).toEqual({ RAPPORT_DATA_DIR: './from-dotenv', LOG_LEVEL: 'warn', PORT: '6000', HOME: '/root' });
    const none = { PORT: '1' };
    expect(withDotEnv(none, path.join(tmp, 'missing'))).toBe(none);
  });

  it('reaches the commands: the data directory it names is used, unless the environment names another', async () => {
    fs.writeFileSync(path.join(tmp, 'rapport.config.json'), JSON.stringify({ plugins: [] }));
    const fromFile = await rapport(['migrate'], { cwd: tmp });
    expect(fromFile.stderr).toBe('');
    expect(fromFile.code).toBe(0);
    expect(fs.existsSync(path.join(tmp, 'from-dotenv'))).toBe(true);

    const fromEnv = await rapport(['migrate'], { cwd: tmp, env: { RAPPORT_DATA_DIR: './from-env' } });
    expect(fromEnv.code).toBe(0);
    expect(fs.existsSync(path.join(tmp, 'from-env'))).toBe(true);
  });
});
