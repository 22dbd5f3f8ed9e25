// L1: one lru-cache per process, bounded by entries and by bytes, with a TTL. Its fetchMethod
// is the miss path, so concurrent misses on one key in this process share one fetch.
import { LRUCache } from 'lru-cache';

export interface L1Value {
  /** The shared answer, as the caller's EntryType checked it. */
  entry: unknown;
  /** Encoded size, what the byte bound counts. */
  size: number;
  /** How the fetch got it: computed here, read from Redis, or another worker's answer. */
  via: 'computed' | 'redis' | 'coalesced';
  /** False: the answer is this request's alone (the caller gave no entry): waiters compute their own. */
  storable: boolean;
}

export interface L1Options {
  maxEntries: number;
  maxBytes: number;
  ttlMs: number;
  maxEntryBytes: number;
  /** Time source for TTLs (lru-cache's injectable `perf`), for tests. */
  perf?: { now(): number };
}

export type L1Cache<C> = LRUCache<string, L1Value, C>;

export function createL1<C>(options: L1Options, fetchMethod: LRUCache.Fetcher<string, L1Value, C>): L1Cache<C> {
  return new LRUCache<string, L1Value, C>({
    max: options.maxEntries,
    maxSize: options.maxBytes,
    maxEntrySize: Math.min(options.maxEntryBytes, options.maxBytes),
    sizeCalculation: (value) => Math.max(1, value.size),
    ttl: options.ttlMs,
    // An L1 eviction must not fail the job whose fetch is in flight.
    ignoreFetchAbort: true,
    fetchMethod,
    // With an injected clock, read it on every check (no cached "now").
    ...(options.perf ? { perf: options.perf, ttlResolution: 0 } : {}),
  });
}
