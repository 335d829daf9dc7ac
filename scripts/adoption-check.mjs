#!/usr/bin/env node
// The third-party path, for real: what someone outside this repository does with the published
// packages and nothing but npm.
//
//   node scripts/adoption-check.mjs [--break <package>] [--plugins crm,prm | none] [--build] [--keep]
//
// 1. starts a local registry (verdaccio) on loopback, its storage and config in a temp dir:
//    @rapport/*, create-rapport and rapport-plugin-* are served only from what is published to
//    it (an unpublished one is a 404), everything else is proxied from the public npm registry;
// 2. publishes every public package of the workspace to it with `pnpm release`;
// 3. in a temp directory outside the workspace, as a stranger with only npm and
//    npm_config_registry: `npm install` of every published package in an empty directory,
//    each loaded with import and require; `npx @rapport/cli create-plugin acme-audits`, then in it
//    `npm install`, `npm test`, `npm run build`, `npm pack`;
// 4. `npm create rapport@latest my-system -- --plugins crm,prm`, `npm install` there, then the
//    new plugin's tarball, and adds it to rapport.config.ts;
// 5. `rapport serve` on a free port (embedded database), waits for /health, calls the plugin's
//    POST and GET /api/v1/acme-audits/items with the bootstrap key, runs the plugin's
//    `npm run generate:client` against it (typed paths), stops it with SIGTERM;
// 6. installs the plugin from its folder instead (which brings the folder's own copy of
//    @rapport/core) and checks that the system refuses to start, naming both copies.
//
// --break <package> publishes that package with a manifest whose `files` leaves out dist, and
// passes only if the scenario then fails, naming the package: the check must be able to fail.
// --plugins chooses the first-party plugins of the system (default crm,prm; `none`: the kernel
// alone, and no plugin package is published). --build builds first (by default the packages
// must be built already: .ci/run runs this after the suite, which builds). --keep leaves the
// temp directory for a look. Exit code 0 on success, 1 with a message naming the failed step.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { publicPackages } from './release.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PLUGIN = 'acme-audits';
const PLUGIN_PACKAGE = `rapport-plugin-${PLUGIN}`;
const BOOTSTRAP_KEY = 'adoption-check-bootstrap-key-0123456789';
const FIRST_PARTY = { crm: '@rapport/plugin-crm', prm: '@rapport/plugin-prm', hrm: '@rapport/plugin-hrm' };

class StepFailure extends Error {
  constructor(step, message, output = '') {
    super(message);
    this.step = step;
    this.output = output;
  }
}

function usage(message) {
  console.error(`adoption-check: ${message}\nusage: node scripts/adoption-check.mjs [--break <package>] [--plugins crm,prm|none] [--build] [--keep]`);
  process.exit(2);
}

function parseArguments(argv) {
  const options = { break: undefined, plugins: ['crm', 'prm'], build: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => (argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : usage(`${arg} needs a value`));
    if (arg === '--break') options.break = value();
    else if (arg === '--plugins') {
      const list = value();
      options.plugins = list === 'none' ? [] : list.split(',').map((p) => p.trim());
      for (const p of options.plugins) if (!FIRST_PARTY[p]) usage(`unknown plugin "${p}" in --plugins: choose from ${Object.keys(FIRST_PARTY).join(', ')}, or none`);
    } else if (arg === '--build') options.build = true;
    else if (arg === '--keep') options.keep = true;
    else usage(`unknown argument ${arg}`);
  }
  return options;
}

const options = parseArguments(process.argv.slice(2));
const started = Date.now();
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-adoption-')));
const children = new Set();

/** Ends a child and everything it started (each runs in its own process group). */
function killGroup(child, signal = 'SIGKILL') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

let cleanedUp = false;
function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const child of children) killGroup(child);
  if (options.keep) console.log(`adoption-check: kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`adoption-check: stopped by ${signal}`);
    cleanup();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/**
 * The stranger's environment: a PATH without anything of this workspace (no pnpm-provided
 * node_modules/.bin), a home of their own (no .npmrc of ours), a fresh npm cache, and the
 * registry. Nothing else leaks in.
 */
function strangerEnv(registry, extra = {}) {
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home, { recursive: true });
  const PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir && !path.resolve(dir).startsWith(root) && !dir.split(path.sep).includes('node_modules'))
    .join(path.delimiter);
  return {
    PATH,
    HOME: home,
    TMPDIR: path.join(tmp, 'tmp'),
    LANG: process.env.LANG ?? 'C.UTF-8',
    CI: 'true',
    npm_config_registry: registry,
    npm_config_cache: path.join(tmp, 'npm-cache'),
    npm_config_userconfig: path.join(home, '.npmrc'),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...extra,
  };
}

/** Runs a command to its end; resolves to its output, rejects with a StepFailure that carries it. */
function exec(step, command, args, { cwd, env, timeoutMs = 240_000 }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new StepFailure(step, `\`${command} ${args.join(' ')}\` did not finish within ${seconds(timeoutMs)}`, output));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new StepFailure(step, `cannot run ${command}: ${error.message}`, output));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve(output);
      else reject(new StepFailure(step, `\`${command} ${args.join(' ')}\` (in ${cwd}) exited with ${signal ?? `code ${code}`}`, output));
    });
  });
}

