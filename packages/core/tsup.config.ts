import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  sourcemap: true,
  // The declarations in dist/types are tsc's (tsc -b, run beside tsup): clean only what tsup writes.
  // The initdb template (scripts/pglite-template.mjs) is kept: it changes only with PGlite's version.
  clean: ['**', '!types/**', '!pglite-initdb-*.tar.gz'],
  target: 'node20',
  // The CJS build needs import.meta.url too (it finds swagger-ui-dist for /docs through it).
  shims: true,
  onSuccess: 'node scripts/pglite-template.mjs',
});
