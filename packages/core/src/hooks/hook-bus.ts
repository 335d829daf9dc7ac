import EventEmitter2 from 'eventemitter2';
import type { Logger } from 'pino';
import { RapportError } from '../errors.js';
import type { EventHandler, EventMeta } from './types.js';
import type { FilterHandler, FilterRunner, UnitOfWork } from './unit-of-work.js';

interface FilterRegistration {
  owner: string;
  name: string;
  priority: number;
  seq: number;
  handler: FilterHandler<unknown>;
}

interface ListenerRegistration {
  owner: string;
  pattern: string;
  handler: EventHandler<unknown>;
  wrapped: (payload: unknown, meta: EventMeta) => Promise<void>;
}

/**
 * Filters run inside the write's transaction, in priority order, and may change or veto
 * the payload. Event listeners run after commit, each isolated: a failing listener is
 * logged under its plugin's name and affects neither the write nor the other listeners.
 *
 * Every registration has an owner (a plugin name or "core"), so disabling a plugin removes
 * exactly what it registered and enabling it restores the same set.
 */
export class HookBus implements FilterRunner {
  private readonly filters = new Map<string, FilterRegistration[]>();
  private readonly listeners: ListenerRegistration[] = [];
  private readonly inactiveOwners = new Set<string>();
  private readonly emitter = new EventEmitter2({ wildcard: true, delimiter: '.', maxListeners: 0, ignoreErrors: true });
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Event name → whether any active listener's pattern matches it; emptied whenever listeners change. */
  private readonly heard = new Map<string, boolean>();
  private seq = 0;

  constructor(private readonly logger: Logger) {}

  filter(owner: string, name: string, handler: FilterHandler<unknown>, options: { priority?: number } = {}): void {
    const list = this.filters.get(name) ?? [];
    list.push({ owner, name, priority: options.priority ?? 100, seq: this.seq++, handler });
    list.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    this.filters.set(name, list);
  }

  on(owner: string, pattern: string, handler: EventHandler<unknown>): void {
    const registration: ListenerRegistration = {
      owner,
      pattern,
      handler,
      wrapped: async (payload, meta) => {
        try {
          await handler(payload, meta);
        } catch (error) {
          this.logger.error({ err: error, plugin: owner, event: meta.name, eventId: meta.id }, `event listener of plugin "${owner}" failed on ${meta.name}`);
        }
      },
    };
    this.listeners.push(registration);
    if (!this.inactiveOwners.has(owner)) this.emitter.on(pattern, registration.wrapped);
    this.heard.clear();
  }

  /** Runs the filters for `name` in order; each may return a replacement payload. */
  async runFilters(name: string, payload: unknown, uow: UnitOfWork): Promise<unknown> {
    const list = this.filters.get(name);
    if (!list) return payload;
    let current = payload;
    for (const registration of list) {
      if (this.inactiveOwners.has(registration.owner)) continue;
      try {
        const next = await registration.handler(current, uow);
        if (next !== undefined) current = next;
      } catch (error) {
        if (error instanceof Error && !('plugin' in error)) Object.assign(error, { plugin: registration.owner });
        // A refusal the client sees (VetoError or any RapportError) names the plugin that made it.
        if (error instanceof RapportError && error.extensions.plugin === undefined) error.extensions.plugin = registration.owner;
        throw error;
      }
    }
    return current;
  }

  hasFilters(name: string): boolean {
    return this.filters.has(name);
  }

  /** Delivers committed events to in-process listeners without holding up the caller. */
  publish(events: ReadonlyArray<{ name: string; payload: unknown; meta: EventMeta }>): void {
    if (events.length === 0 || this.listeners.length === 0) return;
    // Listeners on other names cost a write nothing: no async hand-off for events nobody hears.
    const heard = events.filter((event) => this.isHeard(event.name));
    if (heard.length === 0) return;
    const run = (async () => {
      for (const event of heard) {
        await this.emitter.emitAsync(event.name, event.payload, event.meta);
      }
    })();
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  private isHeard(name: string): boolean {
    let heard = this.heard.get(name);
    if (heard === undefined) {
      heard = this.emitter.listeners(name).length > 0;
      // Event names are a small declared set; the bound only guards against a runaway caller.
      if (this.heard.size > 10_000) this.heard.clear();
      this.heard.set(name, heard);
    }
    return heard;
  }

  /** Resolves when every event published so far has reached its listeners. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  deactivate(owner: string): void {
    if (this.inactiveOwners.has(owner)) return;
    this.inactiveOwners.add(owner);
    for (const r of this.listeners) if (r.owner === owner) this.emitter.off(r.pattern, r.wrapped);
    this.heard.clear();
  }

  activate(owner: string): void {
    if (!this.inactiveOwners.delete(owner)) return;
    for (const r of this.listeners) if (r.owner === owner) this.emitter.on(r.pattern, r.wrapped);
    this.heard.clear();
  }

  /** What each owner registered, for `GET /plugins` and for start-up diagnostics. */
  registrationsOf(owner: string): { filters: string[]; listeners: string[] } {
    const filters: string[] = [];
    for (const list of this.filters.values()) for (const r of list) if (r.owner === owner) filters.push(r.name);
    return { filters, listeners: this.listeners.filter((r) => r.owner === owner).map((r) => r.pattern) };
  }
}
