import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    sourcemap: true,
    // The declarations in dist/types are tsc's (tsc -b, run beside tsup), the console part is built below: clean only what this build writes.
    clean: ['**', '!types/**', '!console/**'],
    target: 'node20',
    external: ['@rapport/core'],
  },
  {
    // The console part: browser ESM, every import external (the console shares one copy of each).
    entry: { index: 'console/index.tsx' },
    outDir: 'dist/console',
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    clean: true,
    splitting: true,
    external: [/^[^./]/],
    esbuildOptions(options) {
      options.jsx = 'automatic';
    },
  },
]);
