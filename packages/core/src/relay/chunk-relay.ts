// A streamed answer relayed from the worker that runs the job to the producer that holds the
// client's connection, whichever processes those are: one Redis stream per job, in the queue's
// hash-tag slot, capped in length and expiring soon after its last write. Events: start (with
// the cache level), chunks (batched while a write is in flight), end (cost), error.
import { duplicateConnection, type RedisConnection } from '../queue/connection.js';
import { queuePrefix } from '../queue/names.js';

/** A relay outlives its last write by this long (a reader that lags or reconnects catches up). */
export const RELAY_TTL_S = 300;
/** Entries kept per relay (each holds one or more chunks). */
export const RELAY_MAX_ENTRIES = 10_000;

export type RelayEvent =
  | { type: 'start'; cache: 'memory' | 'redis' | 'coalesced' | 'miss' }
  | { type: 'chunks'; chunks: unknown[] }
  | { type: 'end'; cost_usd: number }
  | { type: 'error'; error: { code: string; message: string } };

export function relayKey(keyPrefix: string, jobId: string): string {
  return `${queuePrefix(keyPrefix)}:relay:${jobId}`;
}

/** Writes one job's relay, in order; chunks that arrive while a write is in flight go out together. */
export class RelayWriter {
  readonly #redis: RedisConnection;
  readonly #key: string;
  #pending: unknown[] = [];
  #chain: Promise<void> = Promise.resolve();
  #flushing = false;
  #failed = false;

  constructor(redis: RedisConnection, key: string) {
    this.#redis = redis;
    this.#key = key;
  }

  start(cache: Extract<RelayEvent, { type: 'start' }>['cache']): void {
    this.#enqueue({ type: 'start', cache });
  }

  chunk(chunk: unknown): void {
    this.#pending.push(chunk);
    if (!this.#flushing) this.#flushChunks();
  }

  /** Resolves once everything before and the end marker are written (or writing failed). */
  end(costUsd: number): Promise<void> {
    this.#enqueue({ type: 'end', cost_usd: costUsd });
    return this.#chain;
  }

  error(error: { code: string; message: string }): Promise<void> {
    this.#enqueue({ type: 'error', error });
    return this.#chain;
  }

  #flushChunks(): void {
    this.#flushing = true;
    this.#chain = this.#chain.then(async () => {
      const chunks = this.#pending;
      this.#pending = [];
      this.#flushing = false;
      if (chunks.length > 0) await this.#write({ type: 'chunks', chunks });
    });
  }

  #enqueue(event: RelayEvent): void {
    if (this.#pending.length > 0) this.#flushChunks();
    this.#chain = this.#chain.then(() => this.#write(event));
  }

  async #write(event: RelayEvent): Promise<void> {
    // A relay that cannot be written is the client's stream lost, not the job's result.
    if (this.#failed) return;
    try {
      await this.#redis
        .multi()
        .xadd(this.#key, 'MAXLEN', '~', RELAY_MAX_ENTRIES, '*', 'e', JSON.stringify(event))
        .expire(this.#key, RELAY_TTL_S)
        .exec();
    } catch {
      this.#failed = true;
    }
  }
}

export interface RelayReaderOptions {
  /** Blocking connections kept for relays being read at once (more are opened, then closed). */
  idleConnections?: number;
  /** How long one read blocks before the reader looks at the job itself. */
  blockMs?: number;
}

/**
 * Reads relays for a process that answers clients. Each relay being read holds one blocking
 * connection from a small pool, so a new stream starts reading at once.
 */
export class RelayReader {
  readonly #base: RedisConnection;
  readonly #idle: RedisConnection[] = [];
  readonly #idleMax: number;
  readonly #blockMs: number;
  #closed = false;

  constructor(base: RedisConnection, options: RelayReaderOptions = {}) {
    this.#base = base;
    this.#idleMax = options.idleConnections ?? 16;
    this.#blockMs = options.blockMs ?? 1000;
  }

  #acquire(): RedisConnection {
    const connection = this.#idle.pop();
    if (connection) return connection;
    // The base's command timeout (the producer's is 1 s) would cut a blocking XREAD of the
    // same length short: allow the block and a margin for a loaded Redis.
    const fresh = duplicateConnection(this.#base, {
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      lazyConnect: false,
      commandTimeout: this.#blockMs + 5000,
    });
    fresh.on('error', () => {});
    return fresh;
  }

  #release(connection: RedisConnection): void {
    if (this.#closed || this.#idle.length >= this.#idleMax || connection.status !== 'ready') connection.disconnect();
    else this.#idle.push(connection);
  }

  /**
   * The relay's events from the start, ending after `end` or `error`. Yields `idle` after each
   * read that found nothing, so the caller can look at the job (a dead worker writes nothing).
   */
  async *read(key: string, signal: AbortSignal): AsyncGenerator<RelayEvent | { type: 'idle' }> {
    const connection = this.#acquire();
    let last = '0-0';
    try {
      while (!signal.aborted && !this.#closed) {
        const reply = (await connection.xread('COUNT', 100, 'BLOCK', this.#blockMs, 'STREAMS', key, last)) as
          | Array<[string, Array<[string, string[]]>]>
          | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) {
          yield { type: 'idle' };
          continue;
        }
        for (const [id, fields] of entries) {
          last = id;
          const event = JSON.parse(fields[1] ?? 'null') as RelayEvent | null;
          if (!event) continue;
          yield event;
          if (event.type === 'end' || event.type === 'error') return;
        }
      }
    } finally {
      this.#release(connection);
    }
  }

  close(): void {
    this.#closed = true;
    for (const connection of this.#idle.splice(0)) connection.disconnect();
  }
}
