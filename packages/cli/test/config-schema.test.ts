import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRapport } from '@rapport/core';
import { configFileReference, loadConfig } from '../src/config.js';

/*
 * The configuration is checked by a schema before anything starts: a misspelt key stops the
 * start with one message naming it and the nearest valid one, a wrong type names the
 * setting, and docs/operations.md documents every setting from the same schema.
 */
const dirs: string[] = [];
function configDir(file: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-config-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, file), text);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('configuration checked by its schema', () => {
  it.each([
    ['prot', '{ "prot": 4001 }', /unknown setting "prot" — did you mean "port"\?/],
    ['tenantNmae', '{ "tenantNmae": "Acme" }', /unknown setting "tenantNmae" — did you mean "tenantName"\?/],
    ['dispatcher.allowPrivateNetwork', '{ "dispatcher": { "allowPrivateNetwork": true } }', /unknown setting "dispatcher.allowPrivateNetwork" — did you mean "dispatcher.allowPrivateNetworks"\?/],
    [
      'limits.perPrincipal.request',
      '{ "limits": { "perPrincipal": { "request": 5, "windowSeconds": 60 } } }',
      /unknown setting "limits.perPrincipal.request" — did you mean "limits.perPrincipal.requests"\?/,
    ],
  ])('refuses a misspelt key (%s) in rapport.config.json, naming it and the nearest valid one', async (_name, text, message) => {
    const dir = configDir('rapport.config.json', text);
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(message);
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(/rapport\.config\.json: /);
  });

  it('refuses a key with nothing near it, listing what the level takes', async () => {
    const dir = configDir('rapport.config.json', '{ "http": { "zzz": 1 } }');
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(
      /unknown setting "http.zzz" \(http takes: bodyLimit, maxPageSize, sessionTtlSeconds, checkResponses, shutdownGraceMs, cors, console\)/,
    );
  });

  it.each([
    ['{ "port": "4000" }', /port: Invalid input: expected number, received string/],
    ['{ "dispatcher": { "maxAttempts": -1 } }', /dispatcher\.maxAttempts: Too small/],
    ['{ "logLevel": "loud" }', /logLevel: Invalid option/],
    ['{ "database": { "url": "mysql://x" } }', /database\.url: .*postgres:\/\/ URL/],
    ['{ "plugins": "@rapport/plugin-crm" }', /plugins: Invalid input: expected array/],
  ])('refuses a wrong type, naming the setting (%s)', async (text, message) => {
    const dir = configDir('rapport.config.json', text);
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(message);
  });

  it('checks a configuration given to createRapport in code as well', async () => {
    await expect(createRapport({ tenantNmae: 'Acme', database: { dataDir: 'memory://' } } as never)).rejects.toThrow(/unknown setting "tenantNmae" — did you mean "tenantName"\?/);
  });

  it('documents every setting in docs/operations.md from the same schema', () => {
    const docs = fs.readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
    const table = configFileReference();
    expect(table).toContain('| `dispatcher.allowPrivateNetworks` | boolean |');
    expect(table).toContain('| `limits.perPrincipal` |');
    const generated = /<!-- settings:begin -->\n([\s\S]*?)\n<!-- settings:end -->/.exec(docs)?.[1];
    expect(generated, 'docs/operations.md lacks the settings table between its markers').toBeDefined();
    expect(generated, 'docs/operations.md settings table is out of date: copy configFileReference() into it').toBe(table);
  });
});
