import { defineConfig } from 'tsup';

export default defineConfig({
  // dist/bin.js (ESM, with its shebang) is the `create-rapport` executable that `npm create rapport` runs.
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm', 'cjs'],
  sourcemap: true,
  // The declarations in dist/types are tsc's (tsc -b, run beside tsup): clean only what tsup writes.
  clean: ['**', '!types/**'],
  target: 'node20',
});
