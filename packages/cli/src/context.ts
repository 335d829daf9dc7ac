import { createRapport, type Rapport, type RapportConfig } from '@rapport/core';
import type { Logger } from 'pino';
import { loadConfig, type ConfigOverrides, type ResolvedConfig } from './config.js';
import { createLogger, type CliIO } from './io.js';

/** Global flags every command accepts. */
export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  databaseUrl?: string;
  logLevel?: string;
}

/** What a command gets: where to write, and how to load the configuration and the app. */
export class CommandContext {
  constructor(
    readonly io: CliIO,
    private readonly globals: () => GlobalOptions,
  ) {}

  loadConfig(overrides: ConfigOverrides = {}): Promise<ResolvedConfig> {
    const g = this.globals();
    return loadConfig({
      cwd: this.io.cwd,
      env: this.io.env,
      config: g.config,
      overrides: { dataDir: g.dataDir, databaseUrl: g.databaseUrl, logLevel: g.logLevel, ...overrides },
    });
  }

  logger(config: ResolvedConfig, forServer = false): Logger {
    return createLogger(this.io, config.logLevel, forServer);
  }

  /**
   * Runs `work` on a started system that does not serve: no dispatcher (webhook deliveries
   * belong to the serving processes), no recurring-task timers (same reason), and the app
   * is closed afterwards whatever happens.
   */
  async withApp<T>(work: (app: Rapport, config: ResolvedConfig) => Promise<T>, loaded?: ResolvedConfig): Promise<T> {
    const config = loaded ?? (await this.loadConfig());
    const app = await createRapport({
      ...toRapportConfig(config),
      logger: this.logger(config),
      dispatcher: { ...config.dispatcher, enabled: false },
      scheduler: { ...config.scheduler, enabled: false },
    });
    try {
      return await work(app, config);
    } finally {
      await app.close();
    }
  }
}

/** The core's configuration, without the CLI's own fields. */
export function toRapportConfig(config: ResolvedConfig): RapportConfig {
  const { port: _port, host: _host, configFile: _file, onListen: _onListen, baseDir: _baseDir, pluginPackages: _packages, ...rest } = config;
  return rest;
}
