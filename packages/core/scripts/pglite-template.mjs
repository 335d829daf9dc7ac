// Writes dist/pglite-initdb-<version>.tar.gz: the data directory PGlite's initdb makes, which a
// new embedded database is loaded from instead of running initdb again (several seconds of
// WebAssembly on every first start). Named by the PGlite version it was made with: another
// version opens a new directory with its own initdb. Run by the build (tsup onSuccess).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pgliteMain = createRequire(path.join(packageDir, 'package.json')).resolve('@electric-sql/pglite');
const { version } = JSON.parse(fs.readFileSync(path.join(path.dirname(pgliteMain), '..', 'package.json'), 'utf8'));
const dist = path.join(packageDir, 'dist');
const name = `pglite-initdb-${version}.tar.gz`;
fs.mkdirSync(dist, { recursive: true });
for (const old of fs.readdirSync(dist)) if (old.startsWith('pglite-initdb-') && old !== name) fs.rmSync(path.join(dist, old));
if (!fs.existsSync(path.join(dist, name))) {
  const pglite = new PGlite();
  await pglite.waitReady;
  const dump = await pglite.dumpDataDir('gzip');
  await pglite.close();
  // Written aside and renamed: a start reading it meanwhile sees the whole file or none.
  const partial = path.join(dist, `.${name}.${process.pid}`);
  fs.writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  fs.renameSync(partial, path.join(dist, name));
}
