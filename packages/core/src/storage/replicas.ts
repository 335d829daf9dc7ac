import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { openDatabase, type Database, type DatabaseConfig } from './database.js';

/** Read replicas: where reads that may be a little behind go, and when they may not. */
export interface ReplicaConfig {
  /** postgres:// URLs of streaming replicas of the primary. */
  urls: readonly string[];
  /** A replica further behind the primary than this is skipped (default 2000 ms). */
  maxLagMs?: number;
  /** How often each replica's replay position is read (default 200 ms). */
  probeIntervalMs?: number;
}

interface Replica {
  readonly url: string;
  readonly database: Database;
  /** The replay position at the last probe, or null while it is down or not yet probed. */
  replayed: bigint | null;
  healthy: boolean;
  reads: number;
}

/** The position of the WAL, `X/Y` in hex, as a number that compares. */
export function parseLsn(text: string): bigint {
  const [high, low] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
}

/**
 * Sends reads to replicas that have caught up enough: a replica is used while its replay
 * position has reached where the primary was `maxLagMs` ago, and a principal that just wrote
 * reads from a replica only once it has replayed that write (its position is taken after the
 * commit). Before that — or when no replica qualifies, or one fails — the primary answers.
 * Writes never go to a replica. Read-your-writes holds per node: another node does not know
 * of a write made here until its replicas are within `maxLagMs`.
 */
export class ReadReplicas {
  private readonly replicas: Replica[];
  private readonly maxLagMs: number;
  private readonly probeIntervalMs: number;
  /** The primary's WAL position over the last `maxLagMs`, oldest first. */
  private readonly primaryPositions: Array<{ at: number; lsn: bigint }> = [];
  /** The position after each principal's latest write, while it may matter. */
  private readonly writes = new Map<string, { lsn: bigint; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private next = 0;

  constructor(
    private readonly primary: Knex,
    config: ReplicaConfig,
    base: DatabaseConfig,
    private readonly logger: Logger,
  ) {
    this.maxLagMs = config.maxLagMs ?? 2000;
    this.probeIntervalMs = config.probeIntervalMs ?? 200;
    this.replicas = config.urls.map((url) => ({
      url,
      database: openDatabase({ url, schema: base.schema, pool: { ...base.pool, min: 0 } }),
      replayed: null,
      healthy: false,
      reads: 0,
    }));
  }

  /** Probes once (so the first requests can use a replica), then on a timer. */
  async start(): Promise<void> {
    await this.probe();
    this.timer = setInterval(() => {
      this.probing ??= this.probe().finally(() => (this.probing = undefined));
    }, this.probeIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.probing;
    await Promise.all(this.replicas.map((r) => r.database.close()));
  }

  /** A replica's connection for this principal's read, or undefined for the primary. */
  pick(principalId: string | undefined): { knex: Knex; url: string } | undefined {
    const written = principalId ? this.writes.get(principalId) : undefined;
    const candidates = this.replicas.filter((r) => r.healthy && r.replayed !== null && (!written || r.replayed >= written.lsn));
    if (candidates.length === 0) return undefined;
    const replica = candidates[this.next++ % candidates.length];
    replica.reads++;
    return { knex: replica.database.knex, url: replica.url };
  }

  /** After a committed write: the principal's reads wait for a replica that has replayed it. */
  async noteWrite(principalId: string): Promise<void> {
    const lsn = await this.primaryPosition();
    this.writes.set(principalId, { lsn, at: Date.now() });
  }

  /** A read on this replica failed to reach it: no more reads there until a probe succeeds. */
  markDown(url: string, error: unknown): void {
    const replica = this.replicas.find((r) => r.url === url);
    if (!replica || !replica.healthy) return;
    replica.healthy = false;
    replica.replayed = null;
    this.logger.warn({ replica: redact(url), err: error }, 'read replica unreachable; reading from the primary');
  }

  /** Reads served by each replica, and whether it is in use, for metrics. */
  state(): Array<{ replica: string; healthy: boolean; reads: number }> {
    return this.replicas.map((r) => ({ replica: redact(r.url), healthy: r.healthy, reads: r.reads }));
  }

  private async primaryPosition(): Promise<bigint> {
    const result = await this.primary.raw('select pg_current_wal_lsn()::text as lsn');
    return parseLsn((result.rows as Array<{ lsn: string }>)[0].lsn);
  }

  private async probe(): Promise<void> {
    const now = Date.now();
    let primary: bigint;
    try {
      primary = await this.primaryPosition();
    } catch {
      return; // the primary's own outage is reported elsewhere
    }
    this.primaryPositions.push({ at: now, lsn: primary });
    // The newest position at least maxLag old is what a usable replica must have replayed.
    while (this.primaryPositions.length > 1 && this.primaryPositions[1].at <= now - this.maxLagMs) this.primaryPositions.shift();
    const required = this.primaryPositions[0].lsn;
    for (const [principal, write] of this.writes) {
      // Past maxLag every usable replica has replayed the write anyway.
      if (write.at < now - this.maxLagMs - 2 * this.probeIntervalMs) this.writes.delete(principal);
    }
    await Promise.all(
      this.replicas.map(async (replica) => {
        try {
          const result = await replica.database.knex.raw('select pg_last_wal_replay_lsn()::text as lsn');
          const text = (result.rows as Array<{ lsn: string | null }>)[0]?.lsn;
          if (!text) throw new Error('not a replica: pg_last_wal_replay_lsn() is null (the server is not in recovery)');
          replica.replayed = parseLsn(text);
          const healthy = replica.replayed >= required;
          if (healthy !== replica.healthy) {
            this.logger.info({ replica: redact(replica.url) }, healthy ? 'read replica in use' : `read replica more than ${this.maxLagMs} ms behind; skipped`);
          }
          replica.healthy = healthy;
        } catch (error) {
          if (replica.healthy || replica.replayed !== null) this.logger.warn({ replica: redact(replica.url), err: error }, 'read replica unreachable; skipped');
          replica.healthy = false;
          replica.replayed = null;
        }
      }),
    );
  }
}

/** A URL without its password, for logs and metrics. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'replica';
  }
}
