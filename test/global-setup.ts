import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { writePgliteSnapshot } from '../packages/testing/src/database.js';
import { removeStaleSeeds } from '../examples/full-suite/test/console/seeds.js';

/** One initialized PGlite directory per run; every test file loads it instead of running initdb. */
export default async function setup() {
  const file = path.join(os.tmpdir(), `rapport-pglite-${process.pid}.tar`);
  await writePgliteSnapshot(file);
  process.env.RAPPORT_PGLITE_SNAPSHOT = file;
  return async () => {
    fs.rmSync(file, { force: true });
    // The console tests' seeds outlive the workers that made them, which have ended by now.
    await removeStaleSeeds('pglite');
    await removeStaleSeeds('postgres').catch(() => undefined);
  };
}
