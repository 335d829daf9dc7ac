#!/usr/bin/env node
// Builds every package: the JavaScript of each with tsup (esbuild; no package needs another's
// build for its own, since workspace dependencies stay external) all in parallel, and the
// declarations of all with one incremental `tsc -b` over the project references beside it
// (no type check: `pnpm typecheck` does that). A second build with nothing changed is quick.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const run = (command, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit' });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
    child.on('error', reject);
  });

const started = performance.now();
await Promise.all([
  run('pnpm', ['-r', '--parallel', '--reporter-hide-prefix', '--filter', './packages/**', '--filter', './plugins/**', 'exec', 'tsup', '--silent']),
  run('tsc', ['-b', 'tsconfig.build.json']),
]);
// The client's path types are a hand-kept .d.ts (generated from OpenAPI), which tsc does not copy.
fs.copyFileSync('packages/client/src/schema.d.ts', 'packages/client/dist/types/src/schema.d.ts');
console.log(`built every package in ${((performance.now() - started) / 1000).toFixed(1)} s`);
