// The two-level cache: L1 (lru-cache, per process) -> L2 (Redis) -> single-flight across every
// worker (a Redis lock per key; waiters poll the value with backoff, bounded, then compute
// themselves). A miss computes once and fills both levels. Redis trouble degrades to L1.
// It stores whatever JSON entry the caller gives and knows nothing of what the entry means:
// the caller says which results may be shared (by giving an entry) and how to check an entry
// read back from Redis (its EntryType).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LRUCache } from 'lru-cache';
import type { CacheSettings } from '../config/index.js';
import { systemClock, type Clock } from '../clock/index.js';
import { PredictqError } from '../errors/index.js';
import type { Logger } from '../telemetry/index.js';
import { cacheKey, type CacheLevel, type CacheRequest } from './cache-key.js';
import { CacheStats, hitCounter, type CacheStatsSnapshot } from './cache-stats.js';
import type { EntryCodec } from './codec.js';
import { GenerationStore, type InvalidateTarget } from './generations.js';
import { createL1, type L1Cache, type L1Value } from './l1-cache.js';
import { RedisGuard, UNAVAILABLE } from './redis-guard.js';
import { withCacheScripts, type CacheScripts } from './scripts.js';
import { ttlWithJitterMs } from './ttl.js';
import type { RedisConnection } from '../queue/connection.js';

/** Left in place of a released lock when the answer may not be shared: waiters compute their own. */
const UNCACHEABLE = '!uncacheable';
const POLL_FIRST_MS = 10;
const POLL_MAX_MS = 250;

/** How an entry read back from Redis is checked (a zod schema fits): a value that fails is a miss. */
export interface EntryType<E> {
  safeParse(value: unknown): { success: true; data: E } | { success: false };
}

/** What a computation gives: its own result, and the entry to share, or none when it may not be shared. */
export interface Computed<R, E> {
  result: R;
  entry?: E | undefined;
}

export type Resolution<R, E> =
  | { outcome: 'hit'; level: CacheLevel; entry: E }
  | { outcome: 'miss' | 'refresh'; result: R };

export interface ResolveOptions {
  signal?: AbortSignal | undefined;
}

export interface TieredCacheDeps {
  settings: CacheSettings;
  keyPrefix: string;
  /** A fail-fast connection (createFastConnection); the cache owns it and closes it. */
  redis: RedisConnection;
  /** A connection for invalidation messages (owned too); without it, invalidations reach other processes within generation_ttl_ms. */
  subscriber?: RedisConnection | undefined;
  codec: EntryCodec;
  logger?: Logger | undefined;
  /** Time source of TTLs, lock deadlines and stats (tests pass a fake one). */
  clock?: Clock;
  random?: () => number;
}

interface FetchContext {
  compute: () => Promise<Computed<unknown, unknown>>;
  type: EntryType<unknown>;
  signal: AbortSignal | undefined;
  /** Per-request L2 TTL, seconds. */
  ttlS: number | undefined;
}

function cancelled(): PredictqError {
  return new PredictqError('cancelled', 'the prediction was cancelled while waiting for a coalesced answer');
}

export class TieredCache {
  readonly settings: CacheSettings;
  readonly stats: CacheStats;
  readonly #deps: TieredCacheDeps;
  readonly #guard: RedisGuard;
  readonly #redis: RedisConnection & CacheScripts;
  readonly #generations: GenerationStore;
  readonly #l1: L1Cache<FetchContext>;
  readonly #clock: Clock;
  readonly #flushTimer: NodeJS.Timeout;
  readonly #prefix: string;

