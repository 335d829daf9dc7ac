/**
 * @rapport/console — the build of the console for one system. The application (app/) ships as
 * sources; `buildConsole` compiles it with Vite together with the console part (`./console`
 * export) of each plugin of the system's config, so a system's console holds exactly its
 * plugins' pages. `rapport console build` calls it; the server serves the result at /console.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The sign-in page's initial JavaScript may not exceed this, gzipped (docs/console.md). */
export const INITIAL_JS_BUDGET_BYTES = 250 * 1024;

export const CONSOLE_BASE = '/console/';

export interface ConsolePluginEntry {
  /** The plugin package's name. */
  name: string;
  /** The file its `./console` export points at. */
  file: string;
}

export interface BuildConsoleOptions {
  /** Plugin package names (as in the config's `plugins`); those without a `./console` export are skipped. */
  plugins: readonly string[];
  /** Where the plugin packages resolve from: the config file's directory. */
  baseDir: string;
  /** Where the built console goes; the server serves this directory at /console. */
  outDir: string;
  /** Build even when nothing changed since the last build. */
  force?: boolean;
  /** Vite's log level; `silent` in tests. */
  logLevel?: 'info' | 'warn' | 'error' | 'silent';
}

export interface ConsoleBuildResult {
  outDir: string;
  /** Whether Vite ran (false: the last build was up to date). */
  built: boolean;
  plugins: ConsolePluginEntry[];
  /** The JavaScript the sign-in page loads before anything else (entry and its preloads), gzipped. */
  initialJsGzipBytes: number;
  initialJsFiles: string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The application's sources: app/ beside src/ and dist/. */
export const consoleAppDir = path.resolve(here, '..', 'app');

/**
 * The plugins that contribute to the console: each package of `plugins` whose package.json
 * exports `./console`. Paths (not package names) and packages without the export are skipped:
 * a plugin's console part is optional.
 */
export function findConsolePlugins(plugins: readonly string[], baseDir: string): ConsolePluginEntry[] {
  const require = createRequire(path.join(path.resolve(baseDir), 'rapport.config.js'));
  const found: ConsolePluginEntry[] = [];
  for (const name of plugins) {
    if (typeof name !== 'string' || name.startsWith('.') || path.isAbsolute(name) || name.startsWith('file:')) continue;
    // Not require.resolve(`${name}/package.json`): a package need not export its package.json.
    const manifestPath = (require.resolve.paths(name) ?? []).map((dir) => path.join(dir, name, 'package.json')).find((file) => fs.existsSync(file));
    if (!manifestPath) continue;
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { exports?: Record<string, unknown> };
    const target = exportTarget(manifest.exports?.['./console']);
    if (!target) continue;
    const file = path.resolve(path.dirname(manifestPath), target);
    if (!fs.existsSync(file)) throw new Error(`Plugin "${name}" exports ./console as ${target}, which does not exist: build the plugin first`);
    found.push({ name, file });
  }
  return found;
}

function exportTarget(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const conditions = value as Record<string, unknown>;
    for (const key of ['browser', 'import', 'default']) {
      const target = exportTarget(conditions[key]);
      if (target) return target;
    }
  }
  return undefined;
}

/** The generated entry: every plugin's console part, imported eagerly (pages inside load lazily). */
export function pluginsModule(plugins: readonly ConsolePluginEntry[]): string {
  const imports = plugins.map((p, i) => `import p${i} from ${JSON.stringify(p.file)};`);
  return `${imports.join('\n')}\nexport default [${plugins.map((_, i) => `p${i}`).join(', ')}];\n`;
}

const STAMP = '.rapport-console.json';

function newest(target: string): number {
  if (!fs.existsSync(target)) return 0;
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of fs.readdirSync(target)) {
    if (entry === 'node_modules') continue;
    latest = Math.max(latest, newest(path.join(target, entry)));
  }
  return latest;
}

function inputsOf(plugins: readonly ConsolePluginEntry[]): { files: string[]; newest: number } {
  const sdk = path.resolve(consoleAppDir, '..', 'node_modules', '@rapport', 'console-sdk', 'dist');
  const dirs = [consoleAppDir, sdk, ...plugins.map((p) => path.dirname(p.file))];
  return { files: plugins.map((p) => p.file), newest: Math.max(...dirs.map(newest)) };
}

