import type { Server } from 'node:http';

/**
 * Stops a server the way an orchestrator expects (SIGTERM, then SIGKILL after a grace period):
 *
 * 1. stop accepting connections;
 * 2. answer every request still arriving on an open keep-alive connection, with
 *    `Connection: close`, so its client moves on instead of sending more on that socket
 *    (`closing()` tells the request middleware to add the header);
 * 3. close idle connections once a request already on its way could have arrived (a short
 *    pause: closing them at once resets a request the client had just sent), then as they
 *    become idle;
 * 4. after `graceMs`, close whatever is left, so the stop always ends.
 */
export class ServerDrain {
  private draining = false;

  closing(): boolean {
    return this.draining;
  }

  async drain(server: Server, graceMs: number): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
    // Node's close() also drops idle keep-alive sockets at once; keep them for the pause of step 3.
    const closeIdle = server.closeIdleConnections.bind(server);
    server.closeIdleConnections = () => undefined;
    server.close();
    server.closeIdleConnections = closeIdle;
    const pause = Math.min(500, graceMs);
    let idleSweep: NodeJS.Timeout | undefined;
    const startSweep = setTimeout(() => {
      closeIdle();
      idleSweep = setInterval(closeIdle, 100);
    }, pause);
    const giveUp = setTimeout(() => server.closeAllConnections(), graceMs);
    try {
      await closed;
    } finally {
      clearTimeout(startSweep);
      clearInterval(idleSweep);
      clearTimeout(giveUp);
    }
  }
}
