import fs from 'node:fs';
import path from 'node:path';

/**
 * PGlite has no server to arbitrate: two processes on one data directory corrupt it.
 * A lock file holding the owner's pid refuses the second process; a lock left by a
 * process that no longer exists is taken over.
 */
export class DataDirLock {
  private constructor(readonly file: string) {}

  static acquire(dataDir: string): DataDirLock {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, 'rapport.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }), { flag: 'wx' });
        return new DataDirLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = readHolder(file);
        if (holder && holder.pid !== process.pid && isAlive(holder.pid)) {
          throw new Error(
            `The data directory ${dataDir} is in use by another Rapport process (pid ${holder.pid}, since ${holder.since}). ` +
              'Stop that process, or point RAPPORT_DATA_DIR at another directory; set DATABASE_URL to share one PostgreSQL between processes.',
          );
        }
        fs.rmSync(file, { force: true });
      }
    }
    throw new Error(`Could not lock the data directory ${dataDir}`);
  }

  release(): void {
    const holder = readHolder(this.file);
    if (holder?.pid === process.pid) fs.rmSync(this.file, { force: true });
  }
}

function readHolder(file: string): { pid: number; since: string } | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
