import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '@rapport/testing';
import { scaffoldLoyaltyPlugin, typecheckNow, type ScaffoldedSystem } from './scaffold.js';

/*
 * The generated plugin as its author's compiler and client generator see it. Neither depends
 * on the database under test (the OpenAPI document is the same on both), so this file runs
 * once, on an embedded database; create-plugin.test.ts runs the plugin on both.
 */
describe('rapport create-plugin, compiled', { timeout: 120_000 }, () => {
  let system: ScaffoldedSystem;
  let dir: string;
  let t: TestApp;

  beforeAll(async () => {
    system = await scaffoldLoyaltyPlugin();
    ({ dir, t } = system);
  });
  afterAll(() => system?.close());

  it('typechecks (sources, test and configs) against the workspace packages', async () => {
    expect(typecheckNow(dir)).toEqual([]);
  });

  it('generates the typed paths of a running system with `npm run generate:client`, installable with npm next to TypeScript 6', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    expect(pkg.scripts['generate:client']).toBe('node scripts/generate-client.mjs');
    // openapi-typescript 7 declares a peer typescript ^5: the override points it at the project's own (npm would refuse it otherwise).
    expect(pkg.devDependencies).toMatchObject({ 'openapi-typescript': expect.stringMatching(/^\^7\./), typescript: expect.stringMatching(/^\^6\./) });
    expect(pkg.overrides).toEqual({ 'openapi-typescript': { typescript: '$typescript' } });

    const server = await t.app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['scripts/generate-client.mjs', url], { cwd: dir }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout))),
    );
    expect(out).toContain(`wrote src/api-paths.d.ts from ${url}`);
    const paths = fs.readFileSync(path.join(dir, 'src/api-paths.d.ts'), 'utf8');
    expect(paths).toContain('"/api/v1/loyalty-points/items"');
    expect(paths).toContain('"/api/v1/parties"');
    // The generated file is part of the package's sources and typechecks with them, used as the client's paths.
    fs.writeFileSync(
      path.join(dir, 'src/client-use.ts'),
      `import type { paths } from './api-paths.js';
export type ItemsAnswer = paths['/api/v1/loyalty-points/items']['get']['responses'][200]['content']['application/json'];
export const title = (answer: ItemsAnswer): string | undefined => answer.data[0]?.title;
`,
    );
    try {
      expect(typecheckNow(dir)).toEqual([]);
    } finally {
      fs.rmSync(path.join(dir, 'src/client-use.ts'));
      fs.rmSync(path.join(dir, 'src/api-paths.d.ts'));
    }
  });
});
