// 4. Import: interactions through the real `rapport import` command (a CLI process, CSV
// file → runImport → validation, filters, multi-row inserts, outbox and audit) vs
// PostgreSQL's own COPY of the same rows (the interactions and their participants) into
// the same tables, in interleaved rounds. The figure is rows/s import ÷ rows/s COPY.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { cliBin, databaseUrl, interleave, loadCore, now, pgSchema, requireCore, benchLimits } from './common.mjs';

function run(cmd, args, options) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`))));
  });
}

export async function importBenchmarks({ quick }) {
  const rows = quick ? 2_000 : 500_000;
  const rounds = 2;
  const core = await loadCore();
  const pg = await pgSchema('import');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-bench-import-'));
  const app = await core.createRapport({ database: { url: databaseUrl, schema: pg.schema }, plugins: [], logLevel: 'silent', dispatcher: { enabled: false }, limits: benchLimits });
  const pgLib = requireCore('pg');
  const { from: copyFrom } = requireCore('pg-copy-streams');
  try {
    const tenantId = app.defaultTenant.id;
    const parties = (
      await app.knex.raw(`insert into rapport_parties (tenant_id, id, kind, name) select ?, gen_random_uuid(), 'person', 'P' || g from generate_series(1, 1000) g returning id`, [tenantId])
    ).rows.map((r) => r.id);
    const config = path.join(dir, 'rapport.config.mjs');
    fs.writeFileSync(config, `export default ${JSON.stringify({ database: { url: databaseUrl, schema: pg.schema }, plugins: [], logLevel: 'silent' })};\n`);

    // The same logical rows for both sides: a note with a subject, a time and one participant.
    const rowAt = (round, i) => ({
      occurredAt: new Date(Date.UTC(2025, 0, 1) + (round * rows + i) * 1000).toISOString(),
      subject: `Call ${round}-${i}`,
      party: parties[i % parties.length],
    });
    const csvFile = (round) => {
      const file = path.join(dir, `import-${round}.csv`);
      const lines = ['type,occurred_at,subject,participant_ids'];
      for (let i = 0; i < rows; i++) {
        const r = rowAt(round, i);
        lines.push(`note,${r.occurredAt},${r.subject},${r.party}:participant`);
      }
      fs.writeFileSync(file, lines.join('\n') + '\n');
      return file;
    };
    const copyFiles = (round) => {
      const interactions = path.join(dir, `copy-i-${round}.tsv`);
      const participants = path.join(dir, `copy-p-${round}.tsv`);
      const a = [];
      const b = [];
      for (let i = 0; i < rows; i++) {
        const r = rowAt(round + 1000, i);
        const id = randomUUID();
        a.push(`${tenantId}\t${id}\tnote\t${r.occurredAt}\t\\N\tinternal\t${r.subject}\t\\N\t{}\t\\N\t1`);
        b.push(`${tenantId}\t${id}\t${r.party}\tparticipant\t${r.occurredAt}`);
      }
      fs.writeFileSync(interactions, a.join('\n') + '\n');
      fs.writeFileSync(participants, b.join('\n') + '\n');
      return { interactions, participants };
    };

    const client = new pgLib.Client({ connectionString: databaseUrl, options: `-c search_path="${pg.schema}",public` });
    await client.connect();
    const samples = { import: [], summary: [], copy: [] };
    const importRound = async (round, flags, into) => {
      const file = csvFile(round);
      const t0 = now();
      const out = await run(process.execPath, [cliBin, '--config', config, 'import', 'interactions', file, ...flags], { cwd: dir, env: { ...process.env, LOG_LEVEL: 'silent' } });
      const seconds = (now() - t0) / 1000;
      if (!out.includes(`${rows} imported, 0 rejected`)) throw new Error(`rapport import did not import every row: ${out}`);
      fs.rmSync(file);
      into.push(seconds);
      return rows / seconds;
    };
    const measured = await interleave(
      {
        import: (round) => importRound(round, [], samples.import),
        // The same rows with one interactions.imported event per batch instead of one interaction.created per row.
        summary: (round) => importRound(round + 500, ['--summary-events'], samples.summary),
        copy: async (round) => {
          const files = copyFiles(round);
          const t0 = now();
          await client.query('begin');
          await pipeline(
            fs.createReadStream(files.interactions),
            client.query(copyFrom('copy rapport_interactions (tenant_id, id, type, occurred_at, channel, direction, subject, summary, attributes, relationship_id, version) from stdin')),
          );
          await pipeline(fs.createReadStream(files.participants), client.query(copyFrom('copy rapport_interaction_participants (tenant_id, interaction_id, party_id, role, occurred_at) from stdin')));
          await client.query('commit');
          const seconds = (now() - t0) / 1000;
          fs.rmSync(files.interactions);
          fs.rmSync(files.participants);
          samples.copy.push(seconds);
          return rows / seconds;
        },
      },
      { rounds, warmup: 0 },
    );
    await client.end();
    const total = (list) => list.reduce((a, b) => a + b, 0);
    const importRps = (rows * rounds) / total(samples.import);
    const summaryRps = (rows * rounds) / total(samples.summary);
    const copyRps = (rows * rounds) / total(samples.copy);
    const [{ n }] = (await app.knex.raw('select count(*)::int as n from rapport_interactions')).rows;
    const detail = { rowsPerRound: rows, rounds, rounds_rowsPerSecond: measured, tableRowsAtEnd: n };
    return [
      {
        name: `import: ${(rows * rounds).toLocaleString('en-US')} interactions, rapport import vs COPY`,
        db: 'postgres',
        baseline: copyRps,
        measured: importRps,
        unit: 'rows/s',
        ratio: importRps / copyRps,
        goal: '>= 0.8',
        detail: { ...detail, importIncludes: 'CLI start, CSV parse, validation, filters, interactions + participants + an outbox and an audit row per interaction' },
      },
      {
        name: `import: ${(rows * rounds).toLocaleString('en-US')} interactions, rapport import --summary-events vs COPY`,
        db: 'postgres',
        baseline: copyRps,
        measured: summaryRps,
        unit: 'rows/s',
        ratio: summaryRps / copyRps,
        goal: '>= 0.8',
        detail: { ...detail, importIncludes: 'CLI start, CSV parse, validation, filters, interactions + participants + one interactions.imported outbox and audit row per batch' },
      },
    ];
  } finally {
    await app.close();
    await pg.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
