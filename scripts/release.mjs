#!/usr/bin/env node
// Publishes every public package of the workspace to a registry:
//
//   pnpm release --registry <url> [--no-build] [--filter <package>]… [--dry-run] [--tag <tag>]
//
// Each package is packed with pnpm (which replaces the `workspace:` ranges with the versions
// being published and keeps only what the package's `files` lists), the tarball is checked
// — no `workspace:` range left, every file the manifest points at (main, module, types,
// exports, bin) inside it — and only then published, tarball as checked, with npm. A version
// the registry already has is skipped, so a release that stopped half-way can be run again.
// Authentication is npm's: a token for the registry in the user's .npmrc (or the file
// npm_config_userconfig names).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where the published packages live (examples are private and stay out). */
const PACKAGE_DIRS = ['packages', 'plugins', 'plugins/*/contract'];

class ReleaseError extends Error {}

function fail(message) {
  throw new ReleaseError(message);
}

function parseArguments(argv) {
  const options = { registry: process.env.RAPPORT_RELEASE_REGISTRY, build: true, filters: [], dryRun: false, tag: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) fail(`${arg} needs a value`);
      return next;
    };
    if (arg === '--registry') options.registry = value();
    else if (arg === '--filter') options.filters.push(value());
    else if (arg === '--tag') options.tag = value();
    else if (arg === '--no-build') options.build = false;
    else if (arg === '--dry-run') options.dryRun = true;
    else fail(`unknown argument ${arg}; usage: pnpm release --registry <url> [--no-build] [--filter <package>]… [--dry-run] [--tag <tag>]`);
  }
  if (!options.registry || !/^https?:\/\//.test(options.registry)) fail('give the registry as --registry <http(s) url> (or RAPPORT_RELEASE_REGISTRY)');
  return options;
}

/** The public packages of the workspace: { name, version, dir, manifest }. */
export function publicPackages() {
  const dirs = [];
  for (const pattern of PACKAGE_DIRS) {
    const [base, , rest] = pattern.split('/');
    for (const entry of fs.readdirSync(path.join(root, base), { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      dirs.push(rest ? path.join(root, base, entry.name, rest) : path.join(root, base, entry.name));
    }
  }
  return dirs
    .filter((dir) => fs.existsSync(path.join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => !manifest.private)
    .map(({ dir, manifest }) => ({ name: manifest.name, version: manifest.version, dir, manifest }));
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', stdio: options.capture ? 'pipe' : 'inherit', env: process.env });
  if (result.error) fail(`${command} ${args.join(' ')}: ${result.error.message}`);
  return result;
}

/** Every path a manifest points at: main, module, types, bin, and each target of exports. */
export function entryPoints(manifest) {
  const points = new Set();
  for (const field of ['main', 'module', 'types', 'typings']) if (typeof manifest[field] === 'string') points.add(manifest[field]);
  if (typeof manifest.bin === 'string') points.add(manifest.bin);
  else for (const target of Object.values(manifest.bin ?? {})) points.add(target);
  const walk = (value) => {
    if (typeof value === 'string') points.add(value);
    else if (value && typeof value === 'object') for (const inner of Object.values(value)) walk(inner);
  };
  walk(manifest.exports);
  // Patterns (./*) name no single file.
  return [...points].filter((p) => !p.includes('*')).map((p) => p.replace(/^\.\//, ''));
}

const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies'];

/** What is wrong with a packed tarball, as sentences (none when it may be published). */
export function tarballProblems(tarball) {
  const listing = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
  if (listing.status !== 0) return [`cannot list ${tarball}: ${listing.stderr.trim()}`];
  const files = new Set(
    listing.stdout
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, '')),
  );
  const manifestText = spawnSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' });
  if (manifestText.status !== 0) return ['the tarball has no package/package.json'];
  const manifest = JSON.parse(manifestText.stdout);
  const problems = [];
  for (const field of DEPENDENCY_FIELDS) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${field}.${name} is still "${range}"`);
    }
  }
  for (const file of entryPoints(manifest)) if (!files.has(file)) problems.push(`${file}, which the manifest points at, is not in the tarball (not built, or left out of "files")`);
  for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md']) if (!files.has(file)) problems.push(`${file} is not in the tarball`);
  return problems;
}

function alreadyPublished(pkg, registry) {
  const view = run('npm', ['view', `${pkg.name}@${pkg.version}`, 'version', '--registry', registry], { capture: true });
  return view.status === 0 && view.stdout.trim() === pkg.version;
}

function selected(packages, filters) {
  if (filters.length === 0) return packages;
  const matches = (name, filter) =>
    new RegExp(
      `^${filter
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    ).test(name);
  const chosen = packages.filter((pkg) => filters.some((filter) => matches(pkg.name, filter)));
  for (const filter of filters) if (!packages.some((pkg) => matches(pkg.name, filter))) fail(`--filter ${filter} matches no public package (${packages.map((p) => p.name).join(', ')})`);
  return chosen;
}

function main() {
  const options = parseArguments(process.argv.slice(2));
  const packages = selected(publicPackages(), options.filters);

  if (options.build) {
    // Each selected package with what it depends on, in dependency order.
    const build = run('pnpm', ['-r', ...packages.flatMap((pkg) => ['--filter', `${pkg.name}...`]), 'build']);
    if (build.status !== 0) fail('the build failed; nothing was published');
  }

  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-release-'));
  try {
    const tarballs = [];
    for (const [index, pkg] of packages.entries()) {
      const destination = path.join(out, String(index));
      const packed = spawnSync('pnpm', ['pack', '--pack-destination', destination], { cwd: pkg.dir, encoding: 'utf8' });
      if (packed.status !== 0) fail(`${pkg.name}: pnpm pack failed:\n${packed.stderr || packed.stdout}`);
      const [file] = fs.readdirSync(destination).filter((f) => f.endsWith('.tgz'));
      if (!file) fail(`${pkg.name}: pnpm pack wrote no tarball into ${destination}`);
      const tarball = path.join(destination, file);
      const problems = tarballProblems(tarball);
      if (problems.length > 0) fail(`${pkg.name}@${pkg.version} cannot be published:\n  ${problems.join('\n  ')}\nNothing was published.`);
      tarballs.push({ pkg, tarball });
    }
    // Every tarball checked before the first is published: a release is all or nothing, as far as we can tell.
    for (const { pkg, tarball } of tarballs) {
      if (alreadyPublished(pkg, options.registry)) {
        console.log(`${pkg.name}@${pkg.version}: already in ${options.registry}, skipped`);
        continue;
      }
      const args = ['publish', tarball, '--registry', options.registry, '--access', 'public'];
      if (options.tag) args.push('--tag', options.tag);
      if (options.dryRun) args.push('--dry-run');
      const published = run('npm', args, { capture: true });
      if (published.status !== 0) fail(`${pkg.name}@${pkg.version}: npm publish failed:\n${(published.stderr || published.stdout).trim()}`);
      console.log(`${pkg.name}@${pkg.version}: ${options.dryRun ? 'checked (dry run)' : 'published'} to ${options.registry}`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    if (!(error instanceof ReleaseError)) throw error;
    console.error(`release: ${error.message}`);
    process.exitCode = 1;
  }
}
