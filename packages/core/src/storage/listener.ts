import type { Knex } from 'knex';

/** What a channel of the listener hears. */
export interface ChannelHandlers {
  /** A NOTIFY on the channel, with its payload. */
  message(payload: string): void;
  /** The node listens on the channel (again): whatever changed before may have gone unheard. */
  listening(): void;
  /** The connection dropped: changes go unheard until `listening` is called again. */
  lost(): void;
}

const RECONNECT_MS = 1_000;
const CHANNEL_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * The connection on which a node LISTENs for what other nodes of the same PostgreSQL
 * database change (NOTIFY): one per database handle, shared by every channel, outside the
 * pool. It connects on the first `ready()`, reconnects a second after it drops, and tells
 * each channel when it listens and when it lost the connection, so that what a channel
 * caches can be distrusted in between. PGlite has no other nodes and needs none.
 */
export class DatabaseListener {
  private readonly channels = new Map<string, ChannelHandlers>();
  private connection: PgConnection | undefined;
  private connecting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly knex: Knex) {}

  /** Adds a channel; when the connection is up, listens on it at once. */
  async subscribe(channel: string, handlers: ChannelHandlers): Promise<void> {
    if (!CHANNEL_NAME.test(channel)) throw new Error(`"${channel}" is not a channel name (lower case letters, digits and underscores)`);
    this.channels.set(channel, handlers);
    const connection = this.connection;
    if (!connection) return;
    try {
      await connection.query(`LISTEN ${channel}`);
      if (this.connection === connection) handlers.listening();
    } catch {
      // The connection is failing: its `error` or `end` handler reconnects and listens anew.
    }
  }

  /** Starts listening; resolves once listening or after a failed try (a retry follows). */
  ready(): Promise<void> {
    // While a retry is pending (the database refused us a moment ago), nothing to wait for.
    if (this.stopped || this.connection || this.retry) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    await this.connecting?.catch(() => undefined);
    const connection = this.connection;
    this.connection = undefined;
    if (connection)
      await this.client()
        .destroyRawConnection(connection)
        .catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = this.client();
    let connection: PgConnection | undefined;
    try {
      connection = (await client.acquireRawConnection()) as PgConnection;
      const opened = connection;
      const lost = () => {
        if (this.connection !== opened) return;
        this.connection = undefined;
        opened.removeAllListeners?.('notification');
        void client.destroyRawConnection(opened).catch(() => undefined);
        for (const handlers of this.channels.values()) handlers.lost();
        this.scheduleRetry();
      };
      opened.on('notification', (message: { channel: string; payload?: string }) => this.channels.get(message.channel)?.message(message.payload ?? ''));
      opened.on('error', lost);
      opened.on('end', lost);
      // A channel subscribed while this runs is still visited: Map iteration sees entries added meanwhile.
      for (const channel of this.channels.keys()) await opened.query(`LISTEN ${channel}`);
      if (this.stopped) {
        await client.destroyRawConnection(opened).catch(() => undefined);
        return;
      }
      this.connection = opened;
      for (const handlers of this.channels.values()) handlers.listening();
    } catch {
      if (connection) await client.destroyRawConnection(connection).catch(() => undefined);
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.ready();
    }, RECONNECT_MS);
    this.retry.unref();
  }

  private client(): PgClientInternals {
    return (this.knex as unknown as { client: PgClientInternals }).client;
  }
}

interface PgConnection {
  on(event: string, handler: (...args: any[]) => void): void;
  removeAllListeners?(event: string): void;
  query(sql: string): Promise<unknown>;
}

interface PgClientInternals {
  acquireRawConnection(): Promise<unknown>;
  destroyRawConnection(connection: unknown): Promise<void>;
}

const listeners = new WeakMap<Knex, DatabaseListener>();

/** The listener of a root knex (one per database handle), created on first use. */
export function listenerOf(knex: Knex): DatabaseListener {
  let listener = listeners.get(knex);
  if (!listener) {
    listener = new DatabaseListener(knex);
    listeners.set(knex, listener);
  }
  return listener;
}

/** Closes the listening connection of a database handle before the handle closes. */
export async function stopListener(knex: Knex): Promise<void> {
  const listener = listeners.get(knex);
  listeners.delete(knex);
  await listener?.stop();
}

/** Whether `db` is a PostgreSQL handle (`pg`), where other nodes may share the database. */
export function isPostgres(db: Knex): boolean {
  return (db as unknown as { client: { config: { client?: unknown } } }).client.config.client === 'pg';
}
