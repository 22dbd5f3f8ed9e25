// Cache counters. Each process counts locally and adds its deltas to one Redis hash every
// stats_flush_ms, so GET /admin/stats shows the whole cluster; L1 sizes are reported per process
// and old reports are dropped.
import { randomUUID } from 'node:crypto';
import type { CacheLevel } from './cache-key.js';
import { UNAVAILABLE, type RedisGuard } from './redis-guard.js';

export const CACHE_COUNTERS = [
  'hits_memory',
  'hits_redis',
  'hits_coalesced',
  'misses',
  'bypassed',
  'refreshed',
  'stored',
  'not_stored',
  'redis_errors',
  'decode_errors',
  'wait_timeouts',
] as const;
export type CacheCounter = (typeof CACHE_COUNTERS)[number];

const STATS_KEY_TTL_MS = 30 * 86_400_000;

export interface CacheStatsSnapshot {
  hits: Record<CacheLevel, number>;
  misses: number;
  coalesced: number;
  hit_rate: number | null;
  bypassed: number;
  refreshed: number;
  stored: number;
  not_stored: number;
  redis_errors: number;
  decode_errors: number;
  wait_timeouts: number;
  l1: { entries: number; bytes: number; processes: number };
}

export function hitCounter(level: CacheLevel): CacheCounter {
  return level === 'memory' ? 'hits_memory' : level === 'redis' ? 'hits_redis' : 'hits_coalesced';
}

function snapshotOf(counts: Record<CacheCounter, number>, l1: CacheStatsSnapshot['l1']): CacheStatsSnapshot {
  const hits = { memory: counts.hits_memory, redis: counts.hits_redis, coalesced: counts.hits_coalesced };
  const totalHits = hits.memory + hits.redis + hits.coalesced;
  const lookups = totalHits + counts.misses;
  return {
    hits,
    misses: counts.misses,
    coalesced: hits.coalesced,
    hit_rate: lookups === 0 ? null : Number((totalHits / lookups).toFixed(4)),
    bypassed: counts.bypassed,
    refreshed: counts.refreshed,
    stored: counts.stored,
    not_stored: counts.not_stored,
    redis_errors: counts.redis_errors,
    decode_errors: counts.decode_errors,
    wait_timeouts: counts.wait_timeouts,
    l1,
  };
}

const zero = (): Record<CacheCounter, number> => Object.fromEntries(CACHE_COUNTERS.map((c) => [c, 0])) as Record<CacheCounter, number>;

export class CacheStats {
  readonly instance = randomUUID();
  readonly #totals = zero();
  #pending = zero();
  readonly #countsKey: string;
  readonly #l1Key: string;
  readonly #flushMs: number;

  constructor(keyPrefix: string, flushMs: number) {
    // One hash tag: the flush writes both keys in one MULTI, which Redis Cluster allows only in one slot.
    this.#countsKey = `${keyPrefix}:cache:{stats}`;
    this.#l1Key = `${keyPrefix}:cache:{stats}:l1`;
    this.#flushMs = flushMs;
  }

  inc(counter: CacheCounter, by = 1): void {
    this.#totals[counter] += by;
    this.#pending[counter] += by;
  }

  /** This process's counters since start. */
  local(l1: { entries: number; bytes: number }): CacheStatsSnapshot {
    return snapshotOf({ ...this.#totals }, { ...l1, processes: 1 });
  }

  /** Adds the pending deltas to the cluster totals; kept for the next flush if Redis is down. */
  async flush(guard: RedisGuard, l1: { entries: number; bytes: number }, now: number): Promise<void> {
    const pending = this.#pending;
    this.#pending = zero();
    const done = await guard.run(async (r) => {
      const multi = r.multi();
      for (const c of CACHE_COUNTERS) if (pending[c] !== 0) multi.hincrby(this.#countsKey, c, pending[c]);
      multi.pexpire(this.#countsKey, STATS_KEY_TTL_MS);
      multi.hset(this.#l1Key, this.instance, JSON.stringify({ ...l1, at: now }));
      multi.pexpire(this.#l1Key, Math.max(60_000, this.#flushMs * 10));
      await multi.exec();
    });
    if (done === UNAVAILABLE) for (const c of CACHE_COUNTERS) this.#pending[c] += pending[c];
  }

  async forget(guard: RedisGuard): Promise<void> {
    await guard.run((r) => r.hdel(this.#l1Key, this.instance));
  }

  /** Cluster-wide counters and the L1 sizes of processes that reported recently. */
  async cluster(guard: RedisGuard, now: number): Promise<CacheStatsSnapshot | undefined> {
    const read = await guard.run(async (r) => Promise.all([r.hgetall(this.#countsKey), r.hgetall(this.#l1Key)]));
    if (read === UNAVAILABLE) return undefined;
    const [rawCounts, rawL1] = read;
    const counts = zero();
    for (const c of CACHE_COUNTERS) counts[c] = Number(rawCounts[c] ?? 0) || 0;
    const l1 = { entries: 0, bytes: 0, processes: 0 };
    const stale: string[] = [];
    for (const [instance, json] of Object.entries(rawL1)) {
      try {
        const report = JSON.parse(json) as { entries: number; bytes: number; at: number };
        if (now - report.at > this.#flushMs * 5) {
          stale.push(instance);
          continue;
        }
        l1.entries += report.entries;
        l1.bytes += report.bytes;
        l1.processes += 1;
      } catch {
        stale.push(instance);
      }
    }
    if (stale.length) await guard.run((r) => r.hdel(this.#l1Key, ...stale));
    return snapshotOf(counts, l1);
  }
}
