import type { Logger } from 'pino';

/** How often, while the database is unreachable, one probe checks whether it is back. */
const PROBE_INTERVAL_MS = 2000;

/**
 * Logs a database outage once: the first request that finds the database unreachable logs an
 * error and starts a probe (`select 1` every two seconds); the requests after it only count;
 * when the probe gets through, the recovery is logged with that count. A thousand requests
 * during a one-minute outage are two log lines.
 */
export class OutageLog {
  private since: Date | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly probe: () => Promise<unknown>,
  ) {}

  failed(error: unknown): void {
    this.failures++;
    if (this.since) return;
    this.since = new Date();
    this.logger.error({ err: error }, 'the database is unreachable: requests answer 503 with Retry-After until it is back');
    this.timer = setInterval(() => void this.check(), PROBE_INTERVAL_MS);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    try {
      await this.probe();
    } catch {
      return;
    }
    if (!this.since) return;
    this.logger.warn({ since: this.since.toISOString(), failedRequests: this.failures }, 'the database is reachable again');
    this.since = undefined;
    this.failures = 0;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The server is closing: no probe outlives it. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
