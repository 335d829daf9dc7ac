import type { Server } from 'node:http';
import type { Logger } from 'pino';

/**
 * Stops a server the way an orchestrator expects (SIGTERM, then SIGKILL after a grace period):
 *
 * 1. stop accepting connections;
 * 2. answer every request still arriving on an open keep-alive connection, with
 *    `Connection: close`, so its client moves on instead of sending more on that socket
 *    (`closing()` tells the request middleware to add the header);
 * 3. close idle connections once a request already on its way could have arrived (a pause
 *    of a quarter of the grace period, 0.5–2 s: closing them at once resets a request the
 *    client had just sent), then as they become idle;
 * 4. after `graceMs`, close whatever is left, so the stop always ends, and log that it gave up
 *    (a request cut there never got its answer: the operator must know).
 */
export class ServerDrain {
  private draining = false;

  closing(): boolean {
    return this.draining;
  }

  async drain(server: Server, graceMs: number, logger?: Logger): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    // Node's close() also drops idle keep-alive sockets at once; keep them for the pause of step 3.
    const closeIdle = server.closeIdleConnections.bind(server);
    server.closeIdleConnections = () => undefined;
    server.close();
    server.closeIdleConnections = closeIdle;
    // Long enough that a client busy on its connection has sent its next request (and got its
    // Connection: close) before its connection could count as idle; a quarter of the grace period.
    const pause = Math.min(Math.max(500, graceMs / 4), 2_000, graceMs);
    let idleSweep: NodeJS.Timeout | undefined;
    // From a timer the sweep waits for the next check phase: a request whose bytes arrived
    // while the process was busy is read (its connection no longer idle) before it runs.
    const sweep = () => setImmediate(closeIdle);
    const startSweep = setTimeout(() => {
      sweep();
      idleSweep = setInterval(sweep, 100);
    }, pause);
    const giveUp = setTimeout(() => {
      server.getConnections((_error, connections) => {
        logger?.warn({ graceMs, connections }, `shutdown grace period over: gave up on ${connections} connection(s) with requests still in flight, closing them`);
        server.closeAllConnections();
      });
    }, graceMs);
    try {
      await closed;
    } finally {
      clearTimeout(startSweep);
      clearInterval(idleSweep);
      clearTimeout(giveUp);
    }
  }
}