/** Whether the console in `outDir` was built from the current sources and the same plugins. */
export function consoleIsCurrent(options: Pick<BuildConsoleOptions, 'plugins' | 'baseDir' | 'outDir'>): boolean {
  const stampPath = path.join(options.outDir, STAMP);
  if (!fs.existsSync(stampPath) || !fs.existsSync(path.join(options.outDir, 'index.html'))) return false;
  const stamp = JSON.parse(fs.readFileSync(stampPath, 'utf8')) as { files: string[]; builtAt: number };
  const inputs = inputsOf(findConsolePlugins(options.plugins, options.baseDir));
  return JSON.stringify(stamp.files) === JSON.stringify(inputs.files) && inputs.newest <= stamp.builtAt;
}

/** Measures the sign-in page's initial JavaScript: the entry script and the chunks it preloads. */
export function measureInitialJs(outDir: string): { bytes: number; files: string[] } {
  const html = fs.readFileSync(path.join(outDir, 'index.html'), 'utf8');
  const files = new Set<string>();
  for (const match of html.matchAll(/<script[^>]*\bsrc="([^"]+\.js)"/g)) files.add(match[1]);
  for (const match of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g)) files.add(match[1]);
  let bytes = 0;
  const local = [...files].map((href) => href.replace(/^\/console\//, ''));
  for (const file of local) bytes += gzipSync(fs.readFileSync(path.join(outDir, file)), { level: 9 }).length;
  return { bytes, files: local };
}

/** Builds the console for a system (skipped when it is current, unless `force`). */
export async function buildConsole(options: BuildConsoleOptions): Promise<ConsoleBuildResult> {
  const plugins = findConsolePlugins(options.plugins, options.baseDir);
  const outDir = path.resolve(options.outDir);
  if (!options.force && consoleIsCurrent({ ...options, outDir })) {
    const measured = measureInitialJs(outDir);
    return { outDir, built: false, plugins, initialJsGzipBytes: measured.bytes, initialJsFiles: measured.files };
  }
  const startedAt = Date.now();
  // Vite and the React plugin read NODE_ENV to choose React's development build and JSX
  // transform; a test runner sets it to `test`. The console is always built for production.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await viteBuild(plugins, outDir, options.logLevel);
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  const inputs = inputsOf(plugins);
  fs.writeFileSync(path.join(outDir, STAMP), JSON.stringify({ files: inputs.files, builtAt: Math.max(startedAt, inputs.newest) }));
  const measured = measureInitialJs(outDir);
  if (measured.bytes > INITIAL_JS_BUDGET_BYTES) {
    throw new Error(
      `The console's sign-in page loads ${(measured.bytes / 1024).toFixed(1)} KB of JavaScript gzipped, over the budget of ${INITIAL_JS_BUDGET_BYTES / 1024} KB (${measured.files.join(', ')})`,
    );
  }
  return { outDir, built: true, plugins, initialJsGzipBytes: measured.bytes, initialJsFiles: measured.files };
}

async function viteBuild(plugins: ConsolePluginEntry[], outDir: string, logLevel: BuildConsoleOptions['logLevel']): Promise<void> {
  const { build } = await import('vite');
  const react = (await import('@vitejs/plugin-react')).default;
  const virtualId = 'virtual:rapport-console-plugins';
  await build({
    configFile: false,
    // The production build of React whatever NODE_ENV the caller runs under (a test runner sets `test`).
    mode: 'production',
    root: consoleAppDir,
    base: CONSOLE_BASE,
    logLevel: logLevel ?? 'warn',
    cacheDir: path.join(outDir, '..', `.vite-cache-${path.basename(outDir)}`),
    plugins: [
      react(),
      {
        name: 'rapport-console-plugins',
        resolveId: (id) => (id === virtualId ? `\0${virtualId}` : undefined),
        load: (id) => (id === `\0${virtualId}` ? pluginsModule(plugins) : undefined),
      },
    ],
    // A plugin's console part imports these from its own install; one copy serves all, or
    // React hooks and the contexts of the SDK would not be shared.
    resolve: {
      dedupe: [
        'react',
        'react-dom',
        'react-router',
        '@mantine/core',
        '@mantine/hooks',
        '@mantine/charts',
        '@tanstack/react-query',
        'react-i18next',
        'i18next',
        '@rapport/console-sdk',
        '@rapport/client',
        'recharts',
      ],
    },
    build: { outDir, emptyOutDir: true, target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 1500 },
  });
}
