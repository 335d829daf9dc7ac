import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests import the packages' sources, so a change is tested without a rebuild.
const alias = {
  '@rapport/core': src('./packages/core/src/index.ts'),
  '@rapport/testing': src('./packages/testing/src/index.ts'),
  '@rapport/client': src('./packages/client/src/index.ts'),
  '@rapport/cli': src('./packages/cli/src/index.ts'),
  '@rapport/console': src('./packages/console/src/index.ts'),
  'create-rapport': src('./packages/create-rapport/src/index.ts'),
  '@rapport/plugin-crm': src('./plugins/crm/src/index.ts'),
  '@rapport/plugin-prm': src('./plugins/prm/src/index.ts'),
  '@rapport/plugin-hrm': src('./plugins/hrm/src/index.ts'),
  '@rapport/crm-contract': src('./plugins/crm/contract/src/index.ts'),
  '@rapport/prm-contract': src('./plugins/prm/contract/src/index.ts'),
  '@rapport/hrm-contract': src('./plugins/hrm/contract/src/index.ts'),
};

const include = ['packages/*/test/**/*.test.ts', 'plugins/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'];
// Files that never touch the database under test (they open an embedded one of their own, or
// always PostgreSQL, as the outage test must): running them a second time would test nothing new.
const databaseIndependent = [
  'packages/client/test/schema.test.ts',
  'packages/cli/test/on-listen.test.ts',
  'packages/cli/test/init.test.ts',
  'packages/cli/test/console-build.test.ts',
  'packages/cli/test/create-plugin-compiled.test.ts',
  'packages/console/test/messages.test.ts',
  'packages/core/test/csv-source.test.ts',
  'packages/core/test/pglite-template.test.ts',
  'packages/core/test/import-errors.test.ts',
  'packages/core/test/attachment-store.test.ts',
  'packages/core/test/ids.test.ts',
  'packages/core/test/federation-vectors.test.ts',
  'packages/core/test/single-copy.test.ts',
  'packages/core/test/time.test.ts',
  'packages/core/test/version.test.ts',
  'packages/core/test/outage.test.ts',
  'packages/core/test/replicas.test.ts',
  'packages/core/test/limits-nodes.test.ts',
  'packages/create-rapport/test/create-rapport.test.ts',
  'test/repo-rules.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: [src('./test/global-setup.ts')],
    // Limits end hangs, they measure nothing (speed lives in `pnpm bench`): sized for two cores
    // shared with builds, browsers and servers, where a run has gone past a 60 s test limit.
    testTimeout: 180_000,
    // Hooks boot apps, servers and browsers, the slowest things a loaded machine does.
    hookTimeout: 300_000,
    // Also the time a worker gets to stop (the default 10 s): one closing Chromium and a
    // server on a loaded machine can take longer, failing a run whose tests all passed.
    teardownTimeout: 60_000,
    pool: 'forks',
    // One worker per core, never more: browser files start a server and Chromium of their own.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // Each worker keeps its modules from file to file: importing the sources afresh for every
    // file was a third of the suite's time. Files share no state but the module caches: every
    // file opens its own database (schema or PGlite instance) and closes it, and a test that
    // changes process.env puts it back.
    isolate: false,
    // `extends: true`: without it a project ignores the timeouts and pool options above.
    projects: [
      { extends: true, resolve: { alias }, test: { name: 'pglite', include, env: { RAPPORT_TEST_DB: 'pglite' } } },
      { extends: true, resolve: { alias }, test: { name: 'postgres', include, exclude: [...configDefaults.exclude, ...databaseIndependent], env: { RAPPORT_TEST_DB: 'postgres' } } },
    ],
  },
});
