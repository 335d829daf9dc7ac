import fs from 'node:fs';
import path from 'node:path';
import { run } from '../src/index.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function capture() {
  let text = '';
  return {
    stream: { write: (chunk: string) => ((text += chunk), true), isTTY: false },
    text: () => text,
  };
}

/** Runs `rapport <args>` in-process in `cwd` with exactly `env` (nothing from the real environment). */
export async function rapport(args: string[], options: { cwd: string; env?: Record<string, string>; signal?: AbortSignal }): Promise<CliResult> {
  const out = capture();
  const err = capture();
  const code = await run(args, { stdout: out.stream, stderr: err.stream, env: options.env ?? {}, cwd: options.cwd, signal: options.signal, handleSignals: false });
  return { code, stdout: out.text(), stderr: err.text() };
}

/**
 * A plugin published as a package (`node_modules/<name>`), so a config can name it by
 * string. Plain ESM with no imports: it is loaded by Node's own import, like a real one.
 */
export function writePluginPackage(dir: string, name: string, source: string): void {
  const root = path.join(dir, 'node_modules', name);
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', exports: { '.': { import: './index.js' } } }));
  fs.writeFileSync(path.join(root, 'index.js'), source);
}

export const FIXTURE_PLUGIN = `
export default {
  name: 'fixture',
  version: '1.0.0',
  description: 'Loaded by package name in the CLI tests',
  migrations: [
    {
      name: '0001_notes',
      up: (knex) => knex.schema.createTable('fixture_notes', (t) => { t.uuid('tenant_id').notNullable(); t.text('body'); }),
      down: (knex) => knex.schema.dropTable('fixture_notes'),
    },
  ],
  setup(api) {
    api.interactionTypes.define({ key: 'fixture.call', title: 'Call', participantRoles: ['caller', 'callee'] });
  },
};
`;
