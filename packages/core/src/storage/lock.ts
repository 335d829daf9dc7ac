import fs from 'node:fs';
import path from 'node:path';

// Lock files this process holds. A file naming our own pid that is not in this set was
// left by an earlier process that had the same pid (pids restart low in containers): stale.
const held = new Set<string>();

/**
 * PGlite has no server to arbitrate: two processes on one data directory corrupt it.
 * A lock file holding the owner's pid refuses the second process (and a second Rapport
 * in the same process); a lock left by a process that no longer exists is taken over.
 */

export class DataDirLock {
  private constructor(readonly file: string) {}

  static acquire(dataDir: string): DataDirLock {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.resolve(dataDir, 'rapport.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }), { flag: 'wx' });
        held.add(file);
        return new DataDirLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = readHolder(file);
        // A second Rapport in this same process on the same directory is as fatal as a second process.
        const ours = holder?.pid === process.pid;
        if (!holder && isFresh(file)) throw new Error(`The data directory ${dataDir} is being locked by another Rapport process right now`);
        if (holder && (ours ? held.has(file) : isAlive(holder.pid))) {
          const who = ours ? 'another Rapport instance in this process' : 'another Rapport process';
          throw new Error(
            `The data directory ${dataDir} is in use by ${who} (pid ${holder.pid}, since ${holder.since}). ` +
              'Stop that process, or point RAPPORT_DATA_DIR at another directory; set DATABASE_URL to share one PostgreSQL between processes.',
          );
        }
        fs.rmSync(file, { force: true });
      }
    }
    throw new Error(`Could not lock the data directory ${dataDir}`);
  }

  release(): void {
    if (!held.delete(this.file)) return;
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

/** An unreadable lock file this young is most likely being written by its owner at this moment. */
function isFresh(file: string): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs < 2000;
  } catch {
    return false;
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
