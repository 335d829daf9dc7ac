import { defineConfig } from 'tsup';

export default defineConfig({
  // dist/bin.js (ESM, with its shebang) is the `rapport` executable.
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // The library finds its package.json and its own install through import.meta.url, also in the CJS build.
  shims: true,
});
