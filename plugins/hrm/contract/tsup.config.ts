import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  sourcemap: true,
  // The declarations in dist/types are tsc's (tsc -b, run beside tsup): clean only what tsup writes.
  clean: ['**', '!types/**'],
  target: 'node20',
  external: ['@rapport/core'],
});