const timings = [];
async function step(name, work) {
  const at = Date.now();
  process.stdout.write(`… ${name}\n`);
  try {
    const result = await work();
    timings.push([name, Date.now() - at]);
    console.log(`✓ ${name} (${seconds(Date.now() - at)})`);
    return result;
  } catch (error) {
    // Named after the step that failed, whatever command inside it did.
    if (error instanceof StepFailure) throw new StepFailure(name, error.message, error.output);
    throw new StepFailure(name, error instanceof Error ? error.message : String(error));
  }
}

const STEP_REGISTRY = 'start a local registry (verdaccio)';
const STEP_PUBLISH = 'publish every public package (pnpm release)';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(description, probe, { timeoutMs, child, output }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${description}: the process exited (${child.exitCode ?? child.signalCode}) first:\n${output?.() ?? ''}`);
    try {
      if (await probe()) return;
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) throw new Error(`${description}: not within ${seconds(timeoutMs)}\n${output?.() ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

// ---------------------------------------------------------------------------------------
// The registry

async function startRegistry() {
  const dir = path.join(tmp, 'registry');
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const local = { access: '$all', publish: '$authenticated' };
  const config = [
    `storage: ${JSON.stringify(path.join(dir, 'storage'))}`,
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(path.join(dir, 'htpasswd'))}`,
    '    max_users: 1',
    'uplinks:',
    '  npmjs:',
    '    url: https://registry.npmjs.org/',
    '    timeout: 60s',
    '    max_fails: 5',
    'packages:',
    // Ours: only what was published here. Everything else: from the public registry.
    ...["'@rapport/*'", "'create-rapport'", "'rapport-plugin-*'"].flatMap((pattern) => [`  ${pattern}:`, `    access: ${local.access}`, `    publish: ${local.publish}`]),
    "  '**':",
    `    access: ${local.access}`,
    `    publish: ${local.publish}`,
    '    proxy: npmjs',
    'max_body_size: 200mb',
    'log:',
    '  type: file',
    `  path: ${JSON.stringify(path.join(dir, 'verdaccio.log'))}`,
    '  level: warn',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'config.yaml'), config);

  const bin = path.join(root, 'node_modules/verdaccio/bin/verdaccio');
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run pnpm install at the root of the workspace (verdaccio is a devDependency)`);
  let output = '';
  const child = spawn(process.execPath, [bin, '--config', path.join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  await waitFor('the registry answering /-/ping', async () => (await fetch(`${url}-/ping`)).ok, { timeoutMs: 30_000, child, output: () => output });

  // A publisher account; its token goes into a .npmrc used by the release only.
  const user = await fetch(`${url}-/user/org.couchdb.user:release`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'release', password: `release-${process.pid}-${Date.now()}` }),
  });
  const body = await user.json();
  if (!user.ok || !body.token) throw new Error(`the registry refused to create the publisher account (${user.status}): ${JSON.stringify(body)}`);
  const npmrc = path.join(dir, 'publisher.npmrc');
  fs.writeFileSync(npmrc, `//127.0.0.1:${port}/:_authToken=${body.token}\n`);
  return { url, npmrc, log: path.join(dir, 'verdaccio.log') };
}

// ---------------------------------------------------------------------------------------
// Publishing

