import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRapport, type Rapport } from '@rapport/core';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { toRapportConfig } from '../context.js';
import { CliError } from '../errors.js';

export function registerServe(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('serve')
    .description('Start the HTTP API with the configured plugins (and the webhook dispatcher)')
    .option('-p, --port <port>', 'port to listen on (env PORT, default 4000)')
    .option('-H, --host <host>', 'address to bind (env HOST, default 0.0.0.0)')
    .action(async (options: { port?: string; host?: string }) => done(await serve(ctx, options)));
}

async function serve(ctx: CommandContext, options: { port?: string; host?: string }): Promise<number> {
  const config = await ctx.loadConfig({ port: options.port, host: options.host });
  const logger = ctx.logger(config, true);
  // Background work starts below, once the server answers (see Rapport.startBackground).
  const app = await createRapport({ ...toRapportConfig(config), logger }, { background: false });
  let server;
  try {
    server = await app.listen(config.port, config.host);
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new CliError(`Port ${config.port} on ${config.host} is already in use; choose another with --port or PORT`);
    if (code === 'EACCES') throw new CliError(`Not allowed to listen on port ${config.port}; use a port above 1023`);
    throw error;
  }
  const background = startBackgroundAfterFirstAnswer(app, server);
  const { port } = server.address() as AddressInfo;
  const database = app.databaseKind === 'postgres' ? 'PostgreSQL' : `PGlite at ${config.database?.dataDir}`;
  logger.info(
    { host: config.host, port, database: app.databaseKind, plugins: app.plugins.statuses().map((p) => `${p.name}@${p.version} (${p.state})`), configFile: config.configFile },
    `Rapport listening on http://${config.host}:${port} (database: ${database})`,
  );

  if (config.onListen) {
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
    try {
      await config.onListen({ app, url: `http://${host}:${port}`, logger });
    } catch (error) {
      background.cancel();
      await app.close();
      throw new CliError(`onListen in ${config.configFile ?? 'the configuration'} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  const stop = stopSignal(ctx, (second) => {
    logger.warn({ signal: second }, 'second signal while shutting down: exiting now');
    process.exit(1);
  });
  try {
    const signal = await stop.received;
    logger.info({ signal }, 'shutting down: finishing requests in flight, the dispatcher and event listeners');
    background.cancel();
    await app.close();
    logger.info('stopped');
  } finally {
    stop.dispose();
  }
  return 0;
}

/**
 * On PGlite every statement goes through one connection, so the background loops' first
 * passes (each the first read of its tables) would hold up the first request: they start
 * once a first request is answered, or after a second without one. PostgreSQL has a pool:
 * they start at once.
 */
function startBackgroundAfterFirstAnswer(app: Rapport, server: Server): { cancel(): void } {
  const start = () => {
    clearTimeout(timer);
    server.off('request', onRequest);
    app.startBackground();
  };
  const onRequest = (_request: IncomingMessage, response: ServerResponse) => response.once('close', start);
  const timer = setTimeout(start, app.databaseKind === 'pglite' ? 1000 : 0);
  if (app.databaseKind === 'pglite') server.once('request', onRequest);
  return {
    cancel() {
      clearTimeout(timer);
      server.off('request', onRequest);
    },
  };
}

/**
 * Resolves on the first SIGINT/SIGTERM (or when the test's AbortSignal fires). A second
 * signal while the graceful stop is under way forces the exit: an operator pressing
 * Ctrl-C twice means it.
 */
function stopSignal(ctx: CommandContext, force: (signal: string) => void): { received: Promise<string>; dispose(): void } {
  let stopping = false;
  let resolve!: (signal: string) => void;
  const received = new Promise<string>((r) => (resolve = r));
  const onSignal = (signal: string) => {
    if (stopping) return force(signal);
    stopping = true;
    resolve(signal);
  };
  const onAbort = () => onSignal('abort');
  if (ctx.io.handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const abort = ctx.io.signal;
  if (abort?.aborted) onAbort();
  else abort?.addEventListener('abort', onAbort, { once: true });
  return {
    received,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      abort?.removeEventListener('abort', onAbort);
    },
  };
}
