import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INITIAL_JS_BUDGET_BYTES, measureInitialJs } from '@rapport/console';
import { rapport } from './helpers.js';

/*
 * `rapport console build` over a system whose plugin has a console part: the part's strings
 * and lazy page end up in the build, a plugin without one is skipped, a second build with
 * nothing changed does not run Vite, and the sign-in page stays within its JavaScript budget.
 */
function writePackage(dir: string, name: string, files: Record<string, string>, exports: Record<string, string>) {
  const root = path.join(dir, 'node_modules', name);
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', exports }));
  for (const [file, source] of Object.entries(files)) fs.writeFileSync(path.join(root, file), source);
}

describe('rapport console build', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-console-build-'));
    writePackage(
      tmp,
      'with-console',
      {
        'index.js': "export default { name: 'with-console', version: '1.0.0' };",
        'console.js': `export default {
          id: 'with-console',
          messages: { en: { title: 'Loyalty points' }, uk: { title: 'Бонусні бали' } },
          pages: [{ path: 'loyalty', title: 'title', component: () => import('./page.js') }],
        };`,
        'page.js': "import { createElement } from 'react';\nexport default function Page() { return createElement('p', null, 'loyalty-page-marker'); }",
      },
      { '.': './index.js', './console': './console.js' },
    );
    writePackage(tmp, 'server-only', { 'index.js': "export default { name: 'server-only', version: '1.0.0' };" }, { '.': './index.js' });
    fs.writeFileSync(path.join(tmp, 'rapport.config.json'), JSON.stringify({ plugins: ['with-console', 'server-only'] }));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('builds the console with the console parts of the config’s plugins, within the sign-in budget', async () => {
    const result = await rapport(['console', 'build'], { cwd: tmp });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Built the console in dist/console (plugin console parts: with-console).');
    const out = path.join(tmp, 'dist', 'console');
    const assets = fs.readdirSync(path.join(out, 'assets'));
    const js = assets.filter((f) => f.endsWith('.js')).map((f) => fs.readFileSync(path.join(out, 'assets', f), 'utf8'));
    expect(js.some((source) => source.includes('Бонусні бали'))).toBe(true);
    // The page is a chunk of its own, loaded when opened.
    const pageChunk = assets.find((f) => fs.readFileSync(path.join(out, 'assets', f), 'utf8').includes('loyalty-page-marker'))!;
    const initial = measureInitialJs(out);
    expect(initial.files).not.toContain(`assets/${pageChunk}`);
    expect(initial.bytes).toBeGreaterThan(10_000);
    expect(initial.bytes).toBeLessThanOrEqual(INITIAL_JS_BUDGET_BYTES);
    expect(result.stdout).toContain(`Sign-in page: ${(initial.bytes / 1024).toFixed(1)} KB of JavaScript gzipped (budget 250 KB).`);
  });

  it('does not build again when nothing changed, and does after a plugin’s console part changes', async () => {
    const again = await rapport(['console', 'build'], { cwd: tmp });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Up to date: the console in dist/console');
    const file = path.join(tmp, 'node_modules', 'with-console', 'console.js');
    const later = new Date(Date.now() + 5_000);
    fs.utimesSync(file, later, later);
    const rebuilt = await rapport(['console', 'build'], { cwd: tmp });
    expect(rebuilt.stdout).toContain('Built the console');
  });

  it('is served by rapport serve from dist/console beside the config', async () => {
    const { loadConfig } = await import('../src/config.js');
    const config = await loadConfig({ cwd: tmp, env: {} });
    expect(config.http?.console?.dir).toBe(path.join(tmp, 'dist', 'console'));
    expect(config.pluginPackages).toEqual(['with-console', 'server-only']);
  });
});
