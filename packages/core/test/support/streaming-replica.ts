import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_TEST_DATABASE_URL } from '@rapport/testing';

/** A streaming replica of the test PostgreSQL, in a temporary cluster of its own. */
export interface StreamingReplica {
  url: string;
  /** Pauses or resumes replaying the primary's WAL (the replica falls behind meanwhile). */
  pauseReplay(paused: boolean): Promise<void>;
  /** Stops it at once, as a crash would. */
  kill(): void;
  remove(): void;
}

const BIN = fs.existsSync('/usr/lib/postgresql') ? path.join('/usr/lib/postgresql', fs.readdirSync('/usr/lib/postgresql').sort().at(-1)!, 'bin') : '';

/**
 * Makes a replica with pg_basebackup from the PostgreSQL the machine runs and starts it on a
 * free port. PostgreSQL refuses to run as root, so as root the cluster belongs to the
 * `postgres` user. The primary must accept replication connections from 127.0.0.1; when its
 * pg_hba.conf has no such line, one (trust, loopback only) is added and the configuration
 * reloaded, as the CI machine's own set-up would.
 */
export async function startStreamingReplica(primaryUrl = process.env.RAPPORT_TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL): Promise<StreamingReplica> {
  const settings = await allowReplication(primaryUrl);
  const primary = new URL(primaryUrl);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rapport-replica-'));
  const asOwner = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  if (asOwner.length) execFileSync('chown', ['postgres:postgres', dir]);
  fs.chmodSync(dir, 0o700);
  const port = await freePort();
  const run = (command: string, args: string[]) => {
    const [file, ...rest] = [...asOwner, command, ...args];
    execFileSync(file, rest, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  };
  run(path.join(BIN, 'pg_basebackup'), ['-h', primary.hostname, '-p', primary.port || '5432', '-U', primary.username || 'postgres', '-D', dir, '-R', '-X', 'stream', '-c', 'fast']);
  // Debian keeps the primary's configuration outside its data directory: the copy has none.
  const conf = (name: string, text: string) => {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return;
    fs.writeFileSync(file, text);
    if (asOwner.length) execFileSync('chown', ['postgres:postgres', file]);
  };
  // A hot standby needs at least the primary's values of these.
  conf('postgresql.conf', `${settings.map(([name, value]) => `${name} = ${value}`).join('\n')}\nshared_buffers = 32MB\n`);
  conf('pg_hba.conf', 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
  conf('pg_ident.conf', '');
  run(path.join(BIN, 'pg_ctl'), ['-D', dir, '-l', path.join(dir, 'server.log'), '-w', '-t', '120', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c hot_standby=on`, 'start']);
  const url = `postgres://${primary.username || 'postgres'}@127.0.0.1:${port}${primary.pathname}`;
  let stopped = false;
  const replica: StreamingReplica = {
    url,
    async pauseReplay(paused) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(paused ? 'select pg_wal_replay_pause()' : 'select pg_wal_replay_resume()');
      } finally {
        await client.end();
      }
    },
    kill() {
      if (stopped) return;
      stopped = true;
      run(path.join(BIN, 'pg_ctl'), ['-D', dir, '-m', 'immediate', '-w', 'stop']);
    },
    remove() {
      try {
        replica.kill();
      } catch {
        // already gone
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return replica;
}

const STANDBY_MINIMUMS = ['max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction'];

/** Lets loopback connections replicate, and returns the settings a standby must match. */
async function allowReplication(primaryUrl: string): Promise<Array<[string, string]>> {
  const client = new pg.Client({ connectionString: primaryUrl });
  await client.connect();
  try {
    const settings = (await client.query('select name, setting from pg_settings where name = any($1)', [STANDBY_MINIMUMS])).rows.map(
      (row: { name: string; setting: string }) => [row.name, row.setting] as [string, string],
    );
    const rules = await client.query("select count(*)::int as n from pg_hba_file_rules where 'replication' = any(database) and (address is null or address = '127.0.0.1')");
    if (rules.rows[0].n > 0) return settings;
    const file = (await client.query('show hba_file')).rows[0].hba_file as string;
    fs.appendFileSync(file, '\n# streaming replicas of the test suite (loopback only)\nhost replication all 127.0.0.1/32 trust\n');
    await client.query('select pg_reload_conf()');
    return settings;
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
