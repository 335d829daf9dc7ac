import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { writePgliteSnapshot } from '../packages/testing/src/database.js';

/** One initialized PGlite directory per run; every test file loads it instead of running initdb. */
export default async function setup() {
  const file = path.join(os.tmpdir(), `rapport-pglite-${process.pid}.tar`);
  await writePgliteSnapshot(file);
  process.env.RAPPORT_PGLITE_SNAPSHOT = file;
  return () => fs.rmSync(file, { force: true });
}
