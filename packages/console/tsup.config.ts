import { defineConfig } from 'tsup';

export default defineConfig({
  // The Node side only (the build API `rapport console build` calls). The application in app/
  // ships as sources: each system builds it with the console parts of its own plugins.
  entry: ['src/index.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: ['**', '!types/**'],
  target: 'node20',
  external: ['vite', '@vitejs/plugin-react'],
});
