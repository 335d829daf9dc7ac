import fs from 'node:fs';
import { defineConfig } from 'tsup';

export default defineConfig({
  // dist/bin.js (ESM, with its shebang) is the `rapport` executable.
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm', 'cjs'],
  sourcemap: true,
  // The declarations in dist/types are tsc's (tsc -b, run beside tsup): clean only what tsup writes.
  clean: ['**', '!types/**'],
  target: 'node20',
  // The library finds its package.json and its own install through import.meta.url, also in the CJS build.
  shims: true,
  // The plugin guide ships in the package (docs/plugin-guide.md): a plugin's README points at it
  // in node_modules, as the guide that matches the installed version.
  onSuccess: async () => {
    const { version } = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
    const guide = fs.readFileSync('../../docs/plugin-guide.md', 'utf8');
    const note = `> This is the plugin guide of Rapport ${version}, as shipped in @rapport/cli. Its links to other documents (cli.md, hooks.md, …) point into the docs/ folder of Rapport's source.\n\n`;
    fs.mkdirSync('docs', { recursive: true });
    // After the title: the note says which version the guide is of.
    const end = guide.startsWith('# ') ? guide.indexOf('\n') + 1 : 0;
    fs.writeFileSync('docs/plugin-guide.md', `${guide.slice(0, end)}\n${note}${guide.slice(end).replace(/^\n/, '')}`);
  },
});
