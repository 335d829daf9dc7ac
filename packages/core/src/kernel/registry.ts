import { PluginError } from '../errors.js';

export interface Owned<T> {
  owner: string;
  definition: T;
}

/**
 * A keyed set of declarations, each owned by the plugin (or "core") that made it.
 * Two owners declaring one key fail start-up naming both; entries whose owner is
 * disabled stay known (stored records still render) but are not `usable`.
 */
export class Registry<T extends { key: string }> {
  private readonly entries = new Map<string, Owned<T>>();

  constructor(
    readonly what: string,
    private readonly isActive: (owner: string) => boolean = () => true,
  ) {}

  define(owner: string, definition: T): void {
    const existing = this.entries.get(definition.key);
    if (existing) {
      throw new PluginError(owner, `${this.what} "${definition.key}" is already declared by plugin "${existing.owner}"`);
    }
    if (owner !== 'core' && !definition.key.startsWith(`${owner}.`)) {
      throw new PluginError(owner, `${this.what} "${definition.key}" must be namespaced "${owner}.…"`);
    }
    this.entries.set(definition.key, { owner, definition });
  }

  /** How many are declared (a cache of something derived from them can tell it is stale). */
  get size(): number {
    return this.entries.size;
  }

  get(key: string): T | undefined {
    return this.entries.get(key)?.definition;
  }

  ownerOf(key: string): string | undefined {
    return this.entries.get(key)?.owner;
  }

  /** Declared and its owner enabled: new records may use it. */
  usable(key: string): T | undefined {
    const entry = this.entries.get(key);
    return entry && this.isActive(entry.owner) ? entry.definition : undefined;
  }

  list(options: { includeInactive?: boolean } = {}): Array<T & { owner: string; active: boolean }> {
    return [...this.entries.values()]
      .map((e) => ({ ...e.definition, owner: e.owner, active: this.isActive(e.owner) }))
      .filter((e) => options.includeInactive || e.active)
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  keysOf(owner: string): string[] {
    return [...this.entries.values()].filter((e) => e.owner === owner).map((e) => e.definition.key);
  }
}
