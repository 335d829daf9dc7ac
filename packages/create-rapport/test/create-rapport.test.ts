import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageNameFor, parsePlugins, runStarter, STARTER_VERSION, systemFiles, type StarterIO } from 'create-rapport';

const workspace = new URL('../../../', import.meta.url);

function io(cwd: string, answers?: string[]) {
  let stdout = '';
  let stderr = '';
  const questions: string[] = [];
  const streams: StarterIO = {
    cwd,
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    ask: answers
      ? async (question) => {
          questions.push(question);
          if (answers.length === 0) throw new Error(`unexpected question: ${question}`);
          return answers.shift()!;
        }
      : undefined,
  };
  return { streams, stdout: () => stdout, stderr: () => stderr, questions };
}

const read = (...parts: string[]) => fs.readFileSync(path.join(...parts), 'utf8');

describe('create-rapport', () => {
  let tmp: string;
  beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'create-rapport-'))));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes a system: package.json, rapport.config.ts, .env.example, README and .gitignore', async () => {
    const run = io(tmp);
    expect(await runStarter(['acme-system', '--plugins', 'crm,prm'], run.streams)).toBe(0);
    expect(run.stderr()).toBe('');
    const dir = path.join(tmp, 'acme-system');
    expect(fs.readdirSync(dir).sort()).toEqual(['.env.example', '.gitignore', 'README.md', 'package.json', 'rapport.config.ts']);
    expect(run.stdout()).toContain('Created the Rapport system "acme-system" in acme-system, with @rapport/plugin-crm, @rapport/plugin-prm:');
    expect(run.stdout()).toContain('  cd acme-system\n  npm install\n');

    const pkg = JSON.parse(read(dir, 'package.json'));
    const range = `^${STARTER_VERSION}`;
    expect(pkg).toMatchObject({ name: 'acme-system', private: true, type: 'module', scripts: { start: 'rapport serve' } });
    expect(pkg.dependencies).toEqual({ '@rapport/cli': range, '@rapport/core': range, '@rapport/plugin-crm': range, '@rapport/plugin-prm': range });

    const config = read(dir, 'rapport.config.ts');
    expect(config).toContain("import { defineConfig } from '@rapport/cli';");
    expect(config).toContain("plugins: [\n    '@rapport/plugin-crm',\n    '@rapport/plugin-prm',\n  ],");
    expect(config).toContain("database: { dataDir: './.rapport' }");

    const env = read(dir, '.env.example');
    expect(env).toMatch(/^RAPPORT_BOOTSTRAP_KEY=$/m);
    expect(env).toMatch(/^RAPPORT_SECRET_KEY=$/m);
    expect(env).toMatch(/^# DATABASE_URL=postgres:\/\//m);
    expect(read(dir, '.gitignore').split('\n')).toEqual(expect.arrayContaining(['node_modules/', '.rapport/', '.env']));

    const readme = read(dir, 'README.md');
    for (const part of ['npm start', '.rapport/', 'DATABASE_URL', '## Add a plugin', 'npm install @rapport/plugin-hrm']) expect(readme).toContain(part);
  });

  it('writes its packages at the version of this release of Rapport', () => {
    // The starter, the CLI, core and the first-party plugins are released together.
    for (const dir of ['packages/core', 'packages/cli', 'plugins/crm', 'plugins/prm', 'plugins/hrm']) {
      const pkg = JSON.parse(fs.readFileSync(new URL(`${dir}/package.json`, workspace), 'utf8')) as { version: string };
      expect(pkg.version, dir).toBe(STARTER_VERSION);
    }
  });

  it('takes all three first-party plugins by default, none for the kernel alone', async () => {
    const all = io(tmp);
    expect(await runStarter(['all-of-them'], all.streams)).toBe(0);
    expect(Object.keys(JSON.parse(read(tmp, 'all-of-them/package.json')).dependencies)).toEqual(['@rapport/cli', '@rapport/core', '@rapport/plugin-crm', '@rapport/plugin-hrm', '@rapport/plugin-prm']);

    const kernel = io(tmp);
    expect(await runStarter(['kernel-only', '--plugins', 'none'], kernel.streams)).toBe(0);
    expect(read(tmp, 'kernel-only/rapport.config.ts')).toContain('plugins: [],');
    expect(kernel.stdout()).toContain('with the kernel alone:');
  });

  it('reads a plugin list in any order, with spaces or package names, once each', () => {
    expect(parsePlugins('hrm, crm')).toEqual(['crm', 'hrm']);
    expect(parsePlugins('prm prm @rapport/plugin-crm')).toEqual(['crm', 'prm']);
    expect(parsePlugins('NONE')).toEqual([]);
    expect(parsePlugins('')).toEqual([]);
    expect(() => parsePlugins('crm,erp')).toThrow('Unknown plugin "erp": choose from crm, prm, hrm (comma-separated), or "none" for the kernel alone');
  });

  it('names the package after the directory', () => {
    expect(packageNameFor('/srv/My Shiny System')).toBe('my-shiny-system');
    expect(packageNameFor('./_private')).toBe('private');
    expect(packageNameFor('/tmp/@@@')).toBe('rapport-system');
    expect(systemFiles({ name: 'x', plugins: [], version: '2.3.4' })['package.json']).toContain('"@rapport/cli": "^2.3.4"');
  });

  it('refuses, writing nothing: an unknown plugin, a directory that is not empty, no directory without a terminal', async () => {
    const unknown = io(tmp);
    expect(await runStarter(['erp-system', '--plugins', 'erp'], unknown.streams)).toBe(1);
    expect(unknown.stderr()).toBe('create-rapport: Unknown plugin "erp": choose from crm, prm, hrm (comma-separated), or "none" for the kernel alone\n');
    expect(fs.existsSync(path.join(tmp, 'erp-system'))).toBe(false);

    fs.mkdirSync(path.join(tmp, 'taken'));
    fs.writeFileSync(path.join(tmp, 'taken/notes.txt'), 'mine');
    const taken = io(tmp);
    expect(await runStarter(['taken'], taken.streams)).toBe(1);
    expect(taken.stderr()).toMatch(/^create-rapport: .*taken is not empty \(notes\.txt\); choose an empty or new directory\n$/);
    expect(fs.readdirSync(path.join(tmp, 'taken'))).toEqual(['notes.txt']);

    const nowhere = io(tmp);
    expect(await runStarter([], nowhere.streams)).toBe(1);
    expect(nowhere.stderr()).toBe('create-rapport: Give the directory of the new system: npm create rapport@latest my-system\n');

    const two = io(tmp);
    expect(await runStarter(['a', 'b'], two.streams)).toBe(1);
    expect(two.stderr()).toContain('create-rapport: one directory only, got 2: a b');

    const flag = io(tmp);
    expect(await runStarter(['x', '--plugin', 'crm'], flag.streams)).toBe(1);
    expect(flag.stderr()).toMatch(/^create-rapport: Unknown option '--plugin'/);
    expect(fs.existsSync(path.join(tmp, 'x'))).toBe(false);
  });

  it('on a terminal, asks for the directory and the plugins, and asks again after a wrong answer', async () => {
    const session = io(tmp, ['', 'crm, erp', 'crm hrm']);
    expect(await runStarter([], session.streams)).toBe(0);
    expect(session.questions).toEqual([
      'Directory of the new system (my-system): ',
      'Which ones, comma-separated, or "none" (crm,prm,hrm): ',
      'Which ones, comma-separated, or "none" (crm,prm,hrm): ',
    ]);
    expect(session.stdout()).toContain('  crm  @rapport/plugin-crm: customers and contacts');
    expect(session.stderr()).toBe('Unknown plugin "erp": choose from crm, prm, hrm (comma-separated), or "none" for the kernel alone\n');
    expect(Object.keys(JSON.parse(read(tmp, 'my-system/package.json')).dependencies)).toEqual(['@rapport/cli', '@rapport/core', '@rapport/plugin-crm', '@rapport/plugin-hrm']);

    // Enter takes every plugin; a flag given is not asked again.
    const defaults = io(tmp, ['']);
    expect(await runStarter(['asked-plugins'], defaults.streams)).toBe(0);
    expect(defaults.questions).toHaveLength(1);
    const flagged = io(tmp, []);
    expect(await runStarter(['flagged', '--plugins', 'prm'], flagged.streams)).toBe(0);
    expect(flagged.questions).toEqual([]);
  });

  it('prints its usage and version', async () => {
    const help = io(tmp);
    expect(await runStarter(['--help'], help.streams)).toBe(0);
    expect(help.stdout()).toContain('Usage: npm create rapport@latest [directory] [-- --plugins crm,prm,hrm]');
    const version = io(tmp);
    expect(await runStarter(['-v'], version.streams)).toBe(0);
    expect(version.stdout()).toBe(`${STARTER_VERSION}\n`);
  });
});