/** Publishes `name` as packed, except that its `files` leaves out dist. */
async function publishBroken(name, registry) {
  const pkg = publicPackages().find((p) => p.name === name);
  if (!pkg) throw new Error(`--break ${name}: no public package of that name in this workspace`);
  const work = path.join(tmp, 'broken');
  fs.mkdirSync(work, { recursive: true });
  const env = { ...process.env, npm_config_userconfig: registry.npmrc };
  await exec('publish', 'pnpm', ['pack', '--pack-destination', work], { cwd: pkg.dir, env });
  const [tarball] = fs.readdirSync(work).filter((f) => f.endsWith('.tgz'));
  await exec('publish', 'tar', ['-xzf', tarball], { cwd: work, env });
  const manifestFile = path.join(work, 'package/package.json');
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  manifest.files = (manifest.files ?? []).filter((entry) => !/^(\.\/)?dist(\/|$)/.test(entry));
  fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  const packed = await exec('publish', 'npm', ['publish', path.join(work, 'package'), '--registry', registry.url, '--access', 'public', '--json'], { cwd: work, env });
  // npm prints the published package's summary, or (npm 11) an object of them by name.
  const summary = JSON.parse(packed.slice(packed.indexOf('{')));
  const files = (summary.files ?? summary[name]?.files ?? []).map((f) => f.path);
  if (files.length === 0) throw new Error(`--break ${name}: npm publish did not list the files it published:\n${packed}`);
  if (files.some((f) => f.startsWith('dist/'))) throw new Error(`--break ${name}: the broken tarball still holds dist/ (${files.join(', ')})`);
  console.log(`  published ${name}@${manifest.version} with files ${JSON.stringify(manifest.files)}: ${files.join(', ')}`);
}

async function publish(registry) {
  if (options.break) await publishBroken(options.break, registry);
  const args = ['scripts/release.mjs', '--registry', registry.url];
  if (!options.build) args.push('--no-build');
  // With no first-party plugin in the system, none is published: the rest of the path is checked alone.
  const packages = publicPackages().filter(({ name }) => options.plugins.length > 0 || (!name.startsWith('@rapport/plugin-') && !name.endsWith('-contract')));
  if (options.plugins.length === 0) for (const { name } of packages) args.push('--filter', name);
  const output = await exec('publish', process.execPath, args, { cwd: root, env: { ...process.env, npm_config_userconfig: registry.npmrc }, timeoutMs: 600_000 });
  for (const line of output.trim().split('\n')) console.log(`  ${line}`);
  return packages.map(({ name }) => name);
}

// ---------------------------------------------------------------------------------------
// The stranger

