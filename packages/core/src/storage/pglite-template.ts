import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/*
 * A new embedded database starts from a copy of what PGlite's initdb makes, written by the
 * build (scripts/pglite-template.mjs, dist/pglite-initdb-<version>.tar.gz), instead of running
 * initdb: that is seconds of WebAssembly, most of a first start. Only the PGlite version that
 * made the copy may use it; with another version, or sources without a build, initdb runs.
 */

/**
 * Prepares a new cluster from the template. On disk, the files are written into `pgdata`
 * before PGlite opens it, which then finds a cluster and resumes it (writing them here costs
 * a fraction of writing them through PGlite's file system layer); in memory (`pgdata`
 * undefined), returns the template for PGlite's `loadDataDir`. Does nothing, returning
 * undefined, for a directory that already holds anything, or without a template (`file`,
 * normally `templateFile()`).
 */
export function startFromTemplate(pgdata: string | undefined, file: string | undefined): Blob | undefined {
  if (!file || (pgdata !== undefined && !isEmptyOrMissing(pgdata))) return undefined;
  const archive = fs.readFileSync(file);
  if (pgdata === undefined) return new Blob([archive]);
  // gzip's magic number; dumpDataDir('none') writes the bare tar.
  extractInto(archive[0] === 0x1f && archive[1] === 0x8b ? gunzipSync(archive) : archive, pgdata);
  return undefined;
}

function isEmptyOrMissing(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (error) {
    // Anything else (not a directory, not readable) is PGlite's to report, as before.
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** The template for the installed PGlite, if the build made one. */
export function templateFile(): string | undefined {
  try {
    const pgliteDir = path.dirname(path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')));
    const { version } = JSON.parse(fs.readFileSync(path.join(pgliteDir, 'package.json'), 'utf8')) as { version: string };
    const file = path.join(corePackageDir(), 'dist', `pglite-initdb-${version}.tar.gz`);
    return fs.existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

/** This package's directory, from dist/index.js (the build) or src/storage/ (the sources). */
function corePackageDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dir;
}

/**
 * Writes the directories and regular files of a tar archive (the ustar PGlite's dumpDataDir
 * writes) under `dir`. Written into a sibling directory first and renamed into place, so a
 * start cut short leaves no half cluster that the next start would take for a whole one.
 */
export function extractInto(tar: Buffer, dir: string): void {
  const partial = `${dir}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true, mode: 0o700 });
  try {
    writeEntries(tar, partial);
  } catch (error) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
}

function writeEntries(tar: Buffer, partial: string): void {
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start: number, length: number) => header.toString('latin1', start, start + length).replace(/\0.*$/s, '');
    const prefix = field(257, 6) === 'ustar' ? field(345, 155) : '';
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const mode = parseInt(field(100, 8).trim() || '0', 8);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const target = path.join(partial, name);
    const body = offset + 512;
    offset = body + Math.ceil(size / 512) * 512;
    if (target === partial && type === '5') continue;
    if (!target.startsWith(partial + path.sep)) throw new Error(`PGlite template: entry outside the data directory: ${name}`);
    if (type === '5') fs.mkdirSync(target, { recursive: true, mode: mode || 0o700 });
    else if (type === '0') {
      fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
      fs.writeFileSync(target, tar.subarray(body, body + size), { mode: mode || 0o600 });
    } else throw new Error(`PGlite template: unexpected entry type "${type}" for ${name}`);
  }
}
