// 5. Embedded start: `rapport serve` with every first-party plugin on a PGlite data
// directory, from spawn to the first answered authenticated request. Fresh (initdb,
// migrations, first tenant) and existing (the same directory again). Beside it, the
// bare floor: a Node process that opens the same PGlite directory and runs `select 1`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, now, requireCore } from './common.mjs';
import { startServer, writeConfig } from './servers.mjs';

function barePglite(dataDir) {
  const pglite = requireCore.resolve('@electric-sql/pglite');
  const script = `const { PGlite } = await import(${JSON.stringify(pglite)}); const db = await PGlite.create(${JSON.stringify(dataDir)}); await db.query('select 1'); await db.close();`;
  return new Promise((resolve, reject) => {
    const t0 = now();
    const p = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    p.on('exit', (code) => (code === 0 ? resolve(now() - t0) : reject(new Error(`bare PGlite exited ${code}`))));
  });
}

export async function startBenchmarks({ quick }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-bench-start-'));
  const dataDir = path.join(dir, 'data');
  const config = writeConfig(dir, { dataDir });
  const existingRuns = quick ? 1 : 5;
  try {
    const fresh = await startServer({ config, cwd: dir });
    await fresh.stop();
    const existing = [];
    const bare = [];
    for (let i = 0; i < existingRuns; i++) {
      const server = await startServer({ config, cwd: dir });
      existing.push(server.firstAnswerMs);
      await server.stop();
      bare.push(await barePglite(path.join(dataDir, 'pgdata')));
    }
    const existingMs = median(existing);
    const bareMs = median(bare);
    return [
      {
        name: 'embedded start: existing PGlite directory → first answered request',
        db: 'pglite',
        baseline: bareMs,
        measured: existingMs,
        unit: 'ms',
        ratio: existingMs / 1000,
        ratioUnit: 's',
        goal: '<= 1 s',
        detail: { runs: existing, barePgliteOpenAndSelect: bare },
      },
      {
        name: 'embedded start: fresh PGlite directory → first answered request',
        db: 'pglite',
        baseline: bareMs,
        measured: fresh.firstAnswerMs,
        unit: 'ms',
        ratio: fresh.firstAnswerMs / 1000,
        ratioUnit: 's',
        goal: '<= 3 s',
        detail: {},
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
