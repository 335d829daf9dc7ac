#!/usr/bin/env node
// `pnpm start`: installs and builds only when needed, then serves the full suite. On a fresh
// clone that is `pnpm install` and the whole build; on a tree installed and built before, a
// restart goes straight to the server; after an edit, only the changed packages are rebuilt.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
process.chdir(root);

const run = (command, args) => {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

// Install when the lockfile differs from the one last installed (or nothing is installed).
const lockHash = createHash('sha256').update(fs.readFileSync('pnpm-lock.yaml')).digest('hex');
const stamp = path.join('node_modules', '.rapport-installed-lock');
if (!fs.existsSync(stamp) || fs.readFileSync(stamp, 'utf8') !== lockHash) {
  run('pnpm', ['install', '--frozen-lockfile']);
  fs.writeFileSync(stamp, lockHash);
}

// Build when a package's sources or build configuration are newer than its build.
const packages = [
  'packages/core',
  'packages/cli',
  'packages/client',
  'packages/testing',
  'packages/create-rapport',
  'packages/console-sdk',
  'packages/console',
  'plugins/crm',
  'plugins/prm',
  'plugins/hrm',
  'plugins/crm/contract',
  'plugins/prm/contract',
  'plugins/hrm/contract',
];
const newest = (dir) => {
  let latest = 0;
  if (!fs.existsSync(dir)) return latest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs);
  }
  return latest;
};
const builtAt = (dir) => {
  const outputs = [path.join(dir, 'dist/index.js'), path.join(dir, 'dist/types/src/index.d.ts')];
  return outputs.every((f) => fs.existsSync(f)) ? Math.min(...outputs.map((f) => fs.statSync(f).mtimeMs)) : 0;
};
const stale = packages.filter((dir) => {
  const inputs = Math.max(
    newest(path.join(dir, 'src')),
    ...['package.json', 'tsup.config.ts', 'tsconfig.json', 'tsconfig.build.json'].map((f) => (fs.existsSync(path.join(dir, f)) ? fs.statSync(path.join(dir, f)).mtimeMs : 0)),
  );
  return inputs > builtAt(dir);
});
if (stale.length > 0) {
  console.log(`rebuilding ${stale.join(', ')}`);
  run('pnpm', ['build']);
}

// The console, when its sources, the SDK or a plugin's console part are newer than its build
// (`rapport console build` checks and returns at once otherwise).
run('node', ['packages/cli/dist/bin.js', 'console', 'build', '--config', 'examples/full-suite/rapport.config.ts']);

// The server as a child that gets the signals this process gets: an orchestrator's SIGTERM
// reaches it, and it stops gracefully.
const server = spawn('node', ['packages/cli/dist/bin.js', 'serve', '--config', 'examples/full-suite/rapport.config.ts', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
