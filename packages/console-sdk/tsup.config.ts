import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  // Browser code, bundled again by the console's Vite build: ESM only, every dependency external.
  format: ['esm'],
  sourcemap: true,
  clean: ['**', '!types/**'],
  target: 'es2022',
  platform: 'browser',
});