  constructor(deps: TieredCacheDeps) {
    this.#deps = deps;
    this.settings = deps.settings;
    this.#clock = deps.clock ?? systemClock;
    this.#prefix = `${deps.keyPrefix}:cache`;
    this.stats = new CacheStats(deps.keyPrefix, deps.settings.stats_flush_ms);
    this.#redis = withCacheScripts(deps.redis);
    this.#guard = new RedisGuard(deps.redis, {
      timeoutMs: deps.settings.redis_timeout_ms,
      retryMs: deps.settings.redis_retry_ms,
      logger: deps.logger,
      clock: this.#clock,
      onError: () => this.stats.inc('redis_errors'),
    });
    this.#generations = new GenerationStore(this.#guard, { keyPrefix: deps.keyPrefix, ttlMs: deps.settings.generation_ttl_ms, clock: this.#clock });
    if (deps.subscriber) this.#generations.subscribe(deps.subscriber);
    this.#l1 = createL1<FetchContext>(
      {
        maxEntries: deps.settings.l1.max_entries,
        maxBytes: deps.settings.l1.max_bytes,
        ttlMs: deps.settings.l1.ttl_ms,
        maxEntryBytes: deps.settings.max_value_bytes,
        ...(deps.clock ? { perf: deps.clock } : {}),
      },
      (key, _stale, { context }) => this.#fill(key, context),
    );
    this.#flushTimer = setInterval(() => void this.#flush(), deps.settings.stats_flush_ms);
    this.#flushTimer.unref();
  }

  get l1Size(): { entries: number; bytes: number } {
    return { entries: this.#l1.size, bytes: this.#l1.calculatedSize };
  }

  /**
   * The answer to a request: from L1, L2, another worker's computation, or `compute()` (run at
   * most once across the cluster for concurrent identical requests).
   */
  async resolve<R, E>(
    request: CacheRequest,
    type: EntryType<E>,
    compute: () => Promise<Computed<R, E>>,
    options: ResolveOptions = {},
  ): Promise<Resolution<R, E>> {
    const gens = await this.#generations.current(request.scope, request.program);
    const key = cacheKey(request, gens);
    const l1Ttl = this.#l1Ttl(request);
    let leader: Computed<R, E> | undefined;
    const context: FetchContext = {
      compute: async () => (leader = await compute()),
      type: type as EntryType<unknown>,
      signal: options.signal,
      ttlS: request.ttlS,
    };

    if (request.mode === 'refresh') {
      this.stats.inc('refreshed');
      const value = await this.#computeAndFill(key, context, undefined);
      if (value.storable) this.#l1.set(key, value, { ttl: l1Ttl });
      return { outcome: 'refresh', result: leader!.result };
    }

    const status: LRUCache.Status<string, L1Value, FetchContext> = {};
    let value: L1Value | undefined;
    try {
      value = await this.#l1.fetch(key, { context, status, ttl: l1Ttl });
    } catch (err) {
      // Another job's own cancellation says nothing about this one: compute it ourselves.
      const joined = status.fetch === 'inflight';
      if (joined && err instanceof PredictqError && err.code === 'cancelled' && !options.signal?.aborted) {
        return this.#computeAlone(compute);
      }
      throw err;
    }
    if (value === undefined) return this.#computeAlone(compute);
    if (leader !== undefined) {
      if (!value.storable && this.#l1.peek(key) === value) this.#l1.delete(key);
      return { outcome: 'miss', result: leader.result };
    }
    const started = status.fetch === 'miss' || status.fetch === 'stale' || status.fetch === 'refresh';
    if (!value.storable) return this.#computeAlone(compute);
    const level: CacheLevel = started ? (value.via === 'redis' ? 'redis' : 'coalesced') : status.fetch === 'hit' ? 'memory' : 'coalesced';
    this.stats.inc(hitCounter(level));
    return { outcome: 'hit', level, entry: value.entry as E };
  }

  /**
   * L1, then L2, never computing: the producer's fast path (an answer without creating a job).
   * An L2 answer is kept in L1, so a hot question is answered without a round trip; L1 is
   * bounded and invalidated exactly as a worker's is (generations in the key).
   */
  async peek<E>(request: CacheRequest, type: EntryType<E>): Promise<{ entry: E; level: 'memory' | 'redis' } | undefined> {
    const gens = await this.#generations.current(request.scope, request.program);
    const key = cacheKey(request, gens);
    const held = this.#l1.get(key);
    if (held?.storable) {
      this.stats.inc(hitCounter('memory'));
      return { entry: held.entry as E, level: 'memory' };
    }
    const found = await this.#readL2(key, type as EntryType<unknown>);
    if (found === undefined || found === UNAVAILABLE) return undefined;
    this.#l1.set(key, { entry: found.entry, size: found.size, via: 'redis', storable: true }, { ttl: this.#l1Ttl(request) });
    this.stats.inc('hits_redis');
    return { entry: found.entry as E, level: 'redis' };
  }

  /** Runs a command on the cache's Redis under the same timeout and fallback; undefined when unavailable. */
  async guarded<T>(op: (redis: RedisConnection) => Promise<T>): Promise<T | undefined> {
    const out = await this.#guard.run(op);
    return out === UNAVAILABLE ? undefined : out;
  }

  /** O(1): bumps generation counters. Throws when the cache's Redis is unreachable. */
  invalidate(target: InvalidateTarget): Promise<Record<string, number>> {
    return this.#generations.invalidate(target);
  }

  /** Cluster-wide counters (this process's alone when Redis is unreachable). */
  async snapshot(): Promise<CacheStatsSnapshot & { source: 'cluster' | 'local' }> {
    await this.#flush();
    const cluster = await this.stats.cluster(this.#guard, this.#clock.now());
    return cluster ? { ...cluster, source: 'cluster' } : { ...this.stats.local(this.l1Size), source: 'local' };
  }

  async close(): Promise<void> {
    clearInterval(this.#flushTimer);
    await this.#flush();
    await this.stats.forget(this.#guard);
    await this.#generations.close();
    await this.#deps.redis.quit().catch(() => this.#deps.redis.disconnect());
  }

  // --- the miss path -------------------------------------------------------------------

  async #fill(key: string, ctx: FetchContext): Promise<L1Value> {
    const valueKey = this.#valueKey(key);
    const lockKey = this.#lockKey(key);
    const deadline = this.#clock.now() + this.settings.wait_ms;
    let delay = POLL_FIRST_MS;
    for (let first = true; ; first = false) {
      const token = randomUUID();
      // One round trip: the answer if stored, else the lock if free (Redis runs it as one step).
      // Polling while another worker computes is the same call, so a holder that vanished is
      // taken over by the next poll.
      const attempt = await this.#guard.run((r) => (r as unknown as CacheScripts).cacheReadOrLockBuffer(valueKey, lockKey, token, this.settings.lock_ttl_ms));
      if (attempt === UNAVAILABLE) return this.#computeAndFill(key, ctx, undefined);
      const [raw, acquired, holder] = attempt;
      if (raw) {
        const entry = this.#decode(key, raw, ctx.type);
        // An answer that does not decode is replaced by ours.
        if (entry === undefined) return this.#computeAndFill(key, ctx, undefined);
        return { entry, size: raw.length, via: first ? 'redis' : 'coalesced', storable: true };
      }
      if (acquired === 1) return this.#computeAndFill(key, ctx, token);
      if (holder?.toString() === UNCACHEABLE) return this.#computeAndFill(key, ctx, undefined);
      // Another worker is computing it: wait for its answer, bounded.
      if (ctx.signal?.aborted) throw cancelled();
      const left = deadline - this.#clock.now();
      if (left <= 0) {
        this.stats.inc('wait_timeouts');
        return this.#computeAndFill(key, ctx, undefined);
      }
      await sleep(Math.min(delay, left), undefined, { ref: false });
      delay = Math.min(Math.ceil(delay * 1.5), POLL_MAX_MS);
    }
  }

  async #computeAndFill(key: string, ctx: FetchContext, token: string | undefined): Promise<L1Value> {
    const lockKey = this.#lockKey(key);
    const lockTtl = this.settings.lock_ttl_ms;
    const heartbeat = token
      ? setInterval(() => void this.#guard.run(() => this.#redis.cacheExtendLock(lockKey, token, lockTtl)), Math.max(50, Math.floor(lockTtl / 3)))
      : undefined;
    heartbeat?.unref();
    try {
      this.stats.inc('misses');
      const { entry } = await ctx.compute();
      const valueKey = this.#valueKey(key);
      const encoded = entry === undefined ? undefined : this.#deps.codec.encode(entry, valueKey);
      const storable = encoded !== undefined && encoded.length <= this.settings.max_value_bytes;
      if (storable) {
        this.stats.inc('stored');
        const ttlMs = ttlWithJitterMs(ctx.ttlS ?? this.settings.ttl_s, this.settings.ttl_jitter, this.#deps.random);
        // One round trip either way: the leader stores and releases in one script.
        await this.#guard.run(async (r) => {
          if (token) await (r as unknown as CacheScripts).cacheFillAndRelease(valueKey, lockKey, encoded, ttlMs, token);
          else await r.set(valueKey, encoded, 'PX', ttlMs);
        });
      } else {
        this.stats.inc('not_stored');
        if (token) await this.#guard.run(() => this.#redis.cacheReleaseLock(lockKey, token, UNCACHEABLE, Math.min(lockTtl, 5000)));
      }
      return { entry, size: encoded?.length ?? 1, via: 'computed', storable };
    } catch (err) {
      if (token) await this.#guard.run(() => this.#redis.cacheReleaseLock(lockKey, token, '', 0));
      throw err;
    } finally {
      clearInterval(heartbeat);
    }
  }

  async #computeAlone<R, E>(compute: () => Promise<Computed<R, E>>): Promise<Resolution<R, E>> {
    this.stats.inc('misses');
    return { outcome: 'miss', result: (await compute()).result };
  }

  async #readL2(key: string, type: EntryType<unknown>): Promise<{ entry: unknown; size: number } | undefined | typeof UNAVAILABLE> {
    const raw = await this.#guard.run((r) => r.getBuffer(this.#valueKey(key)));
    if (raw === UNAVAILABLE) return UNAVAILABLE;
    if (!raw) return undefined;
    const entry = this.#decode(key, raw, type);
    return entry === undefined ? undefined : { entry, size: raw.length };
  }

  /** A value that does not decode, or is not of the expected type, is counted and treated as a miss. */
  #decode(key: string, raw: Buffer, type: EntryType<unknown>): unknown {
    const decoded = this.#deps.codec.decode(raw, this.#valueKey(key));
    const checked = decoded === undefined ? undefined : type.safeParse(decoded);
    if (!checked?.success) {
      this.stats.inc('decode_errors');
      return undefined;
    }
    return checked.data;
  }

  #l1Ttl(request: CacheRequest): number {
    return request.ttlS === undefined ? this.settings.l1.ttl_ms : Math.min(this.settings.l1.ttl_ms, request.ttlS * 1000);
  }

  // Hash-tagged per key, so value and lock share a Redis Cluster slot.
  #valueKey(key: string): string {
    return `${this.#prefix}:{${key}}:v`;
  }

  #lockKey(key: string): string {
    return `${this.#prefix}:{${key}}:lock`;
  }

  async #flush(): Promise<void> {
    await this.stats.flush(this.#guard, this.l1Size, this.#clock.now());
  }
}
