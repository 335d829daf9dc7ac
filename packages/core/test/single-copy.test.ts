import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSingleCoreCopy, CORE_COPIES, packageDirOf, registerCoreCopy } from '../src/app/single-copy.js';

const source = new URL('../src/app/single-copy.ts', import.meta.url);

describe('one copy of @rapport/core per process', () => {
  it('accepts the same copy registered any number of times', () => {
    const holder = {};
    const copy = { path: '/srv/app/node_modules/@rapport/core', version: '0.1.0' };
    registerCoreCopy(copy, holder);
    registerCoreCopy({ ...copy }, holder);
    expect(() => assertSingleCoreCopy(copy, holder)).not.toThrow();
    expect(() => assertSingleCoreCopy(copy, holder)).not.toThrow();
  });

  it('refuses two copies at different paths, naming both and the first one first', () => {
    const holder = {};
    const system = { path: '/srv/app/node_modules/@rapport/core', version: '0.1.0' };
    const plugin = { path: '/home/dev/acme-audits/node_modules/@rapport/core', version: '0.1.0' };
    registerCoreCopy(system, holder);
    registerCoreCopy(plugin, holder);
    const refusal = () => assertSingleCoreCopy(system, holder);
    expect(refusal).toThrow(
      'Two different copies of @rapport/core are loaded in this process: /srv/app/node_modules/@rapport/core (version 0.1.0) was loaded first, then /home/dev/acme-audits/node_modules/@rapport/core (version 0.1.0).',
    );
    expect(refusal).toThrow(/peer dependency/);
    // Whichever copy starts the system, the answer is the same.
    expect(() => assertSingleCoreCopy(plugin, holder)).toThrow(/loaded first, then \/home\/dev\/acme-audits/);
  });

  it('keeps its registry under the global symbol, hidden from enumeration', () => {
    const holder = {};
    registerCoreCopy({ path: '/a', version: '1.0.0' }, holder);
    expect(Object.keys(holder)).toEqual([]);
    expect((holder as Record<symbol, unknown>)[Symbol.for('rapport.core')]).toEqual({ copies: [{ path: '/a', version: '1.0.0' }] });
    expect(CORE_COPIES).toBe(Symbol.for('rapport.core'));
  });

  it('identifies a copy by its package directory', () => {
    expect(packageDirOf(source.href)).toBe(fs.realpathSync(new URL('..', import.meta.url)));
  });
});

/**
 * The real mechanism, across module instances: the module compiled into two package
 * directories (as two installs of @rapport/core would be), loaded in a fresh Node process.
 */
describe('copies loaded from two installs', () => {
  let tmp: string;
  const install = (dir: string, version: string): string => {
    const root = path.join(tmp, dir, 'node_modules/@rapport/core');
    fs.mkdirSync(path.join(root, 'dist/app'), { recursive: true });
    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: '@rapport/core', version, type: 'module' }));
    fs.writeFileSync(path.join(root, 'dist/version.js'), `export const CORE_VERSION = ${JSON.stringify(version)};\n`);
    const compiled = ts.transpileModule(fs.readFileSync(source, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    fs.writeFileSync(path.join(root, 'dist/app/single-copy.js'), compiled.outputText);
    return pathToFileURL(path.join(root, 'dist/app/single-copy.js')).href;
  };
  /** Imports the modules in order, then starts as the first one would; prints what happened. */
  const load = (urls: string[]): string => {
    const script = `
      const loaded = [];
      for (const url of ${JSON.stringify(urls)}) loaded.push(await import(url));
      try { loaded[0].assertSingleCoreCopy(); console.log('started'); } catch (error) { console.log(error.message); }
    `;
    return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
  };

  let system: string;
  let plugin: string;
  beforeAll(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-single-copy-')));
    system = install('system', '0.1.0');
    plugin = install('acme-audits', '0.1.1');
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('starts on one copy, even loaded twice as two module instances', () => {
    expect(load([system, `${system}?again`])).toBe('started');
  });

  it('refuses to start once a second install has been loaded, naming both paths', () => {
    const message = load([system, plugin]);
    expect(message).toContain('Two different copies of @rapport/core are loaded in this process:');
    expect(message).toContain(`${path.join(tmp, 'system/node_modules/@rapport/core')} (version 0.1.0) was loaded first`);
    expect(message).toContain(`then ${path.join(tmp, 'acme-audits/node_modules/@rapport/core')} (version 0.1.1)`);
  });

  it('refuses a symlinked install only when it points at another copy', () => {
    const linked = path.join(tmp, 'linked');
    fs.mkdirSync(path.join(linked, 'node_modules/@rapport'), { recursive: true });
    fs.symlinkSync(path.join(tmp, 'system/node_modules/@rapport/core'), path.join(linked, 'node_modules/@rapport/core'), 'dir');
    // Node resolves the link to the real file: the same copy as `system`.
    const viaLink = pathToFileURL(path.join(linked, 'node_modules/@rapport/core/dist/app/single-copy.js')).href;
    expect(load([system, viaLink])).toBe('started');
  });
});