async function scenario(registry, published) {
  const home = path.join(tmp, 'stranger');
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(path.join(tmp, 'tmp'), { recursive: true });
  const env = strangerEnv(registry.url);
  const npm = (stepName, args, cwd, timeoutMs) => exec(stepName, 'npm', args, { cwd, env, timeoutMs });
  const plugin = path.join(home, PLUGIN);
  const system = path.join(home, 'my-system');

  await step('an empty directory: npm install every published package, import and require each', async () => {
    const dir = path.join(home, 'empty');
    fs.mkdirSync(dir);
    await npm('install', ['install', ...published], dir);
    // Both builds of each, through its `exports`, as an ESM and a CommonJS consumer load them.
    const script = `import { createRequire } from 'node:module';
      const require = createRequire(process.cwd() + '/');
      for (const name of ${JSON.stringify(published)}) {
        try { await import(name); require(name); } catch (error) { console.error(name + ': ' + error.message); process.exitCode = 1; }
      }`;
    await exec('load', process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env });
  });

  await step(`npx @rapport/cli create-plugin ${PLUGIN}`, async () => {
    const out = await exec('create-plugin', 'npx', ['--yes', '@rapport/cli', 'create-plugin', PLUGIN], { cwd: home, env });
    if (!out.includes(`Created plugin "${PLUGIN}"`)) throw new StepFailure('create-plugin', 'the output does not say the plugin was created', out);
  });
  await step('plugin: npm install', () => npm('plugin: npm install', ['install'], plugin));
  await step('plugin: npm test', () => npm('plugin: npm test', ['test'], plugin));
  await step('plugin: npm run build', async () => {
    await npm('plugin: npm run build', ['run', 'build'], plugin);
    for (const file of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts']) if (!fs.existsSync(path.join(plugin, file))) throw new Error(`${file} was not built`);
  });
  const tarball = await step('plugin: npm pack', async () => {
    const out = await npm('plugin: npm pack', ['pack', '--json'], plugin);
    const [{ filename }] = JSON.parse(out.slice(out.indexOf('[')));
    return path.join(plugin, filename);
  });

  const pluginList = options.plugins.length === 0 ? 'none' : options.plugins.join(',');
  await step(`npm create rapport@latest my-system -- --plugins ${pluginList}`, async () => {
    const out = await npm('create', ['create', '--yes', 'rapport@latest', 'my-system', '--', '--plugins', pluginList], home);
    if (!out.includes('Created the Rapport system "my-system"')) throw new StepFailure('create', 'the output does not say the system was created', out);
  });
  await step('system: npm install', () => npm('system: npm install', ['install'], system));
  await step(`system: npm install ${path.basename(tarball)}`, async () => {
    await npm('system: npm install the plugin', ['install', tarball], system);
    // One copy of core: the plugin's peer is the system's own.
    const tree = JSON.parse(await npm('system: npm ls', ['ls', '@rapport/core', '--all', '--json'], system));
    const copies = new Set();
    const walk = (deps) => {
      for (const [name, info] of Object.entries(deps ?? {})) {
        if (name === '@rapport/core' && info.resolved) copies.add(info.resolved);
        walk(info.dependencies);
      }
    };
    walk(tree.dependencies);
    if (copies.size !== 1) throw new Error(`expected one copy of @rapport/core in the system, found ${copies.size}: ${[...copies].join(', ')}`);
    const configFile = path.join(system, 'rapport.config.ts');
    const config = fs.readFileSync(configFile, 'utf8');
    const withPlugin = config.includes('plugins: [],') ? config.replace('plugins: [],', `plugins: ['${PLUGIN_PACKAGE}'],`) : config.replace(/plugins: \[\n/, `plugins: [\n    '${PLUGIN_PACKAGE}',\n`);
    if (withPlugin === config) throw new Error(`rapport.config.ts has no "plugins: [" to add ${PLUGIN_PACKAGE} to:\n${config}`);
    fs.writeFileSync(configFile, withPlugin);
  });

  await step('system: rapport serve, call the plugin, its typed client paths (npm run generate:client), SIGTERM', () => serve(system, env, plugin));

  await step('system: the plugin installed from its folder instead is refused (two copies of core)', async () => {
    // The folder's node_modules holds the copy of core the plugin's tests use.
    await npm('system: npm install the plugin folder', ['install', plugin], system);
    const refused = spawnSync(path.join(system, 'node_modules/.bin/rapport'), ['serve', '--port', String(await freePort()), '--host', '127.0.0.1'], {
      cwd: system,
      env: { ...env, RAPPORT_BOOTSTRAP_KEY: BOOTSTRAP_KEY },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const output = `${refused.stdout}${refused.stderr}`;
    if (refused.status === 0 || refused.signal) throw new StepFailure('refusal', `rapport serve did not refuse to start (${refused.signal ?? `exit code ${refused.status}`})`, output);
    for (const expected of ['Two different copies of @rapport/core are loaded', path.join(system, 'node_modules/@rapport/core'), path.join(plugin, 'node_modules/@rapport/core')]) {
      if (!output.includes(expected)) throw new StepFailure('refusal', `the refusal does not say "${expected}"`, output);
    }
    console.log(
      `  ${output
        .trim()
        .split('\n')
        .find((line) => line.includes('Two different copies'))
        .slice(0, 160)}…`,
    );
  });
}

async function serve(system, env, plugin) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const bin = path.join(system, 'node_modules/.bin/rapport');
  let output = '';
  // The process itself, not `npm start` (npm and its shell would each get the signal): SIGTERM
  // is meant for rapport.
  const server = spawn(bin, ['serve', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: system,
    env: { ...env, RAPPORT_BOOTSTRAP_KEY: BOOTSTRAP_KEY, LOG_LEVEL: 'info' },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(server);
  server.stdout.on('data', (chunk) => (output += chunk));
  server.stderr.on('data', (chunk) => (output += chunk));
  const fail = (message) => new StepFailure('serve', message, output);
  const exited = new Promise((resolve) => server.once('exit', (code, signal) => resolve(signal ?? code)));

  try {
    await waitFor('GET /health', async () => (await fetch(`${base}/health`)).ok, { timeoutMs: 90_000, child: server, output: () => output });
  } catch (error) {
    throw fail(error.message);
  }
  const call = async (method, url, body) => {
    const response = await fetch(`${base}${url}`, {
      method,
      headers: { authorization: `Bearer ${BOOTSTRAP_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  };

  const plugins = await call('GET', '/api/v1/plugins');
  if (plugins.status !== 200) throw fail(`GET /api/v1/plugins answered ${plugins.status}: ${plugins.text}`);
  const enabled = plugins.json.data.filter((p) => p.state === 'enabled').map((p) => p.name);
  for (const name of [...options.plugins, PLUGIN]) if (!enabled.includes(name)) throw fail(`plugin "${name}" is not enabled; enabled: ${enabled.join(', ') || 'none'}`);

  const party = await call('POST', '/api/v1/parties', { kind: 'organization', name: 'Steelworks Ltd' });
  if (party.status !== 201) throw fail(`POST /api/v1/parties answered ${party.status}: ${party.text}`);
  const created = await call('POST', `/api/v1/${PLUGIN}/items`, { partyId: party.json.id, title: 'First audit' });
  if (created.status !== 201) throw fail(`POST /api/v1/${PLUGIN}/items answered ${created.status}: ${created.text}`);
  const bad = await call('POST', `/api/v1/${PLUGIN}/items`, { partyId: party.json.id, title: '' });
  if (bad.status !== 400) throw fail(`POST /api/v1/${PLUGIN}/items with an empty title answered ${bad.status}, not 400: ${bad.text}`);
  const list = await call('GET', `/api/v1/${PLUGIN}/items`);
  if (list.status !== 200) throw fail(`GET /api/v1/${PLUGIN}/items answered ${list.status}: ${list.text}`);
  const ids = list.json.data.map((item) => item.id);
  if (ids.length !== 1 || ids[0] !== created.json.id) throw fail(`GET /api/v1/${PLUGIN}/items listed ${JSON.stringify(ids)}, expected [${JSON.stringify(created.json.id)}]`);
  console.log(`  ${enabled.join(', ')} enabled; POST and GET /api/v1/${PLUGIN}/items answered 201 and 200`);
  // The plugin's typed client paths from the running system: openapi-typescript, installed by npm next to TypeScript 6.
  await exec('plugin: npm run generate:client', 'npm', ['run', 'generate:client', '--', base], { cwd: plugin, env });
  if (!fs.readFileSync(path.join(plugin, 'src/api-paths.d.ts'), 'utf8').includes(`"/api/v1/${PLUGIN}/items"`)) throw fail(`src/api-paths.d.ts has no path /api/v1/${PLUGIN}/items`);

  server.kill('SIGTERM');
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 30_000).unref());
  const result = await Promise.race([exited, timeout]);
  if (result === 'timeout') throw fail('rapport serve did not stop within 30 s of SIGTERM');
  if (result !== 0) throw fail(`rapport serve exited with ${result} after SIGTERM, not 0`);
  if (!output.includes('"msg":"stopped"')) throw fail('rapport serve exited without logging that it stopped');
  if (fs.existsSync(path.join(system, '.rapport/rapport.lock'))) throw fail('the data directory is still locked after the stop (.rapport/rapport.lock)');
  children.delete(server);
}

// ---------------------------------------------------------------------------------------

function tail(text, lines = 60) {
  const all = text.trimEnd().split('\n');
  return (all.length > lines ? ['…', ...all.slice(-lines)] : all).map((line) => `    ${line}`).join('\n');
}

async function main() {
  console.log(`adoption-check: ${options.break ? `publishing ${options.break} without dist, the scenario must fail` : 'the third-party path, from published packages'} (in ${tmp})`);
  let registry;
  let failure;
  try {
    registry = await step(STEP_REGISTRY, startRegistry);
    const published = await step(STEP_PUBLISH, () => publish(registry));
    await scenario(registry, published);
  } catch (error) {
    failure = error instanceof StepFailure ? error : new StepFailure('adoption-check', error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  const total = seconds(Date.now() - started);

  if (options.break) {
    // The registry and the publishing must work: only the scenario may fail, and because of the package.
    const afterPublish = failure && ![STEP_REGISTRY, STEP_PUBLISH].includes(failure.step);
    const named = failure && `${failure.message}\n${failure.output}`.includes(options.break);
    if (afterPublish && named) {
      const line = failure.output.split('\n').find((l) => l.includes(options.break)) ?? failure.message;
      console.log(`✓ as expected, the scenario failed at "${failure.step}" with ${options.break} published without dist:\n    ${line.trim()}\nadoption-check: passed in ${total}`);
      return 0;
    }
    if (!failure) console.error(`adoption-check: FAILED: the scenario passed although ${options.break} was published without dist (${total})`);
    else console.error(`adoption-check: FAILED: the scenario failed at "${failure.step}", but not because of ${options.break}: ${failure.message}\n${tail(failure.output)}`);
    return 1;
  }

  if (failure) {
    console.error(`✗ ${failure.step}: ${failure.message}${failure.output ? `\n${tail(failure.output)}` : ''}`);
    if (registry && fs.existsSync(registry.log)) {
      const log = fs.readFileSync(registry.log, 'utf8').trim();
      if (log) console.error(`  the registry's log:\n${tail(log, 20)}`);
    }
    console.error(`adoption-check: FAILED at "${failure.step}" after ${total}`);
    return 1;
  }
  console.log(`adoption-check: passed in ${total}: ${timings.map(([name, ms]) => `${name} ${seconds(ms)}`).join('; ')}`);
  return 0;
}

main().then(
  (code) => {
    cleanup();
    process.exit(code);
  },
  (error) => {
    console.error(`adoption-check: ${error.stack ?? error}`);
    cleanup();
    process.exit(1);
  },
);
