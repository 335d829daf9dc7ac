import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect } from 'vitest';
import type { PluginDefinition } from '@rapport/core';
import { createTestApp, type TestApp } from '@rapport/testing';
import { rapport } from './helpers.js';

const workspace = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The generated package cannot `npm install` here (no registry copy of @rapport/*), so it is
 * linked to the workspace: its third-party imports through node_modules symlinks, and
 * @rapport/core and @rapport/testing to their sources (tsc paths, vitest aliases).
 */
function linkDependencies(dir: string): void {
  const links: Record<string, string> = {
    zod: 'packages/core/node_modules/zod',
    vitest: 'node_modules/vitest',
    tsup: 'node_modules/tsup',
    '@types/node': 'node_modules/@types/node',
    'openapi-typescript': 'packages/client/node_modules/openapi-typescript',
  };
  for (const [name, target] of Object.entries(links)) {
    const at = path.join(dir, 'node_modules', name);
    fs.mkdirSync(path.dirname(at), { recursive: true });
    fs.symlinkSync(path.join(workspace, target), at, 'dir');
  }
}

/** Typechecks the package with its own tsconfig.json, as `npm run typecheck` would. */
export function typecheckNow(dir: string): string[] {
  const file = path.join(dir, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile);
  if (error) return [ts.flattenDiagnosticMessageText(error.messageText, '\n')];
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, dir);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    paths: {
      '@rapport/core': [path.join(workspace, 'packages/core/src/index.ts')],
      '@rapport/testing': [path.join(workspace, 'packages/testing/src/index.ts')],
    },
  };
  const program = ts.createProgram(parsed.fileNames, options);
  return [...parsed.errors, ...ts.getPreEmitDiagnostics(program)].map((d) => {
    const where = d.file ? `${path.relative(dir, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}

export interface ScaffoldedSystem {
  /** The directory create-plugin ran in. */
  tmp: string;
  /** The generated package. */
  dir: string;
  /** A test system running the generated plugin, imported as written (vitest compiles its TypeScript). */
  t: TestApp;
  /** Stops the system and removes the directory. */
  close(): Promise<void>;
}

/** `rapport create-plugin loyalty-points` in a fresh directory, linked to the workspace, and a test system running the plugin it wrote. */
export async function scaffoldLoyaltyPlugin(): Promise<ScaffoldedSystem> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-create-plugin-'));
  const result = await rapport(['create-plugin', 'loyalty-points', '--dir', 'plugins/loyalty'], { cwd: tmp });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const dir = path.join(tmp, 'plugins/loyalty');
  expect(result.stdout).toContain('Created plugin "loyalty-points" (package rapport-plugin-loyalty-points) in plugins/loyalty');
  linkDependencies(dir);
  const { default: plugin } = (await import(path.join(dir, 'src/index.ts'))) as { default: PluginDefinition };
  const t = await createTestApp({ plugins: [plugin] });
  return {
    tmp,
    dir,
    t,
    async close() {
      await t.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
