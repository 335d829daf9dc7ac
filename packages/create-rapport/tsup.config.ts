import { defineConfig } from 'tsup';

export default defineConfig({
  // dist/bin.js (ESM, with its shebang) is the `create-rapport` executable that `npm create rapport` runs.
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
});
