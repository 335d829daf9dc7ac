#!/usr/bin/env node
// Publishes every public package of the workspace to a registry: `pnpm release --registry <url>`.
// pnpm replaces the `workspace:` ranges with the versions being published, packs only what
// each package's `files` lists, and skips versions the registry already has.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const at = args.indexOf('--registry');
const registry = at >= 0 ? args[at + 1] : process.env.RAPPORT_RELEASE_REGISTRY;
if (!registry || !/^https?:\/\//.test(registry)) {
  console.error('release: give the registry as --registry <http(s) url> (or RAPPORT_RELEASE_REGISTRY)');
  process.exit(2);
}
const run = (command, commandArgs) => {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
run('pnpm', ['build']);
run('pnpm', ['-r', '--filter', './packages/**', '--filter', './plugins/**', 'publish', '--registry', registry, '--no-git-checks', '--access', 'public', ...args.filter((a, i) => i !== at && i !== at + 1)]);
