import type { Rapport } from '../app/rapport.js';
import type { RapportConfig } from '../app/config.js';

/** Moves committed events from the outbox to durable subscribers (webhooks). */
export class Dispatcher {
  constructor(
    private readonly app: Rapport,
    private readonly config: NonNullable<RapportConfig['dispatcher']>,
  ) {}

  start(): void {}
  nudge(): void {}
  async stop(): Promise<void> {}
}
